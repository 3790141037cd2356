package org.fixres4j.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.fixres4j.cli.Main;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two ranks over loopback, each a child JVM: exact collective results, the bucketed gradient mean, a broadcast
 * model, faults (a rank killed with SIGKILL, a rank that never starts) and {@code fixres launch}.
 */
class TwoRankTest {
    /** A hang guard only: every child is bounded by its own --dist-timeout well below this. */
    private static final long GUARD_SECONDS = 120;

    @BeforeAll
    static void warm() {
        Torch.ensureLoaded(); // the children find the native cache warm
    }

    static List<String> java(String mainClass, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xss4m");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        return cmd;
    }

    static Process start(List<String> cmd, int rank, int world, int port, Path out, Path err) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        Map<String, String> env = pb.environment();
        env.put("RANK", Integer.toString(rank));
        env.put("LOCAL_RANK", Integer.toString(rank));
        env.put("WORLD_SIZE", Integer.toString(world));
        env.put("MASTER_ADDR", "127.0.0.1");
        env.put("MASTER_PORT", Integer.toString(port));
        env.put("OMP_NUM_THREADS", "1");
        env.put("OMP_WAIT_POLICY", "PASSIVE");
        return pb.start();
    }

    static int finish(Process p) throws InterruptedException {
        if (!p.waitFor(GUARD_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("a rank did not exit within " + GUARD_SECONDS + " s");
        }
        return p.exitValue();
    }

    static Map<String, String> results(Path out) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(out)) {
            if (line.startsWith("RESULT ")) {
                int sp = line.indexOf(' ', 7);
                m.put(line.substring(7, sp), line.substring(sp + 1));
            }
        }
        return m;
    }

    /** A port above 32767: the store's port travels as a Java short and must not be mangled. */
    static int highPort() throws IOException {
        for (int i = 0; i < 50; i++) {
            int p = Launcher.freePort();
            if (p > 32767) {
                return p;
            }
        }
        return Launcher.freePort();
    }

    @Test
    void collectivesGiveExactResultsAcrossTwoRanks(@TempDir Path dir) throws Exception {
        int port = highPort();
        Process[] ps = new Process[2];
        for (int r = 0; r < 2; r++) {
            ps[r] = start(java(DistWorker.class.getName()), r, 2, port, dir.resolve("out" + r),
                    dir.resolve("err" + r));
        }
        for (int r = 0; r < 2; r++) {
            int code = finish(ps[r]);
            assertEquals(0, code, "rank " + r + " failed:\n" + Files.readString(dir.resolve("err" + r))
                    + Files.readString(dir.resolve("out" + r)));
        }
        Map<String, String> r0 = results(dir.resolve("out0"));
        Map<String, String> r1 = results(dir.resolve("out1"));
        for (Map<String, String> m : List.of(r0, r1)) {
            assertEquals("2", m.get("world"));
            // rank 0 sends (1, 0, -0), rank 1 (2, 0.5, -2)
            assertEquals("[3.0, 0.5, -2.0]", m.get("sum_f32"));
            // (1 + 2) / 2, (2 + 5) / 2, 0.25, (0 + 1) / 2
            assertEquals("[1.5, 3.5, 0.25, 0.5]", m.get("avg_f32"));
            assertEquals("[1.0, 0.0]", m.get("max_f32"));
            assertEquals("[1, 2, " + (2 * (1L << 53) + 1) + ", -7]", m.get("sum_i64"));
            assertEquals("[0.5, 1.0E300]", m.get("sum_f64"));
            assertEquals("[10.0, 11.0, 1.0, -1.0]", m.get("bcast_f32"));
            assertEquals("[2, 1, 2]", m.get("gather_shape"));
            assertEquals("[100, 0, 101, -1]", m.get("gather_i64"));
            assertEquals("[[0, 0], [1, 1]]", m.get("gather_rows"));
            assertEquals("ok", m.get("barrier"));
            assertEquals("0", m.get("grad_mismatches"), "bucketed mean == (g0 + g1) / 2 exactly");
            assertEquals("[0.125, 0.5, -0.75]", m.get("grad_f64"));
            assertEquals("true", m.get("grad_channels_last"));
            assertEquals("true", m.get("grad_second_call_unchanged"));
            assertTrue(Integer.parseInt(m.get("grad_buckets")) >= 5, m.get("grad_buckets"));
            assertEquals("true", m.get("model_grad_equal"), "model gradients == mean of the ranks' gradients");
            assertEquals("true", m.get("model_grad_ranks_differ"));
            assertTrue(Integer.parseInt(m.get("model_grad_buckets")) > 1);
            assertEquals("true", m.get("bn_equal"));
            assertEquals("true", m.get("bn_ranks_differed"));
            assertTrue(Integer.parseInt(m.get("bn_count")) > 10);
            assertEquals("ok", m.get("done"));
        }
        assertEquals(r0.get("grad_buckets"), r1.get("grad_buckets"));
        assertNotEquals(r0.get("model_before"), r1.get("model_before"), "the ranks start from different weights");
        assertEquals(r0.get("model_before"), r0.get("model_after"), "the root keeps its weights");
        assertEquals(r0.get("model_before"), r1.get("model_after"), "after the broadcast both hold rank 0's");
    }

    @Test
    void killingOneRankFailsTheOtherNamingThePeer(@TempDir Path dir) throws Exception {
        int port = Launcher.freePort();
        Process[] ps = new Process[2];
        for (int r = 0; r < 2; r++) {
            ps[r] = start(java(Main.class.getName(), "dist-check", "--steps", "3000", "--pause-ms", "20",
                    "--dist-timeout", "20"), r, 2, port, dir.resolve("out" + r), dir.resolve("err" + r));
        }
        // kill -9 rank 1 once both are in the loop
        long waited = 0;
        while (!Files.readString(dir.resolve("out0")).contains("step 5:") && waited < GUARD_SECONDS * 1000) {
            assertTrue(ps[0].isAlive() && ps[1].isAlive(), () -> "a rank ended before the kill:\n" + read(dir));
            Thread.sleep(100);
            waited += 100;
        }
        ps[1].destroyForcibly(); // SIGKILL
        assertEquals(137, finish(ps[1]));
        int code = finish(ps[0]);
        String err = Files.readString(dir.resolve("err0"));
        assertNotEquals(0, code, err);
        // the loop alternates a float and an int64 allreduce: the kill may land in either
        assertTrue(err.matches("(?s).*rank 0: allreduce SUM of 2 (floats|int64s) failed after.*"), err);
        assertTrue(err.contains("peer rank 1"), err);
        assertTrue(err.contains("--dist-timeout 20 s"), err);
    }

    @Test
    void aRankThatNeverStartsIsNamedWithinTheTimeout(@TempDir Path dir) throws Exception {
        // rank 0 of a world of 2 alone; and, on another port, rank 1 alone (no store to reach)
        Process alone0 = start(java(Main.class.getName(), "dist-check", "--dist-timeout", "4"), 0, 2,
                Launcher.freePort(), dir.resolve("out0"), dir.resolve("err0"));
        Process alone1 = start(java(Main.class.getName(), "dist-check", "--dist-timeout", "4"), 1, 2,
                Launcher.freePort(), dir.resolve("out1"), dir.resolve("err1"));
        assertEquals(1, finish(alone0));
        assertEquals(1, finish(alone1));
        String err0 = Files.readString(dir.resolve("err0"));
        assertTrue(err0.contains("rank 0: rendezvous at 127.0.0.1:"), err0);
        assertTrue(err0.contains("1/2 clients joined; rank 1 never joined"), err0);
        assertTrue(err0.contains("--dist-timeout 4 s"), err0);
        String err1 = Files.readString(dir.resolve("err1"));
        assertTrue(err1.contains("rank 1: could not reach rank 0's store at 127.0.0.1:"), err1);
    }

    @Test
    void launchRunsTwoRanksAndNamesAFailingOne() throws Exception {
        Captured ok = captured(() -> Main.execute("launch", "--nproc", "2", "dist-check", "--steps", "2"));
        assertEquals(0, ok.code, ok.err + ok.out);
        for (int r = 0; r < 2; r++) {
            assertTrue(ok.out.contains("[rank " + r + "] dist-check: step 2: rank " + r
                    + "/2 sum of ranks = 1 (int64 1), world = 2 ok"), ok.out);
            assertTrue(ok.out.contains("[rank " + r + "] dist-check: rank " + r + " done"), ok.out);
        }
        Captured bad = captured(() -> Main.execute("launch", "--nproc", "2", "dist-check", "--fail-rank", "1",
                "--dist-timeout", "60"));
        assertEquals(1, bad.code, bad.err + bad.out);
        assertTrue(bad.err.contains("[rank 1] fixres dist-check: error: rank 1 fails on request"), bad.err);
        assertTrue(bad.err.contains("fixres launch: error: rank 1 exited with code 1"), bad.err);
        assertTrue(bad.err.contains("stopped rank 0"), bad.err);
    }

    record Captured(int code, String out, String err) {}

    interface Body {
        int run() throws Exception;
    }

    static synchronized Captured captured(Body body) throws Exception {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            System.setErr(e);
            int code = body.run();
            return new Captured(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static String read(Path dir) {
        StringBuilder sb = new StringBuilder();
        for (String f : List.of("out0", "err0", "out1", "err1")) {
            try (InputStream in = Files.newInputStream(dir.resolve(f))) {
                sb.append("== ").append(f).append('\n').append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                sb.append("== ").append(f).append(": ").append(e).append('\n');
            }
        }
        return sb.toString();
    }
}

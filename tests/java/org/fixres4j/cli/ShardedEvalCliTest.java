package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.imageio.ImageIO;

import org.fixres4j.data.DemoShapes;
import org.fixres4j.data.Pixels;
import org.fixres4j.io.Json;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.report.EvalFixtures.Run;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fixres eval} shared by two ranks (child JVMs with torchrun's variables, over loopback) writes the JSON one
 * process writes, apart from timing: every count, per resolution, and the failures; only rank 0 writes.
 */
class ShardedEvalCliTest {
    @TempDir
    Path dir;

    @Test
    void twoRanksWriteTheSingleProcessReport() throws Exception {
        Torch.ensureLoaded(); // the children find the native cache warm
        Path model = dir.resolve("demo.safetensors");
        try (InputStream in = ShardedEvalCliTest.class.getResourceAsStream(EvalCheckpointTest.DEMO_CHECKPOINT)) {
            Files.copy(in, model, StandardCopyOption.REPLACE_EXISTING);
        }
        DemoShapes shapes = new DemoShapes(23, 48, 9, "test");
        StringBuilder csv = new StringBuilder("path,label\n");
        Files.createDirectories(dir.resolve("img"));
        for (int i = 0; i < shapes.size(); i++) {
            String name = String.format("img/%02d.png", i);
            if (i == 4) {
                Files.write(dir.resolve(name), new byte[] {(byte) 0x89, 'P', 'N', 'G'});
            } else {
                Pixels p = shapes.get(i).pixels();
                BufferedImage im = new BufferedImage(p.width(), p.height(), BufferedImage.TYPE_BYTE_GRAY);
                im.getRaster().setDataElements(0, 0, p.width(), p.height(),
                        java.util.Arrays.copyOfRange(p.data(), p.offset(), p.offset() + p.byteCount()));
                ImageIO.write(im, "png", dir.resolve(name).toFile());
            }
            csv.append(name).append(',').append(shapes.get(i).label()).append('\n');
        }
        Path list = Files.writeString(dir.resolve("shapes.csv"), csv, StandardCharsets.UTF_8);
        List<String> args = List.of("eval", "--weights", model.toString(), "--data", list.toString(), "--layout", "csv",
                "--res", "56,64", "-b", "4", "--threads", "1", "--progress", "off");

        List<String> single = new ArrayList<>(args);
        single.addAll(List.of("--out", dir.resolve("single.json").toString()));
        Run one = EvalFixtures.capture(() -> Main.execute(single.toArray(new String[0])));
        assertEquals(0, one.code(), one.err());

        int port = 20000 + (int) (ProcessHandle.current().pid() % 20000);
        Process[] ps = new Process[2];
        for (int r = 0; r < 2; r++) {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            cmd.addAll(args);
            cmd.addAll(List.of("--out", dir.resolve("ranks.json").toString(), "--dist-timeout", "60"));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(dir.resolve("out" + r).toFile())
                    .redirectError(dir.resolve("err" + r).toFile());
            Map<String, String> env = pb.environment();
            env.put("RANK", Integer.toString(r));
            env.put("LOCAL_RANK", Integer.toString(r));
            env.put("WORLD_SIZE", "2");
            env.put("MASTER_ADDR", "127.0.0.1");
            env.put("MASTER_PORT", Integer.toString(port));
            env.put("OMP_NUM_THREADS", "1");
            ps[r] = pb.start();
        }
        for (int r = 0; r < 2; r++) {
            assertTrue(ps[r].waitFor(180, TimeUnit.SECONDS), "rank " + r + " did not finish");
            assertEquals(0, ps[r].exitValue(), Files.readString(dir.resolve("err" + r)));
        }
        assertTrue(Files.readString(dir.resolve("out0")).contains("top-1"), Files.readString(dir.resolve("out0")));
        assertFalse(Files.readString(dir.resolve("out1")).contains("top-1"), "rank 1 printed the table");

        Object a = normalise(Json.read(dir.resolve("single.json")));
        Object b = normalise(Json.read(dir.resolve("ranks.json")));
        assertEquals(Json.writePretty(a), Json.writePretty(b));
        String text = Json.writePretty(b);
        assertTrue(text.contains("\"failed\": 1") && text.contains("\"evaluated\": 22"), text);
    }

    /** The report without timing, machine, paths and the command line (which differ between the runs). */
    static Object normalise(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new java.util.LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String k = String.valueOf(e.getKey());
                if (CliGoldenTest.VOLATILE.contains(k) || k.contains("second") || k.contains("time")
                        || k.equals("arguments") || k.endsWith("_per_sec")) {
                    continue;
                }
                out.put(k, normalise(e.getValue()));
            }
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(o -> out.add(normalise(o)));
            return out;
        }
        return v;
    }
}

package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import org.fixres4j.TestData;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.report.EvalFixtures.Run;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile and mistaken command lines: each is refused with one or two lines that name the option, the file or the
 * setting (no usage dump, no stack trace), and leaves existing outputs alone.
 */
class CliErrorsTest {
    @TempDir
    static Path dir;
    static Path demo;
    static Path photo;

    @BeforeAll
    static void setUp() throws IOException {
        demo = dir.resolve("demo.safetensors");
        try (InputStream in = CliErrorsTest.class.getResourceAsStream(EvalCheckpointTest.DEMO_CHECKPOINT)) {
            Files.copy(in, demo, StandardCopyOption.REPLACE_EXISTING);
        }
        photo = TestData.path("decode/photo.jpg");
    }

    static Run run(String... args) {
        return EvalFixtures.capture(() -> Main.execute(args));
    }

    /** The run failed with exactly {@code lines} lines on stderr, none of them a stack frame. */
    static void assertShortError(Run r, int code, int lines) {
        assertEquals(code, r.code(), r.out() + r.err());
        List<String> l = r.err().lines().toList();
        assertEquals(lines, l.size(), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace:\n" + r.err());
        assertTrue(l.get(0).contains(": error: "), r.err());
    }

    @Test
    void noArgumentsIsAnErrorExit() {
        Run r = run();
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Usage: fixres"), r.err());
        assertTrue(r.err().contains("fixres: error: no command given"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void aMisspelledRequiredOptionIsNamedInTwoLines() {
        Run r = run("logits", "--arch", "tf_efficientnet_b0", "--weigths", demo.toString(), "--out",
                dir.resolve("x.npy").toString(), photo.toString());
        assertShortError(r, 2, 2);
        assertEquals("fixres logits: error: unknown option '--weigths' (did you mean --weights?)",
                r.err().lines().findFirst().orElseThrow());
        assertTrue(r.err().contains("see 'fixres logits --help'"), r.err());

        Run bench = run("bench", "model", "--tread", "1");
        assertShortError(bench, 2, 2);
        assertTrue(bench.err().startsWith("fixres bench model: error: unknown option '--tread' (did you mean "
                + "--threads?)"), bench.err());

        Run missing = run("preprocess", "--out", dir.resolve("y.npy").toString(), photo.toString());
        assertShortError(missing, 2, 2);
        assertTrue(missing.err().startsWith("fixres preprocess: error: missing required option --res=R"),
                missing.err());
    }

    @Test
    void theSummaryOfRecommendInTheCommandListIsASentence() {
        Run r = run("--help");
        assertEquals(0, r.code());
        String line = r.out().lines().filter(l -> l.strip().startsWith("recommend")).findFirst().orElseThrow();
        assertFalse(line.strip().endsWith(":"), line);
        assertTrue(r.out().replaceAll("\\s+", " ").contains("recommend Recommend a test resolution (about 1.25 x "
                + "K_train) from the FixRes apparent-object-size model, optionally confirmed by a sweep."), r.out());
    }

    @Test
    void csvLayoutOnAFolderSaysWhatWasExpected() {
        Run r = run("eval", "--weights", demo.toString(), "--data", dir.toString(), "--layout", "csv");
        assertShortError(r, 2, 1);
        assertTrue(r.err().contains("--layout csv expects a CSV file of path,label rows, but " + dir
                + " is a folder"), r.err());
        assertFalse(r.err().contains("Is a directory"), r.err());
    }

    @Test
    void threadsBelowOneAreRefusedEverywhere() throws IOException {
        Path out = dir.resolve("t.npy");
        for (String t : List.of("0", "-3")) {
            for (String[] args : List.of(
                    new String[] {"preprocess", "--res", "32", "--threads", t, "--out", out.toString(),
                        photo.toString()},
                    new String[] {"logits", "--weights", demo.toString(), "--threads", t, "--out", out.toString(),
                        photo.toString()},
                    new String[] {"predict", "--weights", demo.toString(), "--threads", t, photo.toString()},
                    new String[] {"eval", "--weights", demo.toString(), "--data", dir.toString(), "--threads", t},
                    new String[] {"train", "--data", "shapes", "--threads", t, "--out",
                        dir.resolve("m.safetensors").toString()},
                    new String[] {"finetune", "--model", demo.toString(), "--res", "64", "--threads", t},
                    new String[] {"bench", "preprocess", "--threads", t},
                    new String[] {"bench", "model", "--threads", t})) {
                Run r = run(args);
                assertShortError(r, 2, 1);
                assertTrue(r.err().contains("--threads"), String.join(" ", args) + ": " + r.err());
            }
        }
        assertFalse(Files.exists(out));
    }

    @Test
    void aTinyStdIsRefusedBeforeAnythingIsWritten() throws IOException {
        Path out = dir.resolve("std.npy");
        Files.write(out, new byte[] {7});
        Run r = run("preprocess", "--res", "32", "--mean", "0.5,0.5,0.5", "--std", "1e-45,1,1", "--out",
                out.toString(), photo.toString());
        assertShortError(r, 2, 1);
        assertTrue(r.err().contains("|std| must be at least"), r.err());
        assertArrayEquals(new byte[] {7}, Files.readAllBytes(out));
        Run eval = run("eval", "--weights", demo.toString(), "--data", dir.toString(), "--mean", "0,0,0", "--std",
                "1,1e-9,1");
        assertShortError(eval, 2, 1);
        assertTrue(eval.err().contains("std"), eval.err());
    }

    @Test
    void recommendRefusesRangesThatMakeNoResolution() {
        Run r = run("recommend", "--k-train", "224", "--scale", "1e-14,1e-14");
        assertShortError(r, 2, 1);
        assertTrue(r.err().contains("K_test = 1.960e+09 px, outside 8..4096"), r.err());
        assertFalse(r.out().contains("Recommended"), r.out());
        for (String[] bad : List.of(new String[] {"--scale", "0,1"}, new String[] {"--scale", "0.5,0.2"},
                new String[] {"--scale", "0.1,1.5"}, new String[] {"--scale", "NaN,1"},
                new String[] {"--crop-pct", "1e-9"}, new String[] {"--crop-pct", "-1"},
                new String[] {"--stride", "0"}, new String[] {"--k-train", "5"},
                new String[] {"--k-train", "4000"})) {
            String[] args = new String[bad.length + 3];
            args[0] = "recommend";
            args[1] = "--k-train";
            args[2] = "224";
            System.arraycopy(bad, 0, args, 3, bad.length);
            if (bad[0].equals("--k-train")) {
                args = new String[] {"recommend", bad[0], bad[1]};
            }
            Run x = run(args);
            assertShortError(x, 2, 1);
        }
    }

    @Test
    void preprocessChecksTheOutputSizeBeforeAllocating() {
        long perImage = 3L * 8192 * 8192;
        UserException e = org.junit.jupiter.api.Assertions.assertThrows(UserException.class,
                () -> PreprocessCommand.chunkSize(perImage, 2, 8192, 8192, 512L << 20));
        assertEquals("--res 8192x8192 asks for 805.3 MB of float32 per image (3 x 8192 x 8192 x 4 bytes), more than "
                + "the 536.9 MB this process may hold at once (a quarter of the Java heap, at most 1 GiB): use a "
                + "smaller --res, or a larger heap (JAVA_TOOL_OPTIONS=-Xmx...)", e.getMessage());
        // what fits is split into fewer images per chunk instead of one huge buffer
        assertEquals(1, PreprocessCommand.chunkSize(perImage, 2, 8192, 8192, 1L << 30));
        assertEquals(3, PreprocessCommand.chunkSize(3L * 4096 * 4096, 16, 4096, 4096, 700L << 20));
        assertEquals(8, PreprocessCommand.chunkSize(3L * 64 * 64, 2, 64, 64, 1L << 30));
        assertEquals(64, PreprocessCommand.chunkSize(3L * 64 * 64, 16, 64, 64, 1L << 30));
        assertTrue(PreprocessCommand.chunkByteLimit() <= 1L << 30);
    }

    @Test
    void anOutputUnderAFileNamesThatFile() throws IOException {
        Path file = dir.resolve("plain-file");
        Files.writeString(file, "x");
        Path out = file.resolve("sub/x.npy");
        Run r = run("preprocess", "--res", "32", "--out", out.toString(), photo.toString());
        assertShortError(r, 2, 1);
        assertTrue(r.err().contains("cannot write " + out + ": " + file + " is a file, not a folder"), r.err());
        Run e = run("eval", "--weights", demo.toString(), "--data", dir.toString(), "--out", out.toString());
        assertShortError(e, 2, 1);
        assertTrue(e.err().contains(file + " is a file"), e.err());
    }

    @Test
    void fileSystemErrorsSayWhatWentWrong() {
        assertEquals("x/y is in the way: it exists and is not a folder, so nothing can be created in or under it",
                Main.message(new java.nio.file.FileAlreadyExistsException("x/y")));
        assertEquals("no such file or folder: a", Main.message(new java.nio.file.NoSuchFileException("a")));
        assertEquals("permission denied: b", Main.message(new java.nio.file.AccessDeniedException("b")));
        assertEquals("NullPointerException", Main.message(new NullPointerException()));
    }

    /** A tiny training run's arguments (shapes at 48 px, width and depth 0.25, 20 images, one epoch). */
    static String[] tinyTrain(String... more) {
        List<String> a = new java.util.ArrayList<>(List.of("train", "--data", "shapes:48", "--width", "0.25",
                "--depth", "0.25", "--res", "32", "--epochs", "1", "--train-limit", "20", "--val-limit", "0",
                "--threads", "1", "-b", "5"));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    @Test
    void trainingFailuresNameTheSettingInOneLine() throws IOException {
        Path out = dir.resolve("tiny/model.safetensors");
        Run ok = run(tinyTrain("--out", out.toString()));
        assertEquals(0, ok.code(), ok.out() + ok.err());

        Run nan = run(tinyTrain("--lr", "1e10", "--out", dir.resolve("nan/model.safetensors").toString()));
        assertShortError(nan, 1, 1);
        assertTrue(nan.err().contains("the loss is"), nan.err());
        assertTrue(nan.err().contains("--lr 1.0E10"), nan.err());
        assertFalse(Files.exists(dir.resolve("nan/model.safetensors")));

        // fine-tuning that "resumes" from the training run's checkpoints: another run, named in one line
        Path ftOut = dir.resolve("ft/model.safetensors");
        Run ft = run("finetune", "--model", out.toString(), "--data", "shapes:48", "--res", "40", "--train-limit",
                "10", "--eval-limit", "-1", "--threads", "1", "--checkpoint-dir",
                out.getParent().resolve("checkpoints").toString(), "--resume", "--out", ftOut.toString());
        assertShortError(ft, 2, 1); // a user error: the wrong directory was given
        assertTrue(ft.err().contains("was written by \"train\", not finetune"), ft.err());
        assertTrue(ft.err().contains("use another --checkpoint-dir, or drop --resume"), ft.err());
        assertTrue(ft.err().length() < 700, ft.err());
        assertFalse(Files.exists(ftOut));
    }

    @Test
    void resumeWithoutACheckpointIsRefusedUnlessAskedToStart() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty-ckpt"));
        Path out = dir.resolve("resumed.safetensors");
        Run r = run(tinyTrain("--checkpoint-dir", empty.toString(), "--resume", "--out", out.toString()));
        assertShortError(r, 1, 1);
        assertTrue(r.err().contains("--resume: there is no checkpoint in " + empty), r.err());
        assertTrue(r.err().contains("--resume-or-start"), r.err());
        assertFalse(Files.exists(out));
        Run both = run("train", "--data", "shapes", "--resume", "--resume-or-start", "--checkpoint-dir",
                empty.toString(), "--out", out.toString());
        assertShortError(both, 2, 1);
    }
}

package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.fixres4j.TestData;
import org.fixres4j.image.ImageLimits;
import org.fixres4j.io.Json;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.report.EvalFixtures.Run;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile image files through the CLI, in process: a decompression-bomb PNG (74 bytes that claim 100000x100000), a
 * FIFO with an image name, and a GIF in a dataset are counted, listed by name and skipped by {@code eval}, without a
 * stack trace or a hang; {@code logits} and {@code predict} stop with one line naming the file; {@code --max-pixels}
 * moves the limit.
 */
class HostileImagesCliTest {
    @TempDir
    static Path dir;
    static Path weights;
    static Path folder;

    @BeforeAll
    static void setUp() throws Exception {
        weights = EvalFixtures.randomWeights(dir.resolve("random3.safetensors"), 3, 11);
        folder = dir.resolve("folder");
        EvalFixtures.copy("decode/photo.jpg", folder.resolve("ant/a1.jpg"));
        EvalFixtures.copy("decode/formats/bomb.png", folder.resolve("ant/bomb.png"));
        EvalFixtures.copy("decode/formats/rgb.png", folder.resolve("bee/b1.png"));
        EvalFixtures.copy("decode/formats/still.gif", folder.resolve("bee/b2.webp")); // a GIF named .webp
        EvalFixtures.copy("decode/formats/cmyk.jpg", folder.resolve("cat/c1.jpg"));
        Process p = new ProcessBuilder("mkfifo", folder.resolve("cat/zz.png").toString()).start();
        assertEquals(0, p.waitFor());
    }

    @AfterEach
    void defaultLimits() {
        ImageLimits.setDefaults(ImageLimits.ofMaxPixels(ImageLimits.PILLOW_MAX_IMAGE_PIXELS));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void evalCountsListsAndSkipsBombFifoAndUnsupportedFiles() throws IOException {
        Path out = dir.resolve("eval/results.json");
        Run r = EvalFixtures.capture(() -> Main.execute("eval", "--arch", EvalFixtures.ARCH, "--weights",
                weights.toString(), "--data", folder.toString(), "--res", "64", "--batch", "4", "--threads", "2",
                "--out", out.toString(), "--progress", "lines"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("3 images could not be read and were skipped"), r.err());
        assertTrue(r.err().contains("bomb.png") && r.err().contains("over the limit of 89,478,485"), r.err());
        assertTrue(r.err().contains("zz.png") && r.err().contains("not a regular file"), r.err());
        assertTrue(r.err().contains("b2.webp") && r.err().contains("a GIF file"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        Map<String, Object> summary = map(map(Json.read(out)).get("summary"));
        assertEquals(6L, summary.get("images"));
        assertEquals(3L, summary.get("evaluated"));
        assertEquals(3L, summary.get("failed"));
    }

    @Test
    void evalWithAPixelLimitBelowEveryImageFailsNamingTheFirst() {
        Run r = EvalFixtures.capture(() -> Main.execute("eval", "--arch", EvalFixtures.ARCH, "--weights",
                weights.toString(), "--data", folder.toString(), "--res", "64", "--threads", "2",
                "--max-pixels", "100"));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("none of the 6 images could be read"), r.err());
        assertTrue(r.err().contains("over the limit of 100 (--max-pixels)"), r.err());

        Run bad = EvalFixtures.capture(() -> Main.execute("eval", "--arch", EvalFixtures.ARCH, "--weights",
                weights.toString(), "--data", folder.toString(), "--max-pixels", "0"));
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("Invalid value for option '--max-pixels': must be >= 1, got 0"), bad.err());
    }

    @Test
    void logitsAndPredictStopWithOneLineNamingTheFile() throws IOException {
        Path bomb = folder.resolve("ant/bomb.png");
        Path npy = dir.resolve("logits/out.npy");
        Run logits = EvalFixtures.capture(() -> Main.execute("logits", "--arch", EvalFixtures.ARCH, "--weights",
                weights.toString(), "--res", "64", "--out", npy.toString(),
                TestData.path("decode/photo.jpg").toString(), bomb.toString()));
        assertEquals(1, logits.code(), logits.err());
        assertEquals(1, logits.err().strip().lines().count(), logits.err());
        assertTrue(logits.err().startsWith("fixres logits: error: cannot decode image " + bomb + ": 100000x100000"),
                logits.err());
        assertFalse(Files.exists(npy));

        Run predict = EvalFixtures.capture(() -> Main.execute("predict", "--arch", EvalFixtures.ARCH, "--weights",
                weights.toString(), "--res", "64", bomb.toString()));
        assertEquals(1, predict.code(), predict.err());
        assertTrue(predict.err().startsWith("fixres predict: error: cannot decode image " + bomb), predict.err());
        assertEquals(1, predict.err().strip().lines().count(), predict.err());

        Run big = EvalFixtures.capture(() -> Main.execute("predict", "--arch", EvalFixtures.ARCH, "--weights",
                weights.toString(), "--res", "64", "--max-pixels", "19199",
                TestData.path("decode/photo.jpg").toString()));
        assertEquals(1, big.code(), big.err());
        assertTrue(big.err().contains("160x120 is 19,200 pixels, over the limit of 19,199"), big.err());
        Run fits = EvalFixtures.capture(() -> Main.execute("predict", "--arch", EvalFixtures.ARCH, "--weights",
                weights.toString(), "--res", "64", "--max-pixels", "19200",
                TestData.path("decode/photo.jpg").toString()));
        assertEquals(0, fits.code(), fits.err());
    }

    @Test
    void aCsvListNamingAFifoSkipsIt() throws IOException {
        Path classes = writeClasses();
        Path csv = dir.resolve("list.csv");
        Files.writeString(csv, "path,label\n" + folder.resolve("ant/a1.jpg") + ",0\n" + folder.resolve("cat/zz.png")
                + ",1\n");
        Run r = EvalFixtures.capture(() -> Main.execute("eval", "--arch", EvalFixtures.ARCH, "--weights",
                weights.toString(), "--data", csv.toString(), "--layout", "csv", "--res", "64", "--threads", "2",
                "--class-list", classes.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("1 image could not be read and was skipped"), r.err());
        assertTrue(r.err().contains("zz.png"), r.err());
    }

    private static Path writeClasses() throws IOException {
        return Files.write(dir.resolve("classes.txt"), List.of("ant", "bee", "cat"));
    }
}

package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

import org.fixres4j.io.Json;
import org.fixres4j.io.Sha256;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.report.EvalFixtures.Run;
import org.fixres4j.report.Reports;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fixres eval} on tiny folders of real photos with small B0s: a two-resolution sweep with JSON, CSV and plot
 * carrying the configuration; a corrupt image counted, listed and skipped, or stopping {@code --strict}; ReaL labels;
 * the ImageNet-V2 layout; bad options.
 */
class EvalCommandTest {
    @TempDir
    static Path dir;
    static Path random3;   // seeded random B0, 3 classes
    static Path constant3; // predicts class 2 for every image
    static Path folder;    // ant, bee (with a corrupt file), cat

    @BeforeAll
    static void setUp() throws IOException {
        random3 = EvalFixtures.randomWeights(dir.resolve("random3.safetensors"), 3, 11);
        constant3 = EvalFixtures.constantWeights(dir.resolve("constant3.safetensors"), 3, 2);
        folder = EvalFixtures.imageFolder(dir.resolve("folder"), true);
    }

    private static Run eval(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "eval";
        System.arraycopy(args, 0, all, 1, args.length);
        return EvalFixtures.capture(() -> Main.execute(all));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        return (List<Object>) o;
    }

    @Test
    void sweepsTwoResolutionsAndWritesJsonCsvAndPlot() throws IOException {
        Path out = dir.resolve("run1/results.json");
        Path png = dir.resolve("run1/acc.png");
        Run r = eval("--arch", EvalFixtures.ARCH, "--weights", constant3.toString(), "--data", folder.toString(),
                "--res", "64,96", "--batch", "4", "--threads", "2", "--out", out.toString(), "--plot", png.toString(),
                "--progress", "lines");
        assertEquals(0, r.code(), r.err());

        // stdout: the table; stderr: progress and the skipped file
        assertTrue(r.out().contains("top-1"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith("64 ") && l.contains("33.33%")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith("96 ")), r.out());
        assertTrue(r.err().contains("fixres eval: 100% 7/7 images"), r.err());
        assertTrue(r.err().contains("1 image could not be read and was skipped"), r.err());
        assertTrue(r.err().contains("b3_corrupt.jpg"), r.err());

        Map<String, Object> doc = map(Json.read(out));
        assertEquals(Reports.FORMAT, doc.get("format"));
        Map<String, Object> config = map(doc.get("config"));
        assertEquals("efficientnet_b0.ra_in1k", map(config.get("model")).get("name"));
        assertEquals(3L, map(config.get("model")).get("num_classes"));
        assertEquals(Sha256.of(constant3), map(config.get("weights")).get("sha256"));
        assertEquals(List.of(64L, 96L), map(config.get("preprocessing")).get("resolutions"));
        assertTrue(list(map(config.get("preprocessing")).get("transforms")).get(0).toString()
                .startsWith("timm_eval(res=64"));
        Map<String, Object> data = map(config.get("dataset"));
        assertEquals("imagefolder", data.get("layout"));
        assertEquals(7L, data.get("size"));
        assertEquals(folder.toAbsolutePath().normalize().toString(), data.get("path"));
        assertNull(data.get("limit"));
        Map<String, Object> sw = map(config.get("software"));
        assertEquals(System.getProperty("java.version"), sw.get("java").toString().split(" ")[0]);
        assertTrue(sw.containsKey("libtorch") && sw.containsKey("fixres4j") && sw.containsKey("cpu"));
        List<Object> results = list(doc.get("results"));
        assertEquals(2, results.size());
        for (Object o : results) {
            Map<String, Object> res = map(o);
            assertEquals(6L, res.get("count"));
            assertEquals(2L, res.get("top1_correct")); // class 2 = cat: c1, c2
            assertEquals(100.0 / 3, (Double) res.get("top1"), 1e-9);
        }
        Map<String, Object> summary = map(doc.get("summary"));
        assertEquals(7L, summary.get("images"));
        assertEquals(6L, summary.get("evaluated"));
        assertEquals(1L, summary.get("failed"));
        List<Object> failures = list(doc.get("failures"));
        assertEquals(1, failures.size());
        assertTrue(map(failures.get(0)).get("name").toString().endsWith("b3_corrupt.jpg"));

        // CSV next to the JSON: one row per resolution, configuration columns included
        List<String> csv = Files.readAllLines(dir.resolve("run1/results.csv"), StandardCharsets.UTF_8);
        assertEquals(3, csv.size());
        List<String> header = List.of(csv.get(0).split(","));
        assertTrue(header.containsAll(List.of("resolution", "top1", "top5", "config.weights.sha256",
                "config.model.name", "config.software.libtorch", "config.dataset.layout")), csv.get(0));
        assertTrue(csv.get(1).startsWith("eval,64,"), csv.get(1));
        assertTrue(csv.get(1).contains(Sha256.of(constant3)));

        BufferedImage im = ImageIO.read(png.toFile());
        assertEquals(800, im.getWidth());
        assertEquals(500, im.getHeight());
    }

    @Test
    void strictStopsAtTheCorruptImageAndLeavesNoOutput() {
        Path out = dir.resolve("strict/results.json");
        Run r = eval("--arch", EvalFixtures.ARCH, "--weights", random3.toString(), "--data", folder.toString(),
                "--res", "64", "--batch", "3", "--strict", "--progress", "off", "--out", out.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("b3_corrupt.jpg"), r.err());
        assertTrue(r.err().contains("could not be loaded"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void realLabelsOnRenamedValidationFiles() throws IOException {
        Path real = EvalFixtures.imageFolder(dir.resolve("real"), true, true);
        Path json = Files.writeString(dir.resolve("real.json"), EvalFixtures.REAL_JSON);
        Path out = dir.resolve("real/../real-results.json");
        Run r = eval("--arch", EvalFixtures.ARCH, "--weights", constant3.toString(), "--data", real.toString(),
                "--real-labels", json.toString(), "--res", "64", "--progress", "off", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ReaL-1"), r.out());
        assertTrue(r.out().contains("60.00%"), r.out()); // class 2 is in 3 of the 5 scored lists
        Map<String, Object> doc = map(Json.read(out));
        Map<String, Object> realResult = map(map(list(doc.get("results")).get(0)).get("real"));
        assertEquals(5L, realResult.get("scored"));
        assertEquals(1L, realResult.get("skipped"));
        assertEquals(3L, realResult.get("top1_correct"));
        assertEquals(Sha256.of(json), map(map(doc.get("config")).get("real_labels")).get("sha256"));

        // files that are not ILSVRC2012_val_* cannot take ReaL labels: a usage error
        Run bad = eval("--arch", EvalFixtures.ARCH, "--weights", constant3.toString(), "--data", folder.toString(),
                "--real-labels", json.toString(), "--res", "64", "--progress", "off");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("ReaL"), bad.err());
    }

    @Test
    void imageNetV2FoldersAreClassIndices() throws IOException {
        // folders 0, 2 and 10: as strings they sort 0, 10, 2, which would give the wrong labels
        Path v2 = dir.resolve("v2");
        EvalFixtures.copy(EvalFixtures.PHOTOS.get(0), v2.resolve("0/a.jpeg"));
        EvalFixtures.copy(EvalFixtures.PHOTOS.get(1), v2.resolve("2/b.jpeg"));
        EvalFixtures.copy(EvalFixtures.PHOTOS.get(2), v2.resolve("10/c.jpeg"));
        EvalFixtures.copy(EvalFixtures.PHOTOS.get(3), v2.resolve("10/d.jpeg"));
        Path weights = EvalFixtures.constantWeights(dir.resolve("constant1000.safetensors"), 1000, 10);
        Path out = dir.resolve("v2.json");
        Run r = eval("--arch", EvalFixtures.ARCH, "--weights", weights.toString(), "--data", v2.toString(),
                "--layout", "imagenetv2", "--res", "64", "--progress", "off", "--out", out.toString(), "--csv",
                dir.resolve("v2-table.csv").toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> res = map(list(map(Json.read(out)).get("results")).get(0));
        assertEquals(4L, res.get("count"));
        assertEquals(2L, res.get("top1_correct")); // the two images of folder "10"
        assertEquals(4L, res.get("top5_correct")); // ranking 10, 0, 1, 2, 3: folders 0 and 2 are in the top 5
        assertTrue(Files.exists(dir.resolve("v2-table.csv")));
        assertFalse(Files.exists(dir.resolve("v2.csv")), "--csv replaces the CSV next to the JSON");
    }

    @Test
    void limitAndFixresResizeMode() throws IOException {
        Path out = dir.resolve("limit.json");
        Run r = eval("--arch", EvalFixtures.ARCH, "--weights", random3.toString(), "--data", folder.toString(),
                "--limit", "3", "--resize-mode", "fixres", "--res", "72", "--progress", "off", "--out",
                out.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> doc = map(Json.read(out));
        Map<String, Object> data = map(map(doc.get("config")).get("dataset"));
        assertEquals(3L, data.get("size"));
        assertEquals(3L, data.get("limit"));
        assertEquals("stratified", data.get("limit_mode"));
        assertTrue(map(list(doc.get("results")).get(0)).get("transform").toString().startsWith("fixres_test(size=72"));
    }

    @Test
    void badOptionsAreUsageErrors() {
        String[] base = {"--arch", EvalFixtures.ARCH, "--weights", random3.toString(), "--data", folder.toString(),
            "--progress", "off"};
        assertEquals(2, eval(concat(base, "--res", "64,64")).code());
        assertEquals(2, eval(concat(base, "--res", "4")).code());
        assertEquals(2, eval(concat(base, "--layout", "zip")).code());
        assertEquals(2, eval(concat(base, "--resize-mode", "fixres", "--crop-pct", "0.9")).code());
        assertEquals(2, eval("--arch", "resnet50", "--weights", random3.toString(), "--data", folder.toString())
                .code());
        Run missing = eval("--arch", EvalFixtures.ARCH, "--weights", random3.toString(), "--data",
                dir.resolve("nope").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("nope"), missing.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

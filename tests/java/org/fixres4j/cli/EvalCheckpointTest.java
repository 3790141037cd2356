package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

import org.fixres4j.model.ModelFile;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.data.Dataset;
import org.fixres4j.data.Pixels;
import org.fixres4j.data.Sample;
import org.fixres4j.data.Subsets;
import org.fixres4j.fixres.Checkpoint;
import org.fixres4j.app.Demo;
import org.fixres4j.data.DemoData;
import org.fixres4j.fixres.FinetuneConfig;
import org.fixres4j.fixres.TrainEval;
import org.fixres4j.io.Json;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.report.EvalFixtures.Run;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.weights.SafeTensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fixres eval} on model files of {@code fixres train} / {@code finetune}: the shipped demo checkpoint (a
 * custom-width EfficientNet no timm name describes) rebuilt from its metadata without {@code --arch} and scored on
 * Fashion-MNIST test items rendered as the demo renders them; {@code --arch} agreeing or disagreeing with the
 * metadata; a file without metadata and without {@code --arch}.
 */
class EvalCheckpointTest {
    /** The shipped checkpoint's resource (made by {@code fixres train}, see its README). */
    static final String DEMO_CHECKPOINT = "/org/fixres4j/demo/fashion-mnist-canvas-112.safetensors";
    /** Test items scored (30 a class). */
    static final int ITEMS = 300;

    @TempDir
    static Path dir;
    static Path demo;

    @BeforeAll
    static void setUp() throws IOException {
        demo = dir.resolve("demo.safetensors");
        try (InputStream in = Demo.class.getResourceAsStream(DEMO_CHECKPOINT)) {
            assertNotNull(in, DEMO_CHECKPOINT + " is not on the classpath");
            Files.copy(in, demo, StandardCopyOption.REPLACE_EXISTING);
        }
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

    /**
     * {@code n} stratified Fashion-MNIST test items on the demo's 112 px canvas written as gray PNGs, listed in a CSV
     * whose labels are class names ("T-shirt/top", "Ankle boot", ...): sorted, they are not the model's order, so
     * only the model's class names from its metadata give the right labels. Returns the CSV and the same items in
     * memory.
     */
    private static Dataset canvasItems(Path root, int n) throws IOException {
        DemoData d = DemoData.open("fashion-mnist-canvas:112");
        Dataset items = Subsets.stratified(d.test(), n, 1);
        StringBuilder csv = new StringBuilder("path,label\n");
        Files.createDirectories(root.resolve("items"));
        for (int i = 0; i < items.size(); i++) {
            Sample s = items.get(i);
            Pixels p = s.pixels();
            assertEquals(1, p.channels());
            BufferedImage im = new BufferedImage(p.width(), p.height(), BufferedImage.TYPE_BYTE_GRAY);
            im.getRaster().setDataElements(0, 0, p.width(), p.height(),
                    java.util.Arrays.copyOfRange(p.data(), p.offset(), p.offset() + p.byteCount()));
            String name = String.format("items/%04d.png", i);
            ImageIO.write(im, "png", root.resolve(name).toFile());
            csv.append(name).append(",\"").append(items.classNames().get(s.label())).append("\"\n");
        }
        Files.writeString(root.resolve("items.csv"), csv, StandardCharsets.UTF_8);
        return items;
    }

    @Test
    void theShippedDemoCheckpointIsRebuiltFromItsMetadataAndScoresWellAboveChance() throws IOException {
        assumeTrue(DemoData.fashionMnistInstalled(), "Fashion-MNIST is not installed");
        Path root = dir.resolve("canvas");
        Dataset items = canvasItems(root, ITEMS);
        Path csv = root.resolve("items.csv");
        Path out = dir.resolve("demo-eval.json");

        // no --arch, no --res: width/depth/classes and the input configuration come from the file
        Run r = eval("--weights", demo.toString(), "--data", csv.toString(), "--layout", "csv", "--batch", "64",
                "--threads", "1", "--progress", "off", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("mapped to the model's class indices"), r.err());
        Map<String, Object> doc = map(Json.read(out));
        Map<String, Object> model = map(map(doc.get("config")).get("model"));
        assertEquals("efficientnet_b0(width=0.25, depth=0.25, in_chans=3, classes=10)", model.get("name"));
        assertEquals("fixres4j metadata", model.get("described_by"));
        assertEquals(10L, model.get("num_classes"));
        assertEquals(64L, model.get("input_size"));
        assertEquals("T-shirt/top", list(model.get("class_names")).get(0));
        Map<String, Object> pre = map(map(doc.get("config")).get("preprocessing"));
        assertEquals(List.of(64L), pre.get("resolutions"));
        String transform = list(pre.get("transforms")).get(0).toString();
        assertTrue(transform.startsWith("timm_eval(res=64") && transform.contains("bilinear")
                && transform.contains("0.019"), transform);
        Map<String, Object> res = map(list(doc.get("results")).get(0));
        assertEquals((long) ITEMS, res.get("count"));
        double top1 = (Double) res.get("top1");
        // the checkpoint scores 83.86% on all 10,000 test items at 64 px (its README); chance is 10%
        assertTrue(top1 > 70, "top-1 " + top1);
        assertTrue((Double) res.get("top5") > 95, "top-5 " + res.get("top5"));

        // the same items in memory through the library's path (Checkpoint.loadModel + TrainEval): the same count
        try (ModelFile.Loaded loaded = ModelFile.load(demo)) {
            TrainEval.Result ref = TrainEval.evaluate(loaded.model(), items,
                    FinetuneConfig.testTransform(loaded.info(), 64), 64, 1);
            assertEquals(ref.accuracy().correct(1), (long) res.get("top1_correct"),
                    "eval from PNG files vs the in-memory items");
        }

        // explicit flags override the file's input configuration
        Run o = eval("--weights", demo.toString(), "--data", csv.toString(), "--layout", "csv", "--limit", "20",
                "--res", "72", "--interpolation", "bicubic", "--crop-pct", "1.0", "--mean", "0.5,0.5,0.5", "--std",
                "0.25,0.25,0.25", "--threads", "1", "--progress", "off", "--out", dir.resolve("override.json")
                        .toString());
        assertEquals(0, o.code(), o.err());
        String t = list(map(map(map(Json.read(dir.resolve("override.json"))).get("config")).get("preprocessing"))
                .get("transforms")).get(0).toString();
        assertTrue(t.startsWith("timm_eval(res=72") && t.contains("bicubic") && t.contains("0.5")
                && !t.contains("0.019"), t);
    }

    @Test
    void anArchThatDisagreesWithTheMetadataIsAUsageError() throws IOException {
        Path folder = EvalFixtures.imageFolder(dir.resolve("disagree"), false);
        Run r = eval("--arch", "efficientnet_b0", "--weights", demo.toString(), "--data", folder.toString(),
                "--progress", "off");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--arch efficientnet_b0 does not match"), r.err());
        assertTrue(r.err().contains("width 1.0 (file 0.25), depth 1.0 (file 0.25)"), r.err());
        assertTrue(r.err().contains("leave --arch out"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        Run tf = eval("--arch", "tf_efficientnet_b0.ap_in1k", "--weights", demo.toString(), "--data",
                folder.toString(), "--progress", "off");
        assertEquals(2, tf.code(), tf.err());
        assertTrue(tf.err().contains("padding TF 'same' (file symmetric)"), tf.err());
    }

    @Test
    void anArchThatAgreesKeepsTheFilesInputConfiguration() throws IOException {
        // a full-width B0 written as fixres finetune writes it, fine-tuned at 72 px
        Path file = dir.resolve("b0-72.safetensors");
        ModelInfo info = new ModelInfo(
                ModelRegistry.resolve(EvalFixtures.ARCH).spec().withNumClasses(3), 72, 0.9, Interpolation.BICUBIC,
                Normalization.IMAGENET, List.of("ant", "bee", "cat"));
        org.fixres4j.torch.Torch.ensureLoaded();
        try (EfficientNet m = ModelRegistry.create(info.spec())) {
            m.initTimm();
            ModelFile.save(file, m, info, Map.of());
        }
        Path folder = EvalFixtures.imageFolder(dir.resolve("agree"), false);
        Path out = dir.resolve("agree.json");
        Run r = eval("--arch", EvalFixtures.ARCH, "--weights", file.toString(), "--data", folder.toString(),
                "--threads", "1", "--progress", "off", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> config = map(map(Json.read(out)).get("config"));
        assertEquals(EvalFixtures.ARCH + ".ra_in1k", map(config.get("model")).get("name"));
        assertEquals("fixres4j metadata", map(config.get("model")).get("described_by"));
        assertEquals(List.of(72L), map(config.get("preprocessing")).get("resolutions"));
        assertTrue(list(map(config.get("preprocessing")).get("transforms")).get(0).toString()
                .contains("crop_pct=0.9"), config.toString());
        assertFalse(r.err().contains("warning"), r.err()); // folder names are the model's classes, in its order
    }

    @Test
    void aFileWithoutMetadataNeedsArch() throws IOException {
        Path bare = EvalFixtures.randomWeights(dir.resolve("bare.safetensors"), 3, 5);
        assertTrue(SafeTensors.readHeader(bare).metadata().keySet().stream().noneMatch(k -> k.startsWith("fixres4j.")));
        Path folder = EvalFixtures.imageFolder(dir.resolve("bare"), false);
        Run r = eval("--weights", bare.toString(), "--data", folder.toString(), "--progress", "off");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("no FixRes4J model metadata") && r.err().contains("--arch"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        // with --arch it runs as before (the timm name's configuration)
        Run ok = eval("--arch", EvalFixtures.ARCH, "--weights", bare.toString(), "--data", folder.toString(),
                "--res", "64", "--threads", "1", "--progress", "off");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().lines().anyMatch(l -> l.trim().startsWith("64 ")), ok.out());
    }
}

package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.fixres4j.model.ModelFile;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.fixres.Recommend;
import org.fixres4j.io.Json;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.model.Variant;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.report.EvalFixtures.Run;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fixres recommend}: the formula's terms and K_test, and the confirming sweep with {@code --data}. */
class RecommendCommandTest {
    private static Run recommend(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "recommend";
        System.arraycopy(args, 0, all, 1, args.length);
        return EvalFixtures.capture(() -> Main.execute(all));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @Test
    void printsTheFormulaWithItsTermsFor224() {
        Run r = recommend("--k-train", "224");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("E[sigma] = (2/3) (s_max^1.5 - s_min^1.5) / (s_max - s_min) = 0.7082"), r.out());
        assertTrue(r.out().contains("apparent size ratio at K_test = K_train: E[sigma] * 1.1429 = 0.8094"), r.out());
        assertTrue(r.out().contains("Recommended test resolution: 280 (1.250 x K_train; exact 276.7)"), r.out());
    }

    @Test
    void takesKTrainAndCropPctFromTheArchitectureAndWritesJson(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("rec.json");
        Run r = recommend("--arch", "tf_efficientnet_b0.ap_in1k", "--stride", "32", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("K_train = 224 (input size of tf_efficientnet_b0.ap_in1k)"), r.out());
        assertTrue(r.out().contains("Recommended test resolution: 288"), r.out()); // 276.8 on a grid of 32
        Map<String, Object> doc = map(Json.read(out));
        assertEquals(List.of("format", "schema_version", "recommendation", "software"), List.copyOf(doc.keySet()));
        assertEquals(1L, doc.get("schema_version"));
        assertEquals(List.of("fixres4j", "java"), List.copyOf(map(doc.get("software")).keySet()));
        Map<String, Object> rec = map(doc.get("recommendation"));
        assertEquals(224L, rec.get("k_train"));
        assertEquals(288L, rec.get("k_test"));
        assertEquals(0.7082, (Double) rec.get("expected_sigma"), 1e-4);
    }

    @Test
    void otherScaleRangesAndUsageErrors() {
        Run r = recommend("--k-train", "128", "--scale", "0.35,1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("U[0.35, 1]"), r.out());
        assertEquals(2, recommend().code()); // neither --k-train nor --arch
        assertEquals(2, recommend("--k-train", "224", "--scale", "0.5").code());
        assertEquals(2, recommend("--k-train", "224", "--scale", "0.9,0.5").code());
        assertEquals(2, recommend("--k-train", "224", "--weights", "w.safetensors").code()); // no such file
        assertEquals(2, recommend("--k-train", "224", "--res", "224,256").code()); // --res needs --data
    }

    @Test
    void aSweepOnHeldOutDataConfirmsIt(@TempDir Path dir) throws IOException {
        Path weights = EvalFixtures.randomWeights(dir.resolve("b0.safetensors"), 3, 5);
        Path data = EvalFixtures.imageFolder(dir.resolve("data"), false);
        Path out = dir.resolve("rec.json");
        Path png = dir.resolve("rec.png");
        Run r = recommend("--arch", EvalFixtures.ARCH, "--k-train", "64", "--weights", weights.toString(),
                "--data", data.toString(), "--limit", "4", "--threads", "2", "--progress", "off", "--out",
                out.toString(), "--plot", png.toString());
        assertEquals(0, r.code(), r.err());
        // 64 -> 79.1 -> 80; grid 64, 72, ..., 104 (half steps of 8, up to 1.5 steps past 80)
        assertTrue(r.out().contains("Recommended test resolution: 80"), r.out());
        assertTrue(r.out().contains("Sweep on 4 images"), r.out());
        for (String res : List.of("64", "72", "80", "88", "96", "104")) {
            assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith(res + " ")), res + " in\n" + r.out());
        }
        assertTrue(r.out().contains("Formula: 80 px -> top-1"), r.out());
        assertTrue(r.out().contains("Sweep best:"), r.out());
        Map<String, Object> doc = map(Json.read(out));
        assertEquals(80L, map(doc.get("recommendation")).get("k_test"));
        Map<String, Object> confirm = map(doc.get("confirmation"));
        assertEquals(80L, confirm.get("formula_k_test"));
        assertEquals(4L, confirm.get("images"));
        assertTrue(confirm.get("sweep_best_k_test") instanceof Long);
        assertEquals(6, ((List<?>) doc.get("results")).size());
        assertEquals(4L, map(map(doc.get("config")).get("dataset")).get("size"));
        assertTrue(java.nio.file.Files.size(png) > 1000);
        assertTrue(java.nio.file.Files.exists(dir.resolve("rec.csv")));
    }

    /**
     * A model file as {@code fixres train} writes it: a width/depth no timm name describes, 3 classes, and in its
     * metadata K_train 72 and crop_pct 0.9.
     */
    private static Path trainedModel(Path file) throws IOException {
        ModelInfo info = new ModelInfo(
                ModelFile.custom(EfficientNetSpec.nativeVariant(Variant.B0), 0.25, 0.25, 3, 3), 72, 0.9,
                Interpolation.BILINEAR, Normalization.IMAGENET, List.of("ant", "bee", "cat"));
        Torch.ensureLoaded();
        try (EfficientNet m = ModelRegistry.create(info.spec())) {
            m.initTimm();
            ModelFile.save(file, m, info, Map.of());
        }
        return file;
    }

    @Test
    void aModelFileWithMetadataNeedsNoArchForKTrainCropPctOrTheSweep(@TempDir Path dir) throws IOException {
        Path model = trainedModel(dir.resolve("model.safetensors"));
        String name = "efficientnet_b0(width=0.25, depth=0.25, in_chans=3, classes=3)";
        int expected = Recommend.of(72, 0.08, 1, Recommend.cropRatioOfCropPct(0.9), 8).kTest();

        // K_train and crop_pct from the file alone
        Run r = recommend("--weights", model.toString(), "--stride", "8");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("K_train = 72 (input size of " + name + "); test crop ratio from 1 / crop_pct 0.9 "
                + "of " + name), r.out());
        assertTrue(r.out().contains("Recommended test resolution: " + expected + " "), r.out());

        // the confirming sweep rebuilds the model from the metadata, as eval does
        Path data = EvalFixtures.imageFolder(dir.resolve("data"), false);
        Path out = dir.resolve("rec.json");
        Run s = recommend("--weights", model.toString(), "--stride", "8", "--data", data.toString(), "--limit", "3",
                "--threads", "1", "--progress", "off", "--out", out.toString());
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().contains("Sweep on 3 images"), s.out());
        assertTrue(s.err().contains("sweep of " + name), s.err());
        Map<String, Object> doc = map(Json.read(out));
        Map<String, Object> model0 = map(map(doc.get("config")).get("model"));
        assertEquals(name, model0.get("name"));
        assertEquals("fixres4j metadata", model0.get("described_by"));
        assertEquals(72L, model0.get("input_size"));
        List<?> res = (List<?>) map(map(doc.get("config")).get("preprocessing")).get("resolutions");
        assertTrue(res.contains(72L) && res.contains((long) expected), res.toString());
        assertEquals((long) expected, map(doc.get("confirmation")).get("formula_k_test"));

        // --arch, given, is checked against the metadata, as eval checks it
        Run wrong = recommend("--arch", "efficientnet_b0", "--weights", model.toString());
        assertEquals(2, wrong.code(), wrong.err());
        assertTrue(wrong.err().contains("--arch efficientnet_b0 does not match"), wrong.err());
    }

    @Test
    void aWeightFileWithoutMetadataStillNeedsArch(@TempDir Path dir) throws IOException {
        Path bare = EvalFixtures.randomWeights(dir.resolve("bare.safetensors"), 3, 5);
        Run r = recommend("--weights", bare.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("no FixRes4J model metadata") && r.err().contains("--arch"), r.err());
        Run noWeights = recommend("--arch", EvalFixtures.ARCH, "--data", dir.toString());
        assertEquals(2, noWeights.code(), noWeights.err());
        assertTrue(noWeights.err().contains("--data needs --weights"), noWeights.err());
    }
}

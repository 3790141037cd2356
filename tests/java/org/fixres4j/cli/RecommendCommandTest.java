package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.fixres4j.io.Json;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.report.EvalFixtures.Run;
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
        Map<String, Object> rec = map(map(Json.read(out)).get("recommendation"));
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
        assertEquals(2, recommend("--k-train", "224", "--weights", "w.safetensors").code()); // needs --data
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
}

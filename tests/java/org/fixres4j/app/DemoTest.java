package org.fixres4j.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.fixres4j.fixres.FinetuneConfig;
import org.fixres4j.data.DemoData;
import org.fixres4j.cli.Main;
import org.fixres4j.io.Json;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The FixRes demo end to end, small: on generated data (trained on the spot) and on Fashion-MNIST (shipped model). */
class DemoTest {
    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
        System.setProperty("java.awt.headless", "true");
    }

    /** Where Fashion-MNIST is missing: generated shapes, trained on the spot, and the install command printed. */
    @Test
    @SuppressWarnings("unchecked")
    void withoutFashionMnistTheQuickDemoTrainsOnGeneratedShapesAndSaysSo(@TempDir Path dir) throws IOException {
        Path empty = Files.createDirectories(dir.resolve("no-fashion-mnist"));
        Path out = dir.resolve("out");
        System.setProperty("fixres4j.fashion-mnist.dir", empty.toString());
        try {
            assertEquals(0, Main.execute("demo", "--quick", "--res", "48,64,80", "--finetune-res", "80",
                    "--threads", "1", "--out-dir", out.toString()));
        } finally {
            System.clearProperty("fixres4j.fashion-mnist.dir");
        }
        Map<String, Object> doc = (Map<String, Object>) Json.read(out.resolve("fixres-demo.json"));
        assertTrue(String.valueOf(doc.get("note")).contains("apt-get install dataset-fashion-mnist"), doc.toString());
        assertTrue(String.valueOf(doc.get("data")).startsWith("generated_shapes(test"), doc.toString());
        assertEquals(64L, doc.get("k_train"));
        List<Map<String, Object>> rows = (List<Map<String, Object>>) doc.get("rows");
        assertEquals(3, rows.size());
        assertTrue(rows.get(2).containsKey("finetuned_classifier_top1"));
        assertTrue(rows.get(2).containsKey("finetuned_last_stage_top1"));
        assertTrue(rows.get(2).containsKey("bn_only_top1"));
        assertTrue(Files.size(out.resolve("fixres-demo.png")) > 1000);
        assertTrue(Files.isRegularFile(out.resolve("trained-shapes.safetensors")));
        // the recommendation for K_train 64 with the default scale is 80 (1.2355 x 64 = 79.1)
        assertEquals(80L, ((Map<String, Object>) doc.get("recommendation")).get("k_test"));
        assertTrue(Files.isRegularFile(out.resolve("finetuned-classifier-80.safetensors")));
        assertTrue(((Map<String, Object>) doc.get("verdicts")).containsKey("last-stage"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void quickDemoOnFashionMnistUsesTheShippedCheckpoint(@TempDir Path dir) throws IOException {
        assumeTrue(DemoData.fashionMnistInstalled(), "Fashion-MNIST is not installed");
        assumeTrue(Demo.hasShipped(Demo.DEMO_DATA), "no shipped checkpoint");
        Demo.Options o = new Demo.Options();
        o.data = "auto";
        o.sweepImages = 300;
        o.finetuneImages = 256;
        o.resolutions = List.of(64, 80);
        o.finetuneResolutions = List.of(80);
        o.finetuneEpochs = 1;
        o.modes = List.of(FinetuneConfig.Mode.CLASSIFIER);
        o.threads = 1;
        o.outDir = dir;
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        o.out = new PrintStream(text, true, StandardCharsets.UTF_8);
        Demo.Result r = Demo.run(o);
        String printed = text.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("shipped checkpoint"), printed);
        assertEquals(2, r.rows().size());
        // a trained model, not chance
        assertTrue(r.rows().get(0).before().percent(1) > 60, printed);
        assertTrue(printed.contains("fashion_mnist_canvas"), printed);
        Map<String, Object> doc = (Map<String, Object>) Json.read(r.json());
        assertEquals(300L, doc.get("test_images"));
    }

    @Test
    void gridCoversTheTrainingAndRecommendedSizes() {
        List<Integer> g = Demo.defaultGrid(64, 80);
        assertEquals(48, g.get(0));
        assertTrue(g.contains(64) && g.contains(80) && g.contains(128));
        assertEquals(g.stream().sorted().distinct().toList(), g);
    }

    @Test
    void recipesNameTheTrainCommand() {
        String c = Demo.RECIPES.get(Demo.DEMO_DATA).command();
        assertEquals("./fixres train --data fashion-mnist-canvas:112 --width 0.25 --depth 0.25 --res 64 --epochs 8 "
                + "--threads 1 --out java-resources/org/fixres4j/demo/fashion-mnist-canvas-112.safetensors", c);
    }

    @Test
    void verdictMembersKeepTheirNames() {
        Demo.Verdict seen = new Demo.Verdict(64, 11.0, 12.0, 80, 13.5, 96, 16.0, 4.0, 1.5);
        assertEquals("{\"k_train\":64,\"top1_at_k_train\":11.0,\"top1_at_k_train_finetuned\":12.0,"
                + "\"best_untuned_res\":80,\"best_untuned_top1\":13.5,\"best_finetuned_res_above_k_train\":96,"
                + "\"best_finetuned_top1_above_k_train\":16.0,\"fixres_effect_top1\":4.0,\"standard_error_top1\":1.5,"
                + "\"seen\":true}", Json.write(seen.report()));
        Demo.Verdict none = new Demo.Verdict(64, 11.0, Double.NaN, 64, 11.0, 0, Double.NaN, Double.NaN, 1.5);
        assertEquals("{\"k_train\":64,\"top1_at_k_train\":11.0,\"best_untuned_res\":64,\"best_untuned_top1\":11.0,"
                + "\"standard_error_top1\":1.5,\"seen\":false}", Json.write(none.report()));
    }
}

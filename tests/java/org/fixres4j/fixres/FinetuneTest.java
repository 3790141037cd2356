package org.fixres4j.fixres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.fixres4j.model.ModelFile;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.data.DemoData;
import org.fixres4j.data.DemoShapes;
import org.fixres4j.app.Demo;
import org.fixres4j.data.Dataset;
import org.fixres4j.data.Subsets;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.weights.StateDict;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FixRes fine-tuning: what it changes (only the classifier and bn2's running statistics in the default mode), the
 * other modes, resume after a simulated kill, the label-free bn2 re-estimation, and on real Fashion-MNIST data that
 * the fine-tuned shipped model is at least as accurate at the test resolution as before.
 */
class FinetuneTest {
    static final DemoShapes TRAIN = new DemoShapes(192, 48, 3, "train");

    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
        System.setProperty("java.awt.headless", "true");
    }

    /** A tiny model (8-channel stages, one block per stage) with timm init, seeded. */
    static ModelFile.Loaded tiny(long seed) {
        EfficientNetSpec spec = ModelFile.custom(EfficientNetSpec.nativeVariant(org.fixres4j.model.Variant.B0), 0.1,
                0.1, 3, 10);
        org.bytedeco.pytorch.global.torch.manual_seed(seed);
        EfficientNet m = ModelRegistry.create(spec);
        m.initTimm();
        ModelInfo info = new ModelInfo(spec, 32, 0.875, Interpolation.BILINEAR,
                DemoData.SHAPES, DemoShapes.CLASS_NAMES);
        return new ModelFile.Loaded(m, info);
    }

    static FinetuneConfig config(FinetuneConfig.Mode mode) {
        return new FinetuneConfig(40).mode(mode).epochs(1).batchSize(32).lr(0.05).threads(1).seed(5);
    }

    static Set<String> changed(StateDict a, StateDict b) {
        Set<String> out = new TreeSet<>();
        for (String k : a.keys()) {
            if (!a.get(k).contentEquals(b.get(k))) {
                out.add(k);
            }
        }
        return out;
    }

    @Test
    void changesOnlyTheClassifierAndBn2Statistics(@TempDir Path dir) throws IOException {
        try (ModelFile.Loaded t = tiny(1)) {
            StateDict before = t.model().stateDict();
            new Finetuner(config(FinetuneConfig.Mode.CLASSIFIER)).run(t.model(), t.info(), TRAIN, dir, false, "tiny");
            StateDict after = t.model().stateDict();
            assertEquals(Set.of("classifier.weight", "classifier.bias", "bn2.running_mean", "bn2.running_var",
                    "bn2.num_batches_tracked"), changed(before, after));
            assertEquals(6, after.get("bn2.num_batches_tracked").toLongArray()[0]); // 192 / 32 batches
            assertFalse(t.model().is_training());
        }
    }

    @Test
    void bnAffineAndLastStageModesTrainTheirTensorsToo(@TempDir Path dir) throws IOException {
        try (ModelFile.Loaded t = tiny(2)) {
            StateDict before = t.model().stateDict();
            new Finetuner(config(FinetuneConfig.Mode.BN_AFFINE)).run(t.model(), t.info(), TRAIN, dir.resolve("a"),
                    false, "tiny");
            assertEquals(Set.of("classifier.weight", "classifier.bias", "bn2.running_mean", "bn2.running_var",
                    "bn2.num_batches_tracked", "bn2.weight", "bn2.bias"), changed(before, t.model().stateDict()));
        }
        try (ModelFile.Loaded t = tiny(2)) {
            StateDict before = t.model().stateDict();
            Finetuner.Result r = new Finetuner(config(FinetuneConfig.Mode.LAST_STAGE)).run(t.model(), t.info(),
                    TRAIN, dir.resolve("b"), false, "tiny");
            Set<String> changed = changed(before, t.model().stateDict());
            for (String k : changed) {
                assertTrue(k.startsWith("classifier.") || k.startsWith("bn2.") || k.startsWith("conv_head.")
                        || (k.startsWith("blocks.6.") && !k.contains("running_") && !k.contains("num_batches")), k);
            }
            assertTrue(changed.contains("blocks.6.0.conv_pwl.weight"));
            assertTrue(changed.contains("conv_head.weight"));
            assertTrue(r.trained().contains("blocks.6.0.bn3.weight"));
        }
    }

    @Test
    void resumeAfterAKillReachesTheSameWeights(@TempDir Path dir) throws IOException {
        FinetuneConfig cfg = config(FinetuneConfig.Mode.CLASSIFIER).epochs(3).schedule("cosine");
        StateDict straight;
        try (ModelFile.Loaded t = tiny(3)) {
            new Finetuner(cfg).run(t.model(), t.info(), TRAIN, dir.resolve("straight"), false, "tiny");
            straight = t.model().stateDict();
        }
        Path ck = dir.resolve("killed");
        try (ModelFile.Loaded t = tiny(3)) {
            Finetuner killed = new Finetuner(cfg).listener(new Finetuner.Listener() {
                @Override
                public void afterStep(int epoch, int step, int stepsPerEpoch, double loss, double lr) {
                    if (epoch == 1 && step == 2) {
                        throw new IllegalStateException("simulated kill");
                    }
                }
            });
            assertThrows(IllegalStateException.class, () -> killed.run(t.model(), t.info(), TRAIN, ck, true,
                    "tiny"));
        }
        assertEquals(1, Checkpoint.find(ck).epoch());
        try (ModelFile.Loaded t = tiny(3)) {
            int[] resumed = {-1};
            Finetuner.Result r = new Finetuner(cfg).listener(new Finetuner.Listener() {
                @Override
                public void resumed(int epochsDone, Path checkpoint) {
                    resumed[0] = epochsDone;
                }
            }).run(t.model(), t.info(), TRAIN, ck, true, "tiny");
            assertEquals(1, resumed[0]);
            assertEquals(3, r.history().size());
            StateDict again = t.model().stateDict();
            assertEquals(Set.of(), changed(straight, again), "resumed weights differ from the uninterrupted run's");
        }
        // a checkpoint of another configuration is refused
        try (ModelFile.Loaded t = tiny(3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Finetuner(
                    config(FinetuneConfig.Mode.CLASSIFIER).epochs(3).lr(0.5)).run(t.model(), t.info(), TRAIN, ck,
                    true, "tiny"));
            assertTrue(e.getMessage().contains("another run"), e.getMessage());
        }
    }

    @Test
    void bnOnlyReestimatesBn2ExactlyWithoutTouchingAnythingElse() throws IOException {
        Dataset data = new DemoShapes(96, 48, 4, "test");
        try (ModelFile.Loaded a = tiny(4); ModelFile.Loaded b = tiny(4)) {
            StateDict before = a.model().stateDict();
            var transform = FinetuneConfig.testTransform(a.info(), 48);
            long n = BnReestimate.run(a.model(), data, transform, 16, 1, 0);
            assertEquals(96, n);
            assertEquals(Set.of("bn2.running_mean", "bn2.running_var", "bn2.num_batches_tracked"),
                    changed(before, a.model().stateDict()));
            assertEquals(6, a.model().stateDict().get("bn2.num_batches_tracked").toLongArray()[0]);
            // pooling over batches of 16 gives the statistics of one batch of all 96 (up to float rounding)
            BnReestimate.run(b.model(), data, transform, 96, 1, 0);
            float[] m1 = a.model().stateDict().get("bn2.running_mean").toFloatArray();
            float[] m2 = b.model().stateDict().get("bn2.running_mean").toFloatArray();
            float[] v1 = a.model().stateDict().get("bn2.running_var").toFloatArray();
            float[] v2 = b.model().stateDict().get("bn2.running_var").toFloatArray();
            for (int i = 0; i < m1.length; i++) {
                assertEquals(m2[i], m1[i], 1e-4 * (1 + Math.abs(m2[i])), "mean " + i);
                assertEquals(v2[i], v1[i], 1e-4 * (1 + Math.abs(v2[i])), "var " + i);
            }
        }
    }

    @Test
    void finetunedModelFileLoadsStrictlyWithItsNewResolution(@TempDir Path dir) throws IOException {
        try (ModelFile.Loaded t = tiny(5)) {
            new Finetuner(config(FinetuneConfig.Mode.CLASSIFIER)).run(t.model(), t.info(), TRAIN, dir, false, "x");
            Path f = dir.resolve("ft.safetensors");
            ModelFile.save(f, t.model(), t.info().withInputSize(40), Map.of());
            try (ModelFile.Loaded back = ModelFile.load(f)) {
                assertEquals(40, back.info().inputSize());
                assertEquals(t.info().spec().width(), back.info().spec().width());
                assertEquals(Set.of(), changed(t.model().stateDict(), back.model().stateDict()));
            }
        }
    }

    /** Real data: the shipped Fashion-MNIST model, fine-tuned above K_train, is at least as accurate there. */
    @Test
    void onFashionMnistFinetuningAtAHigherResolutionDoesNotLoseAccuracy(@TempDir Path dir) throws IOException {
        assumeTrue(DemoData.fashionMnistInstalled(), "Fashion-MNIST is not installed (apt-get install "
                + "dataset-fashion-mnist; .ci/run installs it)");
        assumeTrue(Demo.hasShipped(Demo.DEMO_DATA), "no shipped checkpoint");
        DemoData d = DemoData.open(Demo.DEMO_DATA);
        Path model = dir.resolve("m.safetensors");
        try (var in = Demo.class.getResourceAsStream(Demo.RECIPES.get(Demo.DEMO_DATA).resource())) {
            Files.copy(in, model);
        }
        Dataset test = Subsets.stratified(d.test(), 1000, 1);
        Dataset train = Subsets.stratified(d.train(), 2000, 2);
        try (ModelFile.Loaded m = ModelFile.load(model)) {
            int res = m.info().inputSize() * 3 / 2; // 96 for the shipped K_train = 64
            assertTrue(res > Recommend.of(m.info().inputSize()).kTest());
            var transform = FinetuneConfig.testTransform(m.info(), res);
            org.bytedeco.pytorch.global.torch.set_num_threads(1);
            double before = TrainEval.evaluate(m.model(), test, transform, 64, 1).accuracy().percent(1);
            new Finetuner(new FinetuneConfig(res).lr(0.01).threads(1)).run(m.model(), m.info(), train,
                    dir.resolve("ck"), false, model.toString());
            double after = TrainEval.evaluate(m.model(), test, transform, 64, 1).accuracy().percent(1);
            assertTrue(after >= before, "top-1 at " + res + " px: " + before + " before, " + after + " after");
        }
    }

    @Test
    void modesSpellAndTrainTheRightNames() {
        var last = Finetuner.trained(FinetuneConfig.Mode.LAST_STAGE, 6);
        assertTrue(last.test("blocks.6.0.conv_pw.weight"));
        assertFalse(last.test("blocks.5.0.conv_pw.weight"));
        assertFalse(Finetuner.trained(FinetuneConfig.Mode.CLASSIFIER, 6).test("bn2.weight"));
        assertTrue(Finetuner.trained(FinetuneConfig.Mode.BN_AFFINE, 6).test("bn2.bias"));
        assertEquals("last-stage", FinetuneConfig.Mode.LAST_STAGE.spelling());
    }
}

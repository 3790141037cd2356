package org.fixres4j.fixres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.fixres4j.model.ModelFile;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.data.DemoData;
import org.fixres4j.data.DemoShapes;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.model.Variant;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.TensorData;
import org.fixres4j.weights.TorchTensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training from scratch: it learns, resumes exactly after a kill, and the optimizers follow PyTorch's rules. */
class TrainTest {
    static final DemoShapes DATA = new DemoShapes(256, 48, 7, "train");

    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
        System.setProperty("java.awt.headless", "true");
    }

    static ModelInfo tinyInfo(TrainConfig cfg) {
        EfficientNetSpec spec = ModelFile.custom(EfficientNetSpec.nativeVariant(Variant.B0), 0.1, 0.1, 3, 10);
        return new ModelInfo(spec, cfg.resolution(), 0.875, cfg.interpolation(), cfg.normalization(),
                DemoShapes.CLASS_NAMES);
    }

    static TrainConfig cfg(int epochs) {
        return new TrainConfig().resolution(32).epochs(epochs).batchSize(32).lr(0.2).warmupEpochs(0.5).threads(1)
                .seed(11).normalization(DemoData.SHAPES).interpolation(Interpolation.BILINEAR);
    }

    @Test
    void lossFallsAndCheckpointsAreWrittenEveryEpoch(@TempDir Path dir) throws IOException {
        TrainConfig c = cfg(3);
        List<Integer> epochs = new ArrayList<>();
        try (Trainer.Result r = new Trainer(c, tinyInfo(c)).listener(new Trainer.Listener() {
            @Override
            public void afterEpoch(Trainer.EpochResult e) {
                epochs.add(e.epoch());
            }
        }).run(DATA, new DemoShapes(64, 48, 7, "test"), dir, false)) {
            assertEquals(List.of(1, 2, 3), epochs);
            assertTrue(r.history().get(2).loss() < r.history().get(0).loss(), r.history().toString());
            assertNotNull(r.history().get(2).val());
            Checkpoint.Found f = Checkpoint.find(dir);
            assertEquals(3, f.epoch());
            assertEquals("train", f.state().get("kind"));
            // the model in the checkpoint is the returned one
            try (ModelFile.Loaded back = ModelFile.load(f.modelFile())) {
                StateDict a = r.model().stateDict();
                StateDict b = back.model().stateDict();
                for (String k : a.keys()) {
                    assertTrue(a.get(k).contentEquals(b.get(k)), k);
                }
            }
        }
    }

    @Test
    void resumeAfterAKillReachesTheSameWeights(@TempDir Path dir) throws IOException {
        TrainConfig c = cfg(3);
        StateDict straight;
        try (Trainer.Result r = new Trainer(c, tinyInfo(c)).run(DATA, null, dir.resolve("a"), false)) {
            straight = r.model().stateDict();
        }
        Trainer killer = new Trainer(c, tinyInfo(c)).listener(new Trainer.Listener() {
            @Override
            public void afterStep(int epoch, int step, int stepsPerEpoch, double loss, double lr) {
                if (epoch == 2 && step == 3) {
                    throw new IllegalStateException("simulated kill");
                }
            }
        });
        assertThrows(IllegalStateException.class, () -> killer.run(DATA, null, dir.resolve("b"), false).close());
        assertEquals(2, Checkpoint.find(dir.resolve("b")).epoch());
        try (Trainer.Result r = new Trainer(c, tinyInfo(c)).run(DATA, null, dir.resolve("b"), true)) {
            assertEquals(2, r.resumedFrom());
            StateDict again = r.model().stateDict();
            for (String k : straight.keys()) {
                assertTrue(straight.get(k).contentEquals(again.get(k)), "differs after resume: " + k);
            }
        }
        // another configuration is refused
        TrainConfig other = cfg(3).lr(0.3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Trainer(other, tinyInfo(other)).run(DATA, null, dir.resolve("b"), true).close());
        assertTrue(e.getMessage().contains("lr"), e.getMessage());
    }

    @Test
    void resumeWithAnotherThreadCountContinuesTheSameRun(@TempDir Path dir) throws IOException {
        TrainConfig one = cfg(3);
        StateDict straight;
        try (Trainer.Result r = new Trainer(one, tinyInfo(one)).run(DATA, null, dir.resolve("a"), false)) {
            straight = r.model().stateDict();
        }
        Trainer killer = new Trainer(one, tinyInfo(one)).listener(new Trainer.Listener() {
            @Override
            public void afterStep(int epoch, int step, int stepsPerEpoch, double loss, double lr) {
                if (epoch == 2 && step == 3) {
                    throw new IllegalStateException("simulated kill");
                }
            }
        });
        assertThrows(IllegalStateException.class, () -> killer.run(DATA, null, dir.resolve("b"), false).close());
        // threads are not part of the run's identity: two threads (loader and libtorch) resume the one-thread run
        TrainConfig two = cfg(3).threads(2);
        try (Trainer.Result r = new Trainer(two, tinyInfo(two)).run(DATA, null, dir.resolve("b"), true)) {
            assertEquals(2, r.resumedFrom());
            StateDict again = r.model().stateDict();
            for (String k : straight.keys()) {
                // the same batches, augmentation and steps; only libtorch's float rounding may differ with threads
                float[] a = straight.get(k).toFloatArray();
                float[] b = again.get(k).toFloatArray();
                double scale = 1e-6;
                double diff = 0;
                for (int i = 0; i < a.length; i++) {
                    scale = Math.max(scale, Math.abs(a[i]));
                    diff = Math.max(diff, Math.abs(a[i] - b[i]));
                }
                assertTrue(diff <= 1e-3 * scale + 1e-6, k + ": max difference " + diff + " at scale " + scale);
            }
        }
    }

    @Test
    void rmspropTrainsToo(@TempDir Path dir) throws IOException {
        TrainConfig c = cfg(2).lr(0.01).optimizer(new TrainOptimizer.Settings(TrainOptimizer.Kind.RMSPROP, 0.9, 1e-5,
                false, 0.9, 1e-3));
        try (Trainer.Result r = new Trainer(c, tinyInfo(c)).run(DATA, null, dir, false)) {
            assertTrue(Double.isFinite(r.history().get(1).loss()));
            assertTrue(Checkpoint.find(dir).optimizerTensors().keySet().stream()
                    .anyMatch(k -> k.startsWith("square_avg.")));
        }
    }

    /** One step of each optimizer against the formulas of torch.optim, by hand. */
    @Test
    void optimizersFollowPytorchsUpdateRules() {
        try (PointerScope scope = new PointerScope()) {
            float[] p0 = {1.0f, -2.0f, 0.5f};
            float[] g = {0.1f, 0.2f, -0.3f};
            for (TrainOptimizer.Kind kind : TrainOptimizer.Kind.values()) {
                Tensor p = TorchTensors.toTorch(TensorData.ofFloats(new long[] {3}, p0)).requires_grad_(true);
                TrainOptimizer.Settings s = new TrainOptimizer.Settings(kind, 0.9, 0.01, false, 0.9, 1e-3);
                TrainOptimizer opt = new TrainOptimizer(s, Map.of("p", p), List.of("p"));
                double lr = 0.1;
                double[] buf = new double[3];
                double[] sq = new double[3];
                double[] expect = new double[3];
                for (int i = 0; i < 3; i++) {
                    expect[i] = p0[i];
                }
                for (int step = 0; step < 2; step++) {
                    Tensor gt = TorchTensors.toTorch(TensorData.ofFloats(new long[] {3}, g));
                    opt.zeroGrad();
                    p.mul(gt).sum().backward(); // dL/dp = g
                    opt.step(lr);
                    for (int i = 0; i < 3; i++) {
                        double d = g[i] + 0.01 * expect[i];
                        if (kind == TrainOptimizer.Kind.SGD) {
                            buf[i] = step == 0 ? d : 0.9 * buf[i] + d;
                            expect[i] -= lr * buf[i];
                        } else {
                            sq[i] = 0.9 * sq[i] + 0.1 * d * d;
                            buf[i] = 0.9 * buf[i] + d / (Math.sqrt(sq[i]) + 1e-3);
                            expect[i] -= lr * buf[i];
                        }
                    }
                }
                float[] got = TorchTensors.fromTorch(p.detach()).toFloatArray();
                for (int i = 0; i < 3; i++) {
                    assertEquals(expect[i], got[i], 1e-5, kind + " element " + i);
                }
                assertEquals(2, opt.steps());
                // the state round-trips
                TrainOptimizer copy = new TrainOptimizer(s, Map.of("p", p), List.of("p"));
                copy.loadState(opt.stateTensors());
                assertEquals(2, copy.steps());
                opt.close();
                copy.close();
            }
        }
    }

    @Test
    void schedulesWarmUpAndDecay() {
        TrainSchedule cos = new TrainSchedule("cosine", 0.1, 0.0, 10, 0.1, 110, 10, 30, 0.1);
        assertEquals(0.01, cos.at(0), 1e-12);
        assertEquals(0.1, cos.at(10), 1e-12);
        assertEquals(0.05, cos.at(60), 1e-12);
        assertEquals(0.0, cos.at(110), 1e-12);
        TrainSchedule step = new TrainSchedule("step", 0.1, 0, 0, 1, 1000, 10, 30, 0.1);
        assertEquals(0.1, step.at(299), 1e-12);
        assertEquals(0.01, step.at(300), 1e-12);
    }

    @Test
    void labelSmoothingLossMatchesTheFormula() {
        try (PointerScope scope = new PointerScope()) {
            Tensor logits = TorchTensors.toTorch(TensorData.ofFloats(new long[] {1, 3}, 1f, 2f, 3f));
            Tensor labels = torch.tensor(new long[] {0}).view(1);
            double got = TrainSupport.labelSmoothingLoss(logits, labels, 0.1).item_double();
            double lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
            double nll = lse - 1;
            double smooth = lse - 2; // mean of -log p = lse - mean(logits)
            assertEquals(0.9 * nll + 0.1 * smooth, got, 1e-6);
        }
    }

    @Test
    void trainedModelBuildsFromItsOwnFile(@TempDir Path dir) throws IOException {
        TrainConfig c = cfg(1);
        try (Trainer.Result r = new Trainer(c, tinyInfo(c)).run(DATA, null, dir, false)) {
            Path f = dir.resolve("m.safetensors");
            ModelFile.save(f, r.model(), r.info(), Map.of());
            try (ModelFile.Loaded back = ModelFile.load(f)) {
                assertEquals(r.info().spec().parameterCount(), back.info().spec().parameterCount());
                EfficientNet m = back.model();
                assertEquals(10, m.spec().numClasses());
            }
            // a timm name does not fit a custom width: the strict loader says so
            assertThrows(IllegalArgumentException.class, () -> {
                try (EfficientNet b0 = ModelRegistry.create(EfficientNetSpec.nativeVariant(Variant.B0)
                        .withNumClasses(10))) {
                    org.fixres4j.model.StateDictLoader.load(b0, r.model().stateDict(), true);
                }
            });
        }
    }
}

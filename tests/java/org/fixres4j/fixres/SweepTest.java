package org.fixres4j.fixres;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.data.Dataset;
import org.fixres4j.data.ImageFolder;
import org.fixres4j.data.LoadFailure;
import org.fixres4j.data.RealLabels;
import org.fixres4j.eval.TopKAccuracy;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.model.PretrainedConfig;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.FixResTestTransform;
import org.fixres4j.transform.SampleTransform;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Sweep} on a tiny folder of real photos with a seeded random B0: decode-once logits equal a direct forward on
 * each image preprocessed separately, at every resolution; failures are skipped consistently (or stop a strict
 * sweep); metrics, ReaL, progress and per-transform models.
 */
class SweepTest {
    @TempDir
    static Path dir;
    static EfficientNet model;
    static FastEfficientNet fast;
    static Dataset dataset; // 7 samples, index 4 corrupt
    static final int[] RES = {48, 64};

    @BeforeAll
    static void setUp() throws IOException {
        Torch.ensureLoaded();
        torch.manual_seed(3);
        model = ModelRegistry.create(EvalFixtures.ARCH, 3);
        model.initTimm();
        model.eval();
        fast = FastEfficientNet.fuse(model);
        dataset = ImageFolder.read(EvalFixtures.imageFolder(dir.resolve("folder"), true));
    }

    @AfterAll
    static void tearDown() {
        fast.close();
        model.close();
    }

    private static List<SampleTransform> transforms() {
        PretrainedConfig cfg = ModelRegistry.config(EvalFixtures.ARCH);
        List<SampleTransform> ts = new ArrayList<>(Sweep.timmTransforms(cfg, RES));
        ts.add(new FixResTestTransform(56)); // another transform kind in the same sweep
        return ts;
    }

    /**
     * The model's logits for {@code indices}, each image decoded and preprocessed on its own into its row of one batch,
     * then one forward.
     */
    @SuppressWarnings("try")
    private static float[] direct(int[] indices, SampleTransform t) throws IOException {
        OutputSpec spec = OutputSpec.nchwFloat(t.outputWidth(), t.outputHeight(), t.normalization());
        try (PointerScope scope = new PointerScope(); InferenceMode g = new InferenceMode()) {
            Tensor input = torch.zeros(spec.shape(indices.length), new TensorOptions(torch.ScalarType.Float));
            for (int i = 0; i < indices.length; i++) {
                try (DecodedImage im = dataset.get(indices[i]).decode()) {
                    new CpuPreprocessor(1).run(List.of(new org.fixres4j.preprocess.Sample(im,
                            t.plan(im.width(), im.height(), null), i)), spec, input);
                }
            }
            Tensor logits = fast.forward(input).contiguous();
            float[] out = new float[(int) logits.numel()];
            new FloatPointer(logits.data_ptr()).get(out);
            return out;
        }
    }

    @Test
    void decodeOnceLogitsEqualADirectForwardAtEveryResolution() throws IOException {
        List<SampleTransform> ts = transforms();
        AtomicLong started = new AtomicLong(-1);
        AtomicLong advanced = new AtomicLong();
        AtomicInteger finished = new AtomicInteger();
        Sweep.Result r = Sweep.over(dataset, ts).batchSize(4).threads(2).keepLogits(true)
                .progress(new org.fixres4j.data.Progress() {
                    @Override
                    public void start(long total) {
                        started.set(total);
                    }

                    @Override
                    public void advance(long images) {
                        advanced.addAndGet(images);
                    }

                    @Override
                    public void finish() {
                        finished.incrementAndGet();
                    }
                })
                .run(fast::forward);
        assertEquals(7, started.get());
        assertEquals(7, advanced.get());
        assertEquals(1, finished.get());

        // the corrupt file is counted, listed and skipped at every resolution
        assertEquals(7, r.datasetSize());
        assertEquals(6, r.evaluated());
        assertEquals(1, r.failures().size());
        LoadFailure f = r.failures().get(0);
        assertEquals(4, f.index());
        assertTrue(f.name().endsWith("b3_corrupt.jpg"), f.name());
        assertArrayEquals(new int[] {0, 1, 2, 3, 5, 6}, r.indices());

        assertEquals(3, r.entries().size());
        for (int t = 0; t < ts.size(); t++) {
            Sweep.Entry e = r.entries().get(t);
            assertEquals(ts.get(t).outputWidth(), e.resolution());
            assertEquals(3, e.numClasses());
            assertEquals(6, e.accuracy().count());
            assertNull(e.real());
            TopKAccuracy want = new TopKAccuracy(3);
            float[] all = direct(r.indices(), ts.get(t));
            for (int i = 0; i < r.evaluated(); i++) {
                int index = r.indices()[i];
                float[] ref = java.util.Arrays.copyOfRange(all, i * 3, i * 3 + 3);
                float[] got = e.logitsRow(i);
                float max = 0;
                for (float v : ref) {
                    max = Math.max(max, Math.abs(v));
                }
                for (int c = 0; c < ref.length; c++) {
                    assertEquals(ref[c], got[c], 1e-4f * Math.max(1f, max),
                            "transform " + ts.get(t).describe() + ", sample " + index + ", class " + c);
                }
                want.add(ref, dataset.label(index));
            }
            assertEquals(want.correct(1), e.accuracy().correct(1), "top-1 of " + e.transform().describe());
            assertEquals(6, e.accuracy().correct(5), "k above the class count counts every sample");
        }
        assertEquals(64, r.at(64).resolution());
        assertEquals(56, r.entries().get(2).resolution());
        assertNotNull(r.best());
        assertTrue(r.seconds() > 0);
    }

    @Test
    void resultsDoNotDependOnThreadsOrBatchSize() throws IOException {
        List<SampleTransform> ts = transforms().subList(0, 1);
        Sweep.Result a = Sweep.over(dataset, ts).batchSize(7).threads(1).keepLogits(true).run(fast::forward);
        Sweep.Result b = Sweep.over(dataset, ts).batchSize(2).threads(3).keepLogits(true).run(fast::forward);
        assertArrayEquals(a.indices(), b.indices());
        assertEquals(a.failures(), b.failures());
        float[] la = a.entries().get(0).logits();
        float[] lb = b.entries().get(0).logits();
        assertEquals(6 * 3, la.length);
        for (int i = 0; i < la.length; i++) {
            assertEquals(la[i], lb[i], 1e-4f * Math.max(1f, Math.abs(la[i])), "logit " + i);
        }
    }

    @Test
    void strictStopsAtTheFirstUnreadableImageNamingIt() {
        Sweep.LoadException e = assertThrows(Sweep.LoadException.class,
                () -> Sweep.over(dataset, transforms()).batchSize(2).threads(2).strict(true)
                        .run(x -> constantLogits(x.size(0), 0)));
        assertEquals(4, e.failure().index());
        assertTrue(e.getMessage().contains("b3_corrupt.jpg"), e.getMessage());
    }

    @Test
    void oneModelPerTransformAndRealLabels() throws IOException {
        List<SampleTransform> ts = Sweep.timmTransforms(ModelRegistry.config(EvalFixtures.ARCH), 48, 56);
        AtomicInteger calls0 = new AtomicInteger();
        AtomicInteger calls1 = new AtomicInteger();
        // constant "models": class 2 wins at the first transform, class 0 at the second
        Sweep.ModelFn m0 = x -> {
            calls0.incrementAndGet();
            return constantLogits(x.size(0), 2);
        };
        Sweep.ModelFn m1 = Sweep.ModelFn.of(x -> {
            calls1.incrementAndGet();
            return constantLogits(x.size(0), 0);
        });
        // ReaL: the same files named ILSVRC2012_val_0000000N.JPEG; sample 3 has no label (not scored)
        Dataset named = ImageFolder.read(EvalFixtures.imageFolder(dir.resolve("real"), true, true));
        RealLabels.Aligned real = RealLabels.parse(EvalFixtures.REAL_JSON).align(named);
        Sweep.Result r = Sweep.over(named, ts).batchSize(3).threads(2).realLabels(real).run(List.of(m0, m1));
        assertEquals(3, calls0.get()); // chunks [0,1,2] [3,(4),5] [6]
        assertEquals(3, calls1.get());
        assertEquals(1, r.failures().size());
        // labels: ant ant bee bee (corrupt) cat cat = 0 0 1 1 _ 2 2
        assertEquals(2, r.entries().get(0).accuracy().correct(1)); // predicts 2: the two cats
        assertEquals(2, r.entries().get(1).accuracy().correct(1)); // predicts 0: the two ants
        // ReaL: [2] [0,2] [1] [] (failed) [0] [1,2]
        for (Sweep.Entry e : r.entries()) {
            assertEquals(5, e.real().scored());
            assertEquals(1, e.real().skipped());
            assertEquals(5, e.real().correct(5)); // 3 classes: top-5 holds them all
        }
        assertEquals(3, r.entries().get(0).real().correct(1)); // 2 in [2], [0,2], [1,2]
        assertEquals(2, r.entries().get(1).real().correct(1)); // 0 in [0,2], [0]
        assertEquals(60.0, r.entries().get(0).real().percent(1), 1e-9);
    }

    private static Tensor constantLogits(long n, int winner) {
        float[] v = new float[(int) n * 3];
        for (int i = 0; i < n; i++) {
            v[i * 3 + winner] = 1f;
        }
        Tensor t = torch.zeros(new long[] {n, 3}, new TensorOptions(torch.ScalarType.Float));
        new FloatPointer(t.data_ptr()).put(v);
        return t;
    }

    @Test
    void refusesBadInput() {
        List<SampleTransform> ts = transforms();
        assertThrows(IllegalArgumentException.class, () -> Sweep.over(dataset, List.of()));
        assertThrows(IllegalArgumentException.class, () -> Sweep.over(dataset, ts).batchSize(0));
        assertThrows(IllegalArgumentException.class, () -> Sweep.over(dataset, ts).run(List.of(model::forward)));
        // a model with fewer classes than the dataset
        assertThrows(IllegalArgumentException.class, () -> Sweep.over(dataset, ts.subList(0, 1))
                .run(x -> torch.zeros(new long[] {x.size(0), 2}, new TensorOptions(torch.ScalarType.Float))));
        // a model that returns the wrong shape
        assertThrows(IllegalStateException.class, () -> Sweep.over(dataset, ts.subList(0, 1)).run(x -> x));
    }

    @Test
    void nonFiniteLogitsStopTheSweepOrAreCountedAsWrong() throws IOException {
        List<SampleTransform> ts = transforms().subList(0, 1);
        // a model whose logits are all NaN (what a NaN classifier bias gives)
        Sweep.ModelFn nan = x -> torch.zeros(new long[] {x.size(0), 3}, new TensorOptions(torch.ScalarType.Float))
                .fill_(new org.bytedeco.pytorch.Scalar(Double.NaN));
        Sweep.NonFiniteLogitsException e = assertThrows(Sweep.NonFiniteLogitsException.class,
                () -> Sweep.over(dataset, ts).batchSize(4).threads(1).run(nan));
        assertEquals(0, e.index());
        assertTrue(e.getMessage().contains("--allow-nonfinite"), e.getMessage());
        // counted: every NaN row is wrong, however the classes would rank by index
        Sweep.Result r = Sweep.over(dataset, ts).batchSize(4).threads(1).allowNonFinite(true).run(nan);
        TopKAccuracy acc = r.entries().get(0).accuracy();
        assertEquals(r.evaluated(), acc.count());
        assertEquals(r.evaluated(), acc.nonFiniteRows());
        assertEquals(0, acc.correct(1));
        assertEquals(0, acc.correct(5));
        assertEquals((long) r.evaluated(), r.entries().get(0).report().accuracy().nonfiniteRows());
        assertTrue(org.fixres4j.report.Reports.table(java.util.Map.of("x", r)).contains(r.evaluated() + " of "
                + r.evaluated() + " images had NaN/Inf logits, counted as wrong"));
        // one +Inf row in an otherwise finite batch: only that sample is wrong, the others are scored
        Sweep.ModelFn oneInf = x -> {
            Tensor y = torch.zeros(new long[] {x.size(0), 3}, new TensorOptions(torch.ScalarType.Float));
            y.select(0, 0).fill_(new org.bytedeco.pytorch.Scalar(Double.POSITIVE_INFINITY));
            return y;
        };
        assertThrows(Sweep.NonFiniteLogitsException.class, () -> Sweep.over(dataset, ts).batchSize(64).run(oneInf));
        TopKAccuracy one = Sweep.over(dataset, ts).batchSize(64).allowNonFinite(true).run(oneInf).entries().get(0)
                .accuracy();
        assertEquals(1, one.nonFiniteRows());
    }
}

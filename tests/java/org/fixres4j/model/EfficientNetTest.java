package org.fixres4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.SGD;
import org.bytedeco.pytorch.SGDOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.fixres4j.torch.Torch;
import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.TensorData;
import org.fixres4j.weights.TorchTensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The module itself: keys, modes, memory formats, features, heads, training, a big variant. */
@SuppressWarnings("try")
class EfficientNetTest {

    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
    }

    static EfficientNetSpec tiny(boolean tf) {
        return EfficientNetSpec.custom(tf ? "tiny_tf" : "tiny", 0.25, 0.3, tf, 10);
    }

    static EfficientNet seeded(EfficientNetSpec spec) {
        EfficientNet m = new EfficientNet(spec);
        StateDictLoader.load(m, SeededWeights.stateDict(spec, null));
        return m;
    }

    static float[] values(Tensor t) {
        return TorchTensors.fromTorch(t).toFloatArray();
    }

    static Tensor input(long... shape) {
        return TorchTensors.toTorch(SeededWeights.input(shape));
    }

    @Test
    void b0HasTimmsKeysAndParameterCount() {
        try (EfficientNet m = ModelRegistry.create("tf_efficientnet_b0")) {
            assertEquals(5_288_548L, m.parameterCount());
            List<String> keys = new ArrayList<>(m.namedTensors().keySet());
            assertEquals(360, keys.size());
            assertEquals(List.of("conv_stem.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                    "bn1.num_batches_tracked", "blocks.0.0.conv_dw.weight"), keys.subList(0, 7));
            assertTrue(keys.contains("blocks.0.0.se.conv_reduce.weight"));
            assertTrue(keys.contains("blocks.0.0.conv_pw.weight"));
            assertTrue(keys.contains("blocks.1.0.conv_pwl.weight"));
            assertTrue(keys.contains("blocks.6.0.bn3.num_batches_tracked"));
            assertEquals(List.of("conv_head.weight", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var",
                    "bn2.num_batches_tracked", "classifier.weight", "classifier.bias"), keys.subList(352, 360));
            Map<String, long[]> shapes = m.spec().stateDictShapes();
            for (Map.Entry<String, Tensor> e : m.namedTensors().entrySet()) {
                assertArrayEquals(shapes.get(e.getKey()), StateDictLoader.shape(e.getValue()), e.getKey());
            }
            StateDict sd = m.stateDict();
            assertEquals(keys, new ArrayList<>(sd.keys()));
            assertEquals(org.fixres4j.weights.DType.I64, sd.get("bn1.num_batches_tracked").dtype());
        }
    }

    @Test
    void bigVariantBuilds() {
        // B7: 66.35 M parameters really allocated (265 MB), counted from the module and from the spec
        try (EfficientNet m = ModelRegistry.create("tf_efficientnet_b7")) {
            assertEquals(66_347_960L, m.parameterCount());
            assertEquals(m.spec().parameterCount(), m.parameterCount());
            assertEquals(1200, m.namedTensors().size());
        }
    }

    @Test
    void modelSurvivesTheScopeItWasBuiltIn() {
        EfficientNet m;
        try (PointerScope scope = new PointerScope()) {
            m = seeded(tiny(true));
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            m.eval();
            Tensor y = m.forward(input(1, 3, 64, 64));
            assertArrayEquals(new long[] {1, 10}, StateDictLoader.shape(y));
        }
        m.close();
    }

    @Test
    void channelsLastGivesTheSameLogits() {
        try (EfficientNet a = seeded(tiny(true)); EfficientNet b = seeded(tiny(true));
             PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            a.eval();
            b.eval();
            b.toChannelsLast();
            assertTrue(b.isChannelsLast());
            assertTrue(b.namedTensors().get("blocks.1.0.conv_pw.weight").is_contiguous(MemoryFormat.ChannelsLast));
            Tensor x = input(2, 3, 77, 61);
            Features fa = a.features(x);
            Features fb = b.features(x);
            assertTrue(fb.map().is_contiguous(MemoryFormat.ChannelsLast));
            assertTrue(TimmParityTest.relError(values(fb.logits()), values(fa.logits())) <= 1e-5);
            // the state dict is contiguous whatever the memory format
            assertTrue(a.stateDict().get("conv_head.weight").contentEquals(b.stateDict().get("conv_head.weight")));
        }
    }

    @Test
    void featuresArePooledMapAndLogits() {
        try (EfficientNet m = seeded(tiny(false)); PointerScope scope = new PointerScope();
             NoGradGuard g = new NoGradGuard()) {
            m.eval();
            Tensor x = input(2, 3, 96, 96);
            Features f = m.features(x);
            int feat = m.spec().numFeatures();
            assertArrayEquals(new long[] {2, feat, 3, 3}, StateDictLoader.shape(f.map()));
            assertArrayEquals(new long[] {2, feat}, StateDictLoader.shape(f.pooled()));
            assertArrayEquals(new long[] {2, 10}, StateDictLoader.shape(f.logits()));
            float[] mean = values(f.map().mean(new long[] {2, 3}, false, new org.bytedeco.pytorch.ScalarTypeOptional()));
            assertArrayEquals(mean, values(f.pooled()), 1e-6f);
            assertArrayEquals(values(m.forward(x)), values(f.logits()), 0f);
            assertArrayEquals(values(m.forwardFeatures(x)), values(f.map()), 0f);
            assertArrayEquals(values(m.forwardHead(f.map(), true)), values(f.pooled()), 0f);
        }
    }

    @Test
    void headlessModelReturnsPooledFeatures() {
        EfficientNetSpec spec = tiny(true).withNumClasses(0);
        try (EfficientNet m = seeded(spec); PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            m.eval();
            assertFalse(m.namedTensors().containsKey("classifier.weight"));
            Tensor x = input(1, 3, 64, 64);
            Features f = m.features(x);
            assertNull(f.logits());
            assertArrayEquals(values(f.pooled()), values(m.forward(x)), 0f);
            try (FastEfficientNet fast = FastEfficientNet.fuse(m)) {
                assertTrue(TimmParityTest.relError(values(fast.forward(x)), values(f.pooled()))
                        <= TimmParityTest.FAST_VS_PLAIN);
            }
        }
    }

    @Test
    void trainModeUsesBatchStatisticsAndUpdatesRunningOnes() {
        try (EfficientNet m = seeded(tiny(true)); PointerScope scope = new PointerScope()) {
            Tensor x = input(4, 3, 64, 64);
            Tensor before = m.namedTensors().get("bn1.running_mean").clone();
            Tensor evalOut;
            try (NoGradGuard g = new NoGradGuard()) {
                m.eval();
                evalOut = m.forward(x);
                assertArrayEquals(values(before), values(m.namedTensors().get("bn1.running_mean")), 0f);
                m.train(true);
                assertTrue(m.is_training());
                Tensor trainOut = m.forward(x);
                assertTrue(TimmParityTest.relError(values(trainOut), values(evalOut)) > 1e-3);
            }
            Tensor after = m.namedTensors().get("bn1.running_mean");
            assertTrue(TimmParityTest.relError(values(after), values(before)) > 1e-4, "running mean updated");
            assertEquals(1L, m.namedTensors().get("bn1.num_batches_tracked").item().toLong());
            m.eval();
            assertFalse(m.is_training());
        }
    }

    @Test
    void dropoutAndDropPathOnlyInTraining() {
        EfficientNetSpec spec = tiny(true).withDropRate(0.5).withDropPathRate(0.5);
        try (EfficientNet m = seeded(spec); PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor x = input(4, 3, 64, 64);
            m.eval();
            assertArrayEquals(values(m.forward(x)), values(m.forward(x)), 0f);
            // train mode with BN in eval (as FixRes does): only the stochastic parts differ between calls
            m.train(true);
            setBatchNormEval(m);
            torch.manual_seed(1);
            float[] a = values(m.forward(x));
            torch.manual_seed(2);
            float[] b = values(m.forward(x));
            torch.manual_seed(1);
            float[] a2 = values(m.forward(x));
            assertNotEquals(0.0, TimmParityTest.relError(a, b));
            assertArrayEquals(a, a2, 0f);
        }
    }

    private static void setBatchNormEval(EfficientNet m) {
        var mods = m.named_modules();
        var keys = mods.keys();
        for (long i = 0; i < keys.size(); i++) {
            org.bytedeco.javacpp.BytePointer name = keys.get(i);
            String k = name == null ? "" : name.getString(); // the root module's name is empty
            if (k.endsWith("bn1") || k.endsWith("bn2") || k.endsWith("bn3")) {
                mods.get(k).eval();
            }
        }
    }

    @Test
    void backwardReachesEveryParameterAndSgdLearns() {
        EfficientNetSpec spec = tiny(true).withDropPathRate(0.2).withDropRate(0.2);
        try (EfficientNet m = seeded(spec)) {
            m.train(true);
            SGDOptions o = new SGDOptions(0.05);
            o.momentum().put(0.9);
            SGD sgd = new SGD(m.parameters(), o);
            Tensor labels;
            Tensor x;
            try (PointerScope keep = new PointerScope()) {
                x = input(8, 3, 64, 64);
                labels = TorchTensors.toTorch(TensorData.ofLongs(new long[] {8}, 0, 1, 2, 3, 4, 5, 6, 7));
                x.retainReference();
                labels.retainReference();
            }
            double first = 0;
            double last = 0;
            for (int step = 0; step < 12; step++) {
                try (PointerScope scope = new PointerScope()) {
                    sgd.zero_grad();
                    Tensor loss = torch.cross_entropy_loss(m.forward(x), labels);
                    loss.backward();
                    if (step == 0) {
                        first = loss.item_double();
                        for (Map.Entry<String, Tensor> e : m.namedTensors().entrySet()) {
                            if (e.getValue().requires_grad()) {
                                assertTrue(e.getValue().grad().defined(), e.getKey() + " got no gradient");
                            }
                        }
                    }
                    last = loss.item_double();
                    sgd.step();
                }
            }
            assertTrue(last < first, "loss went from " + first + " to " + last);
            x.releaseReference();
            labels.releaseReference();
        }
    }

    @Test
    void initTimmGivesTimmsInitialStatistics() {
        try (EfficientNet m = new EfficientNet(EfficientNetSpec.tf(Variant.B0)); PointerScope scope = new PointerScope()) {
            torch.manual_seed(0);
            m.initTimm();
            Map<String, Tensor> t = m.namedTensors();
            Tensor pw = t.get("blocks.2.1.conv_pw.weight"); // [240, 40, 1, 1]: fan_out 240
            assertEquals(Math.sqrt(2.0 / 240), pw.std().item_double(), 0.05 * Math.sqrt(2.0 / 240));
            Tensor dw = t.get("blocks.2.1.conv_dw.weight"); // [240, 1, 5, 5] depthwise: fan_out 25
            assertEquals(Math.sqrt(2.0 / 25), dw.std().item_double(), 0.05 * Math.sqrt(2.0 / 25));
            assertEquals(1.0, t.get("bn2.weight").mean().item_double());
            assertEquals(0.0, t.get("classifier.bias").abs().max().item_double());
            assertTrue(t.get("classifier.weight").abs().max().item_double() <= 1.0 / Math.sqrt(1000));
        }
    }
}

package org.fixres4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.fixres4j.TestData;
import org.fixres4j.io.Json;
import org.fixres4j.io.Npy;
import org.fixres4j.torch.Torch;
import org.fixres4j.weights.PthReader;
import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.TensorData;
import org.fixres4j.weights.TorchTensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Parity with timm 0.9.16 itself: the goldens of tests/data/timm were made by make_timm_goldens.py with timm on
 * Debian's torch 1.13 from the seeded weight rule (SeededWeights) and calibrated, randomised BN statistics. Logits
 * must match within 1e-4 of the largest logit, on the plain path and on the fused path.
 */
@SuppressWarnings({"try", "unchecked"})
class TimmParityTest {
    static final double TOLERANCE = 1e-4;
    private static Map<String, Object> manifest;

    @BeforeAll
    static void load() throws IOException {
        Torch.ensureLoaded();
        manifest = (Map<String, Object>) Json.read(TestData.path("timm/cases.json"));
    }

    static Stream<String> evalCases() throws IOException {
        Map<String, Object> m = (Map<String, Object>) Json.read(TestData.path("timm/cases.json"));
        List<String> names = new ArrayList<>();
        for (Object o : (List<Object>) m.get("cases")) {
            Map<String, Object> c = (Map<String, Object>) o;
            if ("eval".equals(c.get("mode")) && !"custom".equals(c.get("model"))) {
                names.add((String) c.get("name"));
            }
        }
        return names.stream();
    }

    static Map<String, Object> findCase(String name) {
        for (Object o : (List<Object>) manifest.get("cases")) {
            Map<String, Object> c = (Map<String, Object>) o;
            if (name.equals(c.get("name"))) {
                return c;
            }
        }
        throw new IllegalArgumentException(name);
    }

    static float[] npy(String file) throws IOException {
        return Npy.read(TestData.path("timm/" + file)).toFloatArray();
    }

    static long[] longs(Object list) {
        return ((List<Object>) list).stream().mapToLong(x -> ((Number) x).longValue()).toArray();
    }

    /** max |a - b| / max |b|. */
    static double relError(float[] actual, float[] expected) {
        assertEquals(expected.length, actual.length, "element count");
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < expected.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) actual[i] - expected[i]));
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
        }
        return maxDiff / maxRef;
    }

    static float[] values(Tensor t) {
        return TorchTensors.fromTorch(t).toFloatArray();
    }

    @Test
    void weightRuleMatchesPython() {
        Map<String, Object> check = (Map<String, Object>) manifest.get("rule_check");
        double[] b = SeededWeights.bounds("conv_stem.weight", new long[] {32, 3, 3, 3});
        float[] w = SeededWeights.uniform("conv_stem.weight", 4, b[0], b[1]);
        float[] x = SeededWeights.uniform("input", 4, -2, 2);
        List<Object> pw = (List<Object>) check.get("conv_stem.weight[32,3,3,3] first 4");
        List<Object> px = (List<Object>) check.get("input first 4");
        for (int i = 0; i < 4; i++) {
            assertEquals(((Number) pw.get(i)).floatValue(), w[i], 0f);
            assertEquals(((Number) px.get(i)).floatValue(), x[i], 0f);
        }
    }

    static EfficientNet seededModel(Map<String, Object> c, int numClasses) throws IOException {
        EfficientNetSpec spec = EfficientNetSpec.of((String) c.get("model")).withNumClasses(numClasses);
        EfficientNet model = new EfficientNet(spec);
        StateDict sd = SeededWeights.stateDict(spec, npy((String) c.get("bn_stats")));
        StateDictLoader.Report r = StateDictLoader.load(model, sd);
        assertTrue(r.isClean(), r.describe());
        return model;
    }

    @ParameterizedTest
    @MethodSource("evalCases")
    void logitsMatchTimm(String name) throws IOException {
        Map<String, Object> c = findCase(name);
        long[] inShape = longs(c.get("input_shape"));
        float[] expected = npy((String) c.get("logits"));
        float[] expectedPooled = npy((String) c.get("pre_logits"));
        try (EfficientNet model = seededModel(c, 1000)) {
            model.eval();
            assertEquals(((Number) c.get("params")).longValue(), model.parameterCount());
            assertEquals(((Number) c.get("state_dict_entries")).intValue(), model.namedTensors().size());
            try (PointerScope scope = new PointerScope()) {
                Tensor x = TorchTensors.toTorch(SeededWeights.input(inShape));
                Features f;
                try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
                    f = model.features(x);
                }
                assertArrayEquals(longs(c.get("feature_shape")), StateDictLoader.shape(f.map()));
                double eLogits = relError(values(f.logits()), expected);
                double ePooled = relError(values(f.pooled()), expectedPooled);
                double featureSum = f.map().sum().item_double();
                double expectedSum = ((Number) c.get("feature_sum")).doubleValue();
                System.out.printf("parity %-28s plain: logits rel err %.2e, pooled rel err %.2e%n", name, eLogits,
                        ePooled);
                assertTrue(eLogits <= TOLERANCE, name + ": logits rel err " + eLogits);
                assertTrue(ePooled <= TOLERANCE, name + ": pooled rel err " + ePooled);
                assertEquals(expectedSum, featureSum, 1e-4 * Math.abs(expectedSum) + 1e-3, "feature map sum");
            }
        }
    }
}

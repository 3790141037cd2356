package org.fixres4j.model;

import static org.fixres4j.TensorAsserts.maxAbs;
import static org.fixres4j.TensorAsserts.relErr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.kernels.DepthwiseAutograd;
import org.fixres4j.torch.Torch;
import org.fixres4j.weights.TensorData;
import org.fixres4j.weights.TorchTensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link EfficientNet#nativeDepthwise(boolean)}: a training step (train mode, batch statistics) through the native
 * depthwise kernels and their backward gives the loss and every parameter gradient of libtorch's own path; eval is
 * unchanged; nothing is left behind once the step's scope closes.
 */
class NativeDepthwiseTrainingTest {
    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
    }

    record Step(double loss, Map<String, float[]> grads) {}

    /** One forward + backward in train mode on a fixed batch; the loss and a copy of every parameter gradient. */
    static Step step(EfficientNet m, Tensor x, Tensor labels) {
        try (PointerScope scope = new PointerScope()) {
            m.train(true);
            m.zero_grad(true);
            Tensor loss = torch.cross_entropy_loss(m.forward(x), labels);
            int dwLayers = m.spec().blocks().stream().mapToInt(java.util.List::size).sum();
            assertEquals(m.nativeDepthwise() ? dwLayers : 0, DepthwiseAutograd.pending(),
                    "one native call per depthwise layer");
            loss.backward();
            Map<String, float[]> grads = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : m.namedTensors().entrySet()) {
                if (e.getValue().requires_grad()) {
                    Tensor g = e.getValue().grad();
                    assertTrue(g.defined(), e.getKey() + " got no gradient");
                    grads.put(e.getKey(), TorchTensors.fromTorch(g).toFloatArray());
                }
            }
            return new Step(loss.item_double(), grads);
        } finally {
            assertEquals(0, DepthwiseAutograd.pending(), "the step's scope released every native call");
        }
    }

    @ParameterizedTest(name = "tf {0}, {1}, {2} px")
    @CsvSource({"true, nchw, 45", "true, nhwc, 38", "false, nchw, 38", "false, nhwc, 45"})
    void aTrainingStepMatchesLibtorch(boolean tf, String layout, int res) {
        EfficientNetSpec spec = EfficientNetSpec.custom(tf ? "tiny_tf" : "tiny", 0.25, 0.3, tf, 10);
        try (EfficientNet m = EfficientNetTest.seeded(spec); PointerScope keep = new PointerScope()) {
            if (layout.equals("nhwc")) {
                m.toChannelsLast();
            }
            Tensor x = EfficientNetTest.input(4, 3, res, res);
            Tensor labels = TorchTensors.toTorch(TensorData.ofLongs(new long[] {4}, 3, 1, 7, 0));
            Map<String, Tensor> before = snapshot(m);
            assertFalse(m.nativeDepthwise(), "off by default");
            Step plain = step(m, x, labels);
            restore(m, before); // BatchNorm's running statistics moved: start the second step from the same state
            assertTrue(m.nativeDepthwise(true).nativeDepthwise());
            Step fast = step(m, x, labels);
            assertEquals(plain.loss(), fast.loss(), 1e-4 * Math.abs(plain.loss()), "loss");
            assertEquals(plain.grads().keySet(), fast.grads().keySet());
            // the bias of a BatchNorm that feeds (through a linear conv) another batch-statistics BatchNorm has an
            // exactly zero gradient: both paths give float noise there (~1e-7), compared against the largest gradient
            double largest = 0;
            for (float[] g : plain.grads().values()) {
                largest = Math.max(largest, maxAbs(g));
            }
            for (String k : plain.grads().keySet()) {
                float[] want = plain.grads().get(k);
                float[] got = fast.grads().get(k);
                if (maxAbs(want) < 1e-5 * largest) {
                    double e = relErr(got, want) * Math.max(maxAbs(want), 1e-30) / largest;
                    assertTrue(e < 1e-5, k + " (zero in exact arithmetic) error relative to the largest gradient " + e);
                } else {
                    double e = relErr(got, want);
                    assertTrue(e < 1e-4, k + " gradient relative error " + e);
                }
            }
            // eval keeps libtorch's path (no native autograd calls) and gives the same logits
            m.eval();
            try (NoGradGuard g = new NoGradGuard()) {
                float[] on = TorchTensors.fromTorch(m.forward(x)).toFloatArray();
                float[] off = TorchTensors.fromTorch(m.nativeDepthwise(false).forward(x)).toFloatArray();
                assertEquals(0.0, relErr(on, off));
            }
            assertEquals(0, DepthwiseAutograd.pending());
        }
    }

    private static Map<String, Tensor> snapshot(EfficientNet m) {
        Map<String, Tensor> copy = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : m.namedTensors().entrySet()) {
            copy.put(e.getKey(), e.getValue().detach().clone());
        }
        return copy;
    }

    private static void restore(EfficientNet m, Map<String, Tensor> saved) {
        try (NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : m.namedTensors().entrySet()) {
                e.getValue().copy_(saved.get(e.getKey()));
            }
        }
    }
}

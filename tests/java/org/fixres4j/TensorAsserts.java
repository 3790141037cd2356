package org.fixres4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.bytedeco.pytorch.Tensor;
import org.fixres4j.weights.TorchTensors;

/** Comparisons of float32 results shared by the tests: values of a libtorch tensor and relative differences. */
public final class TensorAsserts {
    private TensorAsserts() {}

    /** The tensor's values in logical (NCHW) order, whatever its memory format. */
    public static float[] values(Tensor t) {
        return TorchTensors.fromTorch(t).toFloatArray();
    }

    /** Max |a - b| relative to max |b| (0 when both are all zero). */
    public static double relErr(float[] a, float[] b) {
        assertEquals(b.length, a.length, "element count");
        double max = 1e-30;
        double err = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(b[i]));
            err = Math.max(err, Math.abs(a[i] - b[i]));
        }
        return err / max;
    }

    /** {@link #relErr(float[], float[])} of two tensors' values. */
    public static double relErr(Tensor a, Tensor b) {
        return relErr(values(a), values(b));
    }

    /** Max |v|. */
    public static double maxAbs(float[] v) {
        double m = 0;
        for (float f : v) {
            m = Math.max(m, Math.abs(f));
        }
        return m;
    }
}

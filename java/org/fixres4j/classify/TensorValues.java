package org.fixres4j.classify;

import java.util.Objects;

import org.bytedeco.pytorch.Tensor;
import org.fixres4j.torch.Torch;
import org.fixres4j.weights.TensorData;
import org.fixres4j.weights.TorchTensors;

/**
 * A libtorch tensor's values as Java arrays, so that applications need no raw JavaCPP pointers for the common cases
 * (logits, features, labels). Works for any dtype {@link org.fixres4j.weights.DType} knows (float32/16, bfloat16,
 * float64, integers, bool), any device (copied to the CPU) and any strides (made contiguous): the values come in
 * row-major order of {@link #shape}. The tensor is not modified or freed; temporary copies are.
 *
 * <pre>{@code
 * Tensor logits = model.forward(input);               // [N, classes]
 * float[][] rows = TensorValues.floatRows(logits);     // rows[i] = logits of image i
 * }</pre>
 */
public final class TensorValues {
    private TensorValues() {}

    /** The sizes of every dimension ({@code []} for a scalar). */
    public static long[] shape(Tensor t) {
        check(t);
        long[] s = new long[(int) t.dim()];
        for (int i = 0; i < s.length; i++) {
            s[i] = t.size(i);
        }
        return s;
    }

    /** A contiguous CPU copy of the values with their dtype and shape. */
    public static TensorData data(Tensor t) {
        check(t);
        return TorchTensors.fromTorch(t);
    }

    /** Every value as float, row-major (float64 and int64 values are rounded to float). */
    public static float[] floats(Tensor t) {
        return data(t).toFloatArray();
    }

    /** Every value as double, row-major (exact for every dtype but int64 beyond 2^53). */
    public static double[] doubles(Tensor t) {
        return data(t).toDoubleArray();
    }

    /**
     * Every value of an integer or bool tensor as long, row-major.
     *
     * @throws IllegalArgumentException for a floating-point tensor (round it on purpose: {@link #floats})
     */
    public static long[] longs(Tensor t) {
        TensorData d = data(t);
        try {
            return d.toLongArray();
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException("longs() needs an integer or bool tensor, got " + d.dtype(), e);
        }
    }

    /**
     * A 2-D tensor {@code [rows, cols]} as rows of floats (e.g. logits {@code [N, classes]}).
     *
     * @throws IllegalArgumentException if the tensor is not 2-D
     */
    public static float[][] floatRows(Tensor t) {
        TensorData d = data(t);
        if (d.rank() != 2) {
            throw new IllegalArgumentException("floatRows() needs a 2-D tensor, got shape "
                    + java.util.Arrays.toString(d.shape()));
        }
        int rows = Math.toIntExact(d.dim(0));
        int cols = Math.toIntExact(d.dim(1));
        float[] flat = d.toFloatArray();
        float[][] out = new float[rows][];
        for (int i = 0; i < rows; i++) {
            out[i] = java.util.Arrays.copyOfRange(flat, i * cols, (i + 1) * cols);
        }
        return out;
    }

    private static void check(Tensor t) {
        Objects.requireNonNull(t, "tensor");
        Torch.ensureLoaded();
        if (t.isNull() || !t.defined()) {
            throw new IllegalArgumentException("the tensor is undefined (null handle, or freed)");
        }
    }
}

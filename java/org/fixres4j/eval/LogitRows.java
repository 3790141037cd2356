package org.fixres4j.eval;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.fixres4j.torch.Torch;

/**
 * A {@code [rows, cols]} matrix of scores as a row-major float array, copied from a libtorch tensor of any floating
 * dtype and device.
 *
 * @param data {@code rows * cols} values, row-major
 * @param rows the number of rows (samples)
 * @param cols the number of columns (classes)
 */
public record LogitRows(float[] data, int rows, int cols) {

    /** Checks the size. */
    public LogitRows {
        if (rows < 0 || cols < 1 || (long) rows * cols != data.length) {
            throw new IllegalArgumentException("a " + rows + "x" + cols + " matrix cannot hold " + data.length
                    + " values");
        }
    }

    /**
     * Copies a 2-D tensor {@code [N, C]} to the CPU as float32 (converting the dtype and making it contiguous when
     * needed). The temporaries made here are closed here; the input is left alone.
     *
     * @throws IllegalArgumentException if the tensor is not 2-D or not floating point
     */
    public static LogitRows of(Tensor logits) {
        Torch.ensureLoaded();
        if (logits == null || logits.isNull() || !logits.defined()) {
            throw new IllegalArgumentException("logits tensor is null or undefined");
        }
        if (logits.dim() != 2) {
            throw new IllegalArgumentException("logits must be 2-D [N, C], got " + logits.dim() + " dimensions");
        }
        if (!logits.is_floating_point()) {
            throw new IllegalArgumentException("logits must have a floating-point dtype, got "
                    + logits.scalar_type());
        }
        long n = logits.size(0);
        long c = logits.size(1);
        if (n * c > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("logits of " + n + "x" + c + " are too large for an array");
        }
        Tensor t = logits;
        Tensor cpu = null;
        Tensor f = null;
        Tensor cont = null;
        try {
            if (!t.is_cpu()) {
                cpu = t.cpu();
                t = cpu;
            }
            if (t.scalar_type().value != ScalarType.Float.value) {
                f = t.to(ScalarType.Float);
                t = f;
            }
            if (!t.is_contiguous()) {
                cont = t.contiguous();
                t = cont;
            }
            float[] data = new float[(int) (n * c)];
            if (data.length > 0) {
                new FloatPointer(t.data_ptr()).get(data);
            }
            return new LogitRows(data, (int) n, (int) c);
        } finally {
            if (cont != null) {
                cont.close();
            }
            if (f != null) {
                f.close();
            }
            if (cpu != null) {
                cpu.close();
            }
        }
    }

    /** The value at row {@code r}, column {@code c}. */
    public float get(int r, int c) {
        return data[r * cols + c];
    }

    /** Whether every value of row {@code r} is finite (no NaN, no infinity). */
    public boolean isRowFinite(int r) {
        return isFinite(data, r * cols, cols);
    }

    /** The number of rows holding a NaN or an infinity. */
    public int nonFiniteRows() {
        int n = 0;
        for (int r = 0; r < rows; r++) {
            if (!isRowFinite(r)) {
                n++;
            }
        }
        return n;
    }

    /** Whether {@code scores[offset .. offset+n-1]} are all finite. */
    public static boolean isFinite(float[] scores, int offset, int n) {
        for (int i = offset; i < offset + n; i++) {
            if (!Float.isFinite(scores[i])) {
                return false;
            }
        }
        return true;
    }
}

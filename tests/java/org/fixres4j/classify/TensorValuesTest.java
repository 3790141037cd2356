package org.fixres4j.classify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link TensorValues}: values in row-major order of the shape, whatever the dtype and strides. */
class TensorValuesTest {
    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
    }

    @Test
    void floatsOfAContiguousAndATransposedTensor() {
        try (PointerScope s = new PointerScope()) {
            Tensor t = torch.arange(new org.bytedeco.pytorch.Scalar(6)).to(torch.ScalarType.Float).reshape(2, 3);
            assertArrayEquals(new long[] {2, 3}, TensorValues.shape(t));
            assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, TensorValues.floats(t), 0f);
            Tensor tt = t.t(); // [3, 2], not contiguous
            assertArrayEquals(new long[] {3, 2}, TensorValues.shape(tt));
            assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, TensorValues.floats(tt), 0f);
            float[][] rows = TensorValues.floatRows(tt);
            assertEquals(3, rows.length);
            assertArrayEquals(new float[] {1, 4}, rows[1], 0f);
            assertArrayEquals(new double[] {0, 3, 1, 4, 2, 5}, TensorValues.doubles(tt), 0);
            // the tensor itself is untouched
            assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, TensorValues.floats(t), 0f);
        }
    }

    @Test
    void otherDtypes() {
        try (PointerScope s = new PointerScope()) {
            Tensor half = torch.arange(new org.bytedeco.pytorch.Scalar(4)).to(torch.ScalarType.Half);
            assertArrayEquals(new float[] {0, 1, 2, 3}, TensorValues.floats(half), 0f);
            Tensor longs = torch.arange(new org.bytedeco.pytorch.Scalar(5)).mul(new org.bytedeco.pytorch.Scalar(3));
            assertEquals(org.fixres4j.weights.DType.I64, TensorValues.data(longs).dtype());
            assertArrayEquals(new long[] {0, 3, 6, 9, 12}, TensorValues.longs(longs));
            Tensor bf = torch.ones(2, 2).to(torch.ScalarType.BFloat16);
            assertArrayEquals(new float[] {1, 1, 1, 1}, TensorValues.floats(bf), 0f);
            Tensor scalar = torch.ones(1).reshape();
            assertArrayEquals(new long[0], TensorValues.shape(scalar));
            assertArrayEquals(new float[] {1}, TensorValues.floats(scalar), 0f);
        }
    }

    @Test
    void wrongRequestsAreClearErrors() {
        try (PointerScope s = new PointerScope()) {
            Tensor f = torch.ones(3);
            assertThrows(IllegalArgumentException.class, () -> TensorValues.longs(f));
            assertThrows(IllegalArgumentException.class, () -> TensorValues.floatRows(f));
            assertThrows(IllegalArgumentException.class, () -> TensorValues.floats(new Tensor()));
            assertThrows(NullPointerException.class, () -> TensorValues.floats(null));
        }
    }
}

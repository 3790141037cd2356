package org.fixres4j.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.List;

import org.junit.jupiter.api.Test;

class TensorDataTest {

    @Test
    void halfConversionsAreExactAndRoundTripEveryBitPattern() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = TensorData.halfToFloat((short) bits);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(TensorData.halfToFloat(TensorData.floatToHalf(f))));
                continue;
            }
            assertEquals((short) bits, TensorData.floatToHalf(f), "bits " + Integer.toHexString(bits));
        }
        assertEquals(65504f, TensorData.halfToFloat((short) 0x7BFF));
        assertEquals(0x1p-24f, TensorData.halfToFloat((short) 0x0001));
        assertEquals(-2f, TensorData.halfToFloat((short) 0xC000));
        assertEquals(Float.POSITIVE_INFINITY, TensorData.halfToFloat(TensorData.floatToHalf(65520f)));
        assertEquals(65504f, TensorData.halfToFloat(TensorData.floatToHalf(65519f)));
        // ties to even: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10
        assertEquals(1f, TensorData.halfToFloat(TensorData.floatToHalf(1f + 0x1p-11f)));
        assertEquals(1f + 0x1p-9f, TensorData.halfToFloat(TensorData.floatToHalf(1f + 0x1p-10f + 0x1p-11f)));
        assertEquals(0f, TensorData.halfToFloat(TensorData.floatToHalf(0x1p-26f)));
        assertEquals(0x1p-24f, TensorData.halfToFloat(TensorData.floatToHalf(0x1.8p-25f)));
    }

    @Test
    void bfloat16Conversions() {
        assertEquals(1f, TensorData.bfloat16ToFloat((short) 0x3F80));
        assertEquals((short) 0x3F80, TensorData.floatToBFloat16(1f));
        assertEquals((short) 0x4049, TensorData.floatToBFloat16(3.14159f));
        // ties to even
        assertEquals((short) 0x3F80, TensorData.floatToBFloat16(Float.intBitsToFloat(0x3F808000)));
        assertEquals((short) 0x3F82, TensorData.floatToBFloat16(Float.intBitsToFloat(0x3F818000)));
        assertTrue(Float.isNaN(TensorData.bfloat16ToFloat(TensorData.floatToBFloat16(Float.NaN))));
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = TensorData.bfloat16ToFloat((short) bits);
            if (!Float.isNaN(f)) {
                assertEquals((short) bits, TensorData.floatToBFloat16(f));
            }
        }
    }

    @Test
    void factoriesAndConversions() {
        TensorData f = TensorData.ofFloats(new long[] {2, 2}, 1, 2, 3, 4);
        assertEquals(DType.F32, f.dtype());
        assertEquals(4, f.numel());
        assertEquals(16, f.byteSize());
        assertArrayEquals(new double[] {1, 2, 3, 4}, f.toDoubleArray());
        assertThrows(IllegalStateException.class, f::toLongArray);
        TensorData h = TensorData.ofFloats(DType.F16, new long[] {3}, 0.5f, -1f, 1e5f);
        assertArrayEquals(new float[] {0.5f, -1f, Float.POSITIVE_INFINITY}, h.toFloatArray());
        TensorData bf = TensorData.ofFloats(DType.BF16, new long[] {1}, 1.00390625f);
        assertArrayEquals(new float[] {1f}, bf.toFloatArray());
        TensorData d = TensorData.ofFloats(DType.F64, new long[] {1}, 0.1f);
        assertArrayEquals(new double[] {0.1f}, d.toDoubleArray());
        TensorData l = TensorData.ofLongs(new long[0], Long.MIN_VALUE);
        assertEquals(0, l.rank());
        assertArrayEquals(new long[] {Long.MIN_VALUE}, l.toLongArray());
        TensorData r = f.reshape(4);
        assertArrayEquals(new long[] {4}, r.shape());
        assertThrows(IllegalArgumentException.class, () -> f.reshape(3));
        assertTrue(f.contentEquals(TensorData.ofFloats(new long[] {2, 2}, 1, 2, 3, 4)));
        assertFalse(f.contentEquals(r));
        assertEquals("TensorData[F32 [2, 2]]", f.toString());
    }

    @Test
    void validationAndImmutability() {
        assertThrows(IllegalArgumentException.class, () -> TensorData.ofFloats(new long[] {3}, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> TensorData.wrap(DType.F32, new long[] {-1}, ByteBuffer.allocate(0)));
        assertThrows(IllegalArgumentException.class, () -> TensorData.wrap(DType.I64, new long[] {1}, ByteBuffer.allocate(4)));
        assertThrows(ArithmeticException.class, () -> TensorData.numel(new long[] {1L << 32, 1L << 32}));
        assertThrows(IllegalArgumentException.class,
                () -> TensorData.wrap(DType.F32, new long[] {1L << 30}, ByteBuffer.allocate(0)));
        TensorData t = TensorData.ofFloats(new long[] {1}, 5);
        assertThrows(ReadOnlyBufferException.class, () -> t.data().putFloat(0, 1f));
        long[] shape = t.shape();
        shape[0] = 99;
        assertArrayEquals(new long[] {1}, t.shape());
    }

    @Test
    void stateDictBasics() {
        StateDict sd = new StateDict();
        sd.put("b", TensorData.ofFloats(new long[] {1}, 1)).put("a", TensorData.ofFloats(new long[] {2}, 1, 2));
        assertEquals(List.of("b", "a"), List.copyOf(sd.keys()));
        assertEquals(12, sd.totalBytes());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sd.require("zz"));
        assertTrue(e.getMessage().contains("'zz'"));
        assertThrows(UnsupportedOperationException.class, () -> sd.tensors().clear());
        sd.addNote("n");
        assertEquals(List.of("n"), sd.notes());
        assertEquals(DType.F32, sd.remove("b").dtype());
        assertEquals(1, sd.size());
    }

    @Test
    void dtypeNames() {
        for (DType t : DType.values()) {
            assertEquals(t, DType.fromSafetensorsName(t.safetensorsName()));
            assertEquals(t, DType.fromStorageName(t.storageName()));
        }
        assertEquals(DType.F32, DType.fromTorchDtypeName("float"));
        assertEquals(null, DType.fromSafetensorsName("F8_E4M3"));
    }
}

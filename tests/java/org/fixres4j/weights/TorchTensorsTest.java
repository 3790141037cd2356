package org.fixres4j.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Needs the libtorch natives of the JavaCPP preset (loaded once, a few seconds). */
@SuppressWarnings("try") // PointerScopes are only opened to free the tensors made inside them
class TorchTensorsTest {

    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
    }

    @Test
    void roundTripEveryDtype() {
        StateDict sd = new StateDict();
        sd.put("f32", TensorData.ofFloats(new long[] {2, 3}, 1, -2, 3.5f, 1e-30f, Float.MAX_VALUE, -0f));
        sd.put("f16", TensorData.ofFloats(DType.F16, new long[] {3}, 0.1f, -65504f, 6e-8f));
        sd.put("bf16", TensorData.ofFloats(DType.BF16, new long[] {2}, 3.14159f, -1e38f));
        sd.put("f64", TensorData.ofDoubles(new long[] {2}, Math.PI, -1e300));
        sd.put("i64", TensorData.ofLongs(new long[0], Long.MIN_VALUE));
        sd.put("i32", TensorData.ofInts(new long[] {2}, Integer.MIN_VALUE, 7));
        sd.put("i16", TensorData.wrap(DType.I16, new long[] {1}, ByteBuffer.wrap(new byte[] {1, (byte) 0x80})));
        sd.put("i8", TensorData.wrap(DType.I8, new long[] {2}, ByteBuffer.wrap(new byte[] {-128, 127})));
        sd.put("u8", TensorData.wrap(DType.U8, new long[] {2}, ByteBuffer.wrap(new byte[] {(byte) 255, 3})));
        sd.put("bool", TensorData.wrap(DType.BOOL, new long[] {3}, ByteBuffer.wrap(new byte[] {1, 0, 1})));
        sd.put("empty", TensorData.ofFloats(new long[] {0, 5}));
        try (PointerScope scope = new PointerScope()) {
            for (Map.Entry<String, TensorData> e : sd) {
                TensorData d = e.getValue();
                Tensor t = TorchTensors.toTorch(d);
                assertEquals(TorchTensors.scalarType(d.dtype()), t.scalar_type().intern(), e.getKey());
                assertEquals(d.rank(), t.dim(), e.getKey());
                for (int i = 0; i < d.rank(); i++) {
                    assertEquals(d.dim(i), t.size(i), e.getKey());
                }
                TensorData back = TorchTensors.fromTorch(t);
                assertTrue(d.contentEquals(back), e.getKey());
            }
        }
    }

    @Test
    void valuesAreSeenByTorchOps() {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = TorchTensors.toTorch(TensorData.ofFloats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6));
            assertEquals(21.0, t.sum().item_double(), 0.0);
            Tensor h = TorchTensors.toTorch(TensorData.ofFloats(DType.BF16, new long[] {2}, 1.5f, -2.25f));
            assertEquals(-0.75, h.sum().item_double(), 0.0);
            Tensor l = TorchTensors.toTorch(TensorData.ofLongs(new long[] {3}, 1L << 40, 1, 2));
            assertEquals((1L << 40) + 3, l.sum().item_long());
        }
    }

    @Test
    void nonContiguousTensorsComeBackContiguous() {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = TorchTensors.toTorch(TensorData.ofFloats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6));
            Tensor tt = t.t();
            assertTrue(!tt.is_contiguous());
            TensorData back = TorchTensors.fromTorch(tt);
            assertArrayEquals(new long[] {3, 2}, back.shape());
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, back.toFloatArray());
            Tensor d = t.to(ScalarType.Double);
            assertEquals(DType.F64, TorchTensors.fromTorch(d).dtype());
        }
    }

    @Test
    void loadedWeightsGoIntoTorch() throws IOException {
        StateDict sd = PthReader.read(WeightFixtures.file("module_state.pth"));
        StateDict st = SafeTensors.read(WeightFixtures.file("python.safetensors"));
        try (PointerScope scope = new PointerScope()) {
            for (StateDict d : new StateDict[] {sd, st}) {
                for (Map.Entry<String, TensorData> e : d) {
                    TensorData back = TorchTensors.fromTorch(TorchTensors.toTorch(e.getValue()));
                    assertTrue(e.getValue().contentEquals(back), e.getKey());
                }
            }
        }
    }
}

package org.fixres4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.fixres4j.kernels.CudaDepthwise.DType;
import org.fixres4j.kernels.CudaDepthwise.Shape;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA depthwise binding without a GPU: Java's argument checks (nothing reaches native code), the clean refusal
 * of a build without CUDA ({@link UnsupportedBackendException}), the tensor API's checks for tensors the CUDA path
 * cannot take, and the switch that decides where FastEfficientNet's CUDA depthwise layers run. The GPU runs of the
 * same binding are tests/device (abi_harness.py and the JVM check).
 */
class CudaDepthwiseTest {
    private static final Shape SHAPE = Shape.of(2, 16, 9, 11, 3, 2, 0, 0, 1, 1, true);

    private static boolean cudaCompiled() {
        Kernels.ensureLoaded();
        return FxNative.fx_cuda_compiled() != 0;
    }

    @Test
    void shapeIsDerivedAndValidatedNatively() {
        assertEquals(4, SHAPE.outH());
        assertEquals(5, SHAPE.outW());
        assertEquals(2L * 16 * 9 * 11, SHAPE.inputElements());
        assertEquals(2L * 16 * 4 * 5, SHAPE.outputElements());
        assertThrows(IllegalArgumentException.class, () -> Shape.of(1, 16, 8, 8, 4, 1, 1, 1, 1, 1, true));
        assertThrows(IllegalArgumentException.class, () -> Shape.of(1, 16, 8, 8, 3, 3, 1, 1, 1, 1, true));
        assertThrows(IllegalArgumentException.class, () -> Shape.of(1, 16, 8, 8, 3, 1, 3, 1, 1, 1, true));
        assertThrows(IllegalArgumentException.class, () -> Shape.of(0, 16, 8, 8, 3, 1, 1, 1, 1, 1, false));
    }

    @Test
    void javaChecksComeBeforeNativeCode() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                CudaDepthwise.forward(0, SHAPE, DType.FLOAT32, 0, 256, 0, true, 512, 0, 0));
        assertTrue(e.getMessage().contains("x is a null device pointer"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                CudaDepthwise.forward(0, SHAPE, DType.BFLOAT16, 256, 256, 0, true, 513, 0, 0));
        assertTrue(e.getMessage().contains("y (0x201) is not aligned to 2 bytes"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                CudaDepthwise.forward(0, SHAPE, DType.FLOAT16, 256, 256, 0, true, 512, 6, 0));
        assertTrue(e.getMessage().contains("seSums"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                CudaDepthwise.forward(-1, SHAPE, DType.FLOAT32, 256, 256, 0, true, 512, 0, 0));
        assertTrue(e.getMessage().contains("device index"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () ->
                CudaDepthwise.forward(0, null, DType.FLOAT32, 256, 256, 0, true, 512, 0, 0));
        assertThrows(IllegalArgumentException.class, () ->
                CudaDepthwise.forward(0, SHAPE, null, 256, 256, 0, true, 512, 0, 0));
        e = assertThrows(IllegalArgumentException.class, () ->
                CudaDepthwise.backward(0, SHAPE, DType.FLOAT32, 256, 256, 512, 0, 0, 0, 0, 0, 0));
        assertTrue(e.getMessage().contains("at least one"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                CudaDepthwise.backward(0, SHAPE, DType.FLOAT32, 0, 256, 512, 0, 1024, 0, 2048, 64, 0));
        assertTrue(e.getMessage().contains("x is a null device pointer"), e.getMessage()); // dw needs x
        e = assertThrows(IllegalArgumentException.class, () ->
                CudaDepthwise.backward(0, SHAPE, DType.FLOAT32, 256, 0, 512, 1024, 0, 0, 0, 0, 0));
        assertTrue(e.getMessage().contains("w is a null device pointer"), e.getMessage()); // dx needs w
        e = assertThrows(IllegalArgumentException.class, () ->
                CudaDepthwise.backward(0, SHAPE, DType.FLOAT32, 256, 256, 512, 0, 1024, 0, 0, 64, 0));
        assertTrue(e.getMessage().contains("workspace"), e.getMessage());
    }

    @Test
    void aBuildWithoutCudaRefusesWithUnsupportedBackend() {
        assumeTrue(!cudaCompiled(), "this build has the CUDA kernels");
        UnsupportedBackendException e = assertThrows(UnsupportedBackendException.class, () ->
                CudaDepthwise.forward(0, SHAPE, DType.BFLOAT16, 256, 256, 512, true, 1024, 2048, 0));
        assertTrue(e.getMessage().contains("without CUDA"), e.getMessage());
        assertThrows(UnsupportedBackendException.class, () ->
                CudaDepthwise.backward(0, SHAPE, DType.FLOAT16, 256, 256, 512, 1024, 0, 0, 0, 0, 0));
        assertThrows(UnsupportedBackendException.class, () -> CudaDepthwise.workspaceBytes(SHAPE, DType.FLOAT32));
        assertThrows(UnsupportedBackendException.class, () -> CudaCheckMemory.malloc(0, 64));
        assertThrows(UnsupportedBackendException.class, () -> CudaCheckMemory.createStream(0));
        assertThrows(UnsupportedBackendException.class, () -> CudaCheckMemory.copy(256, 512, 64));
        CudaCheckMemory.free(0); // nothing to free is fine everywhere
        CudaCheckMemory.destroyStream(0);
    }

    @Test
    void hostMemoryIsRefusedWhereCudaIsCompiled() {
        assumeTrue(cudaCompiled(), "this build has no CUDA kernels");
        try (FloatPointer host = new FloatPointer(SHAPE.inputElements() + SHAPE.outputElements() + 144)) {
            long h = host.address();
            // IllegalArgumentException (host memory) with a device, IllegalStateException (no device) without one
            assertThrows(RuntimeException.class, () -> CudaDepthwise.forward(0, SHAPE,
                    DType.FLOAT32, h, h + 4 * SHAPE.inputElements(), 0, false, h + 4 * (SHAPE.inputElements() + 144),
                    0, 0));
        }
    }

    @Test
    void tensorPathRefusesWhatNeitherBackendTakes() {
        Torch.ensureLoaded();
        try (PointerScope scope = new PointerScope()) {
            Tensor w = torch.zeros(16, 1, 3, 3);
            // CPU tensors of a CUDA-only dtype go to the CPU path, which takes float32 only
            Tensor half = torch.zeros(new long[] {2, 16, 9, 11}, new TensorOptions(ScalarType.Half));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                    Depthwise.forward(half, w, null, 2, Depthwise.Pad.same(9, 11, 3, 2), Depthwise.Activation.SILU,
                            null, 1));
            assertTrue(e.getMessage().contains("float32"), e.getMessage());
            // a weight of another dtype than x
            Tensor x = torch.zeros(2, 16, 9, 11);
            Tensor wHalf = torch.zeros(new long[] {16, 1, 3, 3}, new TensorOptions(ScalarType.BFloat16));
            e = assertThrows(IllegalArgumentException.class, () -> Depthwise.forward(x, wHalf, null, 2,
                    Depthwise.Pad.same(9, 11, 3, 2), Depthwise.Activation.SILU, null, 1));
            assertTrue(e.getMessage().contains("w must be float32"), e.getMessage());
            // SE sums of the wrong shape
            e = assertThrows(IllegalArgumentException.class, () -> Depthwise.forward(x, w, null, 2,
                    Depthwise.Pad.same(9, 11, 3, 2), Depthwise.Activation.SILU, torch.zeros(2, 15), 1));
            assertTrue(e.getMessage().contains("seSums"), e.getMessage());
            // the backward's dy in another shape than the forward's output
            e = assertThrows(IllegalArgumentException.class, () -> Depthwise.backward(x, w, torch.zeros(2, 16, 9,
                    11), 2, Depthwise.Pad.same(9, 11, 3, 2), true, true, false, 1));
            assertTrue(e.getMessage().contains("dy must be [2, 16, 5, 6]"), e.getMessage());
        }
    }

    @Test
    void switchIsOffByDefaultAndReadsTheDeviceTable(@TempDir Path dir) throws Exception {
        String old = System.getProperty(CudaDepthwiseSwitch.PROPERTY);
        try {
            System.clearProperty(CudaDepthwiseSwitch.PROPERTY);
            assertFalse(CudaDepthwiseSwitch.current().useOurs(DType.BFLOAT16, true, 3, 1));
            System.setProperty(CudaDepthwiseSwitch.PROPERTY, "on");
            assertTrue(CudaDepthwiseSwitch.current().useOurs(DType.FLOAT32, false, 5, 2));
            Path table = dir.resolve("switch.json");
            Files.writeString(table, "{\"device\": \"NVIDIA H100\", \"kinds\": {\"bfloat16/NHWC/k3/s1\": true, "
                    + "\"bfloat16/NHWC/k5/s2\": false}}");
            System.setProperty(CudaDepthwiseSwitch.PROPERTY, table.toString());
            CudaDepthwiseSwitch s = CudaDepthwiseSwitch.current();
            assertTrue(s.useOurs(DType.BFLOAT16, true, 3, 1));
            assertFalse(s.useOurs(DType.BFLOAT16, true, 5, 2));
            assertFalse(s.useOurs(DType.FLOAT16, true, 3, 1)); // not in the table: cuDNN
            assertEquals("float16/NCHW/k7/s2", CudaDepthwiseSwitch.key(DType.FLOAT16, false, 7, 2));
            Files.writeString(table, "{\"kinds\": {\"bfloat16/NHWC/k3/s1\": \"yes\"}}");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, CudaDepthwiseSwitch::current);
            assertTrue(e.getMessage().contains("true or false"), e.getMessage());
            Files.writeString(table, "{\"device\": \"x\"}");
            assertThrows(IllegalArgumentException.class, CudaDepthwiseSwitch::current);
            System.setProperty(CudaDepthwiseSwitch.PROPERTY, dir.resolve("missing.json").toString());
            e = assertThrows(IllegalArgumentException.class, CudaDepthwiseSwitch::current);
            assertTrue(e.getMessage().contains("cannot read"), e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty(CudaDepthwiseSwitch.PROPERTY);
            } else {
                System.setProperty(CudaDepthwiseSwitch.PROPERTY, old);
            }
        }
    }
}

package org.fixres4j.kernels;

/**
 * The CUDA depthwise kernels on raw device memory: device pointers and a {@code cudaStream_t} as {@code long}
 * addresses, without libtorch (this class never touches the PyTorch preset). {@link Depthwise} calls them on libtorch
 * CUDA tensors; the JVM device check of {@code tests/device} calls them on memory from {@link CudaCheckMemory}.
 *
 * <p>Semantics are those of {@code fx_depthwise_forward_cuda} / {@code fx_depthwise_backward_cuda}
 * ({@code kernels/include/fixres4j/depthwise.h}): every tensor contiguous in the shape's layout with the given dtype
 * (arithmetic in float32), the SE sums float32 {@code [n, c]}, work enqueued on {@code stream} (0 = the legacy default
 * stream) without waiting, capturable into a CUDA graph. {@code device} is made current for the call and the
 * caller's current device restored afterwards; every pointer must be memory of that device.
 *
 * <p>Checked here before the native call: the shape (through the native shape check, which needs no GPU), the
 * dtype, that required pointers are non-zero and aligned to their element size, and the workspace size. The kernels
 * check everything again, including that each pointer is device memory of {@code device}, before any launch. A bad
 * argument is an {@link IllegalArgumentException}; a build without CUDA an {@link UnsupportedBackendException}; no
 * driver or device, or a failed launch, an {@link IllegalStateException}.
 */
public final class CudaDepthwise {
    private CudaDepthwise() {}

    /** Element types of the CUDA kernels (the fx dtype codes). */
    public enum DType {
        FLOAT32(0, 4),
        FLOAT16(1, 2),
        BFLOAT16(2, 2);

        final int code;
        /** Bytes per element. */
        public final int bytes;

        DType(int code, int bytes) {
            this.code = code;
            this.bytes = bytes;
        }
    }

    /**
     * Geometry of one depthwise convolution: input {@code [n, c, h, w]} stored NCHW or NHWC, a {@code k x k} filter
     * per channel, stride 1 or 2, explicit padding (each in [0, k - 1]). The output size is derived (and the whole
     * shape validated) by {@link #of}.
     */
    public record Shape(long n, long c, long h, long w, int k, int stride, int padTop, int padLeft, int padBottom,
                        int padRight, boolean nhwc, int outH, int outW) {
        /** Validates the geometry natively (no GPU needed) and derives the output size. */
        public static Shape of(long n, long c, long h, long w, int k, int stride, int padTop, int padLeft,
                               int padBottom, int padRight, boolean nhwc) {
            Kernels.ensureLoaded();
            long packed = FxNative.fxj_depthwise_out_size(n, c, h, w, k, stride, padTop, padLeft, padBottom, padRight,
                    nhwc ? 1 : 0);
            Kernels.check(packed < 0 ? (int) -packed : 0, "depthwise shape");
            return new Shape(n, c, h, w, k, stride, padTop, padLeft, padBottom, padRight, nhwc, (int) (packed >>> 32),
                    (int) (packed & 0xFFFFFFFFL));
        }

        int layout() {
            return nhwc ? 1 : 0;
        }

        /** Elements of x (and dx). */
        public long inputElements() {
            return n * c * h * w;
        }

        /** Elements of y (and dy). */
        public long outputElements() {
            return n * c * outH * (long) outW;
        }

        /** Elements of the weight {@code [c, 1, k, k]}. */
        public long weightElements() {
            return c * k * (long) k;
        }

        @Override
        public String toString() {
            return "[" + n + ", " + c + ", " + h + ", " + w + "] " + (nhwc ? "NHWC" : "NCHW") + " k" + k + " s" + stride
                    + " pad " + padTop + "," + padLeft + "," + padBottom + "," + padRight + " -> " + outH + "x" + outW;
        }
    }

    /**
     * {@code y = act(conv(x, w) + b)} on {@code device}; {@code b} and {@code seSums} may be 0 (no bias, no sums).
     *
     * @param silu SiLU after the bias (the fused inference block), else no activation
     */
    public static void forward(int device, Shape s, DType dtype, long x, long w, long b, boolean silu, long y,
                               long seSums, long stream) {
        checkCommon("depthwise forward (CUDA)", device, s, dtype);
        require("x", x, dtype.bytes, true);
        require("w", w, dtype.bytes, true);
        require("b", b, dtype.bytes, false);
        require("y", y, dtype.bytes, true);
        require("seSums", seSums, 4, false);
        int status = FxNative.fxj_depthwise_forward_cuda(device, s.n(), s.c(), s.h(), s.w(), s.k(), s.stride(),
                s.padTop(), s.padLeft(), s.padBottom(), s.padRight(), s.layout(), dtype.code, x, w, b, silu ? 1 : 0, y,
                seSums, stream);
        Kernels.check(status, "depthwise forward (CUDA)");
    }

    /** Bytes of device workspace {@link #backward} needs when the weight or bias gradient is wanted (0: none). */
    public static long workspaceBytes(Shape s, DType dtype) {
        Kernels.ensureLoaded();
        if (s == null || dtype == null) {
            throw new IllegalArgumentException("depthwise workspace (CUDA): shape and dtype must not be null");
        }
        long r = FxNative.fxj_depthwise_backward_cuda_workspace(s.n(), s.c(), s.h(), s.w(), s.k(), s.stride(),
                s.padTop(), s.padLeft(), s.padBottom(), s.padRight(), s.layout(), dtype.code);
        Kernels.check(r < 0 ? (int) -r : 0, "depthwise workspace (CUDA)");
        return r;
    }

    /**
     * Gradients of the plain convolution given {@code dy}: {@code dx}, {@code dw}, {@code db} are each 0 (not wanted)
     * or overwritten; at least one is wanted. {@code workspace} must hold {@link #workspaceBytes} bytes when
     * {@code dw} or {@code db} is wanted, and must not be reused until the stream has passed this call.
     */
    public static void backward(int device, Shape s, DType dtype, long x, long w, long dy, long dx, long dw, long db,
                                long workspace, long workspaceBytes, long stream) {
        String what = "depthwise backward (CUDA)";
        checkCommon(what, device, s, dtype);
        if (dx == 0 && dw == 0 && db == 0) {
            throw new IllegalArgumentException(what + ": ask for at least one of dx, dw, db");
        }
        require("dy", dy, dtype.bytes, true);
        require("x", x, dtype.bytes, dw != 0);
        require("w", w, dtype.bytes, dx != 0);
        require("dx", dx, dtype.bytes, false);
        require("dw", dw, dtype.bytes, false);
        require("db", db, dtype.bytes, false);
        if (dw != 0 || db != 0) {
            require("workspace", workspace, 4, true);
            if (workspaceBytes < 0) {
                throw new IllegalArgumentException(what + ": workspaceBytes must be >= 0, got " + workspaceBytes);
            }
        }
        int status = FxNative.fxj_depthwise_backward_cuda(device, s.n(), s.c(), s.h(), s.w(), s.k(), s.stride(),
                s.padTop(), s.padLeft(), s.padBottom(), s.padRight(), s.layout(), dtype.code, x, w, dy, dx, dw, db,
                workspace, workspaceBytes, stream);
        Kernels.check(status, what);
    }

    private static void checkCommon(String what, int device, Shape s, DType dtype) {
        Kernels.ensureLoaded();
        if (s == null || dtype == null) {
            throw new IllegalArgumentException(what + ": shape and dtype must not be null");
        }
        if (device < 0) {
            throw new IllegalArgumentException(what + ": CUDA device index must be >= 0, got " + device);
        }
    }

    private static void require(String name, long address, int align, boolean required) {
        if (address == 0) {
            if (required) {
                throw new IllegalArgumentException("depthwise (CUDA): " + name + " is a null device pointer");
            }
            return;
        }
        if (address % align != 0) {
            throw new IllegalArgumentException("depthwise (CUDA): " + name + " (0x" + Long.toHexString(address)
                    + ") is not aligned to " + align + " bytes");
        }
    }
}

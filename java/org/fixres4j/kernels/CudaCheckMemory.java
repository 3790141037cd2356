package org.fixres4j.kernels;

/**
 * Device memory and streams through the kernels' own CUDA runtime ({@code fixres4j/cuda_check.h}), for checks that
 * drive the CUDA kernels from a JVM without libtorch or the CUDA presets (the JVM device check of
 * {@code tests/device}). Not for production buffers: with libtorch, allocate CUDA tensors instead. Addresses are
 * plain {@code long}s; the caller frees what it allocates. Every failure is an exception with the native message
 * ({@link UnsupportedBackendException} in a build without CUDA).
 */
public final class CudaCheckMemory {
    private CudaCheckMemory() {}

    /** {@code bytes} (1 .. 2^40) of device memory on {@code device}, 256-byte aligned. */
    public static long malloc(int device, long bytes) {
        Kernels.ensureLoaded();
        int[] status = new int[1];
        long p = FxNative.fxj_cuda_check_malloc(device, bytes, status);
        Kernels.check(status[0], "CUDA malloc of " + bytes + " bytes on device " + device);
        return p;
    }

    /** Frees memory from {@link #malloc} (0: nothing); waits for the device to finish with it. */
    public static void free(long ptr) {
        Kernels.ensureLoaded();
        Kernels.check(FxNative.fxj_cuda_check_free(ptr), "CUDA free");
    }

    /** Synchronous copy of {@code bytes} between host and device memory in either direction (host may be pageable). */
    public static void copy(long dst, long src, long bytes) {
        Kernels.ensureLoaded();
        Kernels.check(FxNative.fxj_cuda_check_copy(dst, src, bytes), "CUDA copy of " + bytes + " bytes");
    }

    /** A new non-blocking stream on {@code device} (a {@code cudaStream_t}). */
    public static long createStream(int device) {
        Kernels.ensureLoaded();
        int[] status = new int[1];
        long s = FxNative.fxj_cuda_check_stream_create(device, status);
        Kernels.check(status[0], "CUDA stream on device " + device);
        return s;
    }

    /** Waits for {@code stream} (0: the legacy default stream); an asynchronous kernel error is thrown here. */
    public static void synchronize(long stream) {
        Kernels.ensureLoaded();
        Kernels.check(FxNative.fxj_cuda_check_stream_synchronize(stream), "CUDA stream synchronize");
    }

    /** Waits for, then destroys a stream from {@link #createStream} (0: nothing). */
    public static void destroyStream(long stream) {
        Kernels.ensureLoaded();
        Kernels.check(FxNative.fxj_cuda_check_stream_destroy(stream), "CUDA stream destroy");
    }
}

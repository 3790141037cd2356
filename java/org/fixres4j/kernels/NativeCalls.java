package org.fixres4j.kernels;

/**
 * Checked calls into the native kernels for the typed APIs of FixRes4J ({@code org.fixres4j.preprocess}). Internal:
 * arguments are the flat arrays of {@code native/fixres4j_jni.h}; callers pass only memory they own, with its true
 * size. Every non-zero status becomes an exception carrying the native message.
 */
public final class NativeCalls {
    private NativeCalls() {}

    public static void preprocessCpu(int count, long[] imageAddr, long[] imageStride, int[] imageInts, int[] planInts,
                                     double[] boxes, long[] indices, long outAddr, long batch, int[] outInts,
                                     float[] mean, float[] std, int threads) {
        Kernels.ensureLoaded();
        if (count < 1) {
            throw new IllegalArgumentException("preprocess: count must be >= 1, got " + count);
        }
        int status = FxNative.fxj_preprocess_cpu_batch(count, imageAddr, imageStride, imageInts, planInts, boxes,
                indices, outAddr, batch, outInts, mean, std, threads);
        Kernels.check(status, "preprocess (CPU)");
    }

    public static void preprocessCuda(long preprocessor, int count, long[] imageAddr, long[] imageStride,
                                      int[] imageInts, int[] planInts, double[] boxes, long[] indices, long outAddr,
                                      long batch, int[] outInts, float[] mean, float[] std, long stream) {
        Kernels.ensureLoaded();
        if (count < 1) {
            throw new IllegalArgumentException("preprocess: count must be >= 1, got " + count);
        }
        int status = FxNative.fxj_preprocess_cuda_batch(preprocessor, count, imageAddr, imageStride, imageInts,
                planInts, boxes, indices, outAddr, batch, outInts, mean, std, stream);
        Kernels.check(status, "preprocess (CUDA)");
    }

    /** Creates a CUDA preprocessor on {@code device}; throws if CUDA is not compiled in or no device is usable. */
    public static long createCudaPreprocessor(int device) {
        Kernels.ensureLoaded();
        int[] status = new int[1];
        long handle = FxNative.fxj_cuda_preprocessor_create(device, status);
        Kernels.check(status[0], "CUDA preprocessor on device " + device);
        if (handle == 0) {
            throw new IllegalStateException("CUDA preprocessor on device " + device + ": no handle returned");
        }
        return handle;
    }

    public static void destroyCudaPreprocessor(long handle) {
        if (handle != 0) {
            FxNative.fxj_cuda_preprocessor_destroy(handle);
        }
    }
}

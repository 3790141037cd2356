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
        checkArrays(count, imageAddr, imageStride, imageInts, planInts, boxes, indices, outInts, mean, std);
        int status = FxNative.fxj_preprocess_cpu_batch(count, imageAddr, imageStride, imageInts, planInts, boxes,
                indices, outAddr, batch, outInts, mean, std, threads);
        Kernels.check(status, "preprocess (CPU)");
    }

    public static void preprocessCuda(long preprocessor, int count, long[] imageAddr, long[] imageStride,
                                      int[] imageInts, int[] planInts, double[] boxes, long[] indices, long outAddr,
                                      long batch, int[] outInts, float[] mean, float[] std, long stream) {
        Kernels.ensureLoaded();
        checkArrays(count, imageAddr, imageStride, imageInts, planInts, boxes, indices, outInts, mean, std);
        int status = FxNative.fxj_preprocess_cuda_batch(preprocessor, count, imageAddr, imageStride, imageInts,
                planInts, boxes, indices, outAddr, batch, outInts, mean, std, stream);
        Kernels.check(status, "preprocess (CUDA)");
    }

    /**
     * The flat arrays must hold {@code count} jobs: JNI hands C exactly what it is told, and C cannot know an
     * array's length, so a short array would be read past its end.
     */
    private static void checkArrays(int count, long[] imageAddr, long[] imageStride, int[] imageInts, int[] planInts,
                                    double[] boxes, long[] indices, int[] outInts, float[] mean, float[] std) {
        if (count < 1 || count > (1 << 24)) {
            throw new IllegalArgumentException("preprocess: count must be in 1..2^24, got " + count);
        }
        long c = count;
        need("imageAddr", imageAddr == null ? -1 : imageAddr.length, c);
        need("imageStride", imageStride == null ? -1 : imageStride.length, c);
        need("imageInts", imageInts == null ? -1 : imageInts.length, 5 * c);
        need("planInts", planInts == null ? -1 : planInts.length, 12 * c);
        need("boxes", boxes == null ? -1 : boxes.length, 4 * c);
        need("indices", indices == null ? -1 : indices.length, c);
        need("outInts", outInts == null ? -1 : outInts.length, 5);
        need("mean", mean == null ? -1 : mean.length, 3);
        need("std", std == null ? -1 : std.length, 3);
    }

    private static void need(String name, long length, long required) {
        if (length < required) {
            throw new IllegalArgumentException("preprocess: " + name + " has " + (length < 0 ? "no array" : length
                    + " elements") + ", the call needs " + required);
        }
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

package org.fixres4j.kernels;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JNI bindings of the kernels' C ABI ({@code kernels/include/fixres4j/kernels.h}) through the flat wrappers of
 * {@code native/fixres4j_jni.h}. Internal: use {@link Kernels} and the typed APIs built on it, which pass only
 * memory they own with its true sizes. Every function returns an fx status code; {@link #fx_last_error()} has the
 * calling thread's message.
 */
@Platform(
        value = "linux-x86_64",
        include = {"fixres4j/kernels.h", "fixres4j_jni.h"},
        link = "fixres4j_kernels",
        library = "jnifixres4j")
public final class FxNative {
    static {
        Loader.load();
    }

    private FxNative() {}

    public static native @Cast("const char*") String fx_last_error();

    public static native int fx_abi_version();

    public static native @Cast("const char*") String fx_build_info();

    public static native int fx_cpu_supports_avx2();

    public static native int fx_cpu_supports_avx2_vnni();

    public static native int fx_cpu_supports_avx512();

    public static native @Cast("const char*") String fx_cpu_isa_override();

    public static native int fx_cpu_set_isa(int isa);

    public static native int fx_cpu_isa();

    public static native int fx_depthwise_set_threading(int mode);

    public static native int fx_depthwise_threading();

    public static native int fx_cpu_blas_set_threads(int threads);

    public static native int fx_cpu_blas_threads();

    public static native int fx_cuda_compiled();

    public static native int fxj_cuda_device_count();

    public static native int fxj_preprocess_cpu_batch(
            int count,
            @Cast("const long long*") long[] imageAddr,
            @Cast("const long long*") long[] imageStride,
            @Cast("const int32_t*") int[] imageInts,
            @Cast("const int32_t*") int[] planInts,
            @Cast("const double*") double[] boxes,
            @Cast("const long long*") long[] indices,
            @Cast("long long") long outAddr,
            @Cast("long long") long batch,
            @Cast("const int32_t*") int[] outInts,
            @Cast("const float*") float[] mean,
            @Cast("const float*") float[] std,
            int threads);

    public static native int fxj_preprocess_cuda_batch(
            @Cast("long long") long preprocessor,
            int count,
            @Cast("const long long*") long[] imageAddr,
            @Cast("const long long*") long[] imageStride,
            @Cast("const int32_t*") int[] imageInts,
            @Cast("const int32_t*") int[] planInts,
            @Cast("const double*") double[] boxes,
            @Cast("const long long*") long[] indices,
            @Cast("long long") long outAddr,
            @Cast("long long") long batch,
            @Cast("const int32_t*") int[] outInts,
            @Cast("const float*") float[] mean,
            @Cast("const float*") float[] std,
            @Cast("long long") long stream);

    public static native @Cast("long long") long fxj_cuda_preprocessor_create(
            int device, @Cast("int32_t*") int[] status);

    public static native void fxj_cuda_preprocessor_destroy(@Cast("long long") long preprocessor);

    public static native @Cast("long long") long fxj_depthwise_out_size(
            @Cast("long long") long n, @Cast("long long") long c, @Cast("long long") long h,
            @Cast("long long") long w, int k, int stride, int padTop, int padLeft, int padBottom, int padRight,
            int layout);

    public static native int fxj_depthwise_forward_cpu(
            @Cast("long long") long n, @Cast("long long") long c, @Cast("long long") long h,
            @Cast("long long") long w, int k, int stride, int padTop, int padLeft, int padBottom, int padRight,
            int layout, @Cast("long long") long x, @Cast("long long") long weight, @Cast("long long") long bias,
            int act, @Cast("long long") long y, @Cast("long long") long seSums, int threads);

    public static native int fxj_depthwise_forward_cpu_dtype(
            @Cast("long long") long n, @Cast("long long") long c, @Cast("long long") long h,
            @Cast("long long") long w, int k, int stride, int padTop, int padLeft, int padBottom, int padRight,
            int layout, int dtype, @Cast("long long") long x, @Cast("long long") long weight,
            @Cast("long long") long bias, int act, @Cast("long long") long y, @Cast("long long") long seSums,
            int threads);

    public static native int fxj_depthwise_backward_cpu(
            @Cast("long long") long n, @Cast("long long") long c, @Cast("long long") long h,
            @Cast("long long") long w, int k, int stride, int padTop, int padLeft, int padBottom, int padRight,
            int layout, @Cast("long long") long x, @Cast("long long") long weight, @Cast("long long") long dy,
            @Cast("long long") long dx, @Cast("long long") long dw, @Cast("long long") long db, int threads);

    public static native int fxj_depthwise_forward_cuda(
            int device, @Cast("long long") long n, @Cast("long long") long c, @Cast("long long") long h,
            @Cast("long long") long w, int k, int stride, int padTop, int padLeft, int padBottom, int padRight,
            int layout, int dtype, @Cast("long long") long x, @Cast("long long") long weight,
            @Cast("long long") long bias, int act, @Cast("long long") long y, @Cast("long long") long seSums,
            @Cast("long long") long stream);

    public static native @Cast("long long") long fxj_depthwise_backward_cuda_workspace(
            @Cast("long long") long n, @Cast("long long") long c, @Cast("long long") long h,
            @Cast("long long") long w, int k, int stride, int padTop, int padLeft, int padBottom, int padRight,
            int layout, int dtype);

    public static native int fxj_depthwise_backward_cuda(
            int device, @Cast("long long") long n, @Cast("long long") long c, @Cast("long long") long h,
            @Cast("long long") long w, int k, int stride, int padTop, int padLeft, int padBottom, int padRight,
            int layout, int dtype, @Cast("long long") long x, @Cast("long long") long weight,
            @Cast("long long") long dy, @Cast("long long") long dx, @Cast("long long") long dw,
            @Cast("long long") long db, @Cast("long long") long workspace, @Cast("long long") long workspaceBytes,
            @Cast("long long") long stream);

    public static native @Cast("long long") long fxj_cuda_check_malloc(
            int device, @Cast("long long") long bytes, @Cast("int32_t*") int[] status);

    public static native int fxj_cuda_check_free(@Cast("long long") long ptr);

    public static native int fxj_cuda_check_copy(
            @Cast("long long") long dst, @Cast("long long") long src, @Cast("long long") long bytes);

    public static native @Cast("long long") long fxj_cuda_check_stream_create(
            int device, @Cast("int32_t*") int[] status);

    public static native int fxj_cuda_check_stream_synchronize(@Cast("long long") long stream);

    public static native int fxj_cuda_check_stream_destroy(@Cast("long long") long stream);
}

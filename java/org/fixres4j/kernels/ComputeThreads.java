package org.fixres4j.kernels;

import org.fixres4j.torch.Torch;

/**
 * The CPU compute threads of a forward (or backward) pass, set in one place: libtorch's intra-op thread count, which
 * the fused depthwise kernels follow on libtorch's own OpenMP team ({@link Depthwise.Threading#AUTO}), and the BLAS
 * libtorch calls kept on one thread.
 *
 * <p>Why the BLAS: the preset's libtorch calls a pthreads OpenBLAS (1x1 convolutions at one libtorch thread and a
 * batch under 16, linear layers), which keeps a pool of its own sized to the machine whatever libtorch's thread
 * count, and whose idle workers busy-wait after every call. With it, "one thread" ran its matrix products on two,
 * and at two threads its spinning worker took a core from libtorch's team: on a 2-vCPU Xeon the fast path at batch 8
 * went from 58 to about 80 images/s at two threads once OpenBLAS stayed on one (docs/PERFORMANCE.md). The launcher
 * also sets {@code OPENBLAS_NUM_THREADS=1}, which takes effect before any call.
 */
public final class ComputeThreads {
    private ComputeThreads() {}

    /**
     * Sets libtorch's intra-op threads ({@link Torch#setThreads}) and keeps OpenBLAS, where libtorch uses it, on one
     * thread ({@link #setBlasThreads}).
     */
    public static void set(int threads) {
        Torch.setThreads(threads);
        Kernels.ensureLoaded();
        if (FxNative.fx_cpu_blas_threads() > 1) {
            setBlasThreads(1);
        }
    }

    /** libtorch's intra-op thread count ({@link Torch#threads()}). */
    public static int get() {
        return Torch.threads();
    }

    /** The thread count of the OpenBLAS in this process, or -1 when libtorch uses no OpenBLAS. */
    public static int blasThreads() {
        Kernels.ensureLoaded();
        return FxNative.fx_cpu_blas_threads();
    }

    /** Sets OpenBLAS's thread count; {@link UnsupportedBackendException} when no OpenBLAS is loaded. */
    public static void setBlasThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("BLAS threads must be at least 1, got " + threads);
        }
        Kernels.ensureLoaded();
        Kernels.check(FxNative.fx_cpu_blas_set_threads(threads), "ComputeThreads.setBlasThreads(" + threads + ")");
    }
}

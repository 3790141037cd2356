package org.fixres4j.kernels;

import java.util.ArrayList;
import java.util.List;

import org.fixres4j.torch.Torch;

/** Which compute backends this process can use, and why not where it cannot. */
public final class Backends {
    private Backends() {}

    /** One backend: its name, whether it can be used, and a one-line detail (the version, or why not). */
    public record Backend(String name, boolean available, String detail) {
        @Override
        public String toString() {
            return String.format("%-14s %-3s %s", name, available ? "yes" : "no", detail);
        }
    }

    /** The CPU kernels: always available once the native library loads; says which instruction set runs. */
    public static Backend cpuKernels() {
        try {
            Kernels.ensureLoaded();
        } catch (IllegalStateException e) {
            return new Backend("cpu-kernels", false, e.getMessage());
        }
        Kernels.Isa isa = Kernels.cpuIsa();
        String override = Kernels.cpuIsaOverride();
        String detail = "ISA " + isa
                + (Kernels.cpuSupportsAvx2() ? "" : " (this CPU lacks AVX2+FMA: the scalar path serves)")
                + (override.isEmpty() ? "" : " (" + override + ")");
        return new Backend("cpu-kernels", true, detail);
    }

    /** The CUDA kernels: compiled in, a driver and at least one device; otherwise the reason. */
    public static Backend cudaKernels() {
        try {
            Kernels.ensureLoaded();
        } catch (IllegalStateException e) {
            return new Backend("cuda-kernels", false, e.getMessage());
        }
        if (FxNative.fx_cuda_compiled() == 0) {
            return new Backend("cuda-kernels", false, "not compiled into this build (nvcc was not found)");
        }
        int count = FxNative.fxj_cuda_device_count();
        if (count > 0) {
            return new Backend("cuda-kernels", true, count + " device(s)");
        }
        if (count == 0) {
            return new Backend("cuda-kernels", false, "no CUDA device");
        }
        String why = FxNative.fx_last_error();
        return new Backend("cuda-kernels", false, cudaFailure(why, org.fixres4j.torch.CudaSupport.driverFound()));
    }

    /**
     * The CUDA kernels' line when the device count failed with {@code why}: the static CUDA runtime's "driver version
     * is insufficient" (cudaErrorInsufficientDriver, error 35) is what it says when there is no driver at all, so
     * without libcuda.so.1 the line says that instead.
     */
    static String cudaFailure(String why, boolean driverFound) {
        if (why != null && why.contains("cudaErrorInsufficientDriver") && !driverFound) {
            return "no NVIDIA driver (libcuda.so.1 not found)";
        }
        return why == null || why.isBlank() ? "no CUDA device" : why;
    }

    /** Number of CUDA devices the kernels can use (0 when none or not compiled). */
    public static int cudaDeviceCount() {
        Kernels.ensureLoaded();
        if (FxNative.fx_cuda_compiled() == 0) {
            return 0;
        }
        return Math.max(0, FxNative.fxj_cuda_device_count());
    }

    /** libtorch through the JavaCPP preset (loads it: a few seconds the first time). */
    public static Backend libtorch() {
        try {
            Torch.ensureLoaded();
        } catch (IllegalStateException e) {
            return new Backend("libtorch", false, e.getMessage());
        }
        boolean cuda = Torch.cudaAvailable();
        return new Backend("libtorch", true, "CPU" + (cuda ? " + CUDA" : " only (no CUDA build or no device)"));
    }

    /** All backends; libtorch only when {@code includeTorch} (loading it takes seconds). */
    public static List<Backend> report(boolean includeTorch) {
        List<Backend> list = new ArrayList<>();
        list.add(cpuKernels());
        list.add(cudaKernels());
        if (includeTorch) {
            list.add(libtorch());
        }
        return list;
    }
}

package org.fixres4j.kernels;

/**
 * Entry to the native kernels: loading, status codes turned into exceptions, and the CPU instruction set in use.
 *
 * <p>The native library has no dependency on libtorch or a GPU: it loads on any x86-64 Linux machine. CUDA entry
 * points report a missing driver or device as an {@link IllegalStateException}; the CPU path always serves.
 */
public final class Kernels {
    /** fx status codes (kernels.h). */
    static final int OK = 0;
    static final int ERR_INVALID_ARGUMENT = 1;
    static final int ERR_STATE = 2;
    static final int ERR_OUT_OF_MEMORY = 3;
    static final int ERR_UNSUPPORTED = 4;

    /** The ABI version this Java code was written against. */
    public static final int ABI_VERSION = 2;

    private static volatile boolean loaded;

    private Kernels() {}

    /** Loads the native library (idempotent); throws IllegalStateException with the reason if it cannot. */
    public static void ensureLoaded() {
        if (loaded) {
            return;
        }
        synchronized (Kernels.class) {
            if (loaded) {
                return;
            }
            int abi;
            try {
                abi = FxNative.fx_abi_version();
            } catch (Throwable t) {
                throw new IllegalStateException("FixRes4J native kernels could not be loaded: " + t, t);
            }
            if (abi != ABI_VERSION) {
                throw new IllegalStateException(
                        "FixRes4J native kernels have ABI version " + abi + ", this jar expects " + ABI_VERSION);
            }
            loaded = true;
        }
    }

    /** Throws the exception matching a non-zero fx status, with the native message, prefixed by {@code what}. */
    static void check(int status, String what) {
        if (status == OK) {
            return;
        }
        String message = FxNative.fx_last_error();
        String text = what + ": " + (message == null || message.isEmpty() ? "native error " + status : message);
        switch (status) {
            case ERR_INVALID_ARGUMENT:
                throw new IllegalArgumentException(text);
            case ERR_OUT_OF_MEMORY:
                throw new IllegalStateException("out of native memory: " + text);
            case ERR_UNSUPPORTED:
                throw new UnsupportedBackendException(text);
            default:
                throw new IllegalStateException(text);
        }
    }

    /** A human-readable description of the native build (compiler, instruction sets, CUDA). */
    public static String buildInfo() {
        ensureLoaded();
        return FxNative.fx_build_info();
    }

    /** CPU instruction sets the kernels can use. */
    public enum Isa {
        /** Portable C++, any x86-64 CPU. */
        SCALAR(1),
        /** AVX2 + FMA. */
        AVX2(2),
        /** AVX2 with AVX-VNNI dot products: the same integers, fewer instructions (depthwise: the AVX2 kernels). */
        AVX2_VNNI(3),
        /** AVX-512 F/VL/BW/DQ with AVX512-VNNI: AVX-512 preprocessing and depthwise kernels. */
        AVX512(4);

        final int code;

        Isa(int code) {
            this.code = code;
        }
    }

    /** Whether this CPU can run the AVX2 paths. */
    public static boolean cpuSupportsAvx2() {
        ensureLoaded();
        return FxNative.fx_cpu_supports_avx2() != 0;
    }

    /** Whether this CPU can run the AVX2-VNNI paths. */
    public static boolean cpuSupportsAvx2Vnni() {
        ensureLoaded();
        return FxNative.fx_cpu_supports_avx2_vnni() != 0;
    }

    /** Whether this CPU can run the AVX-512 paths. */
    public static boolean cpuSupportsAvx512() {
        ensureLoaded();
        return FxNative.fx_cpu_supports_avx512() != 0;
    }

    /**
     * What the native kernels did with the environment variable {@code FIXRES4J_CPU_ISA} (read once; their only
     * environment override): empty when it is not set, otherwise one line (applied, or ignored and why).
     */
    public static String cpuIsaOverride() {
        ensureLoaded();
        String s = FxNative.fx_cpu_isa_override();
        return s == null ? "" : s;
    }

    /** Whether this CPU can run the paths of {@code isa}. */
    public static boolean cpuSupports(Isa isa) {
        return switch (isa) {
            case SCALAR -> true;
            case AVX2 -> cpuSupportsAvx2();
            case AVX2_VNNI -> cpuSupportsAvx2Vnni();
            case AVX512 -> cpuSupportsAvx512();
        };
    }

    /** The best instruction set this CPU supports (what the kernels use by default). */
    public static Isa bestCpuIsa() {
        return cpuSupportsAvx512() ? Isa.AVX512
                : cpuSupportsAvx2Vnni() ? Isa.AVX2_VNNI : cpuSupportsAvx2() ? Isa.AVX2 : Isa.SCALAR;
    }

    /** The instruction set the CPU kernels use now. */
    public static Isa cpuIsa() {
        ensureLoaded();
        int code = FxNative.fx_cpu_isa();
        for (Isa isa : Isa.values()) {
            if (isa.code == code) {
                return isa;
            }
        }
        throw new IllegalStateException("the native kernels report an unknown ISA code " + code);
    }

    /**
     * Selects the instruction set of the CPU kernels, process-wide (for comparisons in tests and benchmarks).
     *
     * @throws UnsupportedBackendException if this CPU lacks it
     */
    public static void setCpuIsa(Isa isa) {
        ensureLoaded();
        check(FxNative.fx_cpu_set_isa(isa.code), "setCpuIsa(" + isa + ")");
    }

    /** Restores the default: the best instruction set this CPU supports. */
    public static void resetCpuIsa() {
        ensureLoaded();
        check(FxNative.fx_cpu_set_isa(0), "resetCpuIsa");
    }
}

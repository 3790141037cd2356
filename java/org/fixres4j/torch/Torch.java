package org.fixres4j.torch;

import org.bytedeco.javacpp.Loader;

/**
 * Loads libtorch (the JavaCPP PyTorch preset) once, safely; call {@link #ensureLoaded()} before your own code first
 * touches {@code org.bytedeco.pytorch}.
 *
 * <p>Why: the preset loads its libraries in the order c10, torch, torch_cpu, extracting each into the JavaCPP cache
 * ({@code ~/.javacpp/cache}) just before loading it. With a cold cache, {@code libtorch.so} is loaded while its
 * dependency {@code libtorch_cpu.so} is not extracted yet; JavaCPP then falls back to the system's library path, and
 * where a system libtorch exists (Debian's {@code libtorch-dev}, which {@code python3-torch} pulls in, puts
 * {@code libtorch.so} there) the process gets libtorch 1.13 next to the preset's 2.10 and dies with SIGSEGV in
 * {@code pthread_mutex_lock}, on this run and every later one. Extracting all of the preset's libraries into the cache
 * first avoids that: then everything resolves from the cache. Once the cache is warm, the order no longer matters.
 *
 * <p>Every class of FixRes4J that can initialise a class of the preset calls this first, in its static initialiser
 * (checked on the compiled classes by a test), so whatever FixRes4J class an application uses first, libtorch is
 * loaded safely. Only application code that touches the preset before any FixRes4J class needs to call it itself.
 */
public final class Torch {
    private static volatile boolean loaded;
    private static volatile Throwable failure;

    private Torch() {}

    /**
     * Extracts the preset's libraries into the JavaCPP cache (the first run on a machine: ~450 MB, some seconds) and
     * loads them (idempotent, thread-safe). Throws IllegalStateException if that fails, and again on every later
     * call.
     */
    public static void ensureLoaded() {
        if (loaded) {
            return;
        }
        synchronized (Torch.class) {
            if (loaded) {
                return;
            }
            if (failure != null) {
                throw new IllegalStateException("libtorch could not be loaded: " + failure, failure);
            }
            try {
                String platform = Loader.getPlatform();
                // the CPU natives, and those of the CUDA build (-Pgpu) where it is on the class path
                Loader.cacheResources("/org/bytedeco/pytorch/" + platform + "/");
                Loader.cacheResources("/org/bytedeco/pytorch/" + platform + "-gpu/");
                Loader.load(org.bytedeco.pytorch.global.torch.class);
                loaded = true;
            } catch (Throwable t) {
                failure = t;
                throw new IllegalStateException("libtorch could not be loaded: " + t, t);
            }
        }
    }

    /**
     * Loads libtorch ({@link #ensureLoaded()}) and sets its intra-op thread count ({@code torch.set_num_threads}):
     * the compute threads of a forward pass, libtorch's operators and the fused depthwise kernels alike (they read {@link #threads()} and run on the same OpenMP team).
     */
    public static void setThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        ensureLoaded();
        org.bytedeco.pytorch.global.torch.set_num_threads(threads);
    }

    /** libtorch's intra-op thread count as the calling thread sees it ({@code torch.get_num_threads}). */
    public static int threads() {
        ensureLoaded();
        return org.bytedeco.pytorch.global.torch.get_num_threads();
    }

    /** Loads libtorch and says whether it can use CUDA (its CUDA build and a device); false if it cannot tell. */
    public static boolean cudaAvailable() {
        ensureLoaded();
        try {
            return org.bytedeco.pytorch.global.torch.cuda_is_available();
        } catch (Throwable t) {
            return false;
        }
    }

    /** Whether {@link #ensureLoaded()} has succeeded. */
    public static boolean isLoaded() {
        return loaded;
    }
}

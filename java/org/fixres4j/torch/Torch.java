package org.fixres4j.torch;

import org.bytedeco.javacpp.Loader;

/**
 * Loads libtorch (the JavaCPP PyTorch preset) once, robustly.
 *
 * <p>Where a system libtorch exists (Debian's {@code libtorch1.13}, pulled in by {@code python3-torch}) and the
 * JavaCPP cache is empty, loading the preset naively lets the dynamic linker pick the system's {@code libtorch.so}
 * before the preset's {@code libtorch_cpu.so} has been extracted, and the JVM dies with SIGSEGV. Extracting all of the
 * preset's resources into the cache first avoids that. Every class of FixRes4J that touches torch calls
 * {@link #ensureLoaded()} first.
 */
public final class Torch {
    private static volatile boolean loaded;
    private static volatile Throwable failure;

    private Torch() {}

    /** Extracts and loads the libtorch natives (idempotent, thread-safe); throws IllegalStateException if that fails. */
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
                Loader.cacheResources("/org/bytedeco/pytorch/" + Loader.getPlatform() + "/");
                Loader.load(org.bytedeco.pytorch.global.torch.class);
                loaded = true;
            } catch (Throwable t) {
                failure = t;
                throw new IllegalStateException("libtorch could not be loaded: " + t, t);
            }
        }
    }

    /** Whether {@link #ensureLoaded()} has succeeded. */
    public static boolean isLoaded() {
        return loaded;
    }
}

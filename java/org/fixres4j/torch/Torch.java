package org.fixres4j.torch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;

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
 *
 * <p><b>Huge pages for libtorch's CPU allocator.</b> libtorch frees the activations of a forward pass and allocates
 * them again in the next one; glibc returns such large blocks to the kernel, so every pass faults them in again, 4 KB
 * at a time (page faults and clearing pages were about a tenth of a {@code bench model} profile). libc10's allocator
 * advises transparent huge pages ({@code madvise(MADV_HUGEPAGE)}) for every allocation of 2 MB or more when the
 * environment variable {@value #THP_ENV} is 1, which it reads once, at its first CPU allocation. With the system
 * property {@code -D}{@value #THP_PROPERTY}{@code =true}, this class sets it to 1 right after loading, before any
 * tensor exists (libc10's own {@code c10::utils::set_env}, which does not replace a value already set). It is not the
 * default: on a 2-vCPU VM it raised the fast path's median at batch 32 on two cores from about 96 to 129 images/s,
 * but one forward pass in five or so took twice the median, the plain module at batch 32 on one thread got slower,
 * and eval end to end gained less than the median suggests. What the launcher {@code fixres} sets instead (jemalloc
 * preloaded with {@code MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1} where it is installed, else glibc's malloc
 * keeping freed memory: {@code GLIBC_TUNABLES=glibc.malloc.mmap_max=0:...:glibc.malloc.arena_max=1}) must be in the
 * environment when the process starts, which a library cannot do: docs/PERFORMANCE.md has them, measured.
 * {@link #hugePageAllocations()} says what the allocator does.
 */
public final class Torch {
    /** The environment variable libc10's CPU allocator reads for huge pages ({@code 1}: on). */
    public static final String THP_ENV = "THP_MEM_ALLOC_ENABLE";
    /** System property: {@code true} sets {@value #THP_ENV} to 1 when libtorch loads, unless the environment has it. */
    public static final String THP_PROPERTY = "fixres.thpAlloc";
    private static final Path THP_MODE = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");

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
                adviseHugePages();
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

    /**
     * With the system property {@value #THP_PROPERTY}{@code =true}, sets {@value #THP_ENV}=1 for libc10 unless the
     * environment has it. Runs once, right after libtorch is loaded and before FixRes4J allocates any tensor.
     */
    private static void adviseHugePages() {
        if ("true".equalsIgnoreCase(System.getProperty(THP_PROPERTY))
                && !org.bytedeco.pytorch.global.torch.has_env(THP_ENV)) {
            org.bytedeco.pytorch.global.torch.set_env(THP_ENV, "1", false);
        }
    }

    /**
     * The kernel's transparent huge page mode ({@code always}, {@code madvise} or {@code never}: the bracketed
     * word of {@code /sys/kernel/mm/transparent_hugepage/enabled}), or null where there is none (not Linux).
     */
    public static String transparentHugePages() {
        try {
            String s = Files.readString(THP_MODE);
            int a = s.indexOf('[');
            int b = s.indexOf(']', a + 1);
            return a >= 0 && b > a ? s.substring(a + 1, b) : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Whether libtorch's CPU allocator advises huge pages for large blocks in this process (see the class comment):
     * loads libtorch, allocates a 4 MB tensor and reads the {@code hg} flag (MADV_HUGEPAGE) of its mapping in
     * {@code /proc/self/smaps}. Null when that cannot be told (no {@code /proc}). A few milliseconds.
     */
    @SuppressWarnings("try")
    public static Boolean hugePageAllocations() {
        ensureLoaded();
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor t = org.bytedeco.pytorch.global.torch.empty(1L << 20);
            long address = t.data_ptr().address();
            String smaps = Files.readString(Path.of("/proc/self/smaps"));
            boolean inside = false;
            for (String line : smaps.split("\n")) {
                int dash = line.indexOf('-');
                int space = line.indexOf(' ');
                if (dash > 0 && space > dash && isHex(line, 0, dash) && isHex(line, dash + 1, space)) {
                    long lo = Long.parseUnsignedLong(line.substring(0, dash), 16);
                    long hi = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
                    inside = Long.compareUnsigned(address, lo) >= 0 && Long.compareUnsigned(address, hi) < 0;
                } else if (inside && line.startsWith("VmFlags:")) {
                    return (" " + line.substring(8).strip() + " ").contains(" hg ");
                }
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static boolean isHex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return to > from;
    }

    /**
     * One line for reports: whether libtorch's CPU allocator uses huge pages for blocks of 2 MB or more, why, and
     * the kernel's mode, e.g. {@code "on (THP_MEM_ALLOC_ENABLE=1; kernel THP: madvise)"}. Loads libtorch.
     */
    public static String hugePageReport() {
        Boolean on = hugePageAllocations();
        String env = System.getenv(THP_ENV) != null ? THP_ENV + "=" + System.getenv(THP_ENV)
                : org.bytedeco.pytorch.global.torch.has_env(THP_ENV) ? THP_ENV + "=1, set by FixRes4J"
                : THP_ENV + " unset";
        String mode = transparentHugePages();
        return String.format(Locale.ROOT, "%s (%s; kernel THP: %s)", on == null ? "unknown" : on ? "on" : "off", env,
                mode == null ? "none" : mode);
    }

    /**
     * What {@link #ensureLoaded()} does or did about huge pages, without loading libtorch: {@code "on"} or {@code
     * "off"} and why, as {@link #hugePageReport()} words it (which checks the allocator itself).
     */
    public static String hugePagePolicy() {
        String env = System.getenv(THP_ENV);
        String property = System.getProperty(THP_PROPERTY);
        String mode = transparentHugePages();
        String kernel = "; kernel THP: " + (mode == null ? "none" : mode) + ")";
        if (env != null) {
            return ("1".equals(env.strip()) ? "on" : "off") + " (" + THP_ENV + "=" + env + kernel;
        }
        if ("true".equalsIgnoreCase(property)) {
            return "on (-D" + THP_PROPERTY + "=true sets " + THP_ENV + "=1 when libtorch loads" + kernel;
        }
        return "off (" + THP_ENV + " unset" + kernel;
    }

    /**
     * One line for reports: the malloc libtorch's CPU allocator calls. A preloaded jemalloc or tcmalloc (the launcher
     * preloads jemalloc where it is installed) by its file name and settings; else whether glibc's malloc keeps freed
     * memory in the process ({@code mmap_max=0} in {@code GLIBC_TUNABLES} or {@code MALLOC_MMAP_MAX_=0}, as the
     * launcher sets without jemalloc) or returns large blocks to the kernel (glibc's default), as this process's
     * environment says.
     */
    public static String mallocReport() {
        String preloaded = preloadedMalloc();
        if (preloaded != null) {
            String setting = preloaded.contains("jemalloc") ? "MALLOC_CONF" : "TCMALLOC_RELEASE_RATE";
            String conf = System.getenv(setting);
            return preloaded + " (LD_PRELOAD" + (conf == null ? "" : ", " + setting + "=" + conf) + ")";
        }
        String tunables = System.getenv("GLIBC_TUNABLES");
        String legacy = System.getenv("MALLOC_MMAP_MAX_");
        boolean keeps = (tunables != null && tunables.contains("glibc.malloc.mmap_max=0"))
                || (legacy != null && legacy.strip().equals("0"));
        String why = tunables != null && !tunables.isEmpty() ? "GLIBC_TUNABLES=" + tunables
                : legacy != null ? "MALLOC_MMAP_MAX_=" + legacy : "GLIBC_TUNABLES unset";
        return (keeps ? "keeps freed memory" : "glibc's default: large blocks mmapped and returned to the kernel")
                + " (" + why + ")";
    }

    /**
     * The malloc this process runs on instead of glibc's, when one is mapped into it (jemalloc or tcmalloc, as the
     * launcher preloads where jemalloc is installed): its file name, else null (also without /proc).
     */
    static String preloadedMalloc() {
        java.nio.file.Path maps = java.nio.file.Path.of("/proc/self/maps");
        try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(maps)) {
            return lines.map(l -> l.substring(l.lastIndexOf(' ') + 1))
                    .filter(f -> f.contains("/libjemalloc") || f.contains("/libtcmalloc"))
                    .map(f -> f.substring(f.lastIndexOf('/') + 1))
                    .findFirst().orElse(null);
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /** Whether {@link #ensureLoaded()} has succeeded. */
    public static boolean isLoaded() {
        return loaded;
    }
}

package org.fixres4j.torch;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Predicate;

import org.bytedeco.javacpp.Loader;

/**
 * Whether this process can run libtorch on a CUDA device, and if not, which piece is missing: libtorch's GPU natives
 * (the {@code -gpu} classifier of {@code org.bytedeco:pytorch}), the NVIDIA driver ({@code libcuda.so.1}), the CUDA
 * libraries that {@code libtorch_cuda.so} loads (from {@code org.bytedeco:cuda-redist} or the host: cuBLAS,
 * cuSPARSE, cuSOLVER, cuDNN 9 and NCCL 2 come only from the host), and a device with the asked index.
 *
 * <p>Nothing here initialises the preset's {@code torch_cuda} class (its JNI library exists only in the {@code -gpu}
 * jar): the files are looked for on the class path and in the directories the dynamic linker and the preset search,
 * and the device count, asked only once every file is there, comes from the main preset class
 * ({@code torch.cuda_device_count()}).
 */
public final class CudaSupport {
    private CudaSupport() {}

    /** One piece the CUDA path needs: whether it is there, and where it was found or what to install. */
    public record Piece(String name, boolean present, String detail) {
        @Override
        public String toString() {
            return String.format("%-14s %-3s %s", name, present ? "yes" : "no", detail);
        }
    }

    /** A group of libraries, found if each one is (in a jar on the class path or in a library directory). */
    private record Libraries(String name, List<String> files, String install) {}

    private static final String DRIVER = "libcuda.so.1";

    /** What {@code libtorch_cuda.so} of the 1.5.13 presets (CUDA 13.1, cuDNN 9) loads, by where it can come from. */
    private static final List<Libraries> LIBRARIES = List.of(
            new Libraries("cuda-runtime", List.of("libcudart.so.13", "libnvrtc.so.13", "libnvJitLink.so.13",
                    "libcupti.so.13", "libcurand.so.10", "libcufft.so.12"),
                    "add org.bytedeco:cuda-redist:" + presetVersion("cuda", "13.1-9.19-1.5.13") + ":"
                            + platform() + " to the class path, or install the CUDA 13 toolkit's runtime"),
            new Libraries("cublas", List.of("libcublas.so.13", "libcublasLt.so.13"),
                    "install CUDA 13 cuBLAS (NVIDIA's apt repository: libcublas-13-1)"),
            new Libraries("cusparse", List.of("libcusparse.so.12"),
                    "install CUDA 13 cuSPARSE (libcusparse-13-1)"),
            new Libraries("cusolver", List.of("libcusolver.so.12"),
                    "install CUDA 13 cuSOLVER (libcusolver-13-1)"),
            new Libraries("cudnn", List.of("libcudnn.so.9"), "install cuDNN 9 for CUDA 13 (libcudnn9-cuda-13)"),
            new Libraries("nccl", List.of("libnccl.so.2"), "install NCCL 2 (libnccl2)"));

    /**
     * Where files are looked for: jars on the class path (as resources) and library directories. {@link #current()}
     * is this process's; tests build their own over a scratch directory.
     */
    static final class Host {
        final List<Path> dirs;
        final Predicate<String> resource;

        Host(List<Path> dirs, Predicate<String> resource) {
            this.dirs = List.copyOf(dirs);
            this.resource = resource;
        }

        /**
         * This process: the class path; then LD_LIBRARY_PATH, {@code java.library.path}, JavaCPP's
         * {@code org.bytedeco.javacpp.platform.preloadpath}, the dynamic linker's configuration
         * ({@code /etc/ld.so.conf} and what it includes), the presets' CUDA preload paths and the usual system
         * directories.
         */
        static Host current() {
            return of(Path.of("/"), System.getenv(), System.getProperties(),
                    name -> CudaSupport.class.getResource(name) != null);
        }

        /** The host seen from {@code root} (for tests: a scratch directory standing for /). */
        static Host of(Path root, Map<String, String> env, Properties props, Predicate<String> resource) {
            Set<Path> dirs = new LinkedHashSet<>();
            addPathList(dirs, root, env.get("LD_LIBRARY_PATH"));
            addPathList(dirs, root, props.getProperty("java.library.path"));
            addPathList(dirs, root, props.getProperty("org.bytedeco.javacpp.platform.preloadpath"));
            readLdConf(dirs, root, root.resolve("etc/ld.so.conf"), 0);
            for (String d : List.of("/usr/local/cuda-13.1/lib64", "/usr/local/cuda-13.1/extras/CUPTI/lib64",
                    "/usr/local/cuda/lib64", "/usr/local/cuda/extras/CUPTI/lib64", "/usr/lib64",
                    "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/lib", "/usr/lib",
                    "/usr/local/nvidia/lib64", "/usr/lib/wsl/lib")) {
                dirs.add(under(root, d));
            }
            return new Host(new ArrayList<>(dirs), resource);
        }

        private static Path under(Path root, String dir) {
            return root.resolve(dir.startsWith("/") ? dir.substring(1) : dir).normalize();
        }

        private static void addPathList(Set<Path> dirs, Path root, String list) {
            if (list == null) {
                return;
            }
            for (String d : list.split(java.io.File.pathSeparator)) {
                if (!d.isBlank() && d.startsWith("/")) {
                    dirs.add(under(root, d.strip()));
                }
            }
        }

        /** ld.so.conf: directory lines and {@code include GLOB} lines (globs on the file name only). */
        private static void readLdConf(Set<Path> dirs, Path root, Path conf, int depth) {
            if (depth > 4 || !Files.isRegularFile(conf)) {
                return;
            }
            List<String> lines;
            try {
                lines = Files.readAllLines(conf);
            } catch (IOException | RuntimeException e) {
                return;
            }
            for (String raw : lines) {
                int hash = raw.indexOf('#');
                String line = (hash >= 0 ? raw.substring(0, hash) : raw).strip();
                if (line.startsWith("include ")) {
                    Path pattern = under(root, line.substring(8).strip());
                    Path dir = pattern.getParent();
                    if (dir == null || !Files.isDirectory(dir)) {
                        continue;
                    }
                    List<Path> included = new ArrayList<>();
                    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, pattern.getFileName().toString())) {
                        ds.forEach(included::add);
                    } catch (IOException | RuntimeException e) {
                        continue;
                    }
                    included.sort(null);
                    for (Path p : included) {
                        readLdConf(dirs, root, p, depth + 1);
                    }
                } else if (line.startsWith("/")) {
                    dirs.add(under(root, line));
                }
            }
        }

        /** Where {@code file} is: "class path" (a jar of {@code group}) or its directory; null if nowhere. */
        String find(String group, String file) {
            if (group != null && resource.test("/org/bytedeco/" + group + "/" + platform() + "/" + file)) {
                return "class path";
            }
            for (Path d : dirs) {
                if (Files.exists(d.resolve(file))) {
                    return d.toString();
                }
            }
            return null;
        }

        /** Whether libtorch's GPU natives (the {@code -gpu} jar) are on the class path. */
        boolean gpuNatives() {
            return resource.test("/org/bytedeco/pytorch/" + platform() + "-gpu/libjnitorch_cuda.so");
        }
    }

    /** Every piece, on this machine; the device count (which loads libtorch) only once all files are there. */
    public static List<Piece> pieces() {
        return pieces(true);
    }

    /**
     * Every piece, on this machine; {@code countDevices}: once every file is there, load libtorch and ask it for the
     * devices (else the last piece, cuda-devices, is left out).
     */
    public static List<Piece> pieces(boolean countDevices) {
        return pieces(Host.current(), countDevices);
    }

    /** Whether the NVIDIA driver's {@code libcuda.so.1} is where the dynamic linker looks. */
    public static boolean driverFound() {
        return Host.current().find(null, DRIVER) != null;
    }

    /** The pieces of {@code host}; {@code countDevices}: ask libtorch for the devices when every file is there. */
    static List<Piece> pieces(Host host, boolean countDevices) {
        List<Piece> out = new ArrayList<>();
        boolean natives = host.gpuNatives();
        out.add(new Piece("libtorch-gpu", natives, natives
                ? "org.bytedeco:pytorch:" + presetVersion("pytorch", "") + ":" + platform() + "-gpu on the class path"
                : nativesMissing()));
        String driver = host.find(null, DRIVER);
        out.add(new Piece("nvidia-driver", driver != null, driver != null ? DRIVER + " in " + driver
                : "no NVIDIA driver (" + DRIVER + " not found): install the NVIDIA driver, 580 or newer for CUDA 13"));
        boolean all = natives && driver != null;
        for (Libraries l : LIBRARIES) {
            List<String> missing = new ArrayList<>();
            Set<String> where = new LinkedHashSet<>();
            for (String f : l.files()) {
                String w = host.find("cuda", f);
                if (w == null) {
                    missing.add(f);
                } else {
                    where.add(w);
                }
            }
            all &= missing.isEmpty();
            out.add(new Piece(l.name(), missing.isEmpty(), missing.isEmpty()
                    ? String.join(", ", l.files()) + " in " + String.join(", ", where)
                    : String.join(", ", missing) + " not found: " + l.install()));
        }
        if (!all) {
            out.add(new Piece("cuda-devices", false, "not counted (pieces above are missing)"));
        } else if (countDevices) {
            int n = deviceCount();
            out.add(new Piece("cuda-devices", n > 0, n > 0 ? n + " device(s)" : "the driver reports no CUDA device"));
        }
        return out;
    }

    /** Why {@code cuda:index} cannot be used here, in one line; null if it can. */
    public static String unusableReason(int index) {
        return unusableReason(Host.current(), index, true);
    }

    static String unusableReason(Host host, int index, boolean countDevices) {
        if (!host.gpuNatives()) {
            return nativesMissing();
        }
        if (host.find(null, DRIVER) == null) {
            return "no NVIDIA driver (" + DRIVER + " not found)";
        }
        List<String> missing = new ArrayList<>();
        for (Libraries l : LIBRARIES) {
            for (String f : l.files()) {
                if (host.find("cuda", f) == null) {
                    missing.add(f);
                }
            }
        }
        if (!missing.isEmpty()) {
            return "libtorch's CUDA build needs " + String.join(", ", missing) + ", not found (./fixres info says what "
                    + "to install; docs/GPU.md)";
        }
        if (!countDevices) {
            return null;
        }
        int n = deviceCount();
        if (n <= 0) {
            return "the driver reports no CUDA device";
        }
        if (index >= n) {
            return "no such device (this machine has " + n + " CUDA device" + (n == 1 ? ": cuda:0)" : "s: cuda:0.."
                    + "cuda:" + (n - 1) + ")");
        }
        return null;
    }

    /**
     * Throws {@link DeviceUnavailableException} (one line: which piece is missing) unless {@code cuda:index} can be
     * used.
     */
    public static void check(int index) {
        DeviceSpec d = DeviceSpec.cuda(index);
        String why = unusableReason(index);
        if (why != null) {
            throw new DeviceUnavailableException(d, why);
        }
    }

    /** CUDA devices libtorch sees (loads libtorch; never touches {@code torch_cuda}). */
    private static int deviceCount() {
        try {
            return TorchDevices.cudaDeviceCount();
        } catch (RuntimeException | LinkageError e) {
            return 0;
        }
    }

    private static String nativesMissing() {
        return "libtorch here is its CPU build (libjnitorch_cuda.so is not on the class path): add "
                + "org.bytedeco:pytorch:" + presetVersion("pytorch", "2.10.0-1.5.13") + ":" + platform()
                + "-gpu (docs/GPU.md)";
    }

    private static String platform() {
        return Loader.getPlatform();
    }

    /** The version of a preset jar on the class path (its Maven metadata), or {@code fallback}. */
    private static String presetVersion(String artifact, String fallback) {
        try {
            String v = Loader.getVersion("org.bytedeco", artifact);
            return v != null ? v : fallback;
        } catch (IOException | RuntimeException e) {
            return fallback;
        }
    }
}

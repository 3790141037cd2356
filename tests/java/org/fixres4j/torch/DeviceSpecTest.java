package org.fixres4j.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DeviceSpec} (parsing, canonical form, refusals) and {@link CudaSupport}'s diagnosis, both on this machine
 * (CPU natives of libtorch, no GPU) and on scratch directories standing for hosts with some of the pieces.
 */
class DeviceSpecTest {
    @TempDir
    Path root;

    @Test
    void parsesTheSpellingsAndPrintsTheCanonicalForm() {
        assertSame(DeviceSpec.CPU, DeviceSpec.parse("cpu"));
        assertSame(DeviceSpec.CPU, DeviceSpec.parse(" CPU "));
        assertEquals(DeviceSpec.cuda(0), DeviceSpec.parse("cuda"));
        assertEquals(DeviceSpec.cuda(0), DeviceSpec.parse("cuda:0"));
        assertEquals(DeviceSpec.cuda(3), DeviceSpec.parse("CUDA:3"));
        assertEquals(DeviceSpec.cuda(127), DeviceSpec.parse("cuda:127"));
        assertEquals("cpu", DeviceSpec.CPU.toString());
        assertEquals("cuda:0", DeviceSpec.parse("cuda").toString());
        assertEquals("cuda:12", DeviceSpec.parse("cuda:12").toString());
        for (String s : List.of("cpu", "cuda:0", "cuda:7")) {
            assertEquals(s, DeviceSpec.parse(s).toString());
        }
        assertTrue(DeviceSpec.cuda(1).isCuda());
        assertEquals(1, DeviceSpec.cuda(1).index());
        assertEquals(-1, DeviceSpec.CPU.index());
        assertEquals("cuda", DeviceSpec.cuda(1).type().id());
        assertEquals("cpu", DeviceSpec.CPU.type().id());
    }

    @Test
    void refusesWhatIsNotADevice() {
        for (String s : List.of("", "gpu", "cuda:", "cuda:-1", "cuda:128", "cuda:1.5", "cuda:x", "cuda:0:1",
                "cuda 0", "mps", "cpu:0", "cuda:0000")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceSpec.parse(s), s);
            assertTrue(e.getMessage().contains("cuda:N"), s + ": " + e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> DeviceSpec.parse(null));
        assertThrows(IllegalArgumentException.class, () -> DeviceSpec.cuda(-1));
        assertThrows(IllegalArgumentException.class, () -> DeviceSpec.cuda(128));
    }

    @Test
    void theCpuAlwaysPassesAndCudaIsRefusedHereWithTheReason() {
        assertSame(DeviceSpec.CPU, DeviceSpec.CPU.check());
        // this build has libtorch's CPU natives: that is the first missing piece, named in one line
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                () -> DeviceSpec.parse("cuda:1").check());
        assertEquals(DeviceSpec.cuda(1), e.device());
        assertTrue(e.getMessage().startsWith("cuda:1 is not usable: libtorch here is its CPU build"), e.getMessage());
        assertTrue(e.getMessage().contains(":" + Loader.getPlatform() + "-gpu"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e instanceof IllegalArgumentException);
    }

    @Test
    void theTorchDeviceMatches() {
        assertTrue(DeviceSpec.CPU.torchDevice().is_cpu());
        org.bytedeco.pytorch.Device d = DeviceSpec.cuda(2).torchDevice();
        assertTrue(d.is_cuda());
        assertEquals(2, d.index());
        assertEquals("cuda:2", d.str().getString());
    }

    @Test
    void infoOnThisMachineNamesTheMissingPiecesWithoutDriverErrorCodes() {
        List<CudaSupport.Piece> pieces = CudaSupport.pieces();
        assertEquals("libtorch-gpu", pieces.get(0).name());
        assertFalse(pieces.get(0).present(), "CI and this machine run the CPU natives");
        CudaSupport.Piece devices = pieces.get(pieces.size() - 1);
        assertEquals("cuda-devices", devices.name());
        assertFalse(devices.present());
        for (CudaSupport.Piece p : pieces) {
            assertFalse(p.detail().contains("error 35") || p.detail().contains("insufficient"), p.toString());
        }
    }

    private static final Properties NO_PROPS = new Properties();

    private Path lib(String dir, String... files) throws IOException {
        Path d = Files.createDirectories(root.resolve(dir));
        for (String f : files) {
            Files.writeString(d.resolve(f), "");
        }
        return d;
    }

    private CudaSupport.Host host(boolean gpuNatives, Map<String, String> env) {
        return CudaSupport.Host.of(root, env, NO_PROPS,
                name -> gpuNatives && name.endsWith("-gpu/libjnitorch_cuda.so"));
    }

    @Test
    void withoutTheGpuNativesThatIsTheReasonWhateverElseIsThere() throws IOException {
        lib("usr/lib/x86_64-linux-gnu", "libcuda.so.1");
        String why = CudaSupport.unusableReason(host(false, Map.of()), 0, false);
        assertTrue(why.startsWith("libtorch here is its CPU build"), why);
    }

    @Test
    void withoutADriverItSaysSoAndNotADriverVersionError() {
        CudaSupport.Host h = host(true, Map.of());
        assertEquals("no NVIDIA driver (libcuda.so.1 not found)", CudaSupport.unusableReason(h, 0, false));
        List<CudaSupport.Piece> pieces = CudaSupport.pieces(h, false);
        CudaSupport.Piece driver = pieces.get(1);
        assertEquals("nvidia-driver", driver.name());
        assertFalse(driver.present());
        assertTrue(driver.detail().startsWith("no NVIDIA driver (libcuda.so.1 not found): install"), driver.detail());
        assertTrue(pieces.get(0).present());
    }

    @Test
    void missingLibrariesAreNamedWithWhatToInstall() throws IOException {
        lib("usr/lib/x86_64-linux-gnu", "libcuda.so.1");
        lib("usr/local/cuda/lib64", "libcudart.so.13", "libnvrtc.so.13", "libnvJitLink.so.13", "libcupti.so.13",
                "libcurand.so.10", "libcufft.so.12", "libcusparse.so.12", "libcusolver.so.12");
        CudaSupport.Host h = host(true, Map.of());
        String why = CudaSupport.unusableReason(h, 0, false);
        assertEquals("libtorch's CUDA build needs libcublas.so.13, libcublasLt.so.13, libcudnn.so.9, libnccl.so.2, "
                + "not found (./fixres info says what to install; docs/GPU.md)", why);
        List<CudaSupport.Piece> pieces = CudaSupport.pieces(h, false);
        java.util.Map<String, CudaSupport.Piece> byName = new java.util.HashMap<>();
        pieces.forEach(p -> byName.put(p.name(), p));
        assertTrue(byName.get("nvidia-driver").detail().endsWith(root.resolve("usr/lib/x86_64-linux-gnu")
                .toString()), byName.get("nvidia-driver").detail());
        assertTrue(byName.get("cuda-runtime").present());
        assertTrue(byName.get("cusparse").present());
        assertFalse(byName.get("cublas").present());
        assertTrue(byName.get("cublas").detail().startsWith("libcublas.so.13, libcublasLt.so.13 not found: install "
                + "CUDA 13 cuBLAS"), byName.get("cublas").detail());
        assertTrue(byName.get("cudnn").detail().contains("cuDNN 9"), byName.get("cudnn").detail());
        assertTrue(byName.get("nccl").detail().contains("NCCL 2"), byName.get("nccl").detail());
        assertEquals("not counted (pieces above are missing)", byName.get("cuda-devices").detail());
    }

    @Test
    void librariesAreFoundWhereTheLinkerAndThePresetLook() throws IOException {
        // LD_LIBRARY_PATH, ld.so.conf with an include, and a jar on the class path (cuda-redist)
        lib("opt/driver", "libcuda.so.1");
        lib("opt/cudnn/lib", "libcudnn.so.9");
        lib("opt/nccl", "libnccl.so.2");
        lib("opt/math", "libcublas.so.13", "libcublasLt.so.13", "libcusparse.so.12", "libcusolver.so.12");
        Files.createDirectories(root.resolve("etc/ld.so.conf.d"));
        Files.writeString(root.resolve("etc/ld.so.conf"), "# comment\ninclude /etc/ld.so.conf.d/*.conf\n");
        Files.writeString(root.resolve("etc/ld.so.conf.d/cudnn.conf"), "/opt/cudnn/lib\n");
        Files.writeString(root.resolve("etc/ld.so.conf.d/nccl.conf"), "/opt/nccl # NCCL\n");
        Properties props = new Properties();
        props.setProperty("org.bytedeco.javacpp.platform.preloadpath", "/opt/math");
        List<String> redist = List.of("libcudart.so.13", "libnvrtc.so.13", "libnvJitLink.so.13", "libcupti.so.13",
                "libcurand.so.10", "libcufft.so.12");
        CudaSupport.Host h = CudaSupport.Host.of(root, Map.of("LD_LIBRARY_PATH", "/opt/driver:relative"), props,
                name -> name.endsWith("-gpu/libjnitorch_cuda.so")
                        || redist.stream().anyMatch(f -> name.equals("/org/bytedeco/cuda/" + Loader.getPlatform()
                        + "/" + f)));
        assertNull(CudaSupport.unusableReason(h, 0, false));
        List<CudaSupport.Piece> pieces = CudaSupport.pieces(h, false);
        assertTrue(pieces.stream().allMatch(CudaSupport.Piece::present), pieces.toString());
        assertTrue(pieces.stream().anyMatch(p -> p.name().equals("cuda-runtime") && p.detail().endsWith(
                "in class path")), pieces.toString());
        assertTrue(h.dirs.indexOf(root.resolve("opt/driver")) < h.dirs.indexOf(root.resolve("opt/cudnn/lib")));
        assertFalse(h.dirs.contains(root.resolve("relative")));
    }
}

package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import org.bytedeco.javacpp.Loader;
import org.fixres4j.TestData;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.report.EvalFixtures.Run;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --device} on every command that runs a model: the CPU by default; CUDA refused on this machine (libtorch's CPU
 * natives, no GPU) with exit code 2 and one line naming why, before any output is touched; and neither a CPU run nor a
 * refused CUDA run initialises the preset's {@code torch_cuda} classes, whose JNI library exists only in the -gpu jar.
 */
class DeviceOptionTest {
    @TempDir
    static Path dir;
    static Path demo;
    static Path photo;

    @BeforeAll
    static void setUp() throws IOException {
        demo = dir.resolve("demo.safetensors");
        try (InputStream in = DeviceOptionTest.class.getResourceAsStream(EvalCheckpointTest.DEMO_CHECKPOINT)) {
            Files.copy(in, demo, StandardCopyOption.REPLACE_EXISTING);
        }
        photo = TestData.path("decode/photo.jpg");
    }

    static Run run(String... args) {
        return EvalFixtures.capture(() -> Main.execute(args));
    }

    private static List<String[]> commands(String device, Path out) {
        return List.of(
                new String[] {"eval", "--weights", demo.toString(), "--data", dir.toString(), "--device", device},
                new String[] {"finetune", "--model", demo.toString(), "--res", "64", "--device", device},
                new String[] {"train", "--data", "shapes", "--out", dir.resolve("m.safetensors").toString(),
                    "--device", device},
                new String[] {"logits", "--weights", demo.toString(), "--out", out.toString(), "--device", device,
                    photo.toString()},
                new String[] {"predict", "--weights", demo.toString(), "--device", device, photo.toString()},
                new String[] {"bench", "model", "--device", device});
    }

    @Test
    void everyCommandRefusesCudaHereInOneLineWithExitTwo() throws Exception {
        Path out = Files.writeString(dir.resolve("keep.npy"), "existing");
        for (String device : List.of("cuda", "cuda:1")) {
            String canonical = org.fixres4j.torch.DeviceSpec.parse(device).toString();
            for (String[] args : commands(device, out)) {
                Run r = run(args);
                String what = String.join(" ", args);
                assertEquals(2, r.code(), what + "\n" + r.out() + r.err());
                List<String> lines = r.err().lines().toList();
                assertEquals(1, lines.size(), what + "\n" + r.err());
                String name = args[0].equals("bench") ? "model" : args[0];
                assertTrue(lines.get(0).startsWith("fixres " + name + ": error: " + canonical + " is not usable: "
                        + "libtorch here is its CPU build (libjnitorch_cuda.so is not on the class path): add "
                        + "org.bytedeco:pytorch:"), what + "\n" + r.err());
                assertTrue(lines.get(0).endsWith(":" + Loader.getPlatform() + "-gpu (docs/GPU.md)"), r.err());
                assertFalse(r.err().contains("\tat "), r.err());
                assertEquals("", r.out(), what);
            }
        }
        assertArrayEquals("existing".getBytes(), Files.readAllBytes(out), "the refused logits left its output alone");
        assertTorchCudaUntouched();
    }

    @Test
    void trainingCommandsCheckTheDeviceFirstThenThePrecision() throws Exception {
        Path out = dir.resolve("never.safetensors");
        // the device first: a machine without CUDA says so whatever the precision
        Run r = run("train", "--data", "shapes", "--out", out.toString(), "--device", "cuda", "--amp", "fp16");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("fixres train: error: cuda:0 is not usable: "), r.err());
        // float16 never trains; on the CPU with the CPU's reason, as eval says it
        for (String cmd : List.of("train", "finetune")) {
            Run f = cmd.equals("train")
                    ? run("train", "--data", "shapes", "--out", out.toString(), "--amp", "fp16")
                    : run("finetune", "--model", demo.toString(), "--res", "64", "--out", out.toString(), "--amp",
                            "fp16");
            assertEquals(2, f.code(), f.err());
            assertEquals(1, f.err().lines().count(), f.err());
            assertTrue(f.err().startsWith("fixres " + cmd + ": error: --amp fp16 is not supported on the CPU"),
                    f.err());
            assertEquals("", f.out());
        }
        assertFalse(Files.exists(out), "nothing was written");
        Run help = run("train", "--help");
        assertTrue(help.out().contains("--amp=M"), help.out());
        assertTorchCudaUntouched();
    }

    @Test
    void eachLocalRankOfADataParallelJobGetsItsOwnDevice() throws Exception {
        DeviceOptions cpu = new DeviceOptions();
        assertEquals(org.fixres4j.torch.DeviceSpec.CPU, cpu.forLocalRank(3), "the CPU is shared");
        DeviceOptions cuda = new DeviceOptions();
        cuda.device = org.fixres4j.torch.DeviceSpec.cuda(1);
        // here every CUDA device is refused, the shifted one with the same reason
        org.fixres4j.torch.DeviceUnavailableException e = org.junit.jupiter.api.Assertions.assertThrows(
                org.fixres4j.torch.DeviceUnavailableException.class, () -> cuda.forLocalRank(2));
        assertTrue(e.getMessage().startsWith("cuda:1 is not usable"), e.getMessage());
        assertTorchCudaUntouched();
    }

    @Test
    void aValueThatIsNoDeviceIsAUsageError() {
        Run r = run("predict", "--weights", demo.toString(), "--device", "gpu", photo.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("fixres predict: error: Invalid value for option '--device': unknown device "
                + "'gpu' (use cpu, cuda or cuda:N)"), r.err());
        Run bad = run("bench", "model", "--device", "cuda:999");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("invalid CUDA device index in 'cuda:999'"), bad.err());
    }

    @Test
    void theCpuIsTheDefaultAndCpuRunsNeverInitialiseTorchCuda() throws Exception {
        Run dflt = run("predict", "--weights", demo.toString(), "--top", "2", "--threads", "1", photo.toString());
        assertEquals(0, dflt.code(), dflt.err());
        Run cpu = run("predict", "--weights", demo.toString(), "--top", "2", "--threads", "1", "--device", "cpu",
                photo.toString());
        assertEquals(0, cpu.code(), cpu.err());
        assertEquals(dflt.out(), cpu.out());
        assertTrue(initialised("org.bytedeco.pytorch.global.torch"), "the probe sees an initialised class");
        assertTorchCudaUntouched();
    }

    @Test
    void theHelpOfEachCommandListsTheOption() {
        for (String[] cmd : List.of(new String[] {"eval"}, new String[] {"finetune"}, new String[] {"train"},
                new String[] {"logits"}, new String[] {"predict"}, new String[] {"bench", "model"})) {
            String[] args = java.util.Arrays.copyOf(cmd, cmd.length + 1);
            args[cmd.length] = "--help";
            Run r = run(args);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("--device=D"), String.join(" ", cmd) + "\n" + r.out());
        }
    }

    /** Neither torch_cuda nor a class of the preset's cuda package was initialised, nor its JNI library loaded. */
    static void assertTorchCudaUntouched() throws Exception {
        for (String c : List.of("org.bytedeco.pytorch.global.torch_cuda", "org.bytedeco.pytorch.cuda.CUDAStream",
                "org.bytedeco.pytorch.cuda.CUDAEvent")) {
            assertFalse(initialised(c), c + " was initialised");
        }
        for (String lib : Loader.getLoadedLibraries().keySet()) {
            assertFalse(lib.contains("torch_cuda"), "loaded " + lib);
        }
    }

    /** Whether the JVM has initialised class {@code name} (loading it here, without initialising it). */
    static boolean initialised(String name) throws Exception {
        Class<?> c = Class.forName(name, false, DeviceOptionTest.class.getClassLoader());
        Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
        Field f = unsafeClass.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        Object unsafe = f.get(null);
        return !(boolean) unsafeClass.getMethod("shouldBeInitialized", Class.class).invoke(unsafe, c);
    }
}

package org.fixres4j.fixres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import org.fixres4j.io.Json;
import org.fixres4j.model.ModelFile;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.torch.Amp;
import org.fixres4j.torch.DeviceSpec;
import org.fixres4j.torch.DeviceTensors;
import org.fixres4j.torch.DeviceUnavailableException;
import org.fixres4j.torch.Torch;
import org.fixres4j.weights.StateDict;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device of training and fine-tuning, checked on a machine without CUDA: the device-agnostic loop with an explicit
 * {@link DeviceSpec#CPU} is the default run bit for bit; a CUDA run is refused here before the model, the checkpoint
 * folder or the preset's {@code torch_cuda} class is touched; {@code --amp} is validated per device (float16 never
 * trains: no loss scaler in the preset); the device and the precision are not part of a run's identity, so a
 * checkpoint resumes on any device.
 */
class TrainingDeviceTest {
    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
    }

    @Test
    void anExplicitCpuDeviceIsTheDefaultRunBitForBit(@TempDir Path dir) throws IOException {
        StateDict dflt;
        try (ModelFile.Loaded t = FinetuneTest.tiny(7)) {
            new Finetuner(oneEpoch()).run(t.model(), t.info(), FinetuneTest.TRAIN, dir.resolve("a"), false, "tiny");
            dflt = t.model().stateDict();
        }
        try (ModelFile.Loaded t = FinetuneTest.tiny(7)) {
            new Finetuner(oneEpoch().device(DeviceSpec.CPU)).run(t.model(), t.info(), FinetuneTest.TRAIN,
                    dir.resolve("b"), false, "tiny");
            assertEquals(Set.of(), FinetuneTest.changed(dflt, t.model().stateDict()));
            assertEquals(DeviceSpec.CPU, DeviceTensors.of(t.model()), "the model stays where it trained");
        }
    }

    private static FinetuneConfig oneEpoch() {
        return new FinetuneConfig(40).mode(FinetuneConfig.Mode.LAST_STAGE).epochs(1).batchSize(16).trainLimit(32)
                .lr(0.05).threads(1).seed(5);
    }

    @Test
    void aCudaRunIsRefusedHereBeforeAnythingIsTouched(@TempDir Path dir) throws Exception {
        Path ck = dir.resolve("ck");
        try (ModelFile.Loaded t = FinetuneTest.tiny(8)) {
            StateDict before = t.model().stateDict();
            DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, () -> new Finetuner(
                    oneEpoch().device(DeviceSpec.cuda(0)).amp(Amp.BF16)).run(t.model(), t.info(),
                    FinetuneTest.TRAIN, ck, false, "tiny"));
            assertTrue(e.getMessage().startsWith("cuda:0 is not usable: "), e.getMessage());
            assertEquals(Set.of(), FinetuneTest.changed(before, t.model().stateDict()));
            assertFalse(t.model().isChannelsLast(), "the model was not converted either");
            assertEquals(DeviceSpec.CPU, DeviceTensors.of(t.model()));
        }
        ModelInfo info;
        try (ModelFile.Loaded t = FinetuneTest.tiny(8)) {
            info = t.info();
        }
        TrainConfig tc = new TrainConfig().resolution(32).epochs(1).batchSize(16).device(DeviceSpec.cuda(1));
        assertThrows(DeviceUnavailableException.class, () -> new Trainer(tc, info).run(FinetuneTest.TRAIN, null, ck,
                false));
        assertFalse(Files.exists(ck), "no checkpoint folder was made");
        for (String c : List.of("org.bytedeco.pytorch.global.torch_cuda", "org.bytedeco.pytorch.cuda.CUDAStream")) {
            assertFalse(initialised(c), c + " was initialised");
        }
    }

    @Test
    void ampIsValidatedPerDeviceAndFloat16NeverTrains() {
        IllegalArgumentException cpu = assertThrows(IllegalArgumentException.class,
                () -> new TrainConfig().amp(Amp.FP16));
        assertTrue(cpu.getMessage().startsWith("--amp fp16 is not supported on the CPU, nor for training on CUDA"),
                cpu.getMessage());
        assertFalse(cpu.getMessage().contains("on a CUDA device"), "no pointer to where training refuses it too");
        IllegalArgumentException cuda = assertThrows(IllegalArgumentException.class,
                () -> new FinetuneConfig(40).device(DeviceSpec.cuda(0)).amp(Amp.FP16));
        assertEquals(RunConfig.FP16_TRAINING, cuda.getMessage());
        assertTrue(cuda.getMessage().contains("GradScaler") && cuda.getMessage().contains("--amp bf16"));
        assertFalse(cuda.getMessage().contains("\n"));
        for (DeviceSpec d : List.of(DeviceSpec.CPU, DeviceSpec.cuda(0))) {
            assertSame(Amp.BF16, RunConfig.trainingAmp(Amp.BF16, d));
            assertSame(Amp.NONE, RunConfig.trainingAmp(Amp.NONE, d));
        }
        TrainConfig c = new TrainConfig().device(DeviceSpec.cuda(2)).amp(Amp.BF16);
        assertEquals(DeviceSpec.cuda(2), c.device());
        assertSame(Amp.BF16, c.amp());
    }

    @Test
    void neitherTheDeviceNorThePrecisionIsPartOfARunsIdentity() {
        assertEquals(Json.write(new TrainConfig().identity()),
                Json.write(new TrainConfig().device(DeviceSpec.cuda(0)).amp(Amp.BF16).identity()));
        assertEquals(Json.write(new FinetuneConfig(64).identity()),
                Json.write(new FinetuneConfig(64).device(DeviceSpec.cuda(3)).amp(Amp.BF16).identity()));
    }

    /** Whether the JVM has initialised class {@code name} (loading it here, without initialising it). */
    static boolean initialised(String name) throws Exception {
        Class<?> c = Class.forName(name, false, TrainingDeviceTest.class.getClassLoader());
        Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
        Field f = unsafeClass.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        Object unsafe = f.get(null);
        return !(boolean) unsafeClass.getMethod("shouldBeInitialized", Class.class).invoke(unsafe, c);
    }
}

package org.fixres4j.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;

import org.fixres4j.model.ModelRegistry;
import org.fixres4j.torch.Amp;
import org.fixres4j.torch.DeviceSpec;
import org.fixres4j.torch.DeviceUnavailableException;
import org.junit.jupiter.api.Test;

/**
 * {@code bench model} on a CUDA device, on a machine without one: the CPU is not its device, a CUDA device is
 * refused with the device check's one line before any model is made, and {@code torch_cuda} stays uninitialised.
 */
class CudaModelBenchTest {
    @Test
    void itRunsOnCudaOnlyAndIsRefusedHereBeforeAnyModelIsMade() throws Exception {
        int[] made = {0};
        java.util.function.Supplier<org.fixres4j.model.EfficientNet> factory = () -> {
            made[0]++;
            return ModelRegistry.create("tf_efficientnet_b0");
        };
        IllegalArgumentException cpu = assertThrows(IllegalArgumentException.class, () -> CudaModelBench.run("b0",
                factory, 224, new int[] {1}, 0.1, Amp.NONE, DeviceSpec.CPU));
        assertTrue(cpu.getMessage().contains("runs on a CUDA device"), cpu.getMessage());
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, () -> CudaModelBench.run("b0",
                factory, 224, new int[] {1}, 0.1, Amp.FP16, DeviceSpec.cuda(0)));
        assertTrue(e.getMessage().startsWith("cuda:0 is not usable: "), e.getMessage());
        assertTrue(made[0] == 0, "no model was made");
        Class<?> c = Class.forName("org.bytedeco.pytorch.global.torch_cuda", false,
                CudaModelBenchTest.class.getClassLoader());
        Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
        Field f = unsafeClass.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        Object unsafe = f.get(null);
        assertFalse(!(boolean) unsafeClass.getMethod("shouldBeInitialized", Class.class).invoke(unsafe, c),
                "torch_cuda was initialised");
    }
}

package org.fixres4j.fixres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.fixres4j.model.ModelFile;
import org.fixres4j.torch.Amp;
import org.fixres4j.torch.Torch;
import org.fixres4j.weights.StateDict;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine-tuning under bfloat16 autocast on the CPU: one step (32 images, one batch) of the last-stage mode runs, the loss
 * is finite and differs from the float32 run's (autocast was on) by little, the trained weights change and every
 * weight and buffer stays float32 (the master weights), and autocast is off again afterwards.
 */
class FinetuneAmpTest {
    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
    }

    private static FinetuneConfig oneStep(Amp amp) {
        return new FinetuneConfig(40).mode(FinetuneConfig.Mode.LAST_STAGE).epochs(1).batchSize(32).trainLimit(32)
                .lr(0.05).threads(1).seed(5).amp(amp);
    }

    @Test
    void oneBf16StepKeepsFloat32MasterWeights(@TempDir Path dir) throws IOException {
        double floatLoss;
        try (ModelFile.Loaded t = FinetuneTest.tiny(3)) {
            floatLoss = new Finetuner(oneStep(Amp.NONE)).run(t.model(), t.info(), FinetuneTest.TRAIN,
                    dir.resolve("f"), false, "tiny").history().get(0).loss();
        }
        try (ModelFile.Loaded t = FinetuneTest.tiny(3)) {
            StateDict before = t.model().stateDict();
            Finetuner.Result r = new Finetuner(oneStep(Amp.BF16)).run(t.model(), t.info(), FinetuneTest.TRAIN,
                    dir.resolve("b"), false, "tiny");
            assertEquals(1, r.history().size());
            double loss = r.history().get(0).loss();
            assertTrue(Double.isFinite(loss));
            assertNotEquals(floatLoss, loss, "autocast changed the arithmetic");
            assertTrue(Math.abs(loss - floatLoss) <= 0.05 * floatLoss, loss + " vs float32 " + floatLoss);
            Set<String> changed = FinetuneTest.changed(before, t.model().stateDict());
            assertTrue(changed.contains("blocks.6.0.conv_pwl.weight"), changed.toString());
            assertTrue(changed.contains("classifier.weight"), changed.toString());
            for (Map.Entry<String, Tensor> e : t.model().namedTensors().entrySet()) {
                int type = e.getValue().scalar_type().value;
                assertTrue(type == ScalarType.Float.value || type == ScalarType.Long.value,
                        e.getKey() + " is " + e.getValue().scalar_type());
            }
        }
        assertTrue(!org.bytedeco.pytorch.global.torch.is_autocast_enabled(DeviceType.CPU));
    }

    @Test
    void float16IsRefusedOnTheCpu() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FinetuneConfig(40).amp(Amp.FP16));
        assertTrue(e.getMessage().contains("not supported on the CPU"), e.getMessage());
    }
}

package org.fixres4j.fixres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;

import org.fixres4j.data.DemoShapes;
import org.fixres4j.kernels.DepthwiseAutograd;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link TrainConfig#nativeDepthwise(boolean)}: a run through the native depthwise backward follows libtorch's. */
class NativeDepthwiseTrainerTest {
    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
    }

    @Test
    void anEpochWithTheNativeDepthwisePathMatchesLibtorchs(@TempDir Path dir) throws IOException {
        DemoShapes data = new DemoShapes(96, 48, 7, "train");
        double[] loss = new double[2];
        for (int on = 0; on < 2; on++) {
            TrainConfig c = TrainTest.cfg(1).nativeDepthwise(on == 1);
            assertEquals(on == 1, c.nativeDepthwise());
            try (Trainer.Result r = new Trainer(c, TrainTest.tinyInfo(c)).run(data, null, dir.resolve("run" + on),
                    false)) {
                assertEquals(on == 1, r.model().nativeDepthwise());
                loss[on] = r.history().get(0).loss();
            }
            assertEquals(0, DepthwiseAutograd.pending(), "every step's scope released its native calls");
        }
        assertTrue(Double.isFinite(loss[1]));
        // three SGD steps: float rounding differences stay far below this
        assertEquals(loss[0], loss[1], 1e-4 * Math.abs(loss[0]), "mean training loss of the epoch");
        assertEquals(TrainTest.cfg(1).identity(), TrainTest.cfg(1).nativeDepthwise(true).identity(),
                "the depthwise path is not part of the run's identity (a run resumes with either)");
    }
}

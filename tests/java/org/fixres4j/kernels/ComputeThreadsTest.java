package org.fixres4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.Test;

/** ComputeThreads on the preset's libtorch: its OpenBLAS is found, kept on one thread, and libtorch's count set. */
class ComputeThreadsTest {
    @Test
    void setsLibtorchsThreadsAndKeepsOpenBlasOnOne() {
        Torch.ensureLoaded();
        int savedTorch = ComputeThreads.get();
        int savedBlas = ComputeThreads.blasThreads();
        assertTrue(savedBlas >= 1, "the preset's libtorch calls OpenBLAS, found in its scope: " + savedBlas);
        try {
            ComputeThreads.setBlasThreads(2);
            assertEquals(2, ComputeThreads.blasThreads());
            ComputeThreads.set(2);
            assertEquals(2, ComputeThreads.get());
            assertEquals(1, ComputeThreads.blasThreads());
            assertEquals(Depthwise.Threading.OPENMP, Depthwise.threading());
            assertThrows(IllegalArgumentException.class, () -> ComputeThreads.setBlasThreads(0));
            assertThrows(IllegalArgumentException.class, () -> ComputeThreads.set(0));
        } finally {
            Torch.setThreads(savedTorch);
            ComputeThreads.setBlasThreads(savedBlas);
        }
    }
}

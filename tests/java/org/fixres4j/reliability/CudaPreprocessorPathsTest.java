package org.fixres4j.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.SplittableRandom;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.TensorAsserts;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.kernels.Backends;
import org.fixres4j.kernels.NativeCalls;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.CudaPreprocessor;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.preprocess.Sample;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.ResamplePlan;
import org.junit.jupiter.api.Test;

/**
 * CudaPreprocessor beyond its constructor. Without a usable device (every CI machine): the constructor and the
 * native batch call below it fail with a clear exception naming the reason, and nothing is written. With one: run()'s
 * argument checks (closed, CPU tensor, wrong dtype or shape, index outside the batch) and a run equal to the CPU
 * kernel byte for byte; that part reports itself skipped, not passed, where there is no GPU.
 */
class CudaPreprocessorPathsTest {
    static boolean gpu() {
        return Backends.cudaKernels().available();
    }

    @Test
    void withoutADeviceEveryPathFailsClearly() {
        assertThrows(IllegalArgumentException.class, () -> new CudaPreprocessor(-1));
        if (gpu()) {
            assertThrows(IllegalStateException.class, () -> new CudaPreprocessor(4096), "no such device");
            return;
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new CudaPreprocessor(0));
        assertTrue(e.getMessage().contains("CUDA"), e.getMessage());
        // the native batch call without a preprocessor (what run() would reach): rejected before any memory is read
        int[] planInts = {0, 0, 4, 4, 4, 4, 0, 0, 4, 4, 1, 0};
        RuntimeException n = assertThrows(RuntimeException.class, () -> NativeCalls.preprocessCuda(0, 1,
                new long[] {0}, new long[] {12}, new int[] {4, 4, 3, 0, 0}, planInts, new double[] {0, 0, 4, 4},
                new long[] {0}, 0, 1, new int[] {0, 0, 0, 4, 4}, new float[3], new float[] {1, 1, 1}, 0));
        assertTrue(n instanceof IllegalArgumentException || n instanceof IllegalStateException, n.toString());
        assertThrows(IllegalArgumentException.class, () -> NativeCalls.preprocessCuda(0, 0, new long[0], new long[0],
                new int[0], new int[0], new double[0], new long[0], 0, 1, new int[5], new float[3], new float[3], 0));
    }

    @Test
    @SuppressWarnings("try")
    void onADeviceRunChecksItsArgumentsAndEqualsTheCpuKernel() {
        assumeTrue(gpu(), "no usable CUDA device: the GPU half of this test is skipped");
        Torch.ensureLoaded();
        SplittableRandom rng = new SplittableRandom(2);
        OutputSpec spec = OutputSpec.nchwFloat(16, 12, Normalization.IMAGENET);
        try (DecodedImage im = ReliabilityFixtures.randomImage(rng, 37, 29, 3);
             CudaPreprocessor cuda = new CudaPreprocessor(0); PointerScope scope = new PointerScope()) {
            ResamplePlan plan = ResamplePlan.wholeImage(37, 29, 20, 16, 2, 2, 16, 12, Interpolation.BICUBIC, true);
            TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
            Tensor cpuOut = torch.zeros(spec.shape(2), f32);
            Tensor gpuOut = cpuOut.cuda();
            List<Sample> samples = List.of(new Sample(im, plan, 1));
            assertThrows(IllegalArgumentException.class, () -> cuda.run(samples, spec, cpuOut, 0), "CPU tensor");
            assertThrows(IllegalArgumentException.class, () -> cuda.run(samples, spec,
                    torch.zeros(spec.shape(2), new TensorOptions(torch.ScalarType.Half)).cuda(), 0), "dtype");
            assertThrows(IllegalArgumentException.class, () -> cuda.run(List.of(new Sample(im, plan, 2)), spec,
                    gpuOut, 0), "index outside the batch");
            cuda.run(List.of(), spec, gpuOut, 0);
            cuda.run(samples, spec, gpuOut, 0);
            new CpuPreprocessor(1).run(samples, spec, cpuOut);
            float[] want = TensorAsserts.values(cpuOut);
            float[] got = TensorAsserts.values(gpuOut.cpu());
            assertArrayEquals(want, got, 0f, "CUDA and CPU kernels agree byte for byte");
            cuda.close();
            IllegalStateException closed = assertThrows(IllegalStateException.class,
                    () -> cuda.run(samples, spec, gpuOut, 0));
            assertTrue(closed.getMessage().contains("closed"));
            assertEquals(0, cuda.device());
        }
    }
}

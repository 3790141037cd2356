package org.fixres4j.preprocess;

import java.util.List;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.kernels.Kernels;
import org.fixres4j.kernels.NativeCalls;
import org.fixres4j.transform.ResamplePlan;

/**
 * The fused preprocessing kernel on the CPU: crop + Pillow-exact antialiased resize + channel order + normalisation
 * + layout, one pass, written straight into a batch slot. A batch is spread over {@link #threads()} threads (the
 * calling thread is one of them). Thread-safe: instances hold no mutable state.
 */
public final class CpuPreprocessor {
    private final int threads;

    /** A preprocessor that spreads a batch over {@code threads} threads (1 = the calling thread only). */
    public CpuPreprocessor(int threads) {
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("threads must be in 1..1024, got " + threads);
        }
        this.threads = threads;
        Kernels.ensureLoaded();
    }

    /** One thread per available processor. */
    public static CpuPreprocessor allThreads() {
        return new CpuPreprocessor(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /** Fills the slots named by the samples of a CPU tensor shaped and typed as {@code spec} says. */
    public void run(List<Sample> samples, OutputSpec spec, Tensor out) {
        OutputTarget target = OutputTarget.of(out, spec);
        if (target.cuda) {
            throw new IllegalArgumentException("CpuPreprocessor writes CPU tensors; use CudaPreprocessor for "
                    + "cuda:" + target.cudaDevice);
        }
        run(samples, spec, target);
    }

    /** Fills the slots named by the samples of JavaCPP memory holding consecutive samples of {@code spec}. */
    public void run(List<Sample> samples, OutputSpec spec, Pointer out) {
        run(samples, spec, OutputTarget.of(out, spec));
    }

    /** Preprocesses one image into a new array of {@code spec.sampleBytes()} bytes (for tests and tools). */
    public byte[] runToBytes(DecodedImage image, ResamplePlan plan, OutputSpec spec) {
        try (org.bytedeco.javacpp.BytePointer buffer = new org.bytedeco.javacpp.BytePointer(spec.sampleBytes())) {
            run(List.of(new Sample(image, plan, 0)), spec, buffer);
            byte[] bytes = new byte[(int) spec.sampleBytes()];
            buffer.get(bytes);
            return bytes;
        }
    }

    /** Preprocesses one image into a new float32 array (spec's type must be FLOAT32). */
    public float[] runToFloats(DecodedImage image, ResamplePlan plan, OutputSpec spec) {
        if (spec.type() != OutputType.FLOAT32) {
            throw new IllegalArgumentException("runToFloats needs a FLOAT32 spec, got " + spec.type());
        }
        try (org.bytedeco.javacpp.FloatPointer buffer = new org.bytedeco.javacpp.FloatPointer(spec.sampleElements())) {
            run(List.of(new Sample(image, plan, 0)), spec, buffer);
            float[] values = new float[(int) spec.sampleElements()];
            buffer.get(values);
            return values;
        }
    }

    private void run(List<Sample> samples, OutputSpec spec, OutputTarget target) {
        if (samples.isEmpty()) {
            return;
        }
        NativeJobs jobs = new NativeJobs(samples, spec, target.batch);
        NativeCalls.preprocessCpu(jobs.count, jobs.imageAddr, jobs.imageStride, jobs.imageInts, jobs.planInts,
                jobs.boxes, jobs.indices, target.address, target.batch, jobs.outInts, jobs.mean, jobs.std, threads);
        // the images' native memory must outlive the call: keep their owners reachable until here
        java.lang.ref.Reference.reachabilityFence(samples);
    }
}

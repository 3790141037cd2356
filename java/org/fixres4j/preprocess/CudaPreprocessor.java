package org.fixres4j.preprocess;

import java.util.List;

import org.bytedeco.pytorch.Tensor;
import org.fixres4j.kernels.NativeCalls;

/**
 * The fused preprocessing kernel on a CUDA device: one launch for a batch of images of different sizes, copied once
 * through pinned host staging, bit-identical with {@link CpuPreprocessor}. Owns native staging buffers: close it.
 * Not thread-safe (use one per thread). Creating one throws {@link IllegalStateException} (an
 * {@link org.fixres4j.kernels.UnsupportedBackendException} when CUDA is not compiled in) on a machine without a
 * usable device: check {@link org.fixres4j.kernels.Backends#cudaKernels()} first.
 */
public final class CudaPreprocessor implements AutoCloseable {
    private final int device;
    private long handle;

    public CudaPreprocessor(int device) {
        if (device < 0) {
            throw new IllegalArgumentException("CUDA device index must be >= 0, got " + device);
        }
        this.device = device;
        this.handle = NativeCalls.createCudaPreprocessor(device);
    }

    public int device() {
        return device;
    }

    /**
     * Fills slots of a contiguous CUDA tensor on this device. Work is enqueued on {@code stream} (a
     * {@code cudaStream_t} address; 0 = the legacy default stream); returns once the images may be freed.
     */
    public void run(List<Sample> samples, OutputSpec spec, Tensor out, long stream) {
        if (handle == 0) {
            throw new IllegalStateException("CudaPreprocessor was closed");
        }
        OutputTarget target = OutputTarget.of(out, spec);
        if (!target.cuda || target.cudaDevice != device) {
            throw new IllegalArgumentException("output tensor must be on cuda:" + device + ", got "
                    + out.device().str().getString());
        }
        if (samples.isEmpty()) {
            return;
        }
        NativeJobs jobs = new NativeJobs(samples, spec, target.batch);
        NativeCalls.preprocessCuda(handle, jobs.count, jobs.imageAddr, jobs.imageStride, jobs.imageInts,
                jobs.planInts, jobs.boxes, jobs.indices, target.address, target.batch, jobs.outInts, jobs.mean,
                jobs.std, stream);
        java.lang.ref.Reference.reachabilityFence(samples);
    }

    @Override
    public void close() {
        long h = handle;
        handle = 0;
        NativeCalls.destroyCudaPreprocessor(h);
    }
}

package org.fixres4j.preprocess;

import java.util.Arrays;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Memory a batch is written into: its address, its size in samples, and whether it lives on a CUDA device. Built
 * from a libtorch tensor (shape, dtype, device and contiguity checked against the spec) or from JavaCPP memory
 * (capacity checked), so native code only ever receives memory of the true size.
 */
final class OutputTarget {
    final long address;
    final long batch;
    final boolean cuda;
    final int cudaDevice;

    private OutputTarget(long address, long batch, boolean cuda, int cudaDevice) {
        this.address = address;
        this.batch = batch;
        this.cuda = cuda;
        this.cudaDevice = cudaDevice;
    }

    static OutputTarget of(Tensor out, OutputSpec spec) {
        if (out == null || out.isNull()) {
            throw new IllegalArgumentException("output tensor is null");
        }
        if (!out.defined()) {
            throw new IllegalArgumentException("output tensor is undefined");
        }
        ScalarType expected = switch (spec.type()) {
            case FLOAT32 -> ScalarType.Float;
            case FLOAT16 -> ScalarType.Half;
            case BFLOAT16 -> ScalarType.BFloat16;
            case UINT8 -> ScalarType.Byte;
        };
        ScalarType actual = out.scalar_type();
        if (actual.value != expected.value) {
            throw new IllegalArgumentException("output tensor has dtype " + actual + ", the spec asks for "
                    + spec.type() + " (" + expected + ")");
        }
        long[] shape = out.sizes().vec().get();
        long n = shape.length == 4 ? shape[0] : -1;
        if (n < 1 || !Arrays.equals(shape, spec.shape(n))) {
            throw new IllegalArgumentException("output tensor has shape " + Arrays.toString(shape) + ", expected "
                    + Arrays.toString(spec.shape(Math.max(n, 1))).replaceFirst("\\[\\d+", "[N") + " (" + spec.layout()
                    + ")");
        }
        if (!out.is_contiguous()) {
            throw new IllegalArgumentException("output tensor must be contiguous (row-major " + spec.layout()
                    + "); call contiguous() first");
        }
        boolean cuda = out.is_cuda();
        if (!cuda && !out.is_cpu()) {
            throw new IllegalArgumentException("output tensor must be on the CPU or a CUDA device, got "
                    + out.device().str().getString());
        }
        int device = cuda ? out.device().index() : -1;
        return new OutputTarget(out.data_ptr().address(), n, cuda, device);
    }

    static OutputTarget of(Pointer out, OutputSpec spec) {
        if (out == null || out.isNull()) {
            throw new IllegalArgumentException("output memory is null");
        }
        long bytes = out.capacity() > 0 ? (out.capacity() - out.position()) * out.sizeof() : -1;
        if (bytes < spec.sampleBytes()) {
            throw new IllegalArgumentException("output memory has " + (bytes < 0 ? "unknown" : bytes + " bytes of")
                    + " capacity; one sample needs " + spec.sampleBytes() + " bytes");
        }
        long batch = bytes / spec.sampleBytes();
        return new OutputTarget(out.address() + out.position() * out.sizeof(), batch, false, -1);
    }
}

package org.fixres4j.torch;

import org.bytedeco.pytorch.cuda.CUDAEvent;
import org.bytedeco.pytorch.cuda.CUDAStream;
import org.bytedeco.pytorch.global.torch_cuda;

/**
 * libtorch's CUDA streams and events, for FixRes4J's kernels to run in order with libtorch's work. Only for the CUDA
 * path: the first call initialises the preset's {@code torch_cuda} class, whose JNI library ships only in the
 * {@code -gpu} jar, so call {@link DeviceSpec#check()} (or {@link CudaSupport#check(int)}) first. The CPU build never
 * reaches this class.
 */
public final class CudaStreams {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }

    private CudaStreams() {}

    /** libtorch's current stream on {@code device}. */
    public static CUDAStream current(int device) {
        return torch_cuda.getCurrentCUDAStream(checked(device));
    }

    /** A stream from libtorch's pool on {@code device} (not the default stream). */
    public static CUDAStream fromPool(int device) {
        return torch_cuda.getStreamFromPool(false, checked(device));
    }

    /** The {@code cudaStream_t} of a libtorch stream, as our kernels take it. */
    public static long address(CUDAStream stream) {
        return stream.stream().address();
    }

    /** The {@code cudaStream_t} of libtorch's current stream on {@code device}. */
    public static long currentAddress(int device) {
        return address(current(device));
    }

    /** A new event (timing disabled, libtorch's default flags). */
    public static CUDAEvent event() {
        return new CUDAEvent();
    }

    private static byte checked(int device) {
        if (device < 0 || device > DeviceSpec.MAX_CUDA_INDEX) {
            throw new IllegalArgumentException("CUDA device index must be in 0.." + DeviceSpec.MAX_CUDA_INDEX
                    + ", got " + device);
        }
        return (byte) device;
    }
}

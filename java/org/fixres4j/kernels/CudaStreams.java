package org.fixres4j.kernels;

import java.lang.reflect.Method;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.cuda.CUDAStream;
import org.bytedeco.pytorch.global.torch_cuda;

/**
 * libtorch's current CUDA stream of a device as a {@code cudaStream_t} address, for the CUDA kernels. Only ever
 * reached from a CUDA path: this class initialises the preset's {@code torch_cuda}, whose natives ship only in the
 * {@code -gpu} jar. {@code CUDAStream.stream()} returns a class of the CUDA preset ({@code org.bytedeco:cuda}),
 * which the CPU build does not have on its class path, so it is called reflectively; without those classes a CUDA
 * call fails with an {@link UnsupportedBackendException} naming them.
 */
final class CudaStreams {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }

    private CudaStreams() {}

    /** The address of libtorch's current stream on {@code device} (0 for the legacy default stream). */
    static long current(int device) {
        CUDAStream stream;
        try {
            stream = torch_cuda.getCurrentCUDAStream((byte) device);
        } catch (LinkageError e) {
            throw new UnsupportedBackendException("libtorch's CUDA streams are not available (the preset's "
                    + "linux-x86_64-gpu natives are needed): " + e);
        }
        try {
            Method m = CUDAStream.class.getMethod("stream");
            Object p = m.invoke(stream);
            return p == null ? 0 : ((Pointer) p).address();
        } catch (LinkageError | ReflectiveOperationException e) {
            throw new UnsupportedBackendException("libtorch's current CUDA stream needs the org.bytedeco:cuda "
                    + "classes on the class path (see the gpu profile): " + e);
        }
    }
}

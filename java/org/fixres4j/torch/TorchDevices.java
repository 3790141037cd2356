package org.fixres4j.torch;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

/** The preset's side of {@link DeviceSpec}: libtorch devices and libtorch's own CUDA device count. */
final class TorchDevices {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }

    private TorchDevices() {}

    static Device of(DeviceSpec d) {
        return d.isCpu() ? new Device(torch.DeviceType.CPU) : new Device(torch.DeviceType.CUDA, (byte) d.index());
    }

    /**
     * CUDA devices libtorch sees: 0 with the CPU natives (their stub answers without loading anything CUDA), else
     * what its CUDA build reports. Goes through the main preset class, never through {@code torch_cuda}.
     */
    static int cudaDeviceCount() {
        return torch.cuda_is_available() ? Math.max(0, torch.cuda_device_count()) : 0;
    }
}

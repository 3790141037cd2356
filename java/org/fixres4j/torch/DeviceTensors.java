package org.fixres4j.torch;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.MemoryFormat;

/**
 * Tensors and modules between the host and a device, the same code for the CPU and CUDA: on the CPU every call here
 * returns its argument unchanged (no copy, no layout change: CPU runs stay bit-identical with what they were), so the
 * device-agnostic loops of training, fine-tuning and evaluation run and are tested on the CPU with
 * {@link DeviceSpec#CPU}.
 *
 * <p>On CUDA a host batch goes through page-locked memory: {@code pin_memory()} copies it into a block of libtorch's
 * caching host allocator, and the copy to the device is queued on the current stream without blocking the host
 * ({@code non_blocking}). The allocator records the copy's stream and hands the pinned block out again only after the
 * copy has finished, so the host batch (and the loader slot it lives in) can be reused at once. This is what
 * PyTorch's {@code DataLoader(pin_memory=True)} followed by {@code .cuda(non_blocking=True)} does. Nothing here
 * initialises the preset's {@code torch_cuda} class: the CUDA work goes through libtorch's own dispatch (its CUDA
 * hooks), reached only with a CUDA {@link DeviceSpec} that {@link DeviceSpec#check()} accepted.
 */
public final class DeviceTensors {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }

    private DeviceTensors() {}

    /** Where a tensor lives: {@link DeviceSpec#CPU}, or {@code cuda:N}. */
    public static DeviceSpec of(Tensor t) {
        if (t.is_cuda()) {
            return DeviceSpec.cuda(t.device().index());
        }
        if (!t.is_cpu()) {
            throw new IllegalArgumentException("a tensor on a device that is neither the CPU nor CUDA: "
                    + t.device().type().toString().toLowerCase(java.util.Locale.ROOT));
        }
        return DeviceSpec.CPU;
    }

    /**
     * Where a module's parameters live (the first parameter's device; the CPU for a module without parameters).
     *
     * @throws IllegalStateException when its parameters are spread over several devices
     */
    public static DeviceSpec of(Module module) {
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            TensorVector ps = module.parameters(true);
            DeviceSpec d = null;
            for (long i = 0; i < ps.size(); i++) {
                DeviceSpec p = of(ps.get(i));
                if (d == null) {
                    d = p;
                } else if (!d.equals(p)) {
                    throw new IllegalStateException("the module's parameters are on " + d + " and " + p);
                }
            }
            return d == null ? DeviceSpec.CPU : d;
        }
    }

    /**
     * Moves a module's parameters and buffers to {@code device} in place ({@code Module.to}); nothing happens when
     * they are there already. The caller has checked a CUDA device ({@link DeviceSpec#check()}).
     */
    public static void moveModule(Module module, DeviceSpec device) {
        if (!of(module).equals(device)) {
            module.to(device.torchDevice(), false);
        }
    }

    /**
     * A host tensor (a loader's batch, labels) on {@code device}: {@code host} itself for the CPU; for CUDA a copy
     * through pinned memory, queued on the current stream ({@link DeviceTensors class comment}), in
     * {@code channelsLast} layout when asked (4-D inputs of a channels-last model: the layout conversion then runs on
     * the device, not on the host). The result belongs to the caller's {@code PointerScope}.
     *
     * @throws IllegalArgumentException if {@code host} is not a CPU tensor
     */
    public static Tensor toDevice(Tensor host, DeviceSpec device, boolean channelsLast) {
        if (!host.is_cpu()) {
            throw new IllegalArgumentException("toDevice takes a host (CPU) tensor, got one on "
                    + host.device().type().toString().toLowerCase(java.util.Locale.ROOT));
        }
        if (device.isCpu()) {
            return host;
        }
        Tensor pinned = host.is_pinned() ? host : host.pin_memory();
        MemoryFormatOptional format = channelsLast && host.dim() == 4
                ? new MemoryFormatOptional(MemoryFormat.ChannelsLast) : new MemoryFormatOptional();
        return pinned.to(device.torchDevice(), host.scalar_type(), true, false, format);
    }

    /** A host (CPU) tensor with the values of {@code t}: {@code t} itself when it is on the CPU. */
    public static Tensor toHost(Tensor t) {
        return t.is_cpu() ? t : t.cpu();
    }

    /**
     * A host copy of a parameter-shaped tensor for a device tensor's place: {@code t} moved to where {@code like}
     * lives (itself when that is the CPU and it is there), same dtype. Used when a checkpoint's CPU tensors are
     * restored into a model or optimizer on a device.
     */
    public static Tensor like(Tensor t, Tensor like) {
        if (like.is_cpu() && t.is_cpu()) {
            return t;
        }
        return t.to(like.device(), t.scalar_type(), false, false, new MemoryFormatOptional());
    }

    /**
     * Waits until the device has finished the work queued on it (CUDA: {@code cudaDeviceSynchronize} through
     * libtorch's main class, never through {@code torch_cuda}); nothing for the CPU, whose work is done when a call
     * returns. For honest timings: a CUDA forward returns as soon as its kernels are queued.
     */
    public static void synchronize(DeviceSpec device) {
        if (device.isCuda()) {
            org.bytedeco.pytorch.global.torch.cuda_synchronize(device.index());
        }
    }
}

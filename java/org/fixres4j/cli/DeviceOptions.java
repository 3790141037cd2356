package org.fixres4j.cli;

import org.fixres4j.torch.DeviceSpec;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code --device cpu|cuda[:N]}, shared by the commands that run a model. The CPU is the default. A CUDA device this
 * process cannot use is refused before any work, in one line naming why ({@link DeviceSpec#check()}: no GPU natives
 * of libtorch, no driver, a missing CUDA library, no such device); exit code 2.
 */
final class DeviceOptions {
    @Option(names = "--device", paramLabel = "D", defaultValue = "cpu", converter = Converter.class,
            description = "cpu, cuda or cuda:N: where the model runs (default: ${DEFAULT-VALUE}). CUDA needs "
                    + "libtorch's GPU natives, the NVIDIA driver and CUDA 13 libraries: see 'fixres info'.")
    DeviceSpec device = DeviceSpec.CPU;

    /** The device, checked: throws DeviceUnavailableException (an IllegalArgumentException) when unusable here. */
    DeviceSpec checked() {
        return device.check();
    }

    /**
     * The device of a process with local rank {@code localRank} in a data-parallel job (the rank among the job's
     * processes on this machine, torchrun's {@code LOCAL_RANK}): the CPU stays the CPU, and {@code cuda:N} becomes
     * {@code cuda:N+localRank}, so that {@code --device cuda} gives the processes of a machine one GPU each
     * ({@code cuda:0}, {@code cuda:1}, ...), checked like {@link #checked()} (a rank beyond the devices gets "no such
     * device").
     */
    DeviceSpec forLocalRank(int localRank) {
        DeviceSpec d = checked();
        if (d.isCpu() || localRank == 0) {
            return d;
        }
        if (d.index() + localRank > DeviceSpec.MAX_CUDA_INDEX) {
            throw new IllegalArgumentException("--device " + d + " with local rank " + localRank + " names no CUDA "
                    + "device");
        }
        return DeviceSpec.cuda(d.index() + localRank).check();
    }

    /** Reads the option through {@link DeviceSpec#parse}, its message becoming picocli's invalid-value error. */
    static final class Converter implements CommandLine.ITypeConverter<DeviceSpec> {
        @Override
        public DeviceSpec convert(String value) {
            try {
                return DeviceSpec.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}

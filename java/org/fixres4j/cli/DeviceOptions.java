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

package org.fixres4j.torch;

/**
 * A device was asked for that this process cannot use (no CUDA build of libtorch, no driver, no such device, ...).
 * An {@link IllegalArgumentException}: the request, not the program, is wrong for this machine. The message is one
 * line naming the device and why.
 */
public final class DeviceUnavailableException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final transient DeviceSpec device;

    public DeviceUnavailableException(DeviceSpec device, String reason) {
        super(device + " is not usable: " + reason);
        this.device = device;
    }

    /** The device that was asked for. */
    public DeviceSpec device() {
        return device;
    }
}

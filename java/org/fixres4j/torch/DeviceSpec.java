package org.fixres4j.torch;

import java.util.Locale;

/**
 * Where a model runs: {@code cpu} or {@code cuda:N}. A plain value (parsing it loads nothing); {@link #check()} says
 * whether this process can use it and {@link #torchDevice()} gives libtorch's {@code Device}.
 *
 * <p>Spellings: {@code cpu}, {@code cuda} (device 0, as libtorch's default) and {@code cuda:N}; case and surrounding
 * blanks are ignored. {@link #toString()} is the canonical form ({@code cpu}, {@code cuda:0}).
 */
public final class DeviceSpec {
    /** The CPU, the default everywhere. */
    public static final DeviceSpec CPU = new DeviceSpec(Type.CPU, -1);

    /** The two device types FixRes4J runs on. */
    public enum Type {
        CPU("cpu"),
        CUDA("cuda");

        private final String id;

        Type(String id) {
            this.id = id;
        }

        /** The lower-case name libtorch uses ({@code cpu}, {@code cuda}), e.g. for autocast's device type. */
        public String id() {
            return id;
        }
    }

    /** The largest CUDA device index accepted ({@code c10::DeviceIndex} is a signed byte). */
    public static final int MAX_CUDA_INDEX = 127;

    private final Type type;
    private final int index;

    private DeviceSpec(Type type, int index) {
        this.type = type;
        this.index = index;
    }

    /** CUDA device {@code index} (0..127). */
    public static DeviceSpec cuda(int index) {
        if (index < 0 || index > MAX_CUDA_INDEX) {
            throw new IllegalArgumentException("CUDA device index must be in 0.." + MAX_CUDA_INDEX + ", got "
                    + index);
        }
        return new DeviceSpec(Type.CUDA, index);
    }

    /**
     * Parses {@code cpu}, {@code cuda} or {@code cuda:N}.
     *
     * @throws IllegalArgumentException naming the value and the accepted forms
     */
    public static DeviceSpec parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("device must not be null (use cpu, cuda or cuda:N)");
        }
        String s = text.strip().toLowerCase(Locale.ROOT);
        if (s.equals("cpu")) {
            return CPU;
        }
        if (s.equals("cuda")) {
            return cuda(0);
        }
        if (s.startsWith("cuda:")) {
            String n = s.substring(5);
            if (!n.isEmpty() && n.length() <= 3 && n.chars().allMatch(c -> c >= '0' && c <= '9')) {
                int i = Integer.parseInt(n);
                if (i <= MAX_CUDA_INDEX) {
                    return cuda(i);
                }
            }
            throw new IllegalArgumentException("invalid CUDA device index in '" + text + "' (use cuda:N with N in 0.."
                    + MAX_CUDA_INDEX + ")");
        }
        throw new IllegalArgumentException("unknown device '" + text + "' (use cpu, cuda or cuda:N)");
    }

    public Type type() {
        return type;
    }

    public boolean isCuda() {
        return type == Type.CUDA;
    }

    public boolean isCpu() {
        return type == Type.CPU;
    }

    /** The CUDA device index; -1 for the CPU. */
    public int index() {
        return index;
    }

    /**
     * Throws {@link IllegalStateException} with a one-line reason ({@link CudaSupport#check(int)}) when this process
     * cannot use the device; the CPU always passes. Never initialises libtorch's CUDA classes.
     */
    public DeviceSpec check() {
        if (isCuda()) {
            CudaSupport.check(index);
        }
        return this;
    }

    /** libtorch's {@code Device} for this value (loads libtorch; does not check that the device exists). */
    public org.bytedeco.pytorch.Device torchDevice() {
        return TorchDevices.of(this);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeviceSpec d && d.type == type && d.index == index;
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + index;
    }

    /** {@code cpu} or {@code cuda:N}: what {@link #parse} reads back. */
    @Override
    public String toString() {
        return isCpu() ? "cpu" : "cuda:" + index;
    }
}

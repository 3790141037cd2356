package org.fixres4j.torch;

import java.util.Locale;

/**
 * Mixed precision for inference and training: {@link #NONE} (float32, the default: exact timm parity), {@link #BF16}
 * (bfloat16) or {@link #FP16} (float16, CUDA only). The value names the reduced type; where and how it applies is the
 * caller's: libtorch's autocast for a module ({@link #autocast(String)}: convolutions and matrix products in the
 * reduced type, the rest as libtorch's autocast lists say, the weights kept in float32), or a model built in the
 * reduced type (the BN-folded fast path, {@code FastEfficientNet.fuse(model, amp)}).
 *
 * <p>Devices are named as on the command line: {@code cpu}, {@code cuda} or {@code cuda:N}. {@link #checkDevice}
 * refuses float16 on the CPU (libtorch's CPU autocast and FixRes4J's CPU kernels have no float16 path worth running;
 * bfloat16 is the CPU's reduced type). This class does not touch libtorch: {@link AmpScope} does.
 */
public enum Amp {
    /** float32 throughout. */
    NONE("none"),
    /** bfloat16 (CPU with AVX512-BF16 / AMX, or CUDA). */
    BF16("bf16"),
    /** float16 (CUDA only). */
    FP16("fp16");

    private final String label;

    Amp(String label) {
        this.label = label;
    }

    /** The command-line spelling: none, bf16 or fp16. */
    public String label() {
        return label;
    }

    /** Whether a reduced type is used (not {@link #NONE}). */
    public boolean enabled() {
        return this != NONE;
    }

    /**
     * Parses {@code none}, {@code bf16} or {@code fp16} (any case; also {@code bfloat16}, {@code float16},
     * {@code fp32} and {@code float32} for none).
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static Amp parse(String s) {
        if (s != null) {
            switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "none", "fp32", "float32" -> {
                    return NONE;
                }
                case "bf16", "bfloat16" -> {
                    return BF16;
                }
                case "fp16", "float16", "half" -> {
                    return FP16;
                }
                default -> { }
            }
        }
        throw new IllegalArgumentException("--amp must be none, bf16 or fp16, got '" + s + "'");
    }

    /** Whether a device name ({@code cpu}, {@code cuda}, {@code cuda:N}) is a CUDA device. */
    public static boolean isCuda(String device) {
        String d = normalise(device);
        return d.equals("cuda") || d.startsWith("cuda:");
    }

    /**
     * Checks that this mode can run on a device; returns this.
     *
     * @throws IllegalArgumentException for float16 on the CPU, or a device that is neither cpu nor cuda[:N]
     */
    public Amp checkDevice(String device) {
        String d = normalise(device);
        boolean cuda = isCuda(d);
        if (!cuda && !d.equals("cpu")) {
            throw new IllegalArgumentException("unknown device '" + device + "' (cpu, cuda or cuda:N)");
        }
        if (this == FP16 && !cuda) {
            throw new IllegalArgumentException("--amp fp16 is not supported on the CPU: use --amp bf16 (AVX512-BF16 "
                    + "and AMX run it natively) or --amp fp16 on a CUDA device");
        }
        return this;
    }

    /**
     * Turns on libtorch's autocast for this mode on the device's type, on the calling thread (autocast is
     * thread-local), until the returned scope is closed; {@link #NONE} gives a scope that changes nothing. Use in
     * try-with-resources around a forward pass (and the loss, which should take the logits in float32:
     * {@link AmpScope#toFloat}).
     *
     * @throws IllegalArgumentException as {@link #checkDevice}
     */
    public AmpScope autocast(String device) {
        checkDevice(device);
        return AmpScope.open(this, isCuda(device));
    }

    private static String normalise(String device) {
        if (device == null) {
            throw new IllegalArgumentException("the device must not be null (cpu, cuda or cuda:N)");
        }
        return device.trim().toLowerCase(Locale.ROOT);
    }
}

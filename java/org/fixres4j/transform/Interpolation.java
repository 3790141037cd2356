package org.fixres4j.transform;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The resampling filter of a resize: Pillow's NEAREST, BILINEAR and BICUBIC (antialiased, as PIL and torchvision on
 * PIL images use them). {@link #code()} is the kernel's {@code FX_FILTER_*} value.
 */
public enum Interpolation {
    /** Pillow NEAREST ({@code FX_FILTER_NEAREST = 0}). */
    NEAREST(0),
    /** Pillow BILINEAR, antialiased ({@code FX_FILTER_BILINEAR = 1}); torchvision's default. */
    BILINEAR(1),
    /** Pillow BICUBIC, a = -0.5, antialiased ({@code FX_FILTER_BICUBIC = 2}); timm's default. */
    BICUBIC(2);

    private final int code;

    Interpolation(int code) {
        this.code = code;
    }

    /** The kernel's filter code ({@code FX_FILTER_*} in kernels.h). */
    public int code() {
        return code;
    }

    /** The lower-case name used in configs and JSON ("nearest", "bilinear", "bicubic"). */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The interpolation of a kernel filter code. */
    public static Interpolation fromCode(int code) {
        for (Interpolation i : values()) {
            if (i.code == code) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown filter code " + code + " (expected 0 nearest, 1 bilinear, 2 bicubic)");
    }

    /** Parses a name, case-insensitively and ignoring surrounding blanks ("bicubic", "BILINEAR", ...). */
    public static Interpolation parse(String name) {
        if (name != null) {
            String n = name.trim();
            for (Interpolation i : values()) {
                if (i.name().equalsIgnoreCase(n)) {
                    return i;
                }
            }
        }
        throw new IllegalArgumentException("unknown interpolation '" + name + "', expected one of: "
                + Arrays.stream(values()).map(Interpolation::id).collect(Collectors.joining(", ")));
    }
}

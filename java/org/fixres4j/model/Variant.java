package org.fixres4j.model;

import java.util.Locale;

/**
 * The EfficientNet compound-scaling variants of timm's {@code _gen_efficientnet} docstring: width (channel) and depth
 * multipliers, the paper's resolution and its training dropout. timm's model functions do not set the dropout (its
 * default {@code drop_rate} is 0); {@link #dropout()} is the value to train with.
 */
public enum Variant {
    B0(1.0, 1.0, 224, 0.2),
    B1(1.0, 1.1, 240, 0.2),
    B2(1.1, 1.2, 260, 0.3),
    B3(1.2, 1.4, 300, 0.3),
    B4(1.4, 1.8, 380, 0.4),
    B5(1.6, 2.2, 456, 0.4),
    B6(1.8, 2.6, 528, 0.5),
    B7(2.0, 3.1, 600, 0.5),
    B8(2.2, 3.6, 672, 0.5),
    L2(4.3, 5.3, 800, 0.5);

    private final double width;
    private final double depth;
    private final int resolution;
    private final double dropout;

    Variant(double width, double depth, int resolution, double dropout) {
        this.width = width;
        this.depth = depth;
        this.resolution = resolution;
        this.dropout = dropout;
    }

    /** The channel multiplier. */
    public double width() {
        return width;
    }

    /** The depth (repeats) multiplier. */
    public double depth() {
        return depth;
    }

    /** The paper's (TF) training and test resolution. */
    public int resolution() {
        return resolution;
    }

    /** The paper's dropout before the classifier (for training; timm's default is 0). */
    public double dropout() {
        return dropout;
    }

    /** The lower-case suffix of timm's names ("b0", ..., "l2"). */
    public String suffix() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The variant of a suffix ("b3", "L2"). */
    public static Variant parse(String suffix) {
        for (Variant v : values()) {
            if (v.name().equalsIgnoreCase(suffix.trim())) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown EfficientNet variant '" + suffix + "' (b0 ... b8, l2)");
    }
}

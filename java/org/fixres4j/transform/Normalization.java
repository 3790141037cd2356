package org.fixres4j.transform;

import java.util.Arrays;

/**
 * Per-channel normalisation of the RGB output, {@code (v / 255 - mean[c]) / std[c]} in float32 (torchvision's
 * ToTensor + Normalize). Both arrays have 3 finite values and no std is 0; and, so that no output can overflow float32
 * (a std of 1e-45 made the kernels write +-inf), every channel's largest output {@code max(|mean|, |1 - mean|) / |std|}
 * is at most {@link #MAX_OUTPUT}. The arrays are copied on the way in and on the way out, so instances are immutable.
 *
 * @param mean the mean of the R, G, B channels, on the [0, 1] scale
 * @param std the standard deviation of the R, G, B channels, on the [0, 1] scale
 */
public record Normalization(float[] mean, float[] std) {
    /** ImageNet statistics, mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225): timm's and FixRes's default. */
    public static final Normalization IMAGENET =
            new Normalization(new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});
    /** Inception statistics, mean = std = 0.5 (the input scaled to [-1, 1]): timm's tf_efficientnet_*_ap. */
    public static final Normalization INCEPTION =
            new Normalization(new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.5f, 0.5f, 0.5f});

    /**
     * The largest magnitude a normalised value may reach: far beyond any real normalisation (ImageNet's reaches 2.7),
     * and far below float32's 3.4e38, so that the network's sums stay finite too.
     */
    public static final double MAX_OUTPUT = 1e6;

    /** Validates and copies both arrays. */
    public Normalization {
        mean = check("mean", mean, false);
        std = check("std", std, true);
        for (int c = 0; c < 3; c++) {
            double reach = Math.max(Math.abs((double) mean[c]), Math.abs(1.0 - mean[c]));
            double peak = reach / Math.abs((double) std[c]);
            if (!(peak <= MAX_OUTPUT)) {
                throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "mean %s, std %s: channel %d "
                        + "would reach %.3g (max(|mean|, |1 - mean|) / |std|); at most %.0e is allowed, so |std| must "
                        + "be at least %.3g for mean %s", fmt(mean), fmt(std), c, peak, MAX_OUTPUT,
                        reach / MAX_OUTPUT, mean[c]));
            }
        }
    }

    private static String fmt(float[] v) {
        return v[0] + "," + v[1] + "," + v[2];
    }

    private static float[] check(String what, float[] v, boolean nonZero) {
        if (v == null || v.length != 3) {
            throw new IllegalArgumentException(what + " must have 3 values (R, G, B), got "
                    + (v == null ? "null" : v.length + ": " + Arrays.toString(v)));
        }
        for (float x : v) {
            if (!Float.isFinite(x)) {
                throw new IllegalArgumentException(what + " values must be finite, got " + Arrays.toString(v));
            }
            if (nonZero && x == 0f) {
                throw new IllegalArgumentException(what + " values must be non-zero, got " + Arrays.toString(v));
            }
        }
        return v.clone();
    }

    /** Parses two comma-separated triples, e.g. {@code parse("0.485,0.456,0.406", "0.229,0.224,0.225")}. */
    public static Normalization parse(String mean, String std) {
        return new Normalization(parseTriple("mean", mean), parseTriple("std", std));
    }

    private static float[] parseTriple(String what, String s) {
        if (s == null) {
            throw new IllegalArgumentException(what + " is missing: expected three comma-separated numbers");
        }
        String[] parts = s.split(",", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException(what + " '" + s + "' must be three comma-separated numbers");
        }
        float[] v = new float[3];
        for (int i = 0; i < 3; i++) {
            try {
                v[i] = Float.parseFloat(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(what + " '" + s + "': '" + parts[i].trim() + "' is not a number");
            }
        }
        return v;
    }

    /** A copy of the means. */
    @Override
    public float[] mean() {
        return mean.clone();
    }

    /** A copy of the standard deviations. */
    @Override
    public float[] std() {
        return std.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Normalization n && Arrays.equals(mean, n.mean) && Arrays.equals(std, n.std);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
    }

    /** For example {@code mean=[0.485,0.456,0.406] std=[0.229,0.224,0.225]}. */
    @Override
    public String toString() {
        return "mean=" + triple(mean) + " std=" + triple(std);
    }

    private static String triple(float[] v) {
        return "[" + v[0] + "," + v[1] + "," + v[2] + "]";
    }
}

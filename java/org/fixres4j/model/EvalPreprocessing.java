package org.fixres4j.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import org.fixres4j.transform.FixResTestTransform;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.SampleTransform;
import org.fixres4j.transform.TimmEvalTransform;

/**
 * The evaluation preprocessing of a model, as one value: the resize rule, the test resolution, timm's crop_pct, the
 * resize filter and the input normalization. It comes from a model's input configuration ({@link #of}) with the
 * caller's {@link Overrides} applied, and turns into the {@link SampleTransform} that runs it ({@link #transform()}).
 * This is the one place where the timm / FixRes resize switch, the crop_pct rule and the defaults live.
 *
 * @param resizeMode timm's eval transform or the FixRes repository's test transform
 * @param resolution the test resolution (output side), 8..4096
 * @param cropPct timm's crop_pct in (0, 4] (the shorter side is resized to floor(resolution / cropPct)); unused by
 *        {@link ResizeMode#FIXRES}, whose height rule is fixed (int(256/224 R))
 * @param interpolation the resize filter
 * @param normalization the input mean / std
 */
public record EvalPreprocessing(ResizeMode resizeMode, int resolution, double cropPct, Interpolation interpolation,
                                Normalization normalization) {
    /** Which eval transform: timm's (shorter side to floor(R / crop_pct), centre crop) or FixRes's test transform. */
    public enum ResizeMode {
        TIMM, FIXRES;

        /** {@code timm} or {@code fixres}, any case. */
        public static ResizeMode parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "timm" -> TIMM;
                case "fixres" -> FIXRES;
                default -> throw new IllegalArgumentException("--resize-mode must be timm or fixres, got '" + s + "'");
            };
        }

        /** The spelling in reports and on the command line. */
        public String spelling() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * What a caller changes of a model's eval preprocessing; null fields keep the model's value.
     *
     * @param resolution the test resolution (null: the model's input size)
     * @param cropPct timm's crop_pct (null: the model's); refused with {@link ResizeMode#FIXRES}
     * @param interpolation the resize filter (null: the model's; bilinear for FixRes's transform)
     * @param normalization the mean / std (null: the model's)
     * @param resizeMode the resize rule (null: timm's)
     */
    public record Overrides(Integer resolution, Double cropPct, Interpolation interpolation,
                            Normalization normalization, ResizeMode resizeMode) {
        /** No override: the model's own preprocessing. */
        public static final Overrides NONE = new Overrides(null, null, null, null, null);

        public Overrides {
            if (resolution != null) {
                checkResolution(resolution, "resolution");
            }
            if (cropPct != null) {
                checkCropPct(cropPct, "crop_pct");
            }
        }

        public Overrides withResolution(Integer r) {
            return new Overrides(r, cropPct, interpolation, normalization, resizeMode);
        }

        public Overrides withCropPct(Double p) {
            return new Overrides(resolution, p, interpolation, normalization, resizeMode);
        }

        public Overrides withInterpolation(Interpolation i) {
            return new Overrides(resolution, cropPct, i, normalization, resizeMode);
        }

        public Overrides withNormalization(Normalization n) {
            return new Overrides(resolution, cropPct, interpolation, n, resizeMode);
        }

        public Overrides withResizeMode(ResizeMode m) {
            return new Overrides(resolution, cropPct, interpolation, normalization, m);
        }

        /** The resize rule asked for, timm's by default. */
        public ResizeMode mode() {
            return resizeMode != null ? resizeMode : ResizeMode.TIMM;
        }
    }

    public EvalPreprocessing {
        Objects.requireNonNull(resizeMode, "resizeMode");
        Objects.requireNonNull(interpolation, "interpolation");
        Objects.requireNonNull(normalization, "normalization");
        checkResolution(resolution, "resolution");
        checkCropPct(cropPct, "crop_pct");
    }

    /**
     * A model's eval preprocessing with the overrides applied.
     *
     * @throws IllegalArgumentException if crop_pct is overridden for FixRes's transform (which has no crop_pct), or
     *         the model's timm crop_mode is not a centre crop under timm's transform
     */
    public static EvalPreprocessing of(PretrainedConfig cfg, Overrides o) {
        ResizeMode mode = o.mode();
        if (mode == ResizeMode.FIXRES) {
            if (o.cropPct() != null) {
                throw new IllegalArgumentException("--crop-pct applies to --resize-mode timm; the FixRes test "
                        + "transform always resizes the height to int(256/224 R)");
            }
        } else if (!"center".equals(cfg.cropMode())) {
            throw new IllegalArgumentException(cfg.name() + " uses timm's crop_mode '" + cfg.cropMode()
                    + "'; only the centre crop is implemented (use --resize-mode fixres)");
        }
        return new EvalPreprocessing(mode, o.resolution() != null ? o.resolution() : cfg.inputSize(),
                o.cropPct() != null ? o.cropPct() : cfg.cropPct(),
                o.interpolation() != null ? o.interpolation()
                        : mode == ResizeMode.FIXRES ? Interpolation.BILINEAR : cfg.interpolation(),
                o.normalization() != null ? o.normalization() : cfg.normalization());
    }

    /** The same preprocessing at another test resolution. */
    public EvalPreprocessing atResolution(int res) {
        return new EvalPreprocessing(resizeMode, res, cropPct, interpolation, normalization);
    }

    /** The transform that runs this preprocessing. */
    public SampleTransform transform() {
        return resizeMode == ResizeMode.FIXRES ? new FixResTestTransform(resolution, interpolation, normalization)
                : new TimmEvalTransform(resolution, cropPct, interpolation, normalization);
    }

    /** One transform per resolution (a resolution sweep), in order. */
    public List<SampleTransform> transforms(List<Integer> resolutions) {
        List<SampleTransform> out = new ArrayList<>(resolutions.size());
        for (int r : resolutions) {
            out.add(atResolution(r).transform());
        }
        return out;
    }

    /** The test crop ratio K_test_image / K_test: 256/224 for FixRes's transform, 1 / crop_pct for timm's. */
    public double cropRatio() {
        return resizeMode == ResizeMode.FIXRES ? 256.0 / 224.0 : 1.0 / cropPct;
    }

    /**
     * The one range rule of test resolutions: 8..4096.
     *
     * @param what how the caller names the value in the error ({@code --res values}, {@code resolution})
     */
    public static void checkResolution(int res, String what) {
        if (res < 8 || res > 4096) {
            throw new IllegalArgumentException(what + " must be in 8..4096, got " + res);
        }
    }

    /**
     * The one range rule of crop_pct: (0, 4].
     *
     * @param what how the caller names the value in the error ({@code --crop-pct}, {@code crop_pct})
     */
    public static void checkCropPct(double p, String what) {
        if (!(p > 0 && p <= 4)) {
            throw new IllegalArgumentException(what + " must be in (0, 4], got " + p);
        }
    }
}

package org.fixres4j.transform;

import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * timm's evaluation transform ({@code transforms_imagenet_eval}, crop_mode 'center'): torchvision
 * {@code Resize(floor(res / crop_pct))} on the shorter side, then {@code CenterCrop(res)}, with torchvision 0.14's
 * exact integer math:
 * <ul>
 *   <li>scale = {@code math.floor(res / crop_pct)} (in double);</li>
 *   <li>shorter side := scale, longer side := {@code int(scale * long / short)} (truncated). When the size does not
 *       change, torchvision returns the image itself; the plan is then an identity resize, which Pillow and the
 *       kernel reproduce exactly;</li>
 *   <li>crop offsets {@code int(round((H - res) / 2))} with Python's half-to-even rounding; where the resized image
 *       is smaller than the crop (crop_pct &gt; 1), zero padding placed as torchvision pads:
 *       left {@code (res - w) // 2}.</li>
 * </ul>
 *
 * @param res the output size (square), timm's input_size
 * @param cropPct the crop fraction, &gt; 0 (timm's default 0.875)
 * @param interpolation the resize filter (timm's default bicubic)
 * @param normalization the output normalisation
 */
public record TimmEvalTransform(int res, double cropPct, Interpolation interpolation, Normalization normalization)
        implements SampleTransform {

    /** timm's default crop fraction, 0.875. */
    public static final double DEFAULT_CROP_PCT = 0.875;

    /** Validates the parameters. */
    public TimmEvalTransform {
        Geometry.checkSize("res", res);
        if (!(Double.isFinite(cropPct) && cropPct > 0)) {
            throw new IllegalArgumentException("crop_pct must be finite and > 0, got " + cropPct);
        }
        Objects.requireNonNull(interpolation, "interpolation");
        Objects.requireNonNull(normalization, "normalization");
        if (Math.floor(res / cropPct) < 1 || Math.floor(res / cropPct) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("floor(res / crop_pct) = floor(" + res + " / " + cropPct
                    + ") must be in 1.." + Integer.MAX_VALUE);
        }
    }

    /** timm's defaults for a model of input size {@code res}: crop_pct 0.875, bicubic, ImageNet mean/std. */
    public static TimmEvalTransform of(int res) {
        return new TimmEvalTransform(res, DEFAULT_CROP_PCT, Interpolation.BICUBIC, Normalization.IMAGENET);
    }

    /** The shorter-side target of the resize, {@code floor(res / crop_pct)}. */
    public int scaleSize() {
        return (int) Math.floor(res / cropPct);
    }

    @Override
    public ResamplePlan plan(int imageWidth, int imageHeight, RandomGenerator rng) {
        Geometry.checkImage(imageWidth, imageHeight);
        int[] size = Geometry.resizeShorterSide(imageWidth, imageHeight, scaleSize());
        int[] crop = Geometry.centerCrop(size[0], size[1], res, res);
        return ResamplePlan.wholeImage(imageWidth, imageHeight, size[0], size[1], crop[0], crop[1], res, res,
                interpolation, false);
    }

    @Override
    public int outputWidth() {
        return res;
    }

    @Override
    public int outputHeight() {
        return res;
    }

    @Override
    public boolean isRandom() {
        return false;
    }

    @Override
    public String describe() {
        return "timm_eval(res=" + res + ", crop_pct=" + Geometry.fmt(cropPct) + ", interpolation="
                + interpolation.id() + ", " + normalization + ")";
    }
}

package org.fixres4j.transform;

import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * torchvision's {@code F.resized_crop(img, top, left, height, width, [size, size])} with a fixed crop: crop first,
 * then resize, so the filter never reads outside the crop (roi = the crop, box = the whole roi). The crop must lie
 * inside the image.
 *
 * @param top the crop's top edge
 * @param left the crop's left edge
 * @param height the crop's height
 * @param width the crop's width
 * @param size the output size (square)
 * @param interpolation the resize filter
 * @param normalization the output normalisation
 */
public record ResizedCropTransform(int top, int left, int height, int width, int size, Interpolation interpolation,
                                   Normalization normalization) implements SampleTransform {

    /** Validates the parameters. */
    public ResizedCropTransform {
        if (top < 0 || left < 0) {
            throw new IllegalArgumentException("crop top/left must be >= 0, got " + top + ", " + left);
        }
        Geometry.checkSize("crop height", height);
        Geometry.checkSize("crop width", width);
        Geometry.checkSize("size", size);
        Objects.requireNonNull(interpolation, "interpolation");
        Objects.requireNonNull(normalization, "normalization");
    }

    @Override
    public ResamplePlan plan(int imageWidth, int imageHeight, RandomGenerator rng) {
        Geometry.checkImage(imageWidth, imageHeight);
        return new ResamplePlan(left, top, width, height, 0.0, 0.0, width, height, size, size, 0, 0, size, size,
                interpolation, false).validateFor(imageWidth, imageHeight);
    }

    @Override
    public int outputWidth() {
        return size;
    }

    @Override
    public int outputHeight() {
        return size;
    }

    @Override
    public boolean isRandom() {
        return false;
    }

    @Override
    public String describe() {
        return "resized_crop(top=" + top + ", left=" + left + ", height=" + height + ", width=" + width + ", size="
                + size + ", interpolation=" + interpolation.id() + ", " + normalization + ")";
    }
}

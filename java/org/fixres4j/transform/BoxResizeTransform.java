package org.fixres4j.transform;

import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Pillow's {@code img.resize((width, height), filter, box=(x0, y0, x1, y1))} with a fractional box: the region is
 * the box, but the filter may read image pixels around it (roi = the whole image). The box must lie inside the image.
 *
 * @param boxX0 the box's left edge
 * @param boxY0 the box's top edge
 * @param boxX1 the box's right edge, &gt; boxX0
 * @param boxY1 the box's bottom edge, &gt; boxY0
 * @param width the output width
 * @param height the output height
 * @param interpolation the resize filter
 * @param normalization the output normalisation
 */
public record BoxResizeTransform(double boxX0, double boxY0, double boxX1, double boxY1, int width, int height,
                                 Interpolation interpolation, Normalization normalization) implements SampleTransform {

    /** Validates the parameters. */
    public BoxResizeTransform {
        if (!(Double.isFinite(boxX0) && Double.isFinite(boxY0) && Double.isFinite(boxX1) && Double.isFinite(boxY1)
                && 0 <= boxX0 && boxX0 < boxX1 && 0 <= boxY0 && boxY0 < boxY1)) {
            throw new IllegalArgumentException("box must be finite with 0 <= x0 < x1 and 0 <= y0 < y1, got (" + boxX0
                    + ", " + boxY0 + ", " + boxX1 + ", " + boxY1 + ")");
        }
        Geometry.checkSize("width", width);
        Geometry.checkSize("height", height);
        Objects.requireNonNull(interpolation, "interpolation");
        Objects.requireNonNull(normalization, "normalization");
    }

    @Override
    public ResamplePlan plan(int imageWidth, int imageHeight, RandomGenerator rng) {
        Geometry.checkImage(imageWidth, imageHeight);
        if (boxX1 > imageWidth || boxY1 > imageHeight) {
            throw new IllegalArgumentException("box (" + boxX0 + ", " + boxY0 + ", " + boxX1 + ", " + boxY1
                    + ") does not fit in the " + imageWidth + "x" + imageHeight + " image");
        }
        return new ResamplePlan(0, 0, imageWidth, imageHeight, boxX0, boxY0, boxX1, boxY1, width, height, 0, 0,
                width, height, interpolation, false);
    }

    @Override
    public int outputWidth() {
        return width;
    }

    @Override
    public int outputHeight() {
        return height;
    }

    @Override
    public boolean isRandom() {
        return false;
    }

    @Override
    public String describe() {
        return "pillow_box(box=(" + Geometry.fmt(boxX0) + ", " + Geometry.fmt(boxY0) + ", " + Geometry.fmt(boxX1)
                + ", " + Geometry.fmt(boxY1) + "), width=" + width + ", height=" + height + ", interpolation="
                + interpolation.id() + ", " + normalization + ")";
    }
}

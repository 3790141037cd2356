package org.fixres4j.transform;

import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * The FixRes repository's test transform ({@code imnet_evaluate/transforms.py}, kind 'full', crop=True):
 * <ul>
 *   <li>R = {@code int((256 / 224) * S)}; the <em>height</em> becomes R and the width {@code int(R * w / h)}, whatever
 *       the orientation (FixRes's {@code Resize(largest=False)}), so portrait images end up narrower than S;</li>
 *   <li>torchvision {@code CenterCrop(S)}: offsets {@code int(round((H - S) / 2))} (half to even), zero padding
 *       placed as torchvision pads it (left {@code (S - w) // 2}) where the image is narrower than S;</li>
 *   <li>PIL bilinear (the repo's choice) and ImageNet mean/std by default.</li>
 * </ul>
 *
 * @param size the output size S (square)
 * @param interpolation the resize filter (FixRes: bilinear)
 * @param normalization the output normalisation (FixRes: ImageNet, even for EfficientNet _ap weights)
 */
public record FixResTestTransform(int size, Interpolation interpolation, Normalization normalization)
        implements SampleTransform {

    /** Validates the parameters. */
    public FixResTestTransform {
        Geometry.checkSize("size", size);
        Objects.requireNonNull(interpolation, "interpolation");
        Objects.requireNonNull(normalization, "normalization");
    }

    /** The FixRes repo's transform at test size {@code size}: bilinear, ImageNet mean/std. */
    public FixResTestTransform(int size) {
        this(size, Interpolation.BILINEAR, Normalization.IMAGENET);
    }

    /** The height every image is resized to, R = {@code int((256 / 224) * size)}. */
    public int resizeHeight() {
        return Geometry.fixResResize(size);
    }

    @Override
    public ResamplePlan plan(int imageWidth, int imageHeight, RandomGenerator rng) {
        Geometry.checkImage(imageWidth, imageHeight);
        int[] r = Geometry.resizeHeight(imageWidth, imageHeight, resizeHeight(), "fixres_test");
        int[] crop = Geometry.centerCrop(r[0], r[1], size, size);
        return ResamplePlan.wholeImage(imageWidth, imageHeight, r[0], r[1], crop[0], crop[1], size, size,
                interpolation, false);
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
        return "fixres_test(size=" + size + ", resize_height=" + resizeHeight() + ", interpolation="
                + interpolation.id() + ", " + normalization + ")";
    }
}

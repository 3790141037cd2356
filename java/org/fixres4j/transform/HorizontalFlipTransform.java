package org.fixres4j.transform;

import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Another transform's output mirrored left-right (torchvision {@code F.hflip} after it), e.g. the second view of
 * test-time flip augmentation. The plan is the base's with {@code flipX} toggled.
 *
 * @param base the transform whose output is mirrored
 */
public record HorizontalFlipTransform(SampleTransform base) implements SampleTransform {

    /** Checks the base is present. */
    public HorizontalFlipTransform {
        Objects.requireNonNull(base, "base");
    }

    @Override
    public ResamplePlan plan(int imageWidth, int imageHeight, RandomGenerator rng) {
        ResamplePlan p = base.plan(imageWidth, imageHeight, rng);
        return p.withFlipX(!p.flipX());
    }

    @Override
    public int outputWidth() {
        return base.outputWidth();
    }

    @Override
    public int outputHeight() {
        return base.outputHeight();
    }

    @Override
    public Normalization normalization() {
        return base.normalization();
    }

    @Override
    public boolean isRandom() {
        return base.isRandom();
    }

    @Override
    public String describe() {
        return "hflip(" + base.describe() + ")";
    }
}

package org.fixres4j.transform;

import java.util.random.RandomGenerator;

/**
 * A preprocessing transform reduced to its geometry: it turns an image size (plus a random generator for random
 * transforms) into the {@link ResamplePlan} that the native kernel executes. It never sees pixels. Implementations
 * are immutable and thread-safe; a random transform draws all of its randomness from the generator it is given, so
 * equal seeds give equal plans.
 */
public interface SampleTransform {

    /**
     * The plan for one image.
     *
     * @param imageWidth the decoded image's width, &gt; 0
     * @param imageHeight the decoded image's height, &gt; 0
     * @param rng the source of randomness; may be null for deterministic transforms ({@link #isRandom()} false)
     * @return a plan valid for that image size, with {@link #outputWidth()} x {@link #outputHeight()} output
     * @throws IllegalArgumentException if the size is not positive, or the transform cannot handle it
     * @throws NullPointerException if the transform is random and {@code rng} is null
     */
    ResamplePlan plan(int imageWidth, int imageHeight, RandomGenerator rng);

    /** {@code plan(imageWidth, imageHeight, null)}, for deterministic transforms. */
    default ResamplePlan plan(int imageWidth, int imageHeight) {
        return plan(imageWidth, imageHeight, null);
    }

    /** The width of every output (the same for every image, so outputs can be batched). */
    int outputWidth();

    /** The height of every output. */
    int outputHeight();

    /** The normalisation applied to the output values. */
    Normalization normalization();

    /** Whether plans depend on the random generator. */
    boolean isRandom();

    /** A short, stable, one-line description for reports, e.g. {@code timm_eval(res=224, crop_pct=0.875, ...)}. */
    String describe();
}

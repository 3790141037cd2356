package org.fixres4j.preprocess;

import java.util.Objects;

import org.fixres4j.image.DecodedImage;
import org.fixres4j.transform.ResamplePlan;

/** One image of a batch, the geometry to apply to it, and its slot in the batch. */
public record Sample(DecodedImage image, ResamplePlan plan, long index) {
    public Sample {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(plan, "plan");
        if (index < 0) {
            throw new IllegalArgumentException("batch index must be >= 0, got " + index);
        }
    }
}

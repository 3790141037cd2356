package org.fixres4j.fixres;

import java.util.Objects;

import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.RandomResizedCropTransform;

/**
 * Everything that defines a from-scratch training run of {@link Trainer} (timm's recipe, reduced): RandomResizedCrop
 * at K_train with a horizontal flip, label-smoothed cross-entropy, SGD (or RMSprop) with a cosine (or step) schedule
 * and linear warmup, per-epoch checkpoints. Mutable builder-style setters that validate; {@link #identity()} is what a
 * checkpoint records (a resumed run must have the same).
 */
public final class TrainConfig extends RunConfig<TrainConfig> {
    double scaleMin = 0.08;
    double scaleMax = 1.0;
    double ratioMin = 3.0 / 4.0;
    double ratioMax = 4.0 / 3.0;
    double flip = 0.5;
    Interpolation interpolation = Interpolation.BILINEAR;
    Normalization normalization = Normalization.IMAGENET;
    TrainOptimizer.Settings optimizer = new TrainOptimizer.Settings(TrainOptimizer.Kind.SGD, 0.9, 5e-5, true, 0.9,
            1e-3);
    boolean nativeDepthwise = false;

    public TrainConfig() {
        super(10, 64, 0.1, 1e-4, 1);
        resolution = 64;
    }

    /** Threads used when none are given: processors - 1 (at least 1), leaving a core to the loader. */
    public static int defaultThreads() {
        return TrainSupport.defaultThreads();
    }

    public TrainConfig scale(double min, double max) {
        if (!(min > 0 && min <= max && max <= 1)) {
            throw new IllegalArgumentException("RandomResizedCrop scale must satisfy 0 < min <= max <= 1, got "
                    + min + ", " + max);
        }
        scaleMin = min;
        scaleMax = max;
        return this;
    }

    public TrainConfig flip(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("flip probability must be in [0, 1], got " + p);
        }
        flip = p;
        return this;
    }

    public TrainConfig interpolation(Interpolation i) {
        interpolation = Objects.requireNonNull(i);
        return this;
    }

    public TrainConfig normalization(Normalization n) {
        normalization = Objects.requireNonNull(n);
        return this;
    }

    @Override
    public TrainConfig epochs(int n) {
        if (n > 100_000) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + n);
        }
        return super.epochs(n);
    }

    public TrainConfig batchSize(int n) {
        if (n < 1 || n > 65536) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + n);
        }
        batchSize = n;
        return this;
    }

    public TrainConfig optimizer(TrainOptimizer.Settings s) {
        optimizer = Objects.requireNonNull(s);
        return this;
    }

    public TrainConfig minLr(double v) {
        if (!(v >= 0)) {
            throw new IllegalArgumentException("min lr must be >= 0, got " + v);
        }
        minLr = v;
        return this;
    }

    public TrainConfig warmupEpochs(double v) {
        if (!(v >= 0)) {
            throw new IllegalArgumentException("warmup epochs must be >= 0, got " + v);
        }
        warmupEpochs = v;
        return this;
    }

    /**
     * Run the depthwise convolutions of the training forwards through the native kernels and their native backward
     * ({@link org.fixres4j.model.EfficientNet#nativeDepthwise(boolean)}). Off by default: one B0 step measured 10%
     * faster in channels-last but even in NCHW and slower on very small models (docs/PERFORMANCE.md). Like the thread
     * count, it changes float rounding only and is not part of {@link #identity()}.
     */
    public TrainConfig nativeDepthwise(boolean on) {
        nativeDepthwise = on;
        return this;
    }

    public boolean nativeDepthwise() {
        return nativeDepthwise;
    }

    public double scaleMin() {
        return scaleMin;
    }

    public double scaleMax() {
        return scaleMax;
    }

    public Interpolation interpolation() {
        return interpolation;
    }

    public Normalization normalization() {
        return normalization;
    }

    /** The training augmentation: RandomResizedCrop(K_train, scale, ratio) + flip. */
    public RandomResizedCropTransform transform() {
        return new RandomResizedCropTransform(resolution, scaleMin, scaleMax, ratioMin, ratioMax, interpolation, flip,
                normalization);
    }

    @Override
    TrainOptimizer.Settings optimizer() {
        return optimizer;
    }

    @Override
    Record augmentation() {
        return new Augmentation(transform().describe());
    }

    /** The training augmentation in the run's identity. */
    record Augmentation(String augmentation) {}

    /** The cosine floor and the warmup, which fine-tuning does not have. */
    @Override
    boolean hasWarmup() {
        return true;
    }
}

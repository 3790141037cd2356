package org.fixres4j.fixres;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.RandomResizedCropTransform;

/**
 * Everything that defines a from-scratch training run of {@link Trainer} (timm's recipe, reduced): RandomResizedCrop
 * at K_train with a horizontal flip, label-smoothed cross-entropy, SGD (or RMSprop) with a cosine (or step) schedule
 * and linear warmup, per-epoch checkpoints. Mutable builder-style setters that validate; {@link #toMap()} is what a
 * checkpoint records (a resumed run must have the same).
 */
public final class TrainConfig {
    int resolution = 64;
    double scaleMin = 0.08;
    double scaleMax = 1.0;
    double ratioMin = 3.0 / 4.0;
    double ratioMax = 4.0 / 3.0;
    double flip = 0.5;
    Interpolation interpolation = Interpolation.BILINEAR;
    Normalization normalization = Normalization.IMAGENET;
    int epochs = 10;
    int batchSize = 64;
    TrainOptimizer.Settings optimizer = new TrainOptimizer.Settings(TrainOptimizer.Kind.SGD, 0.9, 5e-5, true, 0.9,
            1e-3);
    String schedule = "cosine";
    double lr = 0.1;
    double minLr = 1e-4;
    double warmupEpochs = 1;
    int stepEpochs = 30;
    double gamma = 0.1;
    double labelSmoothing = 0.1;
    long seed = 0;
    int threads = TrainSupport.defaultThreads();
    int trainLimit = 0;
    boolean nativeDepthwise = false;

    /** Threads used when none are given: processors - 1 (at least 1), leaving a core to the loader. */
    public static int defaultThreads() {
        return TrainSupport.defaultThreads();
    }

    public TrainConfig resolution(int r) {
        if (r < 8 || r > 4096) {
            throw new IllegalArgumentException("resolution must be in 8..4096, got " + r);
        }
        resolution = r;
        return this;
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

    public TrainConfig epochs(int n) {
        if (n < 1 || n > 100_000) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + n);
        }
        epochs = n;
        return this;
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

    public TrainConfig schedule(String kind) {
        String k = kind.trim().toLowerCase(Locale.ROOT);
        if (!k.equals("cosine") && !k.equals("step") && !k.equals("constant")) {
            throw new IllegalArgumentException("schedule must be cosine, step or constant, got '" + kind + "'");
        }
        schedule = k;
        return this;
    }

    public TrainConfig lr(double v) {
        if (!(v > 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException("learning rate must be > 0, got " + v);
        }
        lr = v;
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

    public TrainConfig step(int epochsPerStep, double gamma) {
        if (epochsPerStep < 1 || !(gamma > 0)) {
            throw new IllegalArgumentException("step schedule needs a period >= 1 and gamma > 0");
        }
        this.stepEpochs = epochsPerStep;
        this.gamma = gamma;
        return this;
    }

    public TrainConfig labelSmoothing(double eps) {
        if (!(eps >= 0 && eps < 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + eps);
        }
        labelSmoothing = eps;
        return this;
    }

    public TrainConfig seed(long s) {
        seed = s;
        return this;
    }

    /** Loader threads (and libtorch's intra-op threads). */
    public TrainConfig threads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        threads = n;
        return this;
    }

    /** Train on a stratified subset of this many images (0: all); recorded so a resume uses the same. */
    public TrainConfig trainLimit(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("train limit must be >= 0");
        }
        trainLimit = n;
        return this;
    }

    /**
     * Run the depthwise convolutions of the training forwards through the native kernels and their native backward
     * ({@link org.fixres4j.model.EfficientNet#nativeDepthwise(boolean)}). Off by default: measured not faster than
     * libtorch's convolution on CPU (docs/PERFORMANCE.md). Like the thread count, it changes float rounding only and is
     * not part of {@link #toMap()}.
     */
    public TrainConfig nativeDepthwise(boolean on) {
        nativeDepthwise = on;
        return this;
    }

    public boolean nativeDepthwise() {
        return nativeDepthwise;
    }

    public int resolution() {
        return resolution;
    }

    public int epochs() {
        return epochs;
    }

    public int batchSize() {
        return batchSize;
    }

    public long seed() {
        return seed;
    }

    public int threads() {
        return threads;
    }

    public int trainLimit() {
        return trainLimit;
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

    /** The schedule for {@code stepsPerEpoch} optimizer steps per epoch. */
    public TrainSchedule scheduleFor(long stepsPerEpoch) {
        return new TrainSchedule(schedule, lr, minLr, Math.round(warmupEpochs * stepsPerEpoch), 0.1,
                stepsPerEpoch * epochs, stepsPerEpoch, stepEpochs, gamma);
    }

    /** Everything that determines the result (threads and the depthwise path excluded), as a JSON-ready map. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("resolution", resolution);
        m.put("augmentation", transform().describe());
        m.put("epochs", epochs);
        m.put("batch_size", batchSize);
        m.put("optimizer", optimizer.toMap());
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("kind", schedule);
        s.put("lr", lr);
        s.put("min_lr", minLr);
        s.put("warmup_epochs", warmupEpochs);
        if (schedule.equals("step")) {
            s.put("step_epochs", stepEpochs);
            s.put("gamma", gamma);
        }
        m.put("schedule", s);
        m.put("label_smoothing", labelSmoothing);
        m.put("seed", seed);
        m.put("train_limit", trainLimit);
        return m;
    }
}

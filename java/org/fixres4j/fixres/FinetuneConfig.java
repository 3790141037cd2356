package org.fixres4j.fixres;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import org.fixres4j.transform.FixResFinetuneTransform;
import org.fixres4j.transform.SampleTransform;
import org.fixres4j.transform.TimmEvalTransform;

/**
 * The settings of a FixRes fine-tuning run ({@link Finetuner}). Defaults are the FixRes protocol: only the classifier
 * trained, {@code bn2} in train mode (batch statistics; running statistics re-estimated; affine frozen), the rest
 * frozen in eval mode; label smoothing 0.1; SGD momentum 0.9, weight decay 1e-4; the FixRes fine-tuning augmentation
 * (flip + shifted centre crop) at the test resolution.
 */
public final class FinetuneConfig {
    /** What is trained. */
    public enum Mode {
        /** The FixRes protocol: classifier trained, bn2's statistics re-estimated (train mode), bn2's affine frozen. */
        CLASSIFIER,
        /** As {@link #CLASSIFIER}, and bn2's weight and bias trained too. */
        BN_AFFINE,
        /**
         * As {@link #BN_AFFINE}, and every weight of the last stage ({@code blocks.<last>.*}) and of {@code conv_head}
         * trained; their BatchNorms keep their running statistics (eval mode).
         */
        LAST_STAGE;

        public String spelling() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** {@code classifier}, {@code bn-affine} or {@code last-stage}. */
        public static Mode parse(String s) {
            for (Mode m : values()) {
                if (m.spelling().equals(s.trim().toLowerCase(Locale.ROOT))) {
                    return m;
                }
            }
            throw new IllegalArgumentException("fine-tuning mode must be classifier, bn-affine or last-stage, got '"
                    + s + "'");
        }
    }

    /** The fine-tuning augmentation. */
    public enum Augment {
        /** FixRes's v2 'val_train': resize, flip, shifted centre crop (bilinear). */
        FIXRES,
        /** The plain test transform (no augmentation), as FixRes v1 did. */
        TEST
    }

    int resolution;
    Mode mode = Mode.CLASSIFIER;
    Augment augment = Augment.FIXRES;
    int epochs = 1;
    int batchSize = 32;
    double lr = 1e-3;
    double minLr = 0;
    String schedule = "cosine";
    int stepEpochs = 30;
    double gamma = 0.1;
    double momentum = 0.9;
    double weightDecay = 1e-4;
    double labelSmoothing = 0.1;
    long seed = 0;
    int threads = TrainSupport.defaultThreads();
    int trainLimit = 0;

    /** @param resolution the test resolution K_test to fine-tune at */
    public FinetuneConfig(int resolution) {
        resolution(resolution);
    }

    public FinetuneConfig resolution(int r) {
        if (r < 8 || r > 4096) {
            throw new IllegalArgumentException("resolution must be in 8..4096, got " + r);
        }
        resolution = r;
        return this;
    }

    public FinetuneConfig mode(Mode m) {
        mode = java.util.Objects.requireNonNull(m);
        return this;
    }

    public FinetuneConfig augment(Augment a) {
        augment = java.util.Objects.requireNonNull(a);
        return this;
    }

    public FinetuneConfig epochs(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + n);
        }
        epochs = n;
        return this;
    }

    public FinetuneConfig batchSize(int n) {
        if (n < 2) {
            throw new IllegalArgumentException("batch size must be >= 2 (bn2 uses batch statistics), got " + n);
        }
        batchSize = n;
        return this;
    }

    public FinetuneConfig lr(double v) {
        if (!(v > 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException("learning rate must be > 0, got " + v);
        }
        lr = v;
        return this;
    }

    public FinetuneConfig schedule(String kind) {
        String k = kind.trim().toLowerCase(Locale.ROOT);
        if (!k.equals("cosine") && !k.equals("step") && !k.equals("constant")) {
            throw new IllegalArgumentException("schedule must be cosine, step or constant, got '" + kind + "'");
        }
        schedule = k;
        return this;
    }

    public FinetuneConfig step(int epochsPerStep, double g) {
        if (epochsPerStep < 1 || !(g > 0)) {
            throw new IllegalArgumentException("step schedule needs a period >= 1 and gamma > 0");
        }
        stepEpochs = epochsPerStep;
        gamma = g;
        return this;
    }

    public FinetuneConfig momentum(double m) {
        if (!(m >= 0 && m < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + m);
        }
        momentum = m;
        return this;
    }

    public FinetuneConfig weightDecay(double wd) {
        if (!(wd >= 0)) {
            throw new IllegalArgumentException("weight decay must be >= 0, got " + wd);
        }
        weightDecay = wd;
        return this;
    }

    public FinetuneConfig labelSmoothing(double eps) {
        if (!(eps >= 0 && eps < 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + eps);
        }
        labelSmoothing = eps;
        return this;
    }

    public FinetuneConfig seed(long s) {
        seed = s;
        return this;
    }

    public FinetuneConfig threads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        threads = n;
        return this;
    }

    /** Fine-tune on a stratified subset of this many training images (0: all). */
    public FinetuneConfig trainLimit(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("train limit must be >= 0");
        }
        trainLimit = n;
        return this;
    }

    public int resolution() {
        return resolution;
    }

    public Mode mode() {
        return mode;
    }

    public int epochs() {
        return epochs;
    }

    public int batchSize() {
        return batchSize;
    }

    public int threads() {
        return threads;
    }

    public long seed() {
        return seed;
    }

    public int trainLimit() {
        return trainLimit;
    }

    /** The training transform at the test resolution for a model described by {@code info}. */
    public SampleTransform transform(Checkpoint.ModelInfo info) {
        return augment == Augment.FIXRES
                ? new FixResFinetuneTransform(resolution, 0.5, info.normalization())
                : testTransform(info, resolution);
    }

    /** The model's test transform at {@code res}: timm's eval transform with the model's crop_pct, filter, mean/std. */
    public static TimmEvalTransform testTransform(Checkpoint.ModelInfo info, int res) {
        return new TimmEvalTransform(res, info.cropPct(), info.interpolation(), info.normalization());
    }

    TrainOptimizer.Settings optimizer() {
        return new TrainOptimizer.Settings(TrainOptimizer.Kind.SGD, momentum, weightDecay, false, 0.9, 1e-3);
    }

    TrainSchedule scheduleFor(long stepsPerEpoch) {
        return new TrainSchedule(schedule, lr, minLr, 0, 1.0, stepsPerEpoch * epochs, stepsPerEpoch, stepEpochs,
                gamma);
    }

    /** Everything that determines the result (threads excluded), as a JSON-ready map. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("resolution", resolution);
        m.put("mode", mode.spelling());
        m.put("augment", augment.name().toLowerCase(Locale.ROOT));
        m.put("epochs", epochs);
        m.put("batch_size", batchSize);
        m.put("optimizer", optimizer().toMap());
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("kind", schedule);
        s.put("lr", lr);
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

package org.fixres4j.fixres;

import java.util.Locale;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import org.fixres4j.model.ModelInfo;
import org.fixres4j.transform.FixResFinetuneTransform;
import org.fixres4j.transform.SampleTransform;
import org.fixres4j.transform.TimmEvalTransform;

/**
 * The settings of a FixRes fine-tuning run ({@link Finetuner}). Defaults are the FixRes protocol: only the classifier
 * trained, {@code bn2} in train mode (batch statistics; running statistics re-estimated; affine frozen), the rest
 * frozen in eval mode; label smoothing 0.1; SGD momentum 0.9, weight decay 1e-4; the FixRes fine-tuning augmentation
 * (flip + shifted centre crop) at the test resolution.
 */
public final class FinetuneConfig extends RunConfig<FinetuneConfig> {
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

    Mode mode = Mode.CLASSIFIER;
    Augment augment = Augment.FIXRES;
    double momentum = 0.9;
    double weightDecay = 1e-4;
    /** @param resolution the test resolution K_test to fine-tune at */
    public FinetuneConfig(int resolution) {
        super(1, 32, 1e-3, 0, 0);
        resolution(resolution);
    }

    public FinetuneConfig mode(Mode m) {
        mode = java.util.Objects.requireNonNull(m);
        return this;
    }

    public FinetuneConfig augment(Augment a) {
        augment = java.util.Objects.requireNonNull(a);
        return this;
    }

    public FinetuneConfig batchSize(int n) {
        if (n < 2) {
            throw new IllegalArgumentException("batch size must be >= 2 (bn2 uses batch statistics), got " + n);
        }
        batchSize = n;
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

    public Mode mode() {
        return mode;
    }

    /** The training transform at the test resolution for a model described by {@code info}. */
    public SampleTransform transform(ModelInfo info) {
        return augment == Augment.FIXRES
                ? new FixResFinetuneTransform(resolution, 0.5, info.normalization())
                : testTransform(info, resolution);
    }

    /** The model's test transform at {@code res}: timm's eval transform with the model's crop_pct, filter, mean/std. */
    public static TimmEvalTransform testTransform(ModelInfo info, int res) {
        return new TimmEvalTransform(res, info.cropPct(), info.interpolation(), info.normalization());
    }

    @Override
    TrainOptimizer.Settings optimizer() {
        return new TrainOptimizer.Settings(TrainOptimizer.Kind.SGD, momentum, weightDecay, false, 0.9, 1e-3);
    }

    @Override
    Record augmentation() {
        return new Augmentation(mode.spelling(), augment.name().toLowerCase(Locale.ROOT));
    }

    /** What is trained and how the images are augmented, in the run's identity. */
    @JsonPropertyOrder({"mode", "augment"})
    record Augmentation(String mode, String augment) {}
}

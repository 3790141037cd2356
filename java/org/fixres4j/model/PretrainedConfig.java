package org.fixres4j.model;

import java.util.Objects;

import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.TimmEvalTransform;

/**
 * One of timm's pretrained configurations ({@code default_cfgs} of {@code timm/models/efficientnet.py}, timm 0.9.16):
 * what a set of published weights expects at evaluation time.
 *
 * @param architecture the timm architecture, e.g. {@code tf_efficientnet_b0}
 * @param tag the weights tag, e.g. {@code ap_in1k}
 * @param inputSize the (square) evaluation input size
 * @param testInputSize timm's {@code test_input_size} (what {@code validate.py} uses by default), or 0 if none
 * @param cropPct the eval crop fraction
 * @param interpolation the eval resize filter
 * @param normalization the input mean / std (AdvProp {@code _ap} weights: 0.5 / 0.5)
 * @param numClasses the classifier size of the weights
 * @param cropMode timm's crop_mode ({@code center}, or {@code squash} for one native B5)
 * @param url the legacy download URL, or "" if none
 * @param hfHub whether the weights are on the Hugging Face hub as {@link #hfHubId()}
 */
public record PretrainedConfig(String architecture, String tag, int inputSize, int testInputSize, double cropPct,
                               Interpolation interpolation, Normalization normalization, int numClasses,
                               String cropMode, String url, boolean hfHub) {

    /** Validates. */
    public PretrainedConfig {
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(tag, "tag");
        Objects.requireNonNull(interpolation, "interpolation");
        Objects.requireNonNull(normalization, "normalization");
        Objects.requireNonNull(cropMode, "cropMode");
        Objects.requireNonNull(url, "url");
        if (inputSize < 1 || testInputSize < 0 || !(cropPct > 0) || numClasses < 1) {
            throw new IllegalArgumentException("bad pretrained config for " + architecture + "." + tag);
        }
    }

    /** {@code architecture.tag}. */
    public String name() {
        return architecture + "." + tag;
    }

    /** The Hugging Face hub repository ({@code timm/<architecture>.<tag>}), or null. */
    public String hfHubId() {
        return hfHub ? "timm/" + name() : null;
    }

    /** Whether the weights use the Inception statistics (mean = std = 0.5, inputs in [-1, 1]). */
    public boolean isInceptionNormalized() {
        return normalization.equals(Normalization.INCEPTION);
    }

    /** The architecture with this config's class count. */
    public EfficientNetSpec spec() {
        return EfficientNetSpec.of(architecture).withNumClasses(numClasses);
    }

    /** The input size timm's validate.py uses: {@link #testInputSize()} when set, else {@link #inputSize()}. */
    public int evalInputSize() {
        return testInputSize > 0 ? testInputSize : inputSize;
    }

    /**
     * timm's eval transform at {@link #inputSize()} (crop_pct, interpolation, mean/std of this config).
     *
     * @throws UnsupportedOperationException for crop_mode 'squash' (not a centre crop)
     */
    public TimmEvalTransform evalTransform() {
        return evalTransform(inputSize);
    }

    /** timm's eval transform at another resolution (e.g. a FixRes test size) with this config's other settings. */
    public TimmEvalTransform evalTransform(int res) {
        if (!"center".equals(cropMode)) {
            throw new UnsupportedOperationException(name() + " uses crop_mode '" + cropMode
                    + "'; only timm's centre crop is implemented");
        }
        return new TimmEvalTransform(res, cropPct, interpolation, normalization);
    }
}

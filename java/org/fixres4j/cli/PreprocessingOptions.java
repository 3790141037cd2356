package org.fixres4j.cli;

import org.fixres4j.model.EvalPreprocessing;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;

import picocli.CommandLine.Option;

/**
 * The eval preprocessing overrides of every command that runs a model (predict, logits, eval, recommend): one help
 * text and one rule each, turned into {@link EvalPreprocessing.Overrides}; the model's configuration gives what is
 * not overridden ({@link org.fixres4j.model.ModelSource#preprocessing}).
 */
final class PreprocessingOptions {
    @Option(names = "--crop-pct", paramLabel = "P",
            description = "timm crop_pct: shorter side resized to floor(R / P) before the centre crop, in (0, 4] "
                    + "(default: the model's; --resize-mode timm only).")
    Double cropPct;

    @Option(names = "--resize-mode", paramLabel = "M", defaultValue = "timm",
            description = "timm (timm's eval transform: shorter side to floor(R / crop_pct), centre crop) or fixres "
                    + "(the FixRes repository's test transform: height to int(256/224 R), bilinear); "
                    + "default: ${DEFAULT-VALUE}.")
    String resizeMode;

    @Option(names = "--interpolation", paramLabel = "I",
            description = "bicubic, bilinear or nearest (default: the model's; fixres: bilinear).")
    String interpolation;

    @Option(names = "--mean", paramLabel = "a,b,c", description = "Mean, RGB (default: the model's).")
    String mean;

    @Option(names = "--std", paramLabel = "a,b,c", description = "Std, RGB (default: the model's).")
    String std;

    /** The resize rule asked for. */
    EvalPreprocessing.ResizeMode mode() {
        return EvalPreprocessing.ResizeMode.parse(resizeMode);
    }

    /** The overrides, at {@code resolution} (null: the model's input size). */
    EvalPreprocessing.Overrides overrides(Integer resolution) {
        EvalPreprocessing.ResizeMode mode = mode();
        if (cropPct != null) {
            EvalPreprocessing.checkCropPct(cropPct, "--crop-pct");
        }
        if (resolution != null) {
            EvalPreprocessing.checkResolution(resolution, "--res");
        }
        Normalization norm = null;
        if (mean != null || std != null) {
            if (mean == null || std == null) {
                throw new IllegalArgumentException("--mean and --std go together");
            }
            norm = Normalization.parse(mean, std);
        }
        return new EvalPreprocessing.Overrides(resolution, cropPct,
                interpolation == null ? null : Interpolation.parse(interpolation), norm, mode);
    }
}

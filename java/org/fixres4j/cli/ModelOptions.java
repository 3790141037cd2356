package org.fixres4j.cli;

import java.nio.file.Path;

import org.fixres4j.classify.Classifier;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options shared by the commands that run a model: which model, its weights, and its preprocessing. */
final class ModelOptions {
    @Mixin
    ImageOptions imageOptions;

    @Option(names = {"--arch", "--model"}, paramLabel = "A",
            description = "timm model name (--model is timm's spelling); optional for model files of fixres train / "
                    + "finetune, whose metadata describes them: tf_efficientnet_b0 ... b8, tf_efficientnet_l2, efficientnet_b0 ... b8, "
                    + "with a tag (tf_efficientnet_b0.ap_in1k) or a legacy alias (tf_efficientnet_b0_ap).")
    String arch;

    @Option(names = "--weights", required = true, paramLabel = "FILE",
            description = ".safetensors or torch.save .pth/.bin (never executed: read by an allow-list unpickler).")
    Path weights;

    @Option(names = {"--res", "--img-size"}, paramLabel = "R",
            description = "Test resolution (default: the model's input size).")
    Integer res;

    @Option(names = "--crop-pct", paramLabel = "P", description = "timm crop_pct (default: the model's).")
    Double cropPct;

    @Option(names = "--interpolation", paramLabel = "I", description = "bicubic, bilinear or nearest "
            + "(default: the model's).")
    String interpolation;

    @Option(names = "--mean", paramLabel = "a,b,c", description = "Mean, RGB (default: the model's).")
    String mean;

    @Option(names = "--std", paramLabel = "a,b,c", description = "Std, RGB (default: the model's).")
    String std;

    @Option(names = "--resize-mode", paramLabel = "M", defaultValue = "timm",
            description = "timm (shorter side to floor(R/crop_pct) + centre crop) or fixres (the FixRes repository's "
                    + "test transform); default: ${DEFAULT-VALUE}.")
    String resizeMode;

    @Option(names = {"-b", "--batch"}, paramLabel = "B", defaultValue = "8", description = "Batch size (default: 8).")
    int batch;

    @Option(names = "--threads", paramLabel = "T",
            description = "Threads for preprocessing and libtorch (default: all processors).")
    Integer threads;

    @Option(names = "--plain", description = "Run the plain module instead of the BN-folded fast path.")
    boolean plain;

    @Option(names = "--channels-last", description = "Run the model in channels-last (NHWC) memory format. The "
            + "fast path always does; this converts the plain module (--plain) too.")
    boolean channelsLast;

    Classifier.Options toOptions() {
        Threads.check("--threads", threads);
        Classifier.Options o = new Classifier.Options().batchSize(batch).fast(!plain).channelsLast(channelsLast);
        if (res != null) {
            o.resolution(res);
        }
        if (cropPct != null) {
            o.cropPct(cropPct);
        }
        if (interpolation != null) {
            o.interpolation(Interpolation.parse(interpolation));
        }
        if (mean != null || std != null) {
            if (mean == null || std == null) {
                throw new IllegalArgumentException("--mean and --std go together");
            }
            o.normalization(Normalization.parse(mean, std));
        }
        switch (resizeMode) {
            case "timm" -> o.fixresResize(false);
            case "fixres" -> o.fixresResize(true);
            default -> throw new IllegalArgumentException("--resize-mode must be timm or fixres, got '" + resizeMode
                    + "'");
        }
        if (threads != null) {
            o.threads(threads);
        }
        return o;
    }

    /** Loads the classifier; sets libtorch's thread count when --threads is given. */
    Classifier load() throws java.io.IOException {
        Classifier.Options o = toOptions();
        if (!java.nio.file.Files.isRegularFile(weights)) {
            throw new IllegalArgumentException("no such weights file: " + weights);
        }
        Classifier c;
        if (arch == null) {
            if (org.fixres4j.fixres.Checkpoint.readInfo(weights) == null) {
                throw new IllegalArgumentException(weights + " has no FixRes4J model metadata (it was not written by "
                        + "fixres train or finetune): name its architecture with --arch, a timm name such as "
                        + "tf_efficientnet_b0.ap_in1k");
            }
            c = Classifier.load(weights, o);
        } else {
            c = Classifier.load(arch, weights, o);
        }
        if (threads != null) {
            org.fixres4j.torch.Torch.setThreads(threads);
        }
        return c;
    }
}

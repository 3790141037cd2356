package org.fixres4j.cli;

import org.fixres4j.fixres.RunConfig;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The run options that train and finetune share, mapped onto {@link RunConfig}: the LR schedule, label smoothing,
 * training subset, the seed ({@link SeedOption}, shared with eval and recommend) and the batch and threads
 * ({@link ComputeOptions}, shared with every command that runs a model), each with one help text and one default rule
 * (the epochs, LR, momentum and weight decay too; their defaults differ between training from scratch and fine-tuning,
 * and {@link CommandDefaults} holds both).
 */
final class RunOptions {
    @Option(names = "--epochs", paramLabel = "N", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--lr", paramLabel = "LR",
            description = "Peak learning rate, at the global batch (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--momentum", paramLabel = "M",
            description = "Momentum of SGD (or of RMSprop, train --opt rmsprop) (default: ${DEFAULT-VALUE}).")
    double momentum;

    @Option(names = "--weight-decay", paramLabel = "WD",
            description = "Weight decay: in train of conv and linear weights only (timm's recipe: biases and "
                    + "BatchNorm are not decayed), in finetune of all it trains (FixRes's) (default: "
                    + "${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--sched", defaultValue = "cosine", paramLabel = "S",
            description = "LR schedule: cosine, step or constant, per step (default: ${DEFAULT-VALUE}).")
    String sched;

    @Option(names = "--step-epochs", defaultValue = "30", paramLabel = "N",
            description = "StepLR period in epochs (FixRes: 30; default: ${DEFAULT-VALUE}).")
    int stepEpochs;

    @Option(names = "--gamma", defaultValue = "0.1", paramLabel = "G",
            description = "StepLR factor (default: ${DEFAULT-VALUE}).")
    double gamma;

    @Option(names = "--label-smoothing", defaultValue = "0.1", paramLabel = "E",
            description = "Label smoothing of the cross-entropy (default: ${DEFAULT-VALUE}).")
    double labelSmoothing;

    @Option(names = "--train-limit", defaultValue = "0", paramLabel = "N",
            description = "Train on a stratified subset of N training images (default: all).")
    int trainLimit;

    @Mixin
    SeedOption seedOption;

    @Mixin
    ComputeOptions compute;

    /** The seed (--seed). */
    long seed() {
        return seedOption.seed;
    }

    /** The batch (--batch, or the command's default). */
    int batch() {
        return compute.batch();
    }

    /** Checks --batch and --threads (before any work). */
    void validate() {
        compute.validate();
    }

    /**
     * Sets these options on a configuration: the schedule, label smoothing, seed and training subset, and --threads
     * only when given (the configuration's default otherwise). The command sets the batch ({@link #batch()}): each
     * kind of run checks it its own way.
     */
    <C extends RunConfig<C>> C applyTo(C cfg) {
        cfg.schedule(sched).step(stepEpochs, gamma).labelSmoothing(labelSmoothing).seed(seed()).trainLimit(trainLimit);
        if (compute.threads != null) {
            cfg.threads(compute.threads);
        }
        return cfg;
    }
}

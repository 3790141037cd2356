package org.fixres4j.cli;

import org.fixres4j.fixres.RunConfig;

import picocli.CommandLine.Option;

/**
 * The run options that train and finetune share, mapped onto {@link RunConfig}: the seed, threads, label smoothing,
 * training subset and the LR schedule, each with one help text and one default rule (the command's own LR, batch,
 * epochs and weight decay differ, so they stay with the command).
 */
final class RunOptions {
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

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
            description = "Seed of initialisation, order and augmentation (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--threads", paramLabel = "T", description = "Threads (default: processors - 1, at least 1).")
    Integer threads;

    /** Checks --threads (before any work). */
    void validate() {
        Threads.check("--threads", threads);
    }

    /** Sets these options on a configuration; --threads only when given (the configuration's default otherwise). */
    <C extends RunConfig<C>> C applyTo(C cfg) {
        cfg.schedule(sched).step(stepEpochs, gamma).labelSmoothing(labelSmoothing).seed(seed).trainLimit(trainLimit);
        if (threads != null) {
            cfg.threads(threads);
        }
        return cfg;
    }
}

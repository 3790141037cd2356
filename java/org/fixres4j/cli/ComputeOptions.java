package org.fixres4j.cli;

import picocli.CommandLine.Option;

/**
 * {@code --batch} and {@code --threads}, shared by the commands that run a model over images (eval, recommend,
 * predict, logits, train, finetune): one help text and one check each. The batch's default is the command's
 * ({@link CommandDefaults}); {@code --threads} left out keeps the command's default, named in its help.
 */
final class ComputeOptions {
    @Option(names = {"-b", "--batch"}, paramLabel = "B",
            description = "Images per batch: per forward pass, or per optimizer step in train and finetune (over all "
                    + "ranks) (default: ${DEFAULT-VALUE}).")
    Integer batch;

    @Option(names = "--threads", paramLabel = "T",
            description = "Threads for decoding, preprocessing and libtorch (default: all processors; train and "
                    + "finetune: processors - 1, at least 1, leaving one to the loader).")
    Integer threads;

    /** Checks both (before any work): --batch in 1..65536, --threads as {@link Threads#check} has it. */
    void validate() {
        int b = batch();
        if (b < 1 || b > 65536) {
            throw new IllegalArgumentException("--batch must be in 1..65536, got " + b);
        }
        Threads.check("--threads", threads);
    }

    /** The batch: given, or the command's default. */
    int batch() {
        if (batch == null) {
            throw new IllegalStateException("no default --batch for this command: add it to CommandDefaults");
        }
        return batch;
    }

    /** The threads given, or {@code otherwise}. */
    int threadsOr(int otherwise) {
        return threads != null ? threads : otherwise;
    }
}

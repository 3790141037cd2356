package org.fixres4j.cli;

import java.nio.file.Path;

import picocli.CommandLine.Option;

/** Where the per-epoch checkpoints of {@code train} and {@code finetune} go, and whether a run continues from them. */
final class CheckpointOptions {
    @Option(names = "--checkpoint-dir", paramLabel = "DIR", description = "Per-epoch checkpoints (default: OUT's "
            + "folder/checkpoints).")
    Path checkpointDir;

    @Option(names = "--resume", description = "Continue from the checkpoint in --checkpoint-dir.")
    boolean resume;

    /** {@code --checkpoint-dir}, or the folder {@code checkpoints} next to the output file. */
    Path dir(Path out) {
        return checkpointDir != null ? checkpointDir : out.toAbsolutePath().getParent().resolve("checkpoints");
    }

    /** The line a run prints when it continues from a checkpoint. */
    static void printResumed(int epochsDone, Path checkpoint) {
        System.out.printf("resumed after epoch %d from %s%n", epochsDone, checkpoint);
    }
}

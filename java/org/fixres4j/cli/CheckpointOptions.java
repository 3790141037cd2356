package org.fixres4j.cli;

import java.io.IOException;
import java.nio.file.Path;

import org.fixres4j.fixres.Checkpoint;

import picocli.CommandLine.Option;

/** Where the per-epoch checkpoints of {@code train} and {@code finetune} go, and whether a run continues from them. */
final class CheckpointOptions {
    @Option(names = "--checkpoint-dir", paramLabel = "DIR", description = "Per-epoch checkpoints (default: OUT's "
            + "folder/checkpoints).")
    Path checkpointDir;

    @Option(names = "--resume", description = "Continue from the checkpoint in --checkpoint-dir (an error when there "
            + "is none: see --resume-or-start).")
    boolean resume;

    @Option(names = "--resume-or-start", description = "Continue from the checkpoint in --checkpoint-dir when there "
            + "is one, else start from scratch (for a job that may be restarted).")
    boolean resumeOrStart;

    /** {@code --checkpoint-dir}, or the folder {@code checkpoints} next to the output file. */
    Path dir(Path out) {
        return checkpointDir != null ? checkpointDir : out.toAbsolutePath().getParent().resolve("checkpoints");
    }

    /**
     * Whether the run continues from a checkpoint in {@code dir}, if there is one.
     *
     * @throws UserException for {@code --resume} when {@code dir} holds no checkpoint (a wrong folder would otherwise
     *         silently train from scratch)
     */
    boolean resume(Path dir) throws IOException {
        if (resume && resumeOrStart) {
            throw new IllegalArgumentException("give --resume or --resume-or-start, not both");
        }
        if (resume && Checkpoint.find(dir) == null) {
            throw new UserException("--resume: there is no checkpoint in " + dir + " to continue from (check "
                    + "--checkpoint-dir; --resume-or-start starts from scratch when there is none)");
        }
        return resume || resumeOrStart;
    }

    /** The line a run prints when it continues from a checkpoint. */
    static void printResumed(int epochsDone, Path checkpoint) {
        System.out.printf("resumed after epoch %d from %s%n", epochsDone, checkpoint);
    }
}

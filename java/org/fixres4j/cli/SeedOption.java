package org.fixres4j.cli;

import picocli.CommandLine.Option;

/** {@code --seed}, shared by eval, recommend, train and finetune: one seed for every random choice of a run. */
final class SeedOption {
    @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
            description = "Seed of every random choice: the stratified subsets (--limit, --train-limit) "
                    + "and, in train and finetune, initialisation, data order and augmentation "
                    + "(default: ${DEFAULT-VALUE}).")
    long seed;
}

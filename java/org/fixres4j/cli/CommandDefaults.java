package org.fixres4j.cli;

import java.util.Map;

import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The defaults of shared options that legitimately differ between commands, in one table: the batch of
 * {@link ComputeOptions} (a forward pass of predict and logits is a handful of files; eval's fills the loader's
 * threads; train's and finetune's is the optimizer's step). A command whose {@code @Command} names this provider
 * gets them, and its help shows them as {@code ${DEFAULT-VALUE}}; every other option keeps its annotation's default.
 */
final class CommandDefaults implements IDefaultValueProvider {
    /** {@code --batch} by command name. */
    static final Map<String, String> BATCH = Map.of(
            "eval", "32",
            "recommend", "32",
            "predict", "8",
            "logits", "8",
            "train", "64",
            "finetune", "32");

    @Override
    public String defaultValue(ArgSpec arg) {
        if (arg instanceof OptionSpec o && o.longestName().equals("--batch") && arg.command() != null) {
            return BATCH.get(arg.command().name());
        }
        return null;
    }
}

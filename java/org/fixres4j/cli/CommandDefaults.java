package org.fixres4j.cli;

import java.util.Map;

import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The defaults of shared options that legitimately differ between commands, in one table: the batch of
 * {@link ComputeOptions} (a forward pass of predict and logits is a handful of files; eval's fills the loader's
 * threads; train's and finetune's is the optimizer's step) and the optimizer settings of {@link RunOptions} (training
 * from scratch against FixRes's short fine-tuning: timm's recipe and FixRes's). A command whose {@code @Command} names
 * this provider gets them, and its help shows them as {@code ${DEFAULT-VALUE}}; every other option keeps its
 * annotation's default.
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

    /** The defaults by option (its longest name), then by command name. */
    static final Map<String, Map<String, String>> BY_OPTION = Map.of(
            "--batch", BATCH,
            "--epochs", Map.of("train", "10", "finetune", "1"),
            "--lr", Map.of("train", "0.1", "finetune", "1e-3"),
            "--momentum", Map.of("train", "0.9", "finetune", "0.9"),
            "--weight-decay", Map.of("train", "5e-5", "finetune", "1e-4"));

    @Override
    public String defaultValue(ArgSpec arg) {
        if (arg instanceof OptionSpec o && arg.command() != null) {
            Map<String, String> byCommand = BY_OPTION.get(o.longestName());
            return byCommand == null ? null : byCommand.get(arg.command().name());
        }
        return null;
    }
}

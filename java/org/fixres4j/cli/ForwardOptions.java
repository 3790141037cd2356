package org.fixres4j.cli;

import picocli.CommandLine.Option;

/**
 * How the model's forward runs, shared by the commands that classify (eval, recommend, predict, logits): the
 * BN-folded fast path or the plain module, and the plain module's memory format.
 */
final class ForwardOptions {
    @Option(names = "--plain", description = "Run the plain module instead of the BN-folded fast path.")
    boolean plain;

    @Option(names = "--channels-last", description = "Run the model in channels-last (NHWC) memory format. The "
            + "fast path always does; this converts the plain module (--plain) too.")
    boolean channelsLast;
}

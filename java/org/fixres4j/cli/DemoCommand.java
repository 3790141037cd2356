package org.fixres4j.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;

/** {@code fixres demo}: the FixRes demo (being written); {@code fixres demo preprocess} is the preprocessing demo. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "The FixRes demo on Fashion-MNIST (in progress); 'demo preprocess' shows the input pipeline.",
        subcommands = {PreprocessDemoCommand.class})
final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.println("fixres demo: the FixRes demo is being written; run 'fixres demo preprocess' meanwhile");
        return 0;
    }
}

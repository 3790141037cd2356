package org.fixres4j.cli;

import java.util.List;

import org.fixres4j.kernels.Backends;
import org.fixres4j.kernels.Kernels;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fixres info}: the native build and which backends this machine can use. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the native build and which backends (CPU kernels, CUDA kernels, libtorch) are usable.")
final class InfoCommand implements Runnable {
    @Option(names = "--torch", description = "Also load libtorch and report it (takes a few seconds).")
    boolean torch;

    @Override
    public void run() {
        System.out.println("FixRes4J native kernels: " + Kernels.buildInfo());
        List<Backends.Backend> report = Backends.report(torch);
        System.out.printf("%-14s %-3s %s%n", "backend", "ok", "detail");
        for (Backends.Backend b : report) {
            System.out.println(b);
        }
        if (torch && report.stream().anyMatch(b -> b.name().equals("libtorch") && !b.available())) {
            throw new UserException("libtorch is not usable on this machine (see above)");
        }
    }
}

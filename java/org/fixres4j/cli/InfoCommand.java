package org.fixres4j.cli;

import java.util.List;

import org.fixres4j.kernels.Backends;
import org.fixres4j.kernels.Kernels;
import org.fixres4j.torch.CudaSupport;
import org.fixres4j.torch.Torch;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fixres info}: the native build and which backends this machine can use. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = {"Show the native build and which backends (CPU kernels, CUDA kernels, libtorch) are usable.",
            "Then each piece the CUDA path of libtorch needs (--device cuda): the GPU natives, the NVIDIA driver, "
                + "the CUDA libraries, with the file that is missing and what to install."})
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
        // libtorch's allocator: huge pages for blocks of 2 MB and more (the activations of a forward pass)
        System.out.println("libtorch CPU allocator, huge pages: " + (torch && Torch.isLoaded() ? Torch.hugePageReport()
                : Torch.hugePagePolicy()));
        System.out.println("malloc under libtorch: " + Torch.mallocReport());
        System.out.println();
        System.out.println("CUDA path of libtorch (--device cuda), piece by piece:");
        System.out.printf("%-14s %-3s %s%n", "piece", "ok", "detail");
        List<CudaSupport.Piece> pieces = CudaSupport.pieces(torch);
        for (CudaSupport.Piece p : pieces) {
            System.out.println(p);
        }
        if (!torch && pieces.stream().allMatch(CudaSupport.Piece::present)) {
            System.out.println("(every file is there: --torch also counts the devices)");
        }
        if (torch && report.stream().anyMatch(b -> b.name().equals("libtorch") && !b.available())) {
            throw new UserException("libtorch is not usable on this machine (see above)");
        }
    }
}

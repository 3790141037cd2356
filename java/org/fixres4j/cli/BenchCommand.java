package org.fixres4j.cli;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;

import org.fixres4j.model.ModelFile;
import org.fixres4j.bench.DepthwiseBench;
import org.fixres4j.bench.ModelBench;
import org.fixres4j.bench.PreprocessBench;
import org.fixres4j.io.Json;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fixres bench}: quick benchmark tables (the JMH suite in tests/jmh gives the rigorous figures). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Quick benchmarks: each pipeline against its named baseline, in the same run.",
        subcommands = {BenchCommand.Preprocess.class, BenchCommand.Model.class, BenchCommand.Depthwise.class})
final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "preprocess", mixinStandardHelpOptions = true,
            description = {"The fused preprocessing kernel against an OpenCV chain (resize, crop, cvtColor, split, "
                    + "convertTo) and Pillow 9.4 (timm's transform, timed by python3 in the same run), for a 500x375 "
                    + "photograph, single thread and all threads."})
    static final class Preprocess implements Callable<Integer> {
        @Option(names = "--json", description = "Print the report as JSON instead of a table.")
        boolean json;

        @Option(names = "--res", split = ",", paramLabel = "R", defaultValue = "224,320,600",
                description = "Output resolutions (default: ${DEFAULT-VALUE}).")
        int[] resolutions;

        @Option(names = "--seconds", paramLabel = "S", defaultValue = "1.0",
                description = "Measured seconds per row (default: ${DEFAULT-VALUE}).")
        double seconds;

        @Option(names = "--threads", paramLabel = "T",
                description = "Threads of the 'all threads' rows (default: all hardware threads).")
        Integer threads;

        @Override
        public Integer call() throws Exception {
            if (!(seconds > 0 && seconds <= 600)) {
                throw new IllegalArgumentException("--seconds must be in (0, 600], got " + seconds);
            }
            if (Arrays.stream(resolutions).anyMatch(r -> r < 16 || r > 4096)) {
                throw new IllegalArgumentException("--res values must be in 16..4096");
            }
            Threads.check("--threads", threads);
            int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
            Map<String, Object> report = new PreprocessBench(resolutions, seconds, n).run();
            System.out.println(json ? Json.writePretty(report) : PreprocessBench.table(report));
            return 0;
        }
    }

    @Command(name = "model", mixinStandardHelpOptions = true,
            description = {"EfficientNet inference, images/s: the plain libtorch module against the BN-folded "
                    + "channels-last fast path, timed interleaved in the same run (seeded random weights: speed does "
                    + "not depend on their values)."})
    static final class Model implements Callable<Integer> {
        @Option(names = "--json", description = "Print the report as JSON instead of a table.")
        boolean json;

        @Option(names = {"--arch", "--model"}, paramLabel = "A",
                description = "timm model name (--model is timm's spelling; default: " + ModelBench.DEFAULT_MODEL
                        + "; with --weights: optional for a model file of fixres train / finetune).")
        String arch;

        @Option(names = "--weights", paramLabel = "FILE",
                description = "Time these weights (.safetensors or .pth, as eval reads them) instead of seeded random "
                        + "ones.")
        java.nio.file.Path weights;

        @Option(names = {"--res", "--img-size"}, paramLabel = "R",
                description = "Input size (default: 224, or the input size in --weights' FixRes4J metadata).")
        Integer res;

        @Option(names = {"-b", "--batch"}, split = ",", paramLabel = "B", defaultValue = "1,8",
                description = "Batch sizes (default: ${DEFAULT-VALUE}).")
        int[] batches;

        @Option(names = "--threads", split = ",", paramLabel = "T", defaultValue = "1,2",
                description = "libtorch thread counts (default: ${DEFAULT-VALUE}).")
        int[] threads;

        @Option(names = "--seconds", paramLabel = "S", defaultValue = "3.0",
                description = "Measured seconds per row (default: ${DEFAULT-VALUE}).")
        double seconds;

        @picocli.CommandLine.Mixin
        AmpOptions amp;

        @Override
        public Integer call() throws java.io.IOException {
            if (!(seconds > 0 && seconds <= 600)) {
                throw new IllegalArgumentException("--seconds must be in (0, 600], got " + seconds);
            }
            if (res != null && (res < 32 || res > 1024)) {
                throw new IllegalArgumentException("--res must be in 32..1024, got " + res);
            }
            if (Arrays.stream(batches).anyMatch(b -> b < 1 || b > 256)
                    || Arrays.stream(threads).anyMatch(t -> t < 1 || t > 256)) {
                throw new IllegalArgumentException("--batch and --threads values must be in 1..256");
            }
            org.fixres4j.torch.Amp precision = amp.cpu();
            Map<String, Object> report;
            if (weights == null) {
                report = ModelBench.run(arch != null ? arch : ModelBench.DEFAULT_MODEL, res != null ? res
                        : ModelBench.DEFAULT_RES, batches, threads, seconds, precision);
            } else {
                org.fixres4j.model.ModelSource source = org.fixres4j.model.ModelSource.of(arch, weights);
                int r = res != null ? res : source.config().inputSize();
                if (r < 32 || r > 1024) {
                    throw new IllegalArgumentException("the input size of " + weights + " is " + r + ", outside "
                            + "32..1024: give --res");
                }
                report = ModelBench.run(source.name(), () -> {
                    try {
                        return source.load().model();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, r, batches, threads, seconds, precision);
                report.put("weights", weights.toString());
            }
            System.out.println(json ? Json.writePretty(report) : ModelBench.table(report));
            return 0;
        }
    }

    @Command(name = "depthwise", mixinStandardHelpOptions = true,
            description = {"Every depthwise layer of EfficientNet-B0 at 224: FixRes4J's fused kernel (NHWC, bias + SiLU "
                    + "+ SE sums) against libtorch's conv2d(groups=C) + SiLU + mean in NCHW and channels-last, timed "
                    + "interleaved in the same run; ms per layer, totals, speed-up, GB/s against copy bandwidth."})
    static final class Depthwise implements Callable<Integer> {
        @Option(names = "--json", description = "Print the report as JSON instead of a table.")
        boolean json;

        @Option(names = {"-b", "--batch"}, paramLabel = "B", defaultValue = "8",
                description = "Batch size (default: 8).")
        int batch;

        @Option(names = "--threads", split = ",", paramLabel = "T", defaultValue = "1,2",
                description = "Thread counts (default: ${DEFAULT-VALUE}).")
        int[] threads;

        @Option(names = "--seconds", paramLabel = "S", defaultValue = "0.6",
                description = "Measured seconds per path and layer (default: ${DEFAULT-VALUE}).")
        double seconds;

        @Override
        public Integer call() {
            if (!(seconds > 0 && seconds <= 600)) {
                throw new IllegalArgumentException("--seconds must be in (0, 600], got " + seconds);
            }
            if (batch < 1 || batch > 256 || Arrays.stream(threads).anyMatch(t -> t < 1 || t > 256)) {
                throw new IllegalArgumentException("--batch and --threads values must be in 1..256");
            }
            Map<String, Object> report = DepthwiseBench.run(DepthwiseBench.DEFAULT_MODEL, DepthwiseBench.DEFAULT_RES,
                    batch, threads, seconds);
            System.out.println(json ? Json.writePretty(report) : DepthwiseBench.table(report));
            return 0;
        }
    }
}

package org.fixres4j.cli;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;

import org.fixres4j.model.ModelFile;
import org.fixres4j.bench.DepthwiseBench;
import org.fixres4j.bench.EvalBench;
import org.fixres4j.bench.ModelBench;
import org.fixres4j.bench.PreprocessBench;
import org.fixres4j.io.Json;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code fixres bench}: quick benchmark tables (the JMH suite in tests/jmh gives the rigorous figures). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Quick benchmarks: each pipeline against its named baseline, in the same run.",
        subcommands = {BenchCommand.Preprocess.class, BenchCommand.Model.class, BenchCommand.Depthwise.class,
            BenchCommand.Eval.class})
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

        /**
         * The model, as every command takes it: --arch alone times seeded random weights (default
         * {@link ModelBench#DEFAULT_MODEL}); --weights times those weights.
         */
        @picocli.CommandLine.Mixin
        ModelArgs modelArgs;

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

        @Mixin
        DeviceOptions device;

        @Mixin
        AmpOptions amp;

        @Override
        public Integer call() throws java.io.IOException {
            org.fixres4j.torch.DeviceSpec dev = device.checked();
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
            org.fixres4j.torch.Amp precision = amp.on(dev.toString());
            Map<String, Object> report;
            String arch = modelArgs.arch();
            java.nio.file.Path weights = modelArgs.weights();
            if (dev.isCuda()) {
                // on the device: synchronised timings, no thread counts (--threads is not used)
                String name = arch != null ? arch : ModelBench.DEFAULT_MODEL;
                org.fixres4j.model.ModelSource source = weights == null ? null
                        : org.fixres4j.model.ModelSource.of(arch, weights);
                int r = res != null ? res : source != null ? source.config().inputSize() : ModelBench.DEFAULT_RES;
                if (r < 32 || r > 1024) {
                    throw new IllegalArgumentException("the input size is " + r + ", outside 32..1024: give --res");
                }
                report = source == null
                        ? org.fixres4j.bench.CudaModelBench.run(name, r, batches, seconds, precision, dev)
                        : org.fixres4j.bench.CudaModelBench.run(source.name(), () -> {
                            try {
                                return source.load().model();
                            } catch (java.io.IOException e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                        }, r, batches, seconds, precision, dev);
                if (weights != null) {
                    report.put("weights", weights.toString());
                }
            } else if (weights == null) {
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

    @Command(name = "eval", mixinStandardHelpOptions = true,
            description = {"Where eval's time goes, on one image folder, batch size and core count: the decoder alone, "
                    + "decode + preprocess, the model alone (fast path), eval end to end and their ratio; with --timm, "
                    + "timm's validate.py on the same folder, side by side. Without --data, a folder of 400 JPEGs "
                    + "(about 500x375, 4 classes) is generated from the bundled photograph (seeded)."})
    static final class Eval implements Callable<Integer> {
        @Option(names = "--json", description = "Print the report as JSON instead of a table.")
        boolean json;

        @Option(names = "--data", paramLabel = "DIR",
                description = "The image folder (one folder per class). A path that does not exist yet: the generated "
                        + "folder is written there and kept (default: generated in a temporary folder).")
        java.nio.file.Path data;

        @Option(names = "--images", paramLabel = "N", defaultValue = "400",
                description = "Images of the generated folder (default: ${DEFAULT-VALUE}).")
        int images;

        @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
                description = "Seed of the generated folder (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = {"--arch", "--model"}, paramLabel = "A", defaultValue = EvalBench.DEFAULT_MODEL,
                description = "timm model name, random weights (default: ${DEFAULT-VALUE}).")
        String arch;

        @Option(names = {"--res", "--img-size"}, paramLabel = "R",
                description = "Test resolution (default: the model's input size).")
        Integer res;

        @Option(names = {"-b", "--batch"}, paramLabel = "B", defaultValue = "32",
                description = "Images per batch (default: ${DEFAULT-VALUE}).")
        int batch;

        @Option(names = "--threads", paramLabel = "T",
                description = "Cores to use: the model alone's libtorch threads, split by eval between its loader "
                        + "and libtorch (default: all processors).")
        Integer threads;

        @Option(names = "--loader-threads", paramLabel = "N", description = "Override eval's loader threads.")
        Integer loaderThreads;

        @Option(names = "--compute-threads", paramLabel = "N", description = "Override eval's libtorch threads.")
        Integer computeThreads;

        @Option(names = "--overlap", paramLabel = "on|off",
                description = "Whether eval's loader loads during forward passes (on) or only between them (off; "
                        + "default: off where the loader and libtorch share cores).")
        String overlap;

        @Option(names = "--chunk", paramLabel = "N",
                description = "Run the end-to-end forward passes N images at a time (default: the whole batch, as eval "
                        + "does; logits may then differ in the last bit).")
        Integer chunk;

        @Option(names = "--repeats", paramLabel = "N", defaultValue = "3",
                description = "Timed end-to-end runs; the median is reported (default: ${DEFAULT-VALUE}).")
        int repeats;

        @Option(names = "--seconds", paramLabel = "S", defaultValue = "3.0",
                description = "Measured seconds of the model alone (default: ${DEFAULT-VALUE}).")
        double seconds;

        @Option(names = "--baseline", description = "Also time eval as it ran before the pipeline split: T loader and "
                + "T libtorch threads, the whole batch per forward pass.")
        boolean baseline;

        @Option(names = "--timm", paramLabel = "DIR",
                description = "A timm source tree (e.g. timm 0.9.16) with validate.py: run it on the same folder "
                        + "(put on PYTHONPATH; Pillow DataLoader; random weights) and report eval / timm.")
        java.nio.file.Path timm;

        @Option(names = "--python", paramLabel = "EXE",
                description = "The Python that runs timm (needs torch and Pillow; default: /usr/bin/python3, "
                        + "Debian's, where it exists, else python3 on PATH).")
        String python;

        @Option(names = "--timm-workers", paramLabel = "N", defaultValue = "2",
                description = "validate.py's DataLoader workers (-j; default: ${DEFAULT-VALUE}).")
        int timmWorkers;

        @Mixin
        AmpOptions amp;

        @Override
        public Integer call() throws Exception {
            Threads.check("--threads", threads);
            Threads.check("--loader-threads", loaderThreads);
            Threads.check("--compute-threads", computeThreads);
            if (res != null && (res < 32 || res > 1024)) {
                throw new IllegalArgumentException("--res must be in 32..1024, got " + res);
            }
            if (data != null && java.nio.file.Files.exists(data) && !java.nio.file.Files.isDirectory(data)) {
                throw new IllegalArgumentException("--data is not a folder: " + data);
            }
            int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
            EvalBench.Options o = new EvalBench.Options(data, images, seed, arch, res, batch, t, loaderThreads,
                    computeThreads, chunk, repeats, seconds, baseline, timm,
                    python != null ? python : java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/bin/python3"))
                            ? "/usr/bin/python3" : "python3", timmWorkers, amp.cpu(), overlap == null ? null
                            : switch (overlap) {
                                case "on" -> Boolean.TRUE;
                                case "off" -> Boolean.FALSE;
                                default -> throw new IllegalArgumentException("--overlap must be on or off, got '"
                                        + overlap + "'");
                            });
            Map<String, Object> report = EvalBench.run(o, System.err);
            System.out.println(json ? Json.writePretty(report) : EvalBench.table(report));
            return 0;
        }
    }
}

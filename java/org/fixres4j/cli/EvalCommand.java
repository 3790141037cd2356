package org.fixres4j.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import org.fixres4j.data.Dataset;
import org.fixres4j.data.EvalPipeline;
import org.fixres4j.data.LabelledData;
import org.fixres4j.dist.Collective;
import org.fixres4j.fixres.Sweep;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.EvalPreprocessing;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.model.ModelSource;
import org.fixres4j.model.PretrainedConfig;
import org.fixres4j.report.EvalReportBuilder;
import org.fixres4j.report.Plot;
import org.fixres4j.report.ProgressBar;
import org.fixres4j.report.Reports;
import org.fixres4j.torch.DeviceSpec;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.SampleTransform;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code fixres eval}: top-1 / top-5 (and ReaL) accuracy of an EfficientNet on a labelled dataset at one or several
 * test resolutions, each image decoded once ({@link Sweep}); a table on stdout, JSON + CSV results with the full
 * configuration, an accuracy-vs-resolution PNG.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        defaultValueProvider = CommandDefaults.class,
        description = {"Evaluate an EfficientNet on a labelled dataset at one or more test resolutions.",
            "Top-1 and top-5 (and ImageNet ReaL top-1/top-5 with --real-labels) per resolution; a sweep over several "
                + "resolutions decodes each image once. Unreadable images are counted, listed in the results and "
                + "skipped (--strict stops at the first one).",
            "Progress goes to stderr, the results table to stdout."})
final class EvalCommand implements Callable<Integer> {
    @Mixin
    ModelArgs model;

    @Option(names = "--data", required = true, paramLabel = "DIR",
            description = "The dataset: a folder (imagefolder, imagenetv2, fashion-mnist) or a CSV file (csv).")
    Path data;

    @Mixin
    DataOptions dataOptions;

    @Option(names = {"--res", "--img-size"}, split = ",", paramLabel = "R",
            description = "Test resolutions, e.g. 224,256,288,320 (default: the model's input size).")
    List<Integer> res;

    @Mixin
    PreprocessOptions pre;

    @Option(names = {"--out", "--results-file"}, paramLabel = "FILE.json",
            description = "Write the results and the full configuration as JSON, and as CSV next to it "
                    + "(results.json -> results.csv).")
    Path out;

    @Option(names = "--csv", paramLabel = "FILE.csv", description = "Write the CSV here instead (also without --out).")
    Path csv;

    @Option(names = "--plot", paramLabel = "FILE.png",
            description = "Plot top-1 against test resolution as a PNG, with K_train marked.")
    Path plot;

    @Option(names = "--k-train", paramLabel = "K",
            description = "The training resolution to mark on the plot (default: the model's input size).")
    Integer kTrain;

    @Mixin
    DistOptions dist;

    @Mixin
    DeviceOptions device;

    @Mixin
    AmpOptions amp;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        DeviceSpec dev = device.checked();
        ModelSource source = model.source();
        PretrainedConfig cfg = source.config();
        List<Integer> resolutions = resolutions(res, cfg.inputSize());
        EvalPreprocessing preprocessing = pre.preprocessing(source);
        List<SampleTransform> transforms = preprocessing.transforms(resolutions);
        checkOutputs(out, csv, plot);
        if (kTrain != null && kTrain < 1) {
            throw new IllegalArgumentException("--k-train must be >= 1, got " + kTrain);
        }
        pre.validate();
        org.fixres4j.torch.Amp precision = amp.on(device.device.toString());

        // with torchrun's variables (or fixres launch) each rank scores its shard; rank 0 reports the whole
        try (Collective ranks = dist.connect()) {
            if (ranks.worldSize() > 1) {
                dev = device.forLocalRank(dist.config().localRank()); // one device per process of a machine
            }
            boolean main = ranks.isMain();
            PrintStream log = main ? System.err : new PrintStream(OutputStream.nullOutputStream());
            Opened opened = open(data, dataOptions, source, pre, log, dev);
            try (LoadedModel loaded = opened.model) {
                loaded.amp(precision);
                Map<String, Object> config = config("eval", spec, source, loaded, opened, pre, preprocessing,
                        transforms);
                if (precision.enabled()) {
                    config.put("amp", precision.label());
                }
                log.printf(Locale.ROOT, "fixres eval: %s on %s, resolution%s %s%s%n", source.name(),
                        opened.dataset().describe(), resolutions.size() == 1 ? "" : "s", join(resolutions),
                        ranks.worldSize() > 1 ? ", shared by " + ranks.worldSize() + " ranks" : "");
                Sweep.Result result = sweep(opened, loaded, transforms, pre, main ? "eval" : null, ranks, dev);
                if (main) {
                    Map<String, Sweep.Result> series = new LinkedHashMap<>();
                    series.put("eval", result);
                    System.out.print(Reports.table(series));
                    System.out.flush();
                    System.err.print(Reports.failureLines(result.failures(), 10));
                    writeOutputs(config, series, null, out, csv, plot, source.name() + " on " + dataName(data),
                            kTrain != null ? kTrain : cfg.inputSize(), List.of());
                }
                if (result.evaluated() == 0) {
                    throw new IOException("none of the " + result.datasetSize() + " images could be read (first: "
                            + result.failures().get(0) + ")");
                }
            }
        }
        return 0;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Shared with RecommendCommand
    // ------------------------------------------------------------------------------------------------------------

    /** How the dataset is read and limited. */
    static final class DataOptions {
        @Mixin
        ImageOptions imageOptions;

        @Option(names = "--layout", paramLabel = "L", defaultValue = "imagefolder",
                description = "imagefolder (one folder per class, sorted names), imagenetv2 (folders 0..999 = class "
                        + "index), fashion-mnist (IDX files), csv (path,label rows); default: ${DEFAULT-VALUE}.")
        String layout;

        @Option(names = "--class-list", paramLabel = "FILE",
                description = "Class names, one per line, in the model's class order (e.g. the 1000 ImageNet "
                        + "synsets): folder / CSV names are looked up in it, so a subset of the classes keeps the "
                        + "model's labels.")
        Path classList;

        @Option(names = "--split", paramLabel = "S", defaultValue = "test",
                description = "fashion-mnist: test or train (default: ${DEFAULT-VALUE}).")
        String split;

        @Option(names = "--real-labels", paramLabel = "real.json",
                description = "ImageNet ReaL labels (real.json): also report ReaL top-1/top-5; files must be named "
                        + "ILSVRC2012_val_NNNNNNNN.JPEG.")
        Path realLabels;

        @Option(names = "--limit", paramLabel = "N", description = "Evaluate N images only (see --limit-mode).")
        Integer limit;

        @Option(names = "--limit-mode", paramLabel = "M", defaultValue = "stratified",
                description = "stratified (N images spread over the classes, seeded) or first; "
                        + "default: ${DEFAULT-VALUE}.")
        String limitMode;

        @Mixin
        SeedOption seed;

        /** The dataset description these options give. */
        LabelledData.Spec spec() {
            return new LabelledData.Spec(layout, classList, split, realLabels, limit, limitMode, seed.seed);
        }
    }

    /** How images are preprocessed and the model is run. */
    static final class PreprocessOptions {
        @Mixin
        PreprocessingOptions preprocessing;

        @Mixin
        ComputeOptions compute;

        @Option(names = "--strict", description = "Stop at the first image that cannot be read (exit 1, naming it).")
        boolean strict;

        @Option(names = "--allow-nonfinite", description = "Count images whose logits hold NaN/Inf as wrong and "
                + "report them (nonfinite_rows) instead of stopping with an error.")
        boolean allowNonFinite;

        @Mixin
        ForwardOptions forward;

        @Option(names = "--streams", paramLabel = "N", description = "CPU fast path: cut each batch into N slices run "
                + "at once, each on its own thread(s) (default: one per compute thread in bf16, else 1: one pass with "
                + "libtorch's threads inside each operator; float32 logits then stay timm's).")
        Integer streams;

        @Option(names = "--progress", paramLabel = "M", defaultValue = "auto",
                description = "auto (a bar on a terminal, one line per 5%% otherwise), bar, lines or off; "
                        + "default: ${DEFAULT-VALUE}.")
        String progress;

        void validate() {
            compute.validate();
            ProgressBar.Mode.parse(progress);
            preprocessing.mode();
        }

        /** How {@code --threads} (default: all processors) is split between the loader and the model. */
        EvalPipeline.Split split() {
            return EvalPipeline.split(compute.threadsOr(Math.max(1, Runtime.getRuntime().availableProcessors())));
        }

        /** The model's eval preprocessing with these overrides (the resolution is the sweep's). */
        EvalPreprocessing preprocessing(ModelSource source) {
            return source.preprocessing(preprocessing.overrides(null));
        }
    }

    /** A model with its weights, in eval mode, fused unless plain, on its device. */
    static final class LoadedModel implements AutoCloseable {
        final EfficientNet model;
        FastEfficientNet fast;
        final int numClasses;
        /** Where the model runs; the plain module's autocast ({@link #fn()}) is for this device. */
        final DeviceSpec device;
        org.fixres4j.torch.Amp amp = org.fixres4j.torch.Amp.NONE;
        /** --streams (null: {@link EvalPipeline#streams}'s default); the streams themselves, made on first use. */
        Integer streamsOption;
        private org.fixres4j.model.BatchStreams streams;

        LoadedModel(EfficientNet model, FastEfficientNet fast) {
            this(model, fast, DeviceSpec.CPU);
        }

        LoadedModel(EfficientNet model, FastEfficientNet fast, DeviceSpec device) {
            this.model = model;
            this.fast = fast;
            this.numClasses = model.spec().numClasses();
            this.device = device;
        }

        /** The model as the sweep calls it: the place an autocast for {@link #device}'s type wraps. */
        Sweep.ModelFn fn() {
            if (fast == null && amp.enabled()) {
                org.fixres4j.torch.Amp a = amp;
                String on = device.toString();
                return x -> org.fixres4j.torch.AmpScope.forward(a, on, model::forward, x);
            }
            if (fast == null) {
                return model::forward;
            }
            int n = streamCount();
            if (n <= 1) {
                return fast::forward;
            }
            int threads = org.fixres4j.kernels.ComputeThreads.get();
            if (streams == null || streams.streams() != n || streams.threadsPerStream() != threads / n) {
                if (streams != null) {
                    streams.close();
                }
                streams = org.fixres4j.model.BatchStreams.of(threads, n);
            }
            FastEfficientNet f = fast;
            return streams.over(f::forward)::apply;
        }

        /**
         * The streams {@link #fn()}'s forward passes run on: {@link EvalPipeline#streams} for the fast path on the
         * CPU at the current compute threads, else 1 (one pass).
         */
        int streamCount() {
            if (fast == null || device.isCuda()) {
                return 1;
            }
            return EvalPipeline.streams(amp == org.fixres4j.torch.Amp.BF16, org.fixres4j.kernels.ComputeThreads.get(),
                    streamsOption);
        }

        /** Runs in this precision from now on (the fast path is folded again in it; --amp). */
        void amp(org.fixres4j.torch.Amp a) {
            if (a == amp) {
                return;
            }
            if (fast != null) {
                FastEfficientNet f = FastEfficientNet.fuse(model, a);
                fast.close();
                fast = f;
            }
            amp = a;
        }

        @Override
        public void close() {
            if (streams != null) {
                streams.close();
            }
            if (fast != null) {
                fast.close();
            }
            model.close();
        }
    }

    /** The dataset (limited, with its ReaL labels) and the model. */
    record Opened(LabelledData data, LoadedModel model) {
        Dataset dataset() {
            return data.dataset();
        }
    }

    /**
     * Loads the model strictly through the one loader, {@link ModelSource#load()}: from the file's metadata when it
     * has FixRes4J's (checked against {@code --arch} when given), else from the timm name with the class count and
     * input channels of the weights.
     */
    static LoadedModel loadModel(ModelSource source, boolean plain) throws IOException {
        return loadModel(source, plain, false);
    }

    /** {@link #loadModel(ModelSource, boolean)}, the plain module converted to channels-last when asked. */
    static LoadedModel loadModel(ModelSource source, boolean plain, boolean channelsLast) throws IOException {
        return loadModel(source, plain, channelsLast, DeviceSpec.CPU);
    }

    /** {@link #loadModel(ModelSource, boolean, boolean)} on {@code device} (moved there before folding). */
    static LoadedModel loadModel(ModelSource source, boolean plain, boolean channelsLast, DeviceSpec device)
            throws IOException {
        if (!Files.isRegularFile(source.weights())) {
            throw new IllegalArgumentException("no such weights file: " + source.weights());
        }
        Torch.ensureLoaded();
        EfficientNet m = source.load().model();
        try {
            m.eval();
            if (device.isCuda()) {
                m.to(device.torchDevice(), false);
            }
            if (plain && channelsLast) {
                m.toChannelsLast();
            }
            return new LoadedModel(m, plain ? null : FastEfficientNet.fuse(m), device);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * Opens the dataset ({@link LabelledData#open}: labels mapped onto the model's class names from its metadata
     * unless a class list is given), then loads the model and checks that its classifier covers the dataset's
     * classes.
     */
    static Opened open(Path data, DataOptions d, ModelSource source, PreprocessOptions pre, PrintStream warn)
            throws IOException {
        return open(data, d, source, pre, warn, DeviceSpec.CPU);
    }

    /** {@link #open(Path, DataOptions, ModelSource, PreprocessOptions, PrintStream)} with the model on a device. */
    static Opened open(Path data, DataOptions d, ModelSource source, PreprocessOptions pre, PrintStream warn,
                       DeviceSpec device) throws IOException {
        LabelledData ld = LabelledData.open(data, d.spec(), source.classNames(), source.weights(), warn);
        Dataset ds = ld.dataset();
        LoadedModel model = loadModel(source, pre.forward.plain, pre.forward.channelsLast, device);
        if (ds.numClasses() > model.numClasses) {
            model.close();
            throw new IllegalArgumentException("the dataset has " + ds.numClasses() + " classes but the model's "
                    + "classifier has " + model.numClasses + " (" + ds.describe() + ")");
        }
        if (ld.layout().equals("imagefolder") && !ld.classList() && model.numClasses == 1000
                && ds.numClasses() < 1000) {
            warn.println("fixres: warning: " + ds.numClasses() + " class folders for a 1000-class model: label c is "
                    + "the c-th folder in sorted order; for a subset of ImageNet pass --class-list with the 1000 "
                    + "synsets");
        }
        // the cores asked for (all by default), split between the loader and libtorch's threads (EvalPipeline)
        org.fixres4j.kernels.ComputeThreads.set(pre.split().computeThreads());
        EvalPipeline.streams(false, 1, pre.streams); // refuses --streams 0 before the sweep
        model.streamsOption = pre.streams;
        return new Opened(ld, model);
    }

    /** Runs the sweep with a progress bar on stderr. */
    static Sweep.Result sweep(Opened o, LoadedModel model, List<SampleTransform> transforms, PreprocessOptions pre,
                              String label) throws IOException {
        return sweep(o, model, transforms, pre, label, null);
    }

    /**
     * Runs the sweep with a progress bar on stderr (none when {@code label} is null), shared by the ranks of
     * {@code ranks} (null: this process alone).
     */
    static Sweep.Result sweep(Opened o, LoadedModel model, List<SampleTransform> transforms, PreprocessOptions pre,
                              String label, Collective ranks) throws IOException {
        return sweep(o, model, transforms, pre, label, ranks, DeviceSpec.CPU);
    }

    /** {@link #sweep(Opened, LoadedModel, List, PreprocessOptions, String, Collective)} on {@code device}. */
    static Sweep.Result sweep(Opened o, LoadedModel model, List<SampleTransform> transforms, PreprocessOptions pre,
                              String label, Collective ranks, DeviceSpec device) throws IOException {
        ProgressBar bar = new ProgressBar("fixres " + (label == null ? "" : label),
                label == null ? ProgressBar.Mode.OFF : ProgressBar.Mode.parse(pre.progress));
        return Sweep.over(o.dataset(), transforms)
                .collective(ranks)
                .device(device)
                .batchSize(pre.compute.batch())
                .threads(pre.split().loaderThreads())
                .overlap(pre.split().overlap())
                .strict(pre.strict)
                .allowNonFinite(pre.allowNonFinite)
                .realLabels(o.data().real())
                .progress(bar)
                .run(model.fn());
    }

    /** The configuration block of the reports ({@link EvalReportBuilder#config}). */
    static Map<String, Object> config(String command, CommandLine.Model.CommandSpec spec, ModelSource source,
                                      LoadedModel model, Opened o, PreprocessOptions pre,
                                      EvalPreprocessing preprocessing, List<SampleTransform> transforms)
            throws IOException {
        List<String> argv = new ArrayList<>();
        if (spec != null && spec.commandLine().getParseResult() != null) {
            argv.addAll(spec.commandLine().getParseResult().originalArgs());
        }
        return EvalReportBuilder.config(command, argv, source,
                new EvalReportBuilder.RunModel(model.numClasses, model.model.parameterCount(), model.fast != null,
                        model.fast != null || model.model.isChannelsLast()),
                o.data(), preprocessing, transforms, new EvalReportBuilder.RunSettings(pre.compute.batch(),
                        pre.compute.threads, pre.strict,
                        org.fixres4j.model.BatchStreams.used(model.streamCount(), pre.compute.batch())));
    }

    /** Writes JSON (+ CSV next to it), the CSV alone, and the plot, as asked ({@link EvalReportBuilder}). */
    static void writeOutputs(Map<String, Object> config, Map<String, Sweep.Result> series,
                             Map<String, Object> extra, Path out, Path csv, Path plot, String title, int kTrain,
                             List<Plot.Marker> markers) throws IOException {
        EvalReportBuilder.writeOutputs(config, series, extra, out, csv, plot, title, kTrain, markers);
    }

    /** The resolutions asked for, or the default; checked for range and duplicates. */
    static List<Integer> resolutions(List<Integer> asked, int fallback) {
        List<Integer> r = asked == null || asked.isEmpty() ? List.of(fallback) : asked;
        LinkedHashSet<Integer> seen = new LinkedHashSet<>();
        for (int v : r) {
            if (v < 8 || v > 4096) {
                throw new IllegalArgumentException("--res values must be in 8..4096, got " + v);
            }
            if (!seen.add(v)) {
                throw new IllegalArgumentException("--res lists " + v + " twice");
            }
        }
        return List.copyOf(r);
    }

    /**
     * Refuses output paths that are folders, or whose folder is a file (before the long run, not after); a missing
     * folder is fine (it is created).
     */
    static void checkOutputs(Path... paths) {
        for (Path p : paths) {
            if (p == null) {
                continue;
            }
            if (Files.isDirectory(p)) {
                throw new IllegalArgumentException("output path is a folder: " + p);
            }
            for (Path a = p.toAbsolutePath().getParent(); a != null; a = a.getParent()) {
                if (Files.exists(a)) {
                    if (!Files.isDirectory(a)) {
                        throw new IllegalArgumentException("cannot write " + p + ": " + a + " is a file, not a "
                                + "folder");
                    }
                    break;
                }
            }
        }
    }

    static String dataName(Path data) {
        Path f = data.toAbsolutePath().normalize().getFileName();
        return f == null ? data.toString() : f.toString();
    }

    static String join(List<Integer> values) {
        StringBuilder b = new StringBuilder();
        for (int v : values) {
            b.append(b.length() == 0 ? "" : ", ").append(v);
        }
        return b.toString();
    }
}

package org.fixres4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import org.fixres4j.data.CsvImageList;
import org.fixres4j.data.Dataset;
import org.fixres4j.data.FashionMnist;
import org.fixres4j.data.ImageFolder;
import org.fixres4j.data.RealLabels;
import org.fixres4j.data.Subsets;
import org.fixres4j.fixres.Checkpoint;
import org.fixres4j.fixres.Sweep;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.model.PretrainedConfig;
import org.fixres4j.report.EvalReport;
import org.fixres4j.report.Plot;
import org.fixres4j.report.ProgressBar;
import org.fixres4j.report.Reports;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.FixResTestTransform;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.SampleTransform;
import org.fixres4j.transform.TimmEvalTransform;

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
        description = {"Evaluate an EfficientNet on a labelled dataset at one or more test resolutions.",
            "Top-1 and top-5 (and ImageNet ReaL top-1/top-5 with --real-labels) per resolution; a sweep over several "
                + "resolutions decodes each image once. Unreadable images are counted, listed in the results and "
                + "skipped (--strict stops at the first one).",
            "Progress goes to stderr, the results table to stdout."})
final class EvalCommand implements Callable<Integer> {
    @Option(names = {"--arch", "--model"}, paramLabel = "A",
            description = "timm model name (--model is timm's spelling; tf_efficientnet_b0.ap_in1k, tf_efficientnet_b0_ap, efficientnet_b3, ...). "
                    + "Optional for model files of fixres train / finetune: their metadata describes the model "
                    + "(any width/depth) and its input configuration; given, it must name the same network.")
    String arch;

    @Option(names = "--weights", required = true, paramLabel = "FILE",
            description = ".safetensors (a timm file, or a fixres train / finetune model) or torch.save .pth "
                    + "(read without executing code).")
    Path weights;

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

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ModelSource source = ModelSource.of(arch, weights);
        PretrainedConfig cfg = source.config();
        List<Integer> resolutions = resolutions(res, cfg.inputSize());
        List<SampleTransform> transforms = pre.transforms(cfg, resolutions);
        checkOutputs(out, csv, plot);
        if (kTrain != null && kTrain < 1) {
            throw new IllegalArgumentException("--k-train must be >= 1, got " + kTrain);
        }
        pre.validate();

        Opened opened = open(data, dataOptions, source, pre, System.err);
        try (LoadedModel model = opened.model) {
            Map<String, Object> config = config("eval", spec, source, model, opened, pre, transforms);
            System.err.printf(Locale.ROOT, "fixres eval: %s on %s, resolution%s %s%n", source.name(),
                    opened.dataset.describe(), resolutions.size() == 1 ? "" : "s", join(resolutions));
            Sweep.Result result = sweep(opened, model, transforms, pre, "eval");
            Map<String, Sweep.Result> series = new LinkedHashMap<>();
            series.put("eval", result);
            System.out.print(Reports.table(series));
            System.out.flush();
            System.err.print(Reports.failureLines(result.failures(), 10));
            writeOutputs(config, series, null, out, csv, plot,
                    source.name() + " on " + dataName(data), kTrain != null ? kTrain : cfg.inputSize(), List.of());
            if (result.evaluated() == 0) {
                throw new IOException("none of the " + result.datasetSize() + " images could be read (first: "
                        + result.failures().get(0) + ")");
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

        @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
                description = "Seed of the stratified subset (default: ${DEFAULT-VALUE}).")
        long seed;

        Subsets.Mode mode() {
            return switch (limitMode.toLowerCase(Locale.ROOT)) {
                case "stratified" -> Subsets.Mode.STRATIFIED;
                case "first" -> Subsets.Mode.FIRST;
                default -> throw new IllegalArgumentException("--limit-mode must be stratified or first, got '"
                        + limitMode + "'");
            };
        }

        /** The layout's canonical name. */
        String layoutName() {
            String l = layout.toLowerCase(Locale.ROOT).replace("_", "-");
            return switch (l) {
                case "imagefolder", "image-folder", "folder" -> "imagefolder";
                case "imagenetv2", "imagenet-v2" -> "imagenetv2";
                case "fashion-mnist", "fashionmnist" -> "fashion-mnist";
                case "csv" -> "csv";
                default -> throw new IllegalArgumentException("--layout must be imagefolder, imagenetv2, "
                        + "fashion-mnist or csv, got '" + layout + "'");
            };
        }
    }

    /** How images are preprocessed and the model is run. */
    static final class PreprocessOptions {
        @Option(names = "--crop-pct", paramLabel = "P",
                description = "timm crop_pct: shorter side resized to floor(R / P) before the centre crop "
                        + "(default: the model's).")
        Double cropPct;

        @Option(names = "--resize-mode", paramLabel = "M", defaultValue = "timm",
                description = "timm (timm's eval transform) or fixres (the FixRes repository's test transform: height "
                        + "to int(256/224 R), bilinear); default: ${DEFAULT-VALUE}.")
        String resizeMode;

        @Option(names = "--interpolation", paramLabel = "I",
                description = "bicubic, bilinear or nearest (default: the model's; fixres: bilinear).")
        String interpolation;

        @Option(names = "--mean", paramLabel = "a,b,c", description = "Mean, RGB (default: the model's).")
        String mean;

        @Option(names = "--std", paramLabel = "a,b,c", description = "Std, RGB (default: the model's).")
        String std;

        @Option(names = {"-b", "--batch"}, paramLabel = "B", defaultValue = "32",
                description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
        int batch;

        @Option(names = "--threads", paramLabel = "T",
                description = "Decoding threads and libtorch threads (default: all processors).")
        Integer threads;

        @Option(names = "--strict", description = "Stop at the first image that cannot be read (exit 1, naming it).")
        boolean strict;

        @Option(names = "--allow-nonfinite", description = "Count images whose logits hold NaN/Inf as wrong and "
                + "report them (nonfinite_rows) instead of stopping with an error.")
        boolean allowNonFinite;

        @Option(names = "--plain", description = "Run the plain module instead of the BN-folded fast path.")
        boolean plain;

        @Option(names = "--channels-last", description = "Run the model in channels-last (NHWC) memory format. The "
                + "fast path always does; this converts the plain module (--plain) too.")
        boolean channelsLast;

        @Option(names = "--progress", paramLabel = "M", defaultValue = "auto",
                description = "auto (a bar on a terminal, one line per 5%% otherwise), bar, lines or off; "
                        + "default: ${DEFAULT-VALUE}.")
        String progress;

        boolean fixres() {
            return switch (resizeMode.toLowerCase(Locale.ROOT)) {
                case "timm" -> false;
                case "fixres" -> true;
                default -> throw new IllegalArgumentException("--resize-mode must be timm or fixres, got '"
                        + resizeMode + "'");
            };
        }

        void validate() {
            if (batch < 1 || batch > 65536) {
                throw new IllegalArgumentException("--batch must be in 1..65536, got " + batch);
            }
            Threads.check("--threads", threads);
            ProgressBar.Mode.parse(progress);
            fixres();
        }

        Normalization normalization(PretrainedConfig cfg) {
            if (mean == null && std == null) {
                return cfg.normalization();
            }
            if (mean == null || std == null) {
                throw new IllegalArgumentException("--mean and --std go together");
            }
            return Normalization.parse(mean, std);
        }

        /** The test crop ratio K_test_image / K_test of the transform in use. */
        double cropRatio(PretrainedConfig cfg) {
            return fixres() ? 256.0 / 224.0 : 1.0 / (cropPct != null ? cropPct : cfg.cropPct());
        }

        /** One transform per resolution. */
        List<SampleTransform> transforms(PretrainedConfig cfg, List<Integer> resolutions) {
            Normalization norm = normalization(cfg);
            Interpolation interp = interpolation == null ? null : Interpolation.parse(interpolation);
            List<SampleTransform> out = new ArrayList<>();
            if (fixres()) {
                if (cropPct != null) {
                    throw new IllegalArgumentException("--crop-pct applies to --resize-mode timm; the FixRes test "
                            + "transform always resizes the height to int(256/224 R)");
                }
                for (int r : resolutions) {
                    out.add(new FixResTestTransform(r, interp != null ? interp : Interpolation.BILINEAR, norm));
                }
            } else {
                if (!"center".equals(cfg.cropMode())) {
                    throw new IllegalArgumentException(cfg.name() + " uses timm's crop_mode '" + cfg.cropMode()
                            + "'; only the centre crop is implemented (use --resize-mode fixres)");
                }
                if (cropPct != null && !(cropPct > 0 && cropPct <= 4)) {
                    throw new IllegalArgumentException("--crop-pct must be in (0, 4], got " + cropPct);
                }
                for (int r : resolutions) {
                    out.add(new TimmEvalTransform(r, cropPct != null ? cropPct : cfg.cropPct(),
                            interp != null ? interp : cfg.interpolation(), norm));
                }
            }
            return out;
        }
    }

    /** A model with its weights, in eval mode, fused unless plain. */
    static final class LoadedModel implements AutoCloseable {
        final EfficientNet model;
        final FastEfficientNet fast;
        final int numClasses;

        LoadedModel(EfficientNet model, FastEfficientNet fast) {
            this.model = model;
            this.fast = fast;
            this.numClasses = model.spec().numClasses();
        }

        Sweep.ModelFn fn() {
            return fast != null ? fast::forward : model::forward;
        }

        @Override
        public void close() {
            if (fast != null) {
                fast.close();
            }
            model.close();
        }
    }

    /** The dataset (limited), its ReaL labels and the model. */
    record Opened(Path path, Dataset dataset, String layout, RealLabels.Aligned real, Integer limit, String limitMode,
                  Path realPath, LoadedModel model) {}

    /**
     * Where the model and its input configuration come from: the weight file's FixRes4J metadata (a model of
     * {@code fixres train} / {@code finetune}, any multipliers: {@code --arch} is optional and, given, must name
     * the same network) or a timm name ({@code --arch}, required for files without that metadata).
     *
     * @param weights the weight file
     * @param resolved the {@code --arch} name, or null
     * @param info the file's model description, or null (none, or not used: the timm name's config applies)
     */
    record ModelSource(Path weights, ModelRegistry.Resolved resolved, Checkpoint.ModelInfo info) {
        ModelSource {
            if (resolved == null && info == null) {
                throw new IllegalArgumentException(weights + " has no FixRes4J model metadata (it was not written by "
                        + "fixres train or finetune): name its architecture with --arch, a timm name such as "
                        + "tf_efficientnet_b0.ap_in1k");
            }
        }

        /**
         * Reads the file's metadata (its header only) and resolves {@code arch} (null: none given).
         *
         * @throws IllegalArgumentException if the file is missing, the name unknown, the name and the metadata
         *         disagree, or neither is there
         */
        static ModelSource of(String arch, Path weights) throws IOException {
            if (!Files.isRegularFile(weights)) {
                throw new IllegalArgumentException("no such weights file: " + weights);
            }
            ModelRegistry.Resolved resolved = arch == null ? null : ModelRegistry.resolve(arch);
            Checkpoint.ModelInfo info = Checkpoint.readInfo(weights);
            if (info != null && arch != null) {
                Checkpoint.checkArchitecture(info, arch, weights);
            }
            return new ModelSource(weights, resolved, info);
        }

        /** The input configuration: the file's when it describes itself, else the timm name's. */
        PretrainedConfig config() {
            return info != null ? info.toPretrainedConfig() : resolved.config();
        }

        /** The name in reports: the timm name when given, else the file's description. */
        String name() {
            return resolved != null ? resolved.name() : info.describe();
        }

        /** The model's class names from the metadata, or an empty list. */
        List<String> classNames() {
            return info == null ? List.of() : info.classNames();
        }
    }

    /**
     * Loads the model strictly through {@link Checkpoint#loadModel(Path, String)}: from the file's metadata when it
     * has FixRes4J's (checked against {@code --arch} when given), else from the timm name with the class count and
     * input channels of the weights.
     */
    static LoadedModel loadModel(ModelSource source, boolean plain) throws IOException {
        return loadModel(source, plain, false);
    }

    /** {@link #loadModel(ModelSource, boolean)}, the plain module converted to channels-last when asked. */
    static LoadedModel loadModel(ModelSource source, boolean plain, boolean channelsLast) throws IOException {
        if (!Files.isRegularFile(source.weights())) {
            throw new IllegalArgumentException("no such weights file: " + source.weights());
        }
        Torch.ensureLoaded();
        EfficientNet m = Checkpoint.loadModel(source.weights(),
                source.resolved() == null ? null : source.resolved().requested()).model();
        try {
            m.eval();
            if (plain && channelsLast) {
                m.toChannelsLast();
            }
            return new LoadedModel(m, plain ? null : FastEfficientNet.fuse(m));
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * Reads the dataset, applies the limit, reads and aligns the ReaL labels, loads the model. Without
     * {@code --class-list}, folder or CSV label names that are all among the model's class names (from its
     * metadata) take the model's indices.
     */
    static Opened open(Path data, DataOptions d, ModelSource source, PreprocessOptions pre, PrintStream warn)
            throws IOException {
        String layout = d.layoutName();
        Subsets.Mode mode = d.mode();
        if (d.limit != null && d.limit < 1) {
            throw new IllegalArgumentException("--limit must be >= 1, got " + d.limit);
        }
        if (!Files.exists(data)) {
            throw new IllegalArgumentException("no such dataset " + (layout.equals("csv") ? "file" : "folder")
                    + ": " + data);
        }
        if (layout.equals("csv") && Files.isDirectory(data)) {
            throw new IllegalArgumentException("--layout csv expects a CSV file of path,label rows, but " + data
                    + " is a folder (for one sub-folder per class use --layout imagefolder)");
        }
        if (!layout.equals("csv") && !Files.isDirectory(data)) {
            throw new IllegalArgumentException("--layout " + layout + " expects a folder, but " + data + " is a file"
                    + (data.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".csv")
                    ? " (for a CSV of path,label rows use --layout csv)" : ""));
        }
        List<String> classNames = d.classList == null ? null : readClassList(d.classList);
        Dataset ds = read(data, layout, d, classNames);
        List<String> modelClasses = source.classNames();
        if (classNames == null && !modelClasses.isEmpty() && (layout.equals("imagefolder") || layout.equals("csv"))
                && !ds.classNames().equals(modelClasses.subList(0, Math.min(ds.numClasses(), modelClasses.size())))
                && modelClasses.containsAll(ds.classNames())) {
            ds = read(data, layout, d, modelClasses);
            warn.println("fixres: label names mapped to the model's class indices (class names from "
                    + source.weights() + "'s metadata)");
        } else if (!modelClasses.isEmpty() && !numbered(ds.classNames())
                && !ds.classNames().equals(modelClasses.subList(0, Math.min(ds.numClasses(), modelClasses.size())))) {
            warn.println("fixres: warning: the dataset's classes " + abbreviate(ds.classNames()) + " are not the "
                    + "model's " + abbreviate(modelClasses) + ": label c is the dataset's c-th class");
        }
        ds = Subsets.limit(ds, d.limit == null ? -1 : d.limit, mode, d.seed);
        RealLabels.Aligned real = null;
        if (d.realLabels != null) {
            real = RealLabels.read(d.realLabels).align(ds);
        }
        LoadedModel model = loadModel(source, pre.plain, pre.channelsLast);
        if (ds.numClasses() > model.numClasses) {
            model.close();
            throw new IllegalArgumentException("the dataset has " + ds.numClasses() + " classes but the model's "
                    + "classifier has " + model.numClasses + " (" + ds.describe() + ")");
        }
        if (layout.equals("imagefolder") && classNames == null && model.numClasses == 1000
                && ds.numClasses() < 1000) {
            warn.println("fixres: warning: " + ds.numClasses() + " class folders for a 1000-class model: label c is "
                    + "the c-th folder in sorted order; for a subset of ImageNet pass --class-list with the 1000 "
                    + "synsets");
        }
        if (pre.threads != null) {
            org.fixres4j.torch.Torch.setThreads(pre.threads);
        }
        return new Opened(data, ds, layout, real, d.limit, d.limit == null ? null : d.limitMode, d.realLabels, model);
    }

    private static Dataset read(Path data, String layout, DataOptions d, List<String> classNames) throws IOException {
        return switch (layout) {
            case "imagefolder" -> classNames == null ? ImageFolder.read(data) : ImageFolder.read(data, classNames);
            case "imagenetv2" -> classNames == null ? ImageFolder.readImageNetV2(data)
                    : ImageFolder.readImageNetV2(data, classNames);
            case "fashion-mnist" -> FashionMnist.read(data, switch (d.split.toLowerCase(Locale.ROOT)) {
                case "test" -> FashionMnist.Split.TEST;
                case "train" -> FashionMnist.Split.TRAIN;
                default -> throw new IllegalArgumentException("--split must be test or train, got '" + d.split + "'");
            });
            case "csv" -> CsvImageList.read(data, classNames);
            default -> throw new IllegalStateException(layout);
        };
    }

    /** Whether the names are "0", "1", ... (a layout's default names, not real ones). */
    private static boolean numbered(List<String> names) {
        for (int i = 0; i < names.size(); i++) {
            if (!names.get(i).equals(Integer.toString(i))) {
                return false;
            }
        }
        return true;
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 6 ? names.toString()
                : "[" + String.join(", ", names.subList(0, 5)) + ", ... (" + names.size() + ")]";
    }

    /** Runs the sweep with a progress bar on stderr. */
    static Sweep.Result sweep(Opened o, LoadedModel model, List<SampleTransform> transforms, PreprocessOptions pre,
                              String label) throws IOException {
        ProgressBar bar = new ProgressBar("fixres " + label, ProgressBar.Mode.parse(pre.progress));
        return Sweep.over(o.dataset, transforms)
                .batchSize(pre.batch)
                .threads(pre.threads != null ? pre.threads : Math.max(1, Runtime.getRuntime().availableProcessors()))
                .strict(pre.strict)
                .allowNonFinite(pre.allowNonFinite)
                .realLabels(o.real)
                .progress(bar)
                .run(model.fn());
    }

    /** The configuration block of the reports. */
    static Map<String, Object> config(String command, CommandLine.Model.CommandSpec spec, ModelSource source,
                                      LoadedModel model, Opened o, PreprocessOptions pre,
                                      List<SampleTransform> transforms) throws IOException {
        PretrainedConfig cfg = source.config();
        Path weights = source.weights();
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("command", command);
        List<String> argv = new ArrayList<>();
        if (spec != null && spec.commandLine().getParseResult() != null) {
            argv.addAll(spec.commandLine().getParseResult().originalArgs());
        }
        c.put("arguments", argv);
        c.put("started", Reports.timestamp());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", source.name());
        m.put("requested", source.resolved() == null ? null : source.resolved().requested());
        m.put("architecture", source.info() != null ? source.info().describe() : cfg.architecture());
        m.put("described_by", source.info() != null ? "fixres4j metadata" : "timm name");
        m.put("num_classes", (long) model.numClasses);
        m.put("parameters", model.model.parameterCount());
        m.put("fast_path", model.fast != null);
        m.put("channels_last", model.fast != null || model.model.isChannelsLast());
        m.put("input_size", (long) cfg.inputSize());
        m.put("config_crop_pct", cfg.cropPct());
        m.put("config_interpolation", cfg.interpolation().id());
        m.put("config_normalization", cfg.normalization().toString());
        if (!source.classNames().isEmpty()) {
            m.put("class_names", source.classNames());
        }
        c.put("model", m);
        c.put("weights", Reports.fileInfo(weights));
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("resize_mode", pre.fixres() ? "fixres" : "timm");
        List<Long> res = new ArrayList<>();
        List<String> desc = new ArrayList<>();
        for (SampleTransform t : transforms) {
            res.add((long) t.outputWidth());
            desc.add(t.describe());
        }
        p.put("resolutions", res);
        p.put("transforms", desc);
        p.put("test_crop_ratio", pre.cropRatio(cfg));
        p.put("normalization", transforms.get(0).normalization().toString());
        p.put("decoder", "OpenCV imdecode (no EXIF rotation), fused Pillow-exact resize kernel");
        c.put("preprocessing", p);
        Map<String, Object> d = Reports.datasetInfo(o.dataset, o.path, o.layout, o.limit, o.limitMode);
        c.put("dataset", d);
        c.put("real_labels", o.realPath == null ? null : Reports.fileInfo(o.realPath));
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("batch_size", (long) pre.batch);
        run.put("threads", pre.threads == null ? (long) Runtime.getRuntime().availableProcessors()
                : (long) (int) pre.threads);
        run.put("strict", pre.strict);
        run.put("device", "cpu");
        c.put("run", run);
        c.put("software", Reports.software());
        return c;
    }

    /** Writes JSON (+ CSV next to it), the CSV alone, and the plot, as asked. */
    static void writeOutputs(Map<String, Object> config, Map<String, Sweep.Result> series,
                             Map<String, Object> extra, Path out, Path csv, Path plot, String title, int kTrain,
                             List<Plot.Marker> markers) throws IOException {
        if (out != null) {
            EvalReport doc = Reports.sweepReport(config, series);
            Reports.writeJson(out, extra != null ? doc.with(extra) : doc);
            System.err.println("fixres: results written to " + out);
        }
        Path csvPath = csv != null ? csv : out != null ? Reports.csvNextTo(out) : null;
        if (csvPath != null) {
            Reports.writeSweepCsv(csvPath, config, series);
            System.err.println("fixres: CSV written to " + csvPath);
        }
        if (plot != null) {
            Plot p = Plot.accuracy(title, kTrain, series);
            for (Plot.Marker mk : markers) {
                p.marker(mk.x(), mk.label());
            }
            p.write(plot);
            System.err.println("fixres: plot written to " + plot);
        }
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

    static List<String> readClassList(Path file) throws IOException {
        List<String> names = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String s = line.strip();
            if (!s.isEmpty()) {
                names.add(s);
            }
        }
        if (names.isEmpty()) {
            throw new IOException(file + " lists no class names");
        }
        return names;
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

package org.fixres4j.app;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;


import org.fixres4j.model.ModelFile;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.fixres.BnReestimate;
import org.fixres4j.fixres.Checkpoint;
import org.fixres4j.fixres.FinetuneConfig;
import org.fixres4j.fixres.Finetuner;
import org.fixres4j.fixres.Recommend;
import org.fixres4j.fixres.Recommendation;
import org.fixres4j.fixres.Sweep;
import org.fixres4j.fixres.TrainConfig;
import org.fixres4j.fixres.TrainEval;
import org.fixres4j.data.DemoData;
import org.fixres4j.data.Dataset;
import org.fixres4j.data.Subsets;
import org.fixres4j.eval.TopKAccuracy;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.report.Plot;
import org.fixres4j.report.Reports;
import org.fixres4j.transform.SampleTransform;
import org.fixres4j.weights.SafeTensors;

/**
 * The FixRes demo ({@code fixres demo}): the paper's Table 2 in miniature on data at hand.
 * <ol>
 *   <li>A small EfficientNet trained with RandomResizedCrop at a low K_train: the checkpoint shipped in the jar
 *       (made by {@code fixres train}, see {@link #RECIPES}), or any model file (the demo command trains one with
 *       the recipe on {@code --train}).</li>
 *   <li>A sweep of test resolutions on a stratified subset of the test set, the same images at every size.</li>
 *   <li>FixRes fine-tuning (classifier + bn2 statistics, {@link Finetuner}) at several test resolutions, among
 *       them the sweep's best and the one {@link Recommend} predicts, on a stratified subset of the training set;
 *       each fine-tuned model is scored on the same test images.</li>
 *   <li>The table (train res, test res, top-1 / top-5 before and after), JSON and a plot.</li>
 * </ol>
 * Whatever comes out is printed as measured, including a loss of accuracy.
 */
public final class Demo {
    private Demo() {}

    /**
     * How a shipped checkpoint was made, as values: the data spelling and the {@code fixres train} settings that
     * differ from train's defaults. The demo command runs it with train's own code; {@link #command()} spells it as
     * the command line that made the shipped file.
     *
     * @param data the {@code --data} spelling
     * @param resource the classpath resource of the shipped model
     * @param width the channel multiplier ({@code --width})
     * @param depth the depth multiplier ({@code --depth})
     * @param resolution K_train ({@code --res})
     * @param epochs the epochs ({@code --epochs})
     * @param trainLimit the stratified training subset, 0 for all ({@code --train-limit})
     * @param threads the threads ({@code --threads}; one, so that the file is reproducible)
     */
    public record Recipe(String data, String resource, double width, double depth, int resolution, int epochs,
                         int trainLimit, int threads) {
        /** The same recipe, shortened (epochs, training subset) as {@code --quick} asks. */
        public Recipe quick() {
            return new Recipe(data, resource, width, depth, resolution, 1, 256, threads);
        }

        /** The {@code fixres train} arguments of this recipe (without {@code --data}, {@code --out}). */
        public List<String> trainArgs() {
            List<String> a = new java.util.ArrayList<>(List.of("--width", Double.toString(width), "--depth",
                    Double.toString(depth), "--res", Integer.toString(resolution), "--epochs",
                    Integer.toString(epochs)));
            if (trainLimit > 0) {
                a.addAll(List.of("--train-limit", Integer.toString(trainLimit)));
            }
            a.addAll(List.of("--threads", Integer.toString(threads)));
            return a;
        }

        /** The command line that made the shipped file. */
        public String command() {
            return "./fixres train --data " + data + " " + String.join(" ", trainArgs()) + " --out "
                    + "java-resources" + resource;
        }
    }

    /**
     * The demo's data when Fashion-MNIST is installed: its items at 0.8x to 1.25x their size on a 112 px black canvas,
     * so that objects do not fill the frame and the source has more pixels than the training resolution (see
     * docs/FIXRES.md for why, and for the plain variant's results).
     */
    public static final String DEMO_DATA = "fashion-mnist-canvas:112";

    /** The shipped checkpoints, by dataset name. */
    public static final Map<String, Recipe> RECIPES = Map.of(
            DEMO_DATA, new Recipe(DEMO_DATA, "/org/fixres4j/demo/fashion-mnist-canvas-112.safetensors",
                    0.25, 0.25, 64, 8, 0, 1),
            "shapes", new Recipe("shapes", "/org/fixres4j/demo/shapes.safetensors", 0.25, 0.25, 64, 2, 20000, 1));

    /**
     * The demo's data spelling: {@code auto} becomes {@link #DEMO_DATA} where Fashion-MNIST is installed, else the
     * generated shapes; anything else is kept.
     */
    public static String resolveData(String spelling) {
        if (!spelling.trim().equalsIgnoreCase("auto")) {
            return spelling;
        }
        return DemoData.fashionMnistInstalled() ? DEMO_DATA : "shapes";
    }

    /** The line printed when {@code auto} could not use Fashion-MNIST, or null. */
    public static String autoNote(String spelling) {
        if (!spelling.trim().equalsIgnoreCase("auto") || DemoData.fashionMnistInstalled()) {
            return null;
        }
        return "Fashion-MNIST is not installed (" + DemoData.fashionMnistDir() + "): this demo uses a "
                + "dataset the project generates itself (ten shapes at varied scales, 112 px). For the real one: "
                + DemoData.INSTALL;
    }

    /** The demo's settings. */
    public static final class Options {
        /** The data spelling ({@link DemoData}); {@code auto}: see {@link #resolveData}. */
        public String data = "auto";
        /** The trained model; null: the checkpoint shipped for the data. */
        public Path model;
        /** How {@link #model} was made, for the report (null: its path). */
        public String modelSource;
        /** Whether the caller already printed {@link #autoNote}. */
        public boolean noteShown;
        public int sweepImages = 10_000;
        public int finetuneImages = 6000;
        public int finetuneEpochs = 2;
        public double finetuneLr = 0.01;
        public int finetuneBatch = 32;
        /** The fine-tuning modes compared, each at every fine-tuning resolution. */
        public List<FinetuneConfig.Mode> modes = List.of(FinetuneConfig.Mode.CLASSIFIER,
                FinetuneConfig.Mode.LAST_STAGE);
        /** Whether to add the label-free bn2 re-estimation. */
        public boolean bnOnly = true;
        public List<Integer> resolutions;
        public List<Integer> finetuneResolutions;
        public int threads = TrainConfig.defaultThreads();
        public Path outDir = Path.of("fixres-demo");
        public PrintStream out = System.out;
        public long seed = 0;
    }

    /**
     * One test resolution.
     *
     * @param resolution K_test
     * @param before the trained model's accuracy
     * @param bnOnly the accuracy after re-estimating bn2's statistics at this resolution (label-free), or null
     * @param after per fine-tuning mode, the accuracy after fine-tuning at this resolution (empty when not here)
     * @param finetuneSeconds per mode, the fine-tuning's wall time
     */
    public record Row(int resolution, TopKAccuracy before, TopKAccuracy bnOnly,
                      Map<FinetuneConfig.Mode, TopKAccuracy> after, Map<FinetuneConfig.Mode, Double> finetuneSeconds) {
        /** The row as the demo's JSON writes it ({@link Report}). */
        public Report report() {
            // dynamic: one group of members per fine-tuning mode the demo ran, named after the mode
            Map<String, Object> finetuned = new LinkedHashMap<>();
            for (Map.Entry<FinetuneConfig.Mode, TopKAccuracy> e : after.entrySet()) {
                String k = e.getKey().spelling().replace('-', '_');
                finetuned.put("finetuned_" + k + "_top1", e.getValue().percent(1));
                finetuned.put("finetuned_" + k + "_top5", top5(e.getValue()));
                finetuned.put("finetuned_" + k + "_seconds", finetuneSeconds.get(e.getKey()));
            }
            return new Report(resolution, before.percent(1), top5(before),
                    bnOnly == null ? null : bnOnly.percent(1), bnOnly == null ? null : top5(bnOnly), finetuned);
        }

        /**
         * One test resolution in the demo's JSON: {@code test_res}, {@code before_top1/5}, {@code bn_only_top1/5}
         * (when run), then {@code finetuned_<mode>_top1/_top5/_seconds} per mode fine-tuned there.
         */
        @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
        @JsonPropertyOrder({"test_res", "before_top1", "before_top5", "bn_only_top1", "bn_only_top5"})
        public record Report(int testRes, double beforeTop1, double beforeTop5,
                             @JsonInclude(JsonInclude.Include.NON_NULL) Double bnOnlyTop1,
                             @JsonInclude(JsonInclude.Include.NON_NULL) Double bnOnlyTop5,
                             @JsonIgnore Map<String, Object> finetuned) {
            /** The per-mode members, written last. */
            @JsonAnyGetter
            public Map<String, Object> finetunedMembers() {
                return finetuned;
            }
        }
    }

    /**
     * The demo's JSON document ({@code fixres-demo.json}).
     *
     * @param schemaVersion raised when a member is renamed, removed or changes meaning
     * @param note why the data was chosen automatically, or null (left out)
     * @param verdicts per fine-tuning mode (by its spelling: the modes are the run's choice)
     * @param software {@link Reports#software()}
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"format", "schema_version", "data", "note", "model", "model_source", "k_train", "train_scale",
        "recommendation", "test_images", "finetune", "rows", "verdicts", "seconds", "threads", "software"})
    public record Document(String format, int schemaVersion, String data,
                           @JsonInclude(JsonInclude.Include.NON_NULL) String note, ModelInfo.Report model,
                           String modelSource, int kTrain, List<Double> trainScale, Recommendation recommendation,
                           int testImages, FinetuneSettings finetune, List<Row.Report> rows,
                           Map<String, Verdict.Report> verdicts, double seconds, int threads,
                           Reports.Software software) {}

    /** The fine-tuning the demo ran, as its JSON document records it. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"modes", "bn_only", "images", "epochs", "lr", "batch", "augment", "label_smoothing",
        "resolutions"})
    public record FinetuneSettings(List<String> modes, boolean bnOnly, int images, int epochs, double lr, int batch,
                                   String augment, double labelSmoothing, List<Integer> resolutions) {}

    /** What the demo measured. */
    public record Result(ModelInfo info, String dataName, String modelSource, int kTrain,
                         Recommendation recommendation, List<Row> rows, Map<FinetuneConfig.Mode, Verdict> verdicts,
                         double seconds, Path json, Path plot) {}

    static double top5(TopKAccuracy a) {
        return a.percent(a.ks()[a.ks().length - 1]);
    }

    /** Runs the demo. */
    public static Result run(Options o) throws IOException {
        long t0 = System.nanoTime();
        PrintStream out = o.out;
        org.fixres4j.torch.Torch.ensureLoaded();
        org.fixres4j.kernels.ComputeThreads.set(o.threads);
        DemoData d = DemoData.open(resolveData(o.data));
        String note = autoNote(o.data);
        if (note != null && !o.noteShown) {
            out.println("note: " + note);
        }
        Files.createDirectories(o.outDir);
        Path modelFile;
        String source;
        Recipe recipe = RECIPES.get(d.name());
        if (o.model != null) {
            modelFile = o.model;
            source = o.model.toString();
        } else if (hasShipped(d.name())) {
            modelFile = o.outDir.resolve("trained-" + d.name() + ".safetensors");
            try (InputStream in = Demo.class.getResourceAsStream(recipe.resource())) {
                Files.copy(in, modelFile, StandardCopyOption.REPLACE_EXISTING);
            }
            source = "shipped checkpoint " + recipe.resource() + " (made by: " + recipe.command() + ")";
        } else {
            throw new IllegalStateException("no model for data '" + d.name() + "': give Options.model (the demo "
                    + "command trains one with " + (recipe == null ? "fixres train" : recipe.command()) + ")");
        }
        if (o.modelSource != null) {
            source = o.modelSource;
        }
        Map<String, String> meta = SafeTensors.readHeader(modelFile).metadata();
        double scaleMin = Double.parseDouble(meta.getOrDefault(ModelInfo.META + "train_scale_min", "0.08"));
        double scaleMax = Double.parseDouble(meta.getOrDefault(ModelInfo.META + "train_scale_max", "1.0"));

        ModelInfo info;
        List<Row> rows = new ArrayList<>();
        Recommendation rec;
        int kTrain;
        Dataset test;
        Dataset ftTrain;
        Map<Integer, TopKAccuracy> before = new LinkedHashMap<>();
        try (ModelFile.Loaded loaded = ModelFile.load(modelFile)) {
            info = loaded.info();
            kTrain = info.inputSize();
            rec = Recommend.of(kTrain, scaleMin, scaleMax, 1.0 / info.cropPct(), 8);
            test = Subsets.stratified(d.test(), Math.min(o.sweepImages, d.test().size()), 1);
            ftTrain = Subsets.stratified(d.train(), Math.min(o.finetuneImages, d.train().size()), 2);
            List<Integer> res = o.resolutions != null ? o.resolutions : defaultGrid(kTrain, rec.kTest());
            out.printf("%nFixRes demo: %s (%,d parameters), trained at K_train = %d px with RandomResizedCrop "
                            + "scale (%s, %s)%n  model: %s%n  data: %s%n  test images: %d (stratified), the same at "
                            + "every resolution%n  recommend: %s%n%n",
                    info.describe(), info.spec().parameterCount(), kTrain, fmt(scaleMin), fmt(scaleMax), source,
                    d.test().describe(), test.size(), rec);
            loaded.model().eval();
            long ts = System.nanoTime();
            try (FastEfficientNet fast = FastEfficientNet.fuse(loaded.model())) {
                List<SampleTransform> ts1 = new ArrayList<>();
                for (int r : res) {
                    ts1.add(FinetuneConfig.testTransform(info, r));
                }
                Sweep.Result sw = Sweep.over(test, ts1).batchSize(64).threads(o.threads).strict(true)
                        .run(fast::forward);
                for (Sweep.Entry e : sw.entries()) {
                    before.put(e.resolution(), e.accuracy());
                }
            }
            out.printf("sweep before fine-tuning: %d resolutions x %d images in %.1f s%n", res.size(), test.size(),
                    (System.nanoTime() - ts) / 1e9);
        }
        int bestBefore = argmax(before);
        TreeSet<Integer> ftRes = new TreeSet<>();
        if (o.finetuneResolutions != null) {
            ftRes.addAll(o.finetuneResolutions);
        } else {
            ftRes.add(kTrain);
            ftRes.add(bestBefore);
            ftRes.add(rec.kTest());
            for (int r : before.keySet()) {
                if (r > kTrain && r <= rec.kTest() + 16) {
                    ftRes.add(r);
                }
            }
        }
        Map<Integer, TopKAccuracy> bnOnly = new LinkedHashMap<>();
        Map<FinetuneConfig.Mode, Map<Integer, TopKAccuracy>> after = new LinkedHashMap<>();
        Map<FinetuneConfig.Mode, Map<Integer, Double>> cost = new LinkedHashMap<>();
        for (FinetuneConfig.Mode mode : o.modes) {
            after.put(mode, new LinkedHashMap<>());
            cost.put(mode, new LinkedHashMap<>());
        }
        out.printf("fine-tuning at %s px on %d training images (%d epoch%s, lr %s, batch %d), each run from the trained "
                        + "weights and scored on the same test images:%n", ftRes, ftTrain.size(), o.finetuneEpochs,
                o.finetuneEpochs == 1 ? "" : "s", fmt(o.finetuneLr), o.finetuneBatch);
        for (int r : ftRes) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %4d px: as trained %.2f",
                    r, before.containsKey(r) ? before.get(r).percent(1) : Double.NaN));
            if (o.bnOnly) {
                try (ModelFile.Loaded fresh = ModelFile.load(modelFile)) {
                    SampleTransform t = FinetuneConfig.testTransform(fresh.info(), r);
                    BnReestimate.run(fresh.model(), ftTrain, t, o.finetuneBatch, o.threads, o.seed);
                    bnOnly.put(r, TrainEval.evaluate(fresh.model(), test, t, 64, o.threads).accuracy());
                    line.append(String.format(Locale.ROOT, ", bn2 statistics only %.2f", bnOnly.get(r).percent(1)));
                }
            }
            for (FinetuneConfig.Mode mode : o.modes) {
                try (ModelFile.Loaded fresh = ModelFile.load(modelFile)) {
                    FinetuneConfig cfg = new FinetuneConfig(r).mode(mode).epochs(o.finetuneEpochs)
                            .lr(o.finetuneLr).batchSize(o.finetuneBatch).threads(o.threads).seed(o.seed);
                    Path ckpt = o.outDir.resolve("checkpoints/finetune-" + mode.spelling() + "-" + r);
                    Finetuner.Result fr = new Finetuner(cfg).run(fresh.model(), fresh.info(), ftTrain, ckpt, false,
                            modelFile.toAbsolutePath().toString());
                    double secs = fr.history().stream().mapToDouble(Finetuner.EpochResult::seconds).sum();
                    TopKAccuracy acc = TrainEval.evaluate(fresh.model(), test,
                            FinetuneConfig.testTransform(fresh.info(), r), 64, o.threads).accuracy();
                    after.get(mode).put(r, acc);
                    cost.get(mode).put(r, secs);
                    line.append(String.format(Locale.ROOT, ", %s %.2f (%.0f s)", mode.spelling(), acc.percent(1),
                            secs));
                    if (r != kTrain) {
                        ModelFile.save(o.outDir.resolve("finetuned-" + mode.spelling() + "-" + r
                                        + ".safetensors"), fresh.model(), fresh.info().withInputSize(r),
                                Map.of(ModelInfo.META + "finetuned", mode.spelling() + " at " + r + " from "
                                        + modelFile.getFileName()));
                    }
                }
            }
            out.println(line);
        }
        for (Map.Entry<Integer, TopKAccuracy> e : before.entrySet()) {
            Map<FinetuneConfig.Mode, TopKAccuracy> a = new LinkedHashMap<>();
            Map<FinetuneConfig.Mode, Double> c = new LinkedHashMap<>();
            for (FinetuneConfig.Mode mode : o.modes) {
                if (after.get(mode).containsKey(e.getKey())) {
                    a.put(mode, after.get(mode).get(e.getKey()));
                    c.put(mode, cost.get(mode).get(e.getKey()));
                }
            }
            rows.add(new Row(e.getKey(), e.getValue(), bnOnly.get(e.getKey()), a, c));
        }
        Map<FinetuneConfig.Mode, Verdict> verdicts = new LinkedHashMap<>();
        for (FinetuneConfig.Mode mode : o.modes) {
            verdicts.put(mode, verdict(kTrain, before, after.get(mode)));
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        out.println();
        out.print(table(kTrain, rows, rec, o.modes, o.bnOnly));
        out.println();
        Verdict first = verdicts.values().iterator().next();
        out.print(first.header());
        for (Map.Entry<FinetuneConfig.Mode, Verdict> e : verdicts.entrySet()) {
            out.print(e.getValue().text(e.getKey()));
        }
        out.printf("total %.0f s on %d thread%s%n", seconds, o.threads, o.threads == 1 ? "" : "s");

        Path json = o.outDir.resolve("fixres-demo.json");
        Path png = o.outDir.resolve("fixres-demo.png");
        List<String> modeNames = new ArrayList<>();
        o.modes.forEach(m -> modeNames.add(m.spelling()));
        FinetuneSettings ft = new FinetuneSettings(modeNames, o.bnOnly, ftTrain.size(), o.finetuneEpochs,
                o.finetuneLr, o.finetuneBatch, "fixres", 0.1, new ArrayList<>(ftRes));
        List<Row.Report> rs = new ArrayList<>();
        rows.forEach(r -> rs.add(r.report()));
        Map<String, Verdict.Report> vs = new LinkedHashMap<>();
        verdicts.forEach((k, v) -> vs.put(k.spelling(), v.report()));
        Document doc = new Document("fixres4j-demo/1", 1, d.test().describe(), note, info.report(), source, kTrain,
                List.of(scaleMin, scaleMax), rec, test.size(), ft, rs, vs, seconds, o.threads, Reports.software());
        Checkpoint.writeJson(json, doc);
        Plot plot = new Plot().title(String.format(Locale.ROOT, "FixRes demo on %s: EfficientNet w%s d%s, K_train %d",
                        d.name(), fmt(info.spec().width()), fmt(info.spec().depth()), kTrain))
                .xLabel("test resolution (px)").yLabel("top-1 accuracy (%)");
        plot.series("as trained", xs(before), ys(before));
        if (!bnOnly.isEmpty()) {
            plot.series("bn2 statistics re-estimated there (no labels)", xs(bnOnly), ys(bnOnly));
        }
        for (Map.Entry<FinetuneConfig.Mode, Map<Integer, TopKAccuracy>> e : after.entrySet()) {
            if (!e.getValue().isEmpty()) {
                plot.series("fine-tuned there: " + e.getKey().spelling(), xs(e.getValue()), ys(e.getValue()));
            }
        }
        plot.marker(kTrain, "K_train = " + kTrain);
        plot.marker(rec.kTest(), "recommend " + rec.kTest());
        plot.write(png);
        out.printf("wrote %s and %s%n", json, png);
        return new Result(info, d.name(), source, kTrain, rec, rows, verdicts, seconds, json, png);
    }

    /**
     * The FixRes question, answered from the measurements: does testing above K_train after fine-tuning beat the
     * best that K_train itself gives (as trained, or after the same fine-tuning at K_train, the control)?
     *
     * @param atTrain top-1 at K_train as trained
     * @param atTrainFinetuned top-1 at K_train after fine-tuning there (NaN if not run)
     * @param bestUntuned the best resolution without fine-tuning
     * @param bestAbove the best fine-tuned resolution above K_train (0 if none)
     * @param bestAboveTop1 its top-1 (NaN if none)
     * @param effect bestAboveTop1 minus the better of atTrain and atTrainFinetuned
     * @param standardError one binomial standard error of a top-1 figure at the number of test images
     *                      (sqrt(p (1 - p) / n)); the effect counts as seen above twice that
     */
    public record Verdict(int kTrain, double atTrain, double atTrainFinetuned, int bestUntuned,
                          double bestUntunedTop1, int bestAbove, double bestAboveTop1, double effect,
                          double standardError) {
        /** Whether the FixRes effect appeared: a gain of more than two standard errors. */
        public boolean seen() {
            return effect > 2 * standardError;
        }

        /** The lines common to every mode: K_train and the best untuned resolution. */
        public String header() {
            StringBuilder b = new StringBuilder();
            if (!Double.isNaN(atTrain)) {
                b.append(String.format(Locale.ROOT, "tested at K_train = %d px as trained: top-1 %.2f%% (one standard "
                        + "error at this many test images: %.2f)%n", kTrain, atTrain, standardError));
            }
            b.append(String.format(Locale.ROOT, "best test resolution without fine-tuning: %d px, %.2f%% (%+.2f)%n",
                    bestUntuned, bestUntunedTop1, bestUntunedTop1 - atTrain));
            return b.toString();
        }

        /** The lines of one fine-tuning mode: its control at K_train, its best above, and the answer. */
        public String text(FinetuneConfig.Mode mode) {
            StringBuilder b = new StringBuilder();
            b.append(String.format(Locale.ROOT, "fine-tuning %s:%n", mode.spelling()));
            if (!Double.isNaN(atTrainFinetuned)) {
                b.append(String.format(Locale.ROOT, "  control, the same fine-tuning at K_train = %d: %.2f%% (%+.2f)%n",
                        kTrain, atTrainFinetuned, atTrainFinetuned - atTrain));
            }
            if (bestAbove > 0) {
                b.append(String.format(Locale.ROOT, "  best fine-tuned above K_train: %d px, %.2f%%%n", bestAbove,
                        bestAboveTop1));
                b.append(String.format(Locale.ROOT, "  FixRes effect: %+.2f top-1 points over the best at K_train -- %s%n",
                        effect, seen()
                        ? "SEEN (more than two standard errors): test at " + bestAbove + " px after fine-tuning"
                        : effect > 0 ? "within noise: no clear gain over the best at K_train"
                        : "NOT seen: the best at K_train is as good or better"));
            }
            return b.toString();
        }

        /** The verdict as the demo's JSON writes it ({@link Report}). */
        public Report report() {
            boolean above = bestAbove > 0;
            return new Report(kTrain, nanToNull(atTrain), nanToNull(atTrainFinetuned), bestUntuned, bestUntunedTop1,
                    above ? bestAbove : null, above ? bestAboveTop1 : null, above ? effect : null, standardError,
                    seen());
        }

        private static Double nanToNull(double v) {
            return Double.isNaN(v) ? null : v;
        }

        /** A verdict in the demo's JSON; a member that was not measured is left out. */
        @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
        @JsonPropertyOrder({"k_train", "top1_at_k_train", "top1_at_k_train_finetuned", "best_untuned_res",
            "best_untuned_top1", "best_finetuned_res_above_k_train", "best_finetuned_top1_above_k_train",
            "fixres_effect_top1", "standard_error_top1", "seen"})
        @JsonInclude(JsonInclude.Include.NON_NULL)
        public record Report(int kTrain, @JsonProperty("top1_at_k_train") Double top1AtKTrain,
                             @JsonProperty("top1_at_k_train_finetuned") Double top1AtKTrainFinetuned,
                             int bestUntunedRes, @JsonProperty("best_untuned_top1") double bestUntunedTop1,
                             @JsonProperty("best_finetuned_res_above_k_train") Integer bestFinetunedResAboveKTrain,
                             @JsonProperty("best_finetuned_top1_above_k_train") Double bestFinetunedTop1AboveKTrain,
                             @JsonProperty("fixres_effect_top1") Double fixresEffectTop1,
                             @JsonProperty("standard_error_top1") double standardErrorTop1, boolean seen) {}
    }

    static Verdict verdict(int kTrain, Map<Integer, TopKAccuracy> before, Map<Integer, TopKAccuracy> after) {
        double atTrain = before.containsKey(kTrain) ? before.get(kTrain).percent(1) : Double.NaN;
        double atTrainFt = after.containsKey(kTrain) ? after.get(kTrain).percent(1) : Double.NaN;
        int bu = argmax(before);
        int ba = 0;
        double baTop = Double.NaN;
        for (Map.Entry<Integer, TopKAccuracy> e : after.entrySet()) {
            if (e.getKey() > kTrain && (ba == 0 || e.getValue().percent(1) > baTop)) {
                ba = e.getKey();
                baTop = e.getValue().percent(1);
            }
        }
        double ref = Double.isNaN(atTrainFt) ? atTrain : Math.max(atTrain, atTrainFt);
        double effect = ba > 0 ? baTop - ref : Double.NaN;
        TopKAccuracy any = before.values().iterator().next();
        double p = (Double.isNaN(ref) ? any.percent(1) : ref) / 100;
        double se = 100 * Math.sqrt(Math.max(p * (1 - p), 1e-4) / Math.max(1, any.count()));
        return new Verdict(kTrain, atTrain, atTrainFt, bu, before.get(bu).percent(1), ba, baTop, effect, se);
    }

    /** The table: one row per test resolution, top-1 / top-5 as trained, bn2-only and per fine-tuning mode. */
    public static String table(int kTrain, List<Row> rows, Recommendation rec, List<FinetuneConfig.Mode> modes,
                               boolean bnOnly) {
        StringBuilder h1 = new StringBuilder(String.format(Locale.ROOT, "%-5s %-4s | %-13s", "train", "test",
                "as trained"));
        StringBuilder h2 = new StringBuilder(String.format(Locale.ROOT, "%-5s %-4s | %-6s %-6s", "res", "res",
                "top-1", "top-5"));
        if (bnOnly) {
            h1.append(String.format(Locale.ROOT, " | %-13s", "bn2 only"));
            h2.append(String.format(Locale.ROOT, " | %-6s %-6s", "top-1", "top-5"));
        }
        for (FinetuneConfig.Mode m : modes) {
            h1.append(String.format(Locale.ROOT, " | %-13s", m.spelling()));
            h2.append(String.format(Locale.ROOT, " | %-6s %-6s", "top-1", "top-5"));
        }
        StringBuilder b = new StringBuilder();
        b.append(h1).append('\n').append(h2).append('\n');
        for (Row r : rows) {
            b.append(String.format(Locale.ROOT, "%-5d %-4d | %-6.2f %-6.2f", kTrain, r.resolution(),
                    r.before().percent(1), top5(r.before())));
            if (bnOnly) {
                b.append(cell(r.bnOnly()));
            }
            for (FinetuneConfig.Mode m : modes) {
                b.append(cell(r.after().get(m)));
            }
            if (r.resolution() == kTrain) {
                b.append("  = K_train");
            }
            if (r.resolution() == rec.kTest()) {
                b.append("  <- recommend");
            }
            b.append('\n');
        }
        return b.toString();
    }

    private static String cell(TopKAccuracy a) {
        return a == null ? String.format(Locale.ROOT, " | %-6s %-6s", "-", "-")
                : String.format(Locale.ROOT, " | %-6.2f %-6.2f", a.percent(1), top5(a));
    }

    /** Test sizes from 0.75 K_train to 2 K_train on a grid of 8 (16 above 1.5 K_train), with the recommendation. */
    static List<Integer> defaultGrid(int kTrain, int recommended) {
        TreeSet<Integer> s = new TreeSet<>();
        int lo = Math.max(16, (int) Math.round(kTrain * 0.75 / 8) * 8);
        for (int r = lo; r <= 2 * kTrain; r += r < 1.5 * kTrain ? 8 : 16) {
            s.add(r);
        }
        s.add(kTrain);
        s.add(2 * kTrain);
        s.add(recommended);
        return new ArrayList<>(s);
    }

    private static int argmax(Map<Integer, TopKAccuracy> m) {
        int best = -1;
        double v = -1;
        for (Map.Entry<Integer, TopKAccuracy> e : m.entrySet()) {
            if (e.getValue().percent(1) > v) {
                v = e.getValue().percent(1);
                best = e.getKey();
            }
        }
        return best;
    }

    private static double[] xs(Map<Integer, TopKAccuracy> m) {
        return m.keySet().stream().mapToDouble(Integer::doubleValue).toArray();
    }

    private static double[] ys(Map<Integer, TopKAccuracy> m) {
        return m.values().stream().mapToDouble(a -> a.percent(1)).toArray();
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    /** Whether the jar ships a checkpoint for the data named {@code dataName}. */
    public static boolean hasShipped(String dataName) {
        Recipe r = RECIPES.get(dataName);
        return r != null && Demo.class.getResource(r.resource()) != null;
    }
}

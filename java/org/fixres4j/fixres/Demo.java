package org.fixres4j.fixres;

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
     * How a shipped checkpoint was made: the data spelling and the exact {@code fixres train} arguments.
     *
     * @param data the {@code --data} spelling
     * @param resource the classpath resource of the shipped model
     * @param trainArgs the {@code fixres train} arguments (without {@code --data}, {@code --out})
     */
    public record Recipe(String data, String resource, List<String> trainArgs) {
        /** The command line that made the shipped file. */
        public String command() {
            return "./fixres train --data " + data + " " + String.join(" ", trainArgs) + " --out "
                    + "java-resources" + resource;
        }
    }

    /** The shipped checkpoints, by dataset name. */
    public static final Map<String, Recipe> RECIPES = Map.of(
            "fashion-mnist", new Recipe("fashion-mnist", "/org/fixres4j/demo/fashion-mnist.safetensors",
                    List.of("--width", "0.25", "--depth", "0.25", "--res", "64", "--epochs", "10", "--threads", "1")),
            "shapes", new Recipe("shapes", "/org/fixres4j/demo/shapes.safetensors",
                    List.of("--width", "0.25", "--depth", "0.25", "--res", "64", "--epochs", "4", "--train-limit",
                            "30000", "--threads", "1")));

    /** The demo's settings. */
    public static final class Options {
        public String data = "auto";
        /** The trained model; null: the checkpoint shipped for the data. */
        public Path model;
        /** How {@link #model} was made, for the report (null: its path). */
        public String modelSource;
        public int sweepImages = 2000;
        public int finetuneImages = 6000;
        public int finetuneEpochs = 1;
        public double finetuneLr = 0.01;
        public int finetuneBatch = 32;
        public FinetuneConfig.Mode mode = FinetuneConfig.Mode.CLASSIFIER;
        public List<Integer> resolutions;
        public List<Integer> finetuneResolutions;
        public int threads = TrainSupport.defaultThreads();
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
     * @param after the accuracy after fine-tuning at this resolution, or null when not fine-tuned here
     * @param finetuneSeconds the fine-tuning's wall time (0 when not fine-tuned)
     * @param finetuneImagesPerSecond its throughput
     */
    public record Row(int resolution, TopKAccuracy before, TopKAccuracy bnOnly, TopKAccuracy after,
                      double finetuneSeconds, double finetuneImagesPerSecond) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("test_res", resolution);
            m.put("before_top1", before.percent(1));
            m.put("before_top5", top5(before));
            if (bnOnly != null) {
                m.put("bn_only_top1", bnOnly.percent(1));
                m.put("bn_only_top5", top5(bnOnly));
            }
            if (after != null) {
                m.put("after_top1", after.percent(1));
                m.put("after_top5", top5(after));
                m.put("finetune_seconds", finetuneSeconds);
                m.put("finetune_images_per_second", finetuneImagesPerSecond);
            }
            return m;
        }
    }

    /** What the demo measured. */
    public record Result(Checkpoint.ModelInfo info, String dataName, String modelSource, int kTrain,
                         Recommendation recommendation, List<Row> rows, int bestBefore, int bestAfter,
                         double seconds, Path json, Path plot) {}

    static double top5(TopKAccuracy a) {
        return a.percent(a.ks()[a.ks().length - 1]);
    }

    /** Runs the demo. */
    public static Result run(Options o) throws IOException {
        long t0 = System.nanoTime();
        PrintStream out = o.out;
        org.fixres4j.torch.Torch.ensureLoaded();
        org.bytedeco.pytorch.global.torch.set_num_threads(o.threads);
        DemoData d = DemoData.open(o.data);
        if (d.note() != null) {
            out.println("note: " + d.note());
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
        double scaleMin = Double.parseDouble(meta.getOrDefault(Checkpoint.META + "train_scale_min", "0.08"));
        double scaleMax = Double.parseDouble(meta.getOrDefault(Checkpoint.META + "train_scale_max", "1.0"));

        Checkpoint.ModelInfo info;
        List<Row> rows = new ArrayList<>();
        Recommendation rec;
        int kTrain;
        Dataset test;
        Dataset ftTrain;
        Map<Integer, TopKAccuracy> before = new LinkedHashMap<>();
        try (Checkpoint.Loaded loaded = Checkpoint.loadModel(modelFile)) {
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
        Map<Integer, TopKAccuracy> after = new LinkedHashMap<>();
        Map<Integer, double[]> ftCost = new LinkedHashMap<>();
        Map<Integer, TopKAccuracy> bnOnly = new LinkedHashMap<>();
        for (int r : ftRes) {
            try (Checkpoint.Loaded fresh = Checkpoint.loadModel(modelFile)) {
                SampleTransform t = FinetuneConfig.testTransform(fresh.info(), r);
                BnReestimate.run(fresh.model(), ftTrain, t, o.finetuneBatch, o.threads, o.seed);
                bnOnly.put(r, TrainEval.evaluate(fresh.model(), test, t, 64, o.threads).accuracy());
            }
            try (Checkpoint.Loaded fresh = Checkpoint.loadModel(modelFile)) {
                FinetuneConfig cfg = new FinetuneConfig(r).mode(o.mode).epochs(o.finetuneEpochs).lr(o.finetuneLr)
                        .batchSize(o.finetuneBatch).threads(o.threads).seed(o.seed);
                Path ckpt = o.outDir.resolve("checkpoints/finetune-" + r);
                Finetuner.Result fr = new Finetuner(cfg).run(fresh.model(), fresh.info(), ftTrain, ckpt, false,
                        modelFile.toAbsolutePath().toString());
                double secs = fr.history().stream().mapToDouble(Finetuner.EpochResult::seconds).sum();
                TrainEval.Result ev = TrainEval.evaluate(fresh.model(), test,
                        FinetuneConfig.testTransform(fresh.info(), r), 64, o.threads);
                after.put(r, ev.accuracy());
                ftCost.put(r, new double[] {secs, fr.imagesPerSecond()});
                out.printf("fine-tuned at %d px on %d training images (%s, %d epoch%s) in %.1f s, %.0f img/s: top-1 "
                                + "%.2f -> %.2f (bn2 statistics only: %.2f)%n", r, ftTrain.size(), o.mode.spelling(),
                        o.finetuneEpochs, o.finetuneEpochs == 1 ? "" : "s", secs, fr.imagesPerSecond(),
                        before.containsKey(r) ? before.get(r).percent(1) : Double.NaN, ev.accuracy().percent(1),
                        bnOnly.get(r).percent(1));
                if (r == bestBefore || r == rec.kTest()) {
                    Checkpoint.saveModel(o.outDir.resolve("finetuned-" + r + ".safetensors"), fresh.model(),
                            fresh.info().withInputSize(r), Map.of(Checkpoint.META + "finetuned",
                                    o.mode.spelling() + " at " + r + " from " + modelFile.getFileName()));
                }
            }
        }
        for (Map.Entry<Integer, TopKAccuracy> e : before.entrySet()) {
            double[] c = ftCost.getOrDefault(e.getKey(), new double[] {0, 0});
            rows.add(new Row(e.getKey(), e.getValue(), bnOnly.get(e.getKey()), after.get(e.getKey()), c[0], c[1]));
        }
        int bestAfter = after.isEmpty() ? bestBefore : argmax(after);
        double seconds = (System.nanoTime() - t0) / 1e9;

        out.println();
        out.print(table(kTrain, rows, rec, o.mode));
        Verdict verdict = verdict(kTrain, before, after);
        out.println();
        out.print(verdict.text());
        out.printf("total %.0f s%n", seconds);

        Path json = o.outDir.resolve("fixres-demo.json");
        Path png = o.outDir.resolve("fixres-demo.png");
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("format", "fixres4j-demo/1");
        doc.put("data", d.test().describe());
        if (d.note() != null) {
            doc.put("note", d.note());
        }
        doc.put("model", info.toMap());
        doc.put("model_source", source);
        doc.put("k_train", kTrain);
        doc.put("train_scale", List.of(scaleMin, scaleMax));
        doc.put("recommendation", rec.toMap());
        doc.put("test_images", test.size());
        doc.put("finetune", Map.of("mode", o.mode.spelling(), "images", ftTrain.size(), "epochs", o.finetuneEpochs,
                "lr", o.finetuneLr, "batch", o.finetuneBatch, "augment", "fixres", "label_smoothing", 0.1));
        List<Object> rs = new ArrayList<>();
        rows.forEach(r -> rs.add(r.toMap()));
        doc.put("rows", rs);
        doc.put("best_before", bestBefore);
        doc.put("best_after", bestAfter);
        doc.put("verdict", verdict.toMap());
        doc.put("seconds", seconds);
        doc.put("threads", o.threads);
        doc.put("software", Reports.software());
        Checkpoint.writeJson(json, doc);
        Plot plot = new Plot().title(String.format(Locale.ROOT, "FixRes demo on %s: EfficientNet w%s d%s, K_train %d",
                        d.name(), fmt(info.spec().width()), fmt(info.spec().depth()), kTrain))
                .xLabel("test resolution (px)").yLabel("top-1 accuracy (%)");
        plot.series("as trained", xs(before), ys(before));
        if (!bnOnly.isEmpty()) {
            plot.series("bn2 statistics re-estimated there (no labels)", xs(bnOnly), ys(bnOnly));
        }
        if (!after.isEmpty()) {
            plot.series("FixRes fine-tuned there (classifier + bn2)", xs(after), ys(after));
        }
        plot.marker(kTrain, "K_train = " + kTrain);
        plot.marker(rec.kTest(), "recommend " + rec.kTest());
        plot.write(png);
        out.printf("wrote %s and %s%n", json, png);
        return new Result(info, d.name(), source, kTrain, rec, rows, bestBefore, bestAfter, seconds, json, png);
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
     */
    public record Verdict(int kTrain, double atTrain, double atTrainFinetuned, int bestUntuned,
                          double bestUntunedTop1, int bestAbove, double bestAboveTop1, double effect) {
        /** Whether the FixRes effect appeared. */
        public boolean seen() {
            return effect > 0;
        }

        public String text() {
            StringBuilder b = new StringBuilder();
            if (!Double.isNaN(atTrain)) {
                b.append(String.format(Locale.ROOT, "tested at K_train = %d (as trained): top-1 %.2f%%%n", kTrain,
                        atTrain));
            }
            b.append(String.format(Locale.ROOT, "best test resolution without fine-tuning: %d px, %.2f%% (%+.2f)%n",
                    bestUntuned, bestUntunedTop1, bestUntunedTop1 - atTrain));
            if (!Double.isNaN(atTrainFinetuned)) {
                b.append(String.format(Locale.ROOT, "control, the same fine-tuning at K_train = %d: %.2f%% (%+.2f)%n",
                        kTrain, atTrainFinetuned, atTrainFinetuned - atTrain));
            }
            if (bestAbove > 0) {
                b.append(String.format(Locale.ROOT, "best fine-tuned above K_train: %d px, %.2f%%%n", bestAbove,
                        bestAboveTop1));
                b.append(String.format(Locale.ROOT, "FixRes effect: %+.2f top-1 points -- %s%n", effect, seen()
                        ? "seen: testing at " + bestAbove + " px after fine-tuning beats the best at K_train"
                        : "NOT seen at this setting: the best at K_train is as good or better"));
            }
            return b.toString();
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("k_train", kTrain);
            if (!Double.isNaN(atTrain)) {
                m.put("top1_at_k_train", atTrain);
            }
            if (!Double.isNaN(atTrainFinetuned)) {
                m.put("top1_at_k_train_finetuned", atTrainFinetuned);
            }
            m.put("best_untuned_res", bestUntuned);
            m.put("best_untuned_top1", bestUntunedTop1);
            if (bestAbove > 0) {
                m.put("best_finetuned_res_above_k_train", bestAbove);
                m.put("best_finetuned_top1_above_k_train", bestAboveTop1);
                m.put("fixres_effect_top1", effect);
            }
            m.put("seen", seen());
            return m;
        }
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
        return new Verdict(kTrain, atTrain, atTrainFt, bu, before.get(bu).percent(1), ba, baTop, effect);
    }

    /** The table: one row per test resolution. */
    public static String table(int kTrain, List<Row> rows, Recommendation rec, FinetuneConfig.Mode mode) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-5s %-5s | %-13s | %-13s | %-21s%n", "train", "test", "as trained",
                "bn2 stats only", "FixRes fine-tuned"));
        b.append(String.format(Locale.ROOT, "%-5s %-5s | %-6s %-6s | %-6s %-6s | %-6s %-6s %-7s%n", "res", "res",
                "top-1", "top-5", "top-1", "top-5", "top-1", "top-5", "gain"));
        for (Row r : rows) {
            String mark = r.resolution() == kTrain ? "  = K_train" : "";
            if (r.resolution() == rec.kTest()) {
                mark += "  <- recommend";
            }
            String bn = r.bnOnly() == null ? String.format(Locale.ROOT, "%-6s %-6s", "-", "-")
                    : String.format(Locale.ROOT, "%-6.2f %-6.2f", r.bnOnly().percent(1), top5(r.bnOnly()));
            String ft = r.after() == null ? String.format(Locale.ROOT, "%-6s %-6s %-7s", "-", "-", "")
                    : String.format(Locale.ROOT, "%-6.2f %-6.2f %+-7.2f", r.after().percent(1), top5(r.after()),
                            r.after().percent(1) - r.before().percent(1));
            b.append(String.format(Locale.ROOT, "%-5d %-5d | %-6.2f %-6.2f | %s | %s%s%n", kTrain, r.resolution(),
                    r.before().percent(1), top5(r.before()), bn, ft, mark));
        }
        b.append("(fine-tuning: " + mode.spelling() + "; gain = fine-tuned minus as trained, same resolution)\n");
        return b.toString();
    }

    /** Test sizes from 0.75 K_train to 2 K_train on a grid of 8 (16 above 1.5 K_train), with the recommendation. */
    static List<Integer> defaultGrid(int kTrain, int recommended) {
        TreeSet<Integer> s = new TreeSet<>();
        int lo = Math.max(16, (int) Math.round(kTrain * 0.75 / 8) * 8);
        for (int r = lo; r <= 2 * kTrain; r += r < 1.5 * kTrain ? 8 : 16) {
            s.add(r);
        }
        s.add(kTrain);
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

package org.fixres4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import org.fixres4j.fixres.Recommend;
import org.fixres4j.fixres.Recommendation;
import org.fixres4j.fixres.Sweep;
import org.fixres4j.model.EvalPreprocessing;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.model.ModelSource;
import org.fixres4j.model.PretrainedConfig;
import org.fixres4j.report.Plot;
import org.fixres4j.report.Reports;
import org.fixres4j.transform.SampleTransform;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code fixres recommend}: the FixRes paper's apparent-object-size model ({@link Recommend}) turned into a test
 * resolution, printed with every term of the formula; optionally confirmed by a short sweep on a held-out subset.
 */
@Command(name = "recommend", mixinStandardHelpOptions = true, sortOptions = false,
        defaultValueProvider = CommandDefaults.class,
        description = {"Recommend a test resolution (about 1.25 x K_train) from the FixRes apparent-object-size "
                + "model, optionally confirmed by a sweep.",
            "The model (Touvron et al. 2019, section 3.1):",
            "  E[sigma] = (2/3)(s_max^1.5 - s_min^1.5)/(s_max - s_min) for RandomResizedCrop's area fraction "
                + "s ~ U[s_min, s_max];",
            "  E[r_test/r_train] = E[sigma] * K_test_image/K_test at K_test = K_train, and "
                + "K_test = K_train / E[r_test/r_train] (about 1.24 x K_train for the defaults: 224 -> 280).",
            "With --data and --weights (and --arch for a weight file without FixRes4J metadata) a short sweep over "
                + "resolutions around it on a stratified subset confirms it; both are reported."})
final class RecommendCommand implements Callable<Integer> {
    /** Images of the confirming sweep unless --limit says otherwise. */
    static final int DEFAULT_SWEEP_LIMIT = 500;
    /** The range of a recommended K_test (that of --res everywhere). */
    static final int MIN_K_TEST = 8;
    static final int MAX_K_TEST = 4096;

    @Option(names = "--k-train", paramLabel = "K",
            description = "The training resolution K_train (default: the model's input size, from --weights' "
                    + "FixRes4J metadata or --arch).")
    Integer kTrain;

    /**
     * The model, as every command takes it: --weights (a model file of fixres train / finetune gives K_train and
     * crop_pct from its metadata, and is the model of --data), --arch (a timm name: K_train and crop_pct when not
     * given; needed with a weight file without FixRes4J metadata), or both.
     */
    @Mixin
    ModelArgs modelArgs;

    @Option(names = "--scale", split = ",", paramLabel = "S", defaultValue = "0.08,1",
            description = "MIN,MAX: RandomResizedCrop's area-fraction range in training (default: ${DEFAULT-VALUE}).")
    List<Double> scale;

    @Option(names = "--stride", paramLabel = "S", defaultValue = "" + Recommend.DEFAULT_STRIDE,
            description = "Round K_test to a multiple of S (default: ${DEFAULT-VALUE}; 32 for tiny inputs).")
    int stride;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Confirm with a sweep on this dataset (needs --weights); default "
                    + DEFAULT_SWEEP_LIMIT + " images (--limit).")
    Path data;

    @Mixin
    EvalCommand.DataOptions dataOptions;

    @Option(names = {"--res", "--img-size"}, split = ",", paramLabel = "R",
            description = "Resolutions of the confirming sweep (default: K_train, the recommendation, and points "
                    + "half a step apart up to 1.5 steps past it); the recommendation is always included.")
    List<Integer> res;

    @Mixin
    EvalCommand.PreprocessOptions pre;

    @Option(names = {"--out", "--results-file"}, paramLabel = "FILE.json",
            description = "Write the recommendation (and the sweep with its configuration) as JSON; with --data "
                    + "also CSV next to it.")
    Path out;

    @Option(names = "--plot", paramLabel = "FILE.png",
            description = "With --data: plot top-1 against resolution, K_train and the recommendation marked.")
    Path plot;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // the model, as eval finds it: --weights (its FixRes4J metadata, or --arch for a timm file), or --arch alone
        String arch = modelArgs.arch();
        ModelSource source = modelArgs.weights() == null ? null : ModelSource.of(arch, modelArgs.weights());
        ModelRegistry.Resolved named = source == null && arch != null ? ModelRegistry.resolve(arch) : null;
        PretrainedConfig cfg = source != null ? source.config() : named != null ? named.config() : null;
        String modelName = source != null ? source.name() : named != null ? named.name() : null;
        if (kTrain == null && cfg == null) {
            throw new IllegalArgumentException("give --k-train K, --arch A or --weights FILE (a model of fixres train "
                    + "/ finetune) whose input size is K_train");
        }
        int k = kTrain != null ? kTrain : cfg.inputSize();
        if (k < 8 || k > 4096) {
            throw new IllegalArgumentException("--k-train must be in 8..4096, got " + k);
        }
        if (scale.size() != 2) {
            throw new IllegalArgumentException("--scale takes two values MIN,MAX, got " + scale.size());
        }
        double sMin = scale.get(0);
        double sMax = scale.get(1);
        if (!(Double.isFinite(sMin) && Double.isFinite(sMax) && sMin > 0 && sMin <= sMax && sMax <= 1)) {
            throw new IllegalArgumentException("--scale MIN,MAX must satisfy 0 < MIN <= MAX <= 1 (area fractions of "
                    + "RandomResizedCrop), got " + sMin + "," + sMax);
        }
        EvalPreprocessing.Overrides overrides = pre.preprocessing.overrides(null);
        if (stride < 1 || stride > 1024) {
            throw new IllegalArgumentException("--stride must be in 1..1024, got " + stride);
        }
        pre.validate();
        double ratio;
        String ratioSource;
        if (overrides.mode() == EvalPreprocessing.ResizeMode.FIXRES) {
            ratio = 256.0 / 224.0;
            ratioSource = "FixRes test transform, int(256/224 K_test)";
        } else if (overrides.cropPct() != null) {
            ratio = Recommend.cropRatioOfCropPct(overrides.cropPct());
            ratioSource = "1 / crop_pct " + overrides.cropPct();
        } else if (cfg != null) {
            ratio = Recommend.cropRatioOfCropPct(cfg.cropPct());
            ratioSource = "1 / crop_pct " + cfg.cropPct() + " of " + modelName;
        } else {
            ratio = Recommend.STANDARD_CROP_RATIO;
            ratioSource = "256/224, crop_pct 0.875";
        }
        Recommendation rec = Recommend.of(k, sMin, sMax, ratio, stride);
        if (!(rec.exactKTest() >= MIN_K_TEST && rec.exactKTest() <= MAX_K_TEST) || rec.kTest() < MIN_K_TEST
                || rec.kTest() > MAX_K_TEST) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "K_train %d with --scale %s,%s and a test "
                    + "crop ratio of %.4g gives K_test = %.4g px, outside %d..%d px, the resolutions this tool runs: "
                    + "check --scale (timm's default 0.08,1), --crop-pct and --k-train", k, sMin, sMax, ratio,
                    rec.exactKTest(), MIN_K_TEST, MAX_K_TEST));
        }

        System.out.printf(Locale.ROOT, "FixRes test resolution (apparent object size, Touvron et al. 2019)%n");
        System.out.printf(Locale.ROOT, "K_train = %d%s; test crop ratio from %s%n", k,
                kTrain == null ? " (input size of " + modelName + ")" : "", ratioSource);
        System.out.println(rec.explain());
        System.out.printf(Locale.ROOT, "Recommended test resolution: %d (%.3f x K_train; exact %.1f)%n", rec.kTest(),
                rec.kTestOverKTrain(), rec.exactKTest());
        System.out.flush();

        // the members recommend adds after an eval report's own, by name (EvalReport.with)
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("recommendation", rec);
        if (data == null) {
            if (res != null || plot != null) {
                throw new IllegalArgumentException("--res and --plot need --data (the sweep that confirms the "
                        + "recommendation)");
            }
            if (out != null) {
                EvalCommand.checkOutputs(out);
                Reports.writeJson(out, new Document("fixres4j-recommend/1", Document.SCHEMA_VERSION, rec,
                        new Document.Software(Reports.fixres4jVersion(), System.getProperty("java.version"))));
                System.err.println("fixres: recommendation written to " + out);
            }
            return 0;
        }

        // the confirming sweep
        if (source == null) {
            throw new IllegalArgumentException("--data needs --weights (the model to sweep; and --arch for a weight "
                    + "file without FixRes4J metadata)");
        }
        EvalCommand.checkOutputs(out, plot);
        List<Integer> resolutions = sweepResolutions(res, k, rec.kTest(), stride);
        EvalPreprocessing preprocessing = pre.preprocessing(source);
        List<SampleTransform> transforms = preprocessing.transforms(resolutions);
        if (dataOptions.limit == null) {
            dataOptions.limit = DEFAULT_SWEEP_LIMIT;
        }
        EvalCommand.Opened opened = EvalCommand.open(data, dataOptions, source, pre, System.err);
        try (EvalCommand.LoadedModel model = opened.model()) {
            Map<String, Object> config = EvalCommand.config("recommend", spec, source, model, opened, pre,
                    preprocessing, transforms);
            config.put("recommendation", rec);
            System.err.printf(Locale.ROOT, "fixres recommend: sweep of %s on %s, resolutions %s%n", modelName,
                    opened.dataset().describe(), EvalCommand.join(resolutions));
            Sweep.Result result = EvalCommand.sweep(opened, model, transforms, pre, "recommend");
            Map<String, Sweep.Result> series = new LinkedHashMap<>();
            series.put("sweep", result);
            System.out.println();
            System.out.printf(Locale.ROOT, "Sweep on %d images (%s):%n", result.evaluated(),
                    opened.dataset().describe());
            System.out.print(Reports.table(series));
            System.err.print(Reports.failureLines(result.failures(), 10));
            Sweep.Entry best = result.best();
            Sweep.Entry atRec = result.at(rec.kTest());
            Sweep.Entry atTrain = resolutions.contains(k) ? result.at(k) : null;
            extra.put("confirmation", new Confirmation(rec.kTest(), finite(atRec.top1()),
                    atTrain == null ? null : finite(atTrain.top1()), best == null ? null : best.resolution(),
                    best == null ? null : finite(best.top1()), result.evaluated()));
            if (best != null) {
                System.out.printf(Locale.ROOT, "Formula: %d px -> top-1 %.2f%%%s%n", rec.kTest(), atRec.top1(),
                        atTrain == null ? "" : String.format(Locale.ROOT, " (K_train %d px: %.2f%%)", k,
                                atTrain.top1()));
                System.out.printf(Locale.ROOT, "Sweep best: %d px -> top-1 %.2f%% (%+.2f points vs the formula; "
                                + "standard error of one accuracy on %d images: up to %.1f points)%n",
                        best.resolution(), best.top1(), best.top1() - atRec.top1(), result.evaluated(),
                        100 * Math.sqrt(0.25 / Math.max(1, result.evaluated())));
            }
            List<Plot.Marker> markers = new ArrayList<>();
            markers.add(new Plot.Marker(rec.kTest(), "FixRes K_test = " + rec.kTest()));
            EvalCommand.writeOutputs(config, series, extra, out, null, plot,
                    modelName + " on " + EvalCommand.dataName(data), k, markers);
            if (result.evaluated() == 0) {
                throw new IOException("none of the " + result.datasetSize() + " images could be read (first: "
                        + result.failures().get(0) + ")");
            }
        }
        return 0;
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /**
     * The sweep's resolutions: the given ones plus the recommendation, or by default K_train, the recommendation and
     * points half a step (K_test - K_train) / 2 apart from K_train to 1.5 steps past the recommendation, rounded to
     * the stride; sorted, without duplicates.
     */
    static List<Integer> sweepResolutions(List<Integer> asked, int kTrain, int kTest, int stride) {
        TreeSet<Integer> set = new TreeSet<>();
        if (asked != null && !asked.isEmpty()) {
            set.addAll(EvalCommand.resolutions(asked, kTrain));
        } else {
            set.add(kTrain);
            double half = (kTest - kTrain) / 2.0;
            for (int i = 1; i <= 5; i++) {
                double v = kTrain + i * half;
                long r = Math.round(v / stride) * stride;
                if (r >= 8 && r <= 4096) {
                    set.add((int) r);
                }
            }
        }
        set.add(kTest);
        return new ArrayList<>(set);
    }

    /**
     * {@code recommend --out}'s document without --data: {@code format}, {@code schema_version}, the recommendation
     * and the software that made it. (With --data the document is an {@link org.fixres4j.report.EvalReport}.)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"format", "schema_version", "recommendation", "software"})
    record Document(String format, int schemaVersion, Recommendation recommendation, Software software) {
        /** Raised when a member is renamed, removed or changes meaning. */
        static final int SCHEMA_VERSION = 1;

        /** The FixRes4J and Java versions. */
        @JsonPropertyOrder({"fixres4j", "java"})
        record Software(String fixres4j, String java) {}
    }

    /**
     * How the sweep confirmed the recommendation: the formula's K_test and its top-1, top-1 at K_train (when swept),
     * the sweep's best resolution and top-1 (null when nothing was evaluated), and the images.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"formula_k_test", "formula_top1", "k_train_top1", "sweep_best_k_test", "sweep_best_top1",
        "images"})
    record Confirmation(@JsonProperty("formula_k_test") int formulaKTest, Double formulaTop1, Double kTrainTop1,
                        @JsonProperty("sweep_best_k_test") Integer sweepBestKTest, Double sweepBestTop1, int images) {}
}

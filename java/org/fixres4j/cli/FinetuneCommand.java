package org.fixres4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import org.fixres4j.model.ModelFile;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.model.ModelSource;
import org.fixres4j.data.Dataset;
import org.fixres4j.data.Subsets;
import org.fixres4j.eval.TopKAccuracy;
import org.fixres4j.fixres.BnReestimate;
import org.fixres4j.fixres.Checkpoint;
import org.fixres4j.data.DemoData;
import org.fixres4j.fixres.FinetuneConfig;
import org.fixres4j.fixres.Finetuner;
import org.fixres4j.fixres.RunConfig;
import org.fixres4j.fixres.TrainEval;
import org.fixres4j.io.Json;
import org.fixres4j.io.Sha256;
import org.fixres4j.transform.SampleTransform;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code fixres finetune}: FixRes fine-tuning of a trained model at a test resolution. */
@Command(name = "finetune", mixinStandardHelpOptions = true, sortOptions = false,
        defaultValueProvider = CommandDefaults.class,
        description = {"FixRes fine-tuning at a test resolution: everything frozen in eval mode except the classifier "
                + "(trained) and the last BatchNorm bn2 (train mode: batch statistics, running statistics "
                + "re-estimated, affine frozen); label smoothing, SGD momentum 0.9, weight decay 1e-4; FixRes's "
                + "augmentation (flip + shifted centre crop) or the plain test transform. --bn-only re-estimates bn2's "
                + "statistics from unlabelled images with no gradient. Scores the test images at the resolution "
                + "before and after, checkpoints every epoch (--resume), and writes a safetensors file that eval and "
                + "timm load."})
final class FinetuneCommand implements Callable<Integer> {
    /** The trained model: --weights (or --model) FILE, from train, or a timm weight file with --arch. */
    @Mixin
    ModelArgs modelArgs;

    @Option(names = "--data", defaultValue = "auto", paramLabel = "D",
            description = "fashion-mnist[:DIR], shapes, folder:DIR (DIR/train, DIR/val) or auto (default: ${DEFAULT-VALUE}).")
    String data;

    @Option(names = {"--res", "--img-size"}, required = true, paramLabel = "K",
            description = "The test resolution to fine-tune at.")
    int res;

    @Option(names = "--bn-only", description = "Label-free: only re-estimate bn2's statistics at --res (no gradient).")
    boolean bnOnly;

    @Option(names = "--train-bn-affine", description = "Also train bn2's weight and bias.")
    boolean bnAffine;

    @Option(names = "--unfreeze-last-stage", description = "Also train the last stage and conv_head (implies "
            + "--train-bn-affine); their BatchNorms keep their running statistics.")
    boolean lastStage;

    @Option(names = "--augment", defaultValue = "fixres", paramLabel = "A",
            description = "fixres (flip + shifted centre crop, bilinear) or test (the plain test transform) "
                    + "(default: ${DEFAULT-VALUE}).")
    String augment;

    @Option(names = "--eval-limit", defaultValue = "0", paramLabel = "N",
            description = "Score a stratified subset of N test images before and after (default: all; -1: skip).")
    int evalLimit;

    @Option(names = "--out", defaultValue = "fixres-finetune/model.safetensors", paramLabel = "FILE",
            description = "The fine-tuned model (default: ${DEFAULT-VALUE}).")
    Path out;

    @Mixin
    RunOptions run;

    @Mixin
    DeviceOptions device;

    @Mixin
    CheckpointOptions checkpoints;

    @Mixin
    ImageOptions imageOptions;

    @Mixin
    DistOptions dist;

    @Mixin
    AmpOptions amp;

    /** The data-parallel group: every rank trains its shard; rank 0 alone writes the outputs. */
    private org.fixres4j.dist.Collective group;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    @Override
    public Integer call() throws Exception {
        org.fixres4j.torch.DeviceSpec dev = device.checked();
        org.fixres4j.torch.Amp precision = amp.training(dev);
        try (org.fixres4j.dist.Collective c = dist.connect()) {
            group = c;
            if (c.worldSize() > 1) {
                dev = device.forLocalRank(dist.config().localRank()); // one device per process of a machine
            }
            return finetune(dev, precision);
        }
    }

    private Integer finetune(org.fixres4j.torch.DeviceSpec dev, org.fixres4j.torch.Amp precision) throws Exception {
        run.validate();
        EvalCommand.checkOutputs(out, json);
        Path model = modelArgs.requiredWeights();
        if (!Files.isRegularFile(model)) {
            throw new java.nio.file.NoSuchFileException(model.toString(), null, "no such model file");
        }
        ModelSource source = ModelSource.of(modelArgs.arch(), model);
        DemoData d = DemoData.open(data);
        if (d.note() != null) {
            System.out.println("note: " + d.note());
        }
        FinetuneConfig.Mode mode = lastStage ? FinetuneConfig.Mode.LAST_STAGE
                : bnAffine ? FinetuneConfig.Mode.BN_AFFINE : FinetuneConfig.Mode.CLASSIFIER;
        FinetuneConfig cfg = new FinetuneConfig(res).mode(mode).device(dev).amp(precision)
                .augment(FinetuneConfig.Augment.valueOf(augment.trim().toUpperCase(Locale.ROOT)))
                .epochs(run.epochs).batchSize(run.batch()).lr(run.lr).momentum(run.momentum)
                .weightDecay(run.weightDecay);
        run.applyTo(cfg);
        int t = run.compute.threadsOr(org.fixres4j.fixres.TrainConfig.defaultThreads());
        cfg.threads(t).collective(group);
        cfg.checkDevice(); // e.g. several ranks on CUDA, before anything is read or written
        org.fixres4j.kernels.ComputeThreads.set(t);
        Path ckpt = checkpoints.dir(out);
        boolean resume = !bnOnly && checkpoints.resume(ckpt);
        Report report;
        try (ModelFile.Loaded loaded = source.load()) {
            ModelInfo info = loaded.info();
            // everything below (scoring before and after, bn2 re-estimation, fine-tuning) runs where the model is;
            // the saved model and the checkpoints are host copies
            org.fixres4j.torch.DeviceTensors.moveModule(loaded.model(), dev);
            if (info.classNames().isEmpty() ? info.spec().numClasses() != d.train().numClasses()
                    : !info.classNames().equals(d.classNames())) {
                throw new IllegalArgumentException(model + " has " + info.spec().numClasses() + " classes "
                        + (info.classNames().isEmpty() ? "" : info.classNames()) + ", the data " + d.train().numClasses()
                        + " " + d.classNames());
            }
            SampleTransform test = FinetuneConfig.testTransform(info, res);
            Dataset evalSet = evalLimit < 0 ? null : evalLimit == 0 ? d.test()
                    : Subsets.stratified(d.test(), Math.min(evalLimit, d.test().size()), 1);
            System.out.printf("finetune: %s trained at %d, at test resolution %d, %s%n", info.describe(),
                    info.inputSize(), res, bnOnly ? "bn2 statistics only (no labels, no gradient)"
                            : "mode " + mode.spelling() + ", " + cfg.transform(info).describe());
            if (dev.isCuda()) {
                System.out.printf("device: %s%s%n", dev, precision.enabled() && !bnOnly
                        ? ", autocast " + precision.label() : "");
            }
            TrainEval.Result before = null;
            Accuracy beforeAcc = null;
            Accuracy afterAcc = null;
            BnOnly bn = null;
            Finetuner.Result tuned = null;
            if (evalSet != null) {
                before = TrainEval.evaluate(loaded.model(), evalSet, test, 64, t);
                System.out.printf("before: top-1 %.2f%%  top-5 %.2f%%  at %d px on %d test images (eval %.0f img/s)%n",
                        before.accuracy().percent(1), top5(before.accuracy()), res, before.accuracy().count(),
                        before.imagesPerSecond());
                beforeAcc = Accuracy.of(before);
            }
            Dataset train = run.trainLimit > 0 ? Subsets.stratified(d.train(), Math.min(run.trainLimit, d.train().size()),
                    run.seed()) : d.train();
            long t0 = System.nanoTime();
            if (bnOnly) {
                long n = BnReestimate.run(loaded.model(), train, test, run.batch(), t, run.seed(), group);
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("bn2 re-estimated from %d unlabelled images at %d px in %.1f s (%.0f img/s)%n", n,
                        res, s, n / s);
                bn = new BnOnly(n, s, n / s);
            } else {
                Finetuner ft = new Finetuner(cfg).listener(new Finetuner.Listener() {
                    @Override
                    public void resumed(int epochsDone, Path checkpoint) {
                        CheckpointOptions.printResumed(epochsDone, checkpoint);
                    }

                    @Override
                    public void afterEpoch(Finetuner.EpochResult r) {
                        System.out.printf("epoch %d/%d  loss %.4f  lr %.2g  %.0f img/s  %.1f s%n", r.epoch(),
                                run.epochs, r.loss(), r.lr(), r.imagesPerSecond(), r.seconds());
                    }
                });
                Finetuner.Result r;
                try {
                    r = ft.run(loaded.model(), info, train, ckpt, resume,
                            model.toAbsolutePath() + " sha256 " + Sha256.of(model));
                } catch (IllegalStateException e) {
                    throw TrainCommand.nonFiniteLoss(e, "--lr " + run.lr);
                }
                tuned = r;
            }
            Map<String, String> extra = new LinkedHashMap<>();
            extra.put("fixres4j.finetuned", (bnOnly ? "bn-only" : mode.spelling()) + " at " + res + " from "
                    + model.getFileName());
            if (!group.isMain()) {
                return 0; // rank 0 writes the model and the report
            }
            ModelFile.save(out, loaded.model(), info.withInputSize(res), extra);
            if (evalSet != null) {
                TrainEval.Result after = TrainEval.evaluate(loaded.model(), evalSet, test, 64, t);
                System.out.printf("after:  top-1 %.2f%%  top-5 %.2f%%  (%+.2f top-1)%n", after.accuracy().percent(1),
                        top5(after.accuracy()), after.accuracy().percent(1) - before.accuracy().percent(1));
                afterAcc = Accuracy.of(after);
            }
            report = new Report(Report.SCHEMA_VERSION, model.toString(), info.report(), d.train().describe(),
                    test.describe(), beforeAcc, bn, tuned == null ? null : cfg.identity(),
                    tuned == null ? null : tuned.trained(), tuned == null ? null : tuned.history(),
                    tuned == null ? null : tuned.imagesPerSecond(), afterAcc, out.toString());
            System.out.printf("wrote %s (timm's keys; its metadata describes the model, default resolution now %d)%n",
                    out, res);
        }
        if (json != null) {
            Checkpoint.writeJson(json, report);
        }
        return 0;
    }

    private static double top5(TopKAccuracy a) {
        return a.percent(a.ks()[a.ks().length - 1]);
    }

    /**
     * The --json report: the model (file and description), data, test transform, the scores before and after, and
     * either the label-free bn2 re-estimation or the fine-tuning run (its identity, trained tensors, history, speed);
     * a part that did not run is left out.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"schema_version", "model", "model_info", "data", "test_transform", "before", "bn_only",
        "config", "trained", "history", "finetune_images_per_second", "after", "out"})
    record Report(int schemaVersion, String model, ModelInfo.Report modelInfo, String data, String testTransform,
                  Accuracy before, BnOnly bnOnly, RunConfig.Identity config, List<String> trained,
                  List<Finetuner.EpochResult> history, Double finetuneImagesPerSecond, Accuracy after, String out) {
        /** Raised when a member is renamed, removed or changes meaning. */
        static final int SCHEMA_VERSION = 1;
    }

    /** Top-1, top-5, images and speed of one scoring of the test images. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"top1", "top5", "images", "eval_images_per_second"})
    record Accuracy(double top1, double top5, long images, double evalImagesPerSecond) {
        static Accuracy of(TrainEval.Result r) {
            return new Accuracy(r.accuracy().percent(1), FinetuneCommand.top5(r.accuracy()), r.accuracy().count(),
                    r.imagesPerSecond());
        }
    }

    /** The label-free bn2 re-estimation: images, seconds, images per second. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"images", "seconds", "images_per_second"})
    record BnOnly(long images, double seconds, double imagesPerSecond) {}
}

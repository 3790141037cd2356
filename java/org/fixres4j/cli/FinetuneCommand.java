package org.fixres4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

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
import org.fixres4j.fixres.TrainEval;
import org.fixres4j.io.Json;
import org.fixres4j.io.Sha256;
import org.fixres4j.transform.SampleTransform;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code fixres finetune}: FixRes fine-tuning of a trained model at a test resolution. */
@Command(name = "finetune", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"FixRes fine-tuning at a test resolution: everything frozen in eval mode except the classifier "
                + "(trained) and the last BatchNorm bn2 (train mode: batch statistics, running statistics "
                + "re-estimated, affine frozen); label smoothing, SGD momentum 0.9, weight decay 1e-4; FixRes's "
                + "augmentation (flip + shifted centre crop) or the plain test transform. --bn-only re-estimates bn2's "
                + "statistics from unlabelled images with no gradient. Scores the test images at the resolution "
                + "before and after, checkpoints every epoch (--resume), and writes a safetensors file that eval and "
                + "timm load."})
final class FinetuneCommand implements Callable<Integer> {
    @Option(names = {"--model", "--weights"}, required = true, paramLabel = "FILE",
            description = "The trained model (.safetensors from train, or a timm weight file with --arch).")
    Path model;

    @Option(names = "--arch", paramLabel = "A",
            description = "timm architecture, only for weight files without FixRes4J metadata (e.g. "
                    + "tf_efficientnet_b0.ap_in1k). Unlike eval, --model here is the weight file, not the "
                    + "architecture.")
    String arch;

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

    @Option(names = "--epochs", defaultValue = "1", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = {"-b", "--batch"}, defaultValue = "32", paramLabel = "B", description = "Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--lr", defaultValue = "1e-3", paramLabel = "LR", description = "Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--momentum", defaultValue = "0.9", paramLabel = "M", description = "Default: ${DEFAULT-VALUE}.")
    double momentum;

    @Option(names = "--weight-decay", defaultValue = "1e-4", paramLabel = "WD", description = "Default: ${DEFAULT-VALUE}.")
    double weightDecay;

    @Option(names = "--eval-limit", defaultValue = "0", paramLabel = "N",
            description = "Score a stratified subset of N test images before and after (default: all; -1: skip).")
    int evalLimit;

    @Option(names = "--out", defaultValue = "fixres-finetune/model.safetensors", paramLabel = "FILE",
            description = "The fine-tuned model (default: ${DEFAULT-VALUE}).")
    Path out;

    @Mixin
    RunOptions run;

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
        try (org.fixres4j.dist.Collective c = dist.connect()) {
            group = c;
            return finetune();
        }
    }

    private Integer finetune() throws Exception {
        run.validate();
        org.fixres4j.torch.Amp precision = amp.cpu();
        EvalCommand.checkOutputs(out, json);
        if (!Files.isRegularFile(model)) {
            throw new java.nio.file.NoSuchFileException(model.toString(), null, "no such model file");
        }
        ModelSource source = ModelSource.of(arch, model);
        DemoData d = DemoData.open(data);
        if (d.note() != null) {
            System.out.println("note: " + d.note());
        }
        FinetuneConfig.Mode mode = lastStage ? FinetuneConfig.Mode.LAST_STAGE
                : bnAffine ? FinetuneConfig.Mode.BN_AFFINE : FinetuneConfig.Mode.CLASSIFIER;
        FinetuneConfig cfg = new FinetuneConfig(res).mode(mode).amp(precision)
                .augment(FinetuneConfig.Augment.valueOf(augment.trim().toUpperCase(Locale.ROOT)))
                .epochs(epochs).batchSize(batch).lr(lr).momentum(momentum).weightDecay(weightDecay);
        run.applyTo(cfg);
        int t = run.threads != null ? run.threads : org.fixres4j.fixres.TrainConfig.defaultThreads();
        cfg.threads(t).collective(group);
        org.fixres4j.torch.Torch.setThreads(t);
        Path ckpt = checkpoints.dir(out);
        boolean resume = !bnOnly && checkpoints.resume(ckpt);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("schema_version", 1L); // of the --json report: raised when a member is renamed or removed
        try (ModelFile.Loaded loaded = source.load()) {
            ModelInfo info = loaded.info();
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
            report.put("model", model.toString());
            report.put("model_info", info.toMap());
            report.put("data", d.train().describe());
            report.put("test_transform", test.describe());
            TrainEval.Result before = null;
            if (evalSet != null) {
                before = TrainEval.evaluate(loaded.model(), evalSet, test, 64, t);
                System.out.printf("before: top-1 %.2f%%  top-5 %.2f%%  at %d px on %d test images (eval %.0f img/s)%n",
                        before.accuracy().percent(1), top5(before.accuracy()), res, before.accuracy().count(),
                        before.imagesPerSecond());
                report.put("before", accMap(before));
            }
            Dataset train = run.trainLimit > 0 ? Subsets.stratified(d.train(), Math.min(run.trainLimit, d.train().size()),
                    run.seed) : d.train();
            long t0 = System.nanoTime();
            if (bnOnly) {
                long n = BnReestimate.run(loaded.model(), train, test, batch, t, run.seed, group);
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("bn2 re-estimated from %d unlabelled images at %d px in %.1f s (%.0f img/s)%n", n,
                        res, s, n / s);
                Map<String, Object> bn = new java.util.LinkedHashMap<>(); // fixed key order in the JSON
                bn.put("images", n);
                bn.put("seconds", s);
                bn.put("images_per_second", n / s);
                report.put("bn_only", bn);
            } else {
                Finetuner ft = new Finetuner(cfg).listener(new Finetuner.Listener() {
                    @Override
                    public void resumed(int epochsDone, Path checkpoint) {
                        CheckpointOptions.printResumed(epochsDone, checkpoint);
                    }

                    @Override
                    public void afterEpoch(Finetuner.EpochResult r) {
                        System.out.printf("epoch %d/%d  loss %.4f  lr %.2g  %.0f img/s  %.1f s%n", r.epoch(), epochs,
                                r.loss(), r.lr(), r.imagesPerSecond(), r.seconds());
                    }
                });
                Finetuner.Result r;
                try {
                    r = ft.run(loaded.model(), info, train, ckpt, resume,
                            model.toAbsolutePath() + " sha256 " + Sha256.of(model));
                } catch (IllegalStateException e) {
                    throw TrainCommand.nonFiniteLoss(e, "--lr " + lr);
                }
                report.put("config", cfg.toMap());
                report.put("trained", r.trained());
                java.util.List<Object> h = new java.util.ArrayList<>();
                r.history().forEach(h::add);
                report.put("history", h);
                report.put("finetune_images_per_second", r.imagesPerSecond());
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
                report.put("after", accMap(after));
            }
            report.put("out", out.toString());
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

    private static Map<String, Object> accMap(TrainEval.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("top1", r.accuracy().percent(1));
        m.put("top5", top5(r.accuracy()));
        m.put("images", r.accuracy().count());
        m.put("eval_images_per_second", r.imagesPerSecond());
        return m;
    }
}

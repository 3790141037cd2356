package org.fixres4j.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import org.fixres4j.model.ModelFile;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.data.Dataset;
import org.fixres4j.data.Subsets;
import org.fixres4j.data.DemoData;
import org.fixres4j.fixres.TrainConfig;
import org.fixres4j.fixres.TrainOptimizer;
import org.fixres4j.fixres.Trainer;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.transform.Interpolation;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code fixres train}: a small EfficientNet from scratch with RandomResizedCrop at K_train. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        defaultValueProvider = CommandDefaults.class,
        description = {"Train an EfficientNet (any width/depth multipliers) from scratch with RandomResizedCrop + flip "
                + "at the training resolution K_train, label smoothing, SGD or RMSprop, so that the FixRes effect can "
                + "be produced on data at hand. Checkpoints every epoch (atomic; --resume continues a killed run). "
                + "The output is a safetensors file with timm's keys and the model description in its metadata: "
                + "eval, finetune and timm load it."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", defaultValue = "auto", paramLabel = "D",
            description = "fashion-mnist[:DIR], shapes (generated), folder:DIR (DIR/train, DIR/val), or auto "
                    + "(Fashion-MNIST if installed, else shapes). Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = {"--arch", "--model"}, defaultValue = "efficientnet_b0", paramLabel = "A",
            description = "Base architecture: efficientnet_bN (symmetric padding) or tf_efficientnet_bN (TF 'same'). "
                    + "Default: ${DEFAULT-VALUE}.")
    String arch;

    @Option(names = "--width", paramLabel = "W", description = "Channel multiplier (replaces the variant's), e.g. 0.25.")
    Double width;

    @Option(names = "--depth", paramLabel = "D", description = "Depth multiplier (replaces the variant's), e.g. 0.25.")
    Double depth;

    @Option(names = {"--res", "--img-size"}, defaultValue = "64", paramLabel = "K",
            description = "Training resolution K_train (default: ${DEFAULT-VALUE}).")
    int res;

    @Option(names = "--scale", defaultValue = "0.08,1", paramLabel = "MIN,MAX",
            description = "RandomResizedCrop area range (default: ${DEFAULT-VALUE}).")
    String scale;

    @Option(names = "--interpolation", defaultValue = "bilinear", paramLabel = "I",
            description = "Resize filter: bilinear (torchvision's and FixRes's), bicubic or nearest "
                    + "(default: ${DEFAULT-VALUE}).")
    String interpolation;

    @Option(names = "--opt", defaultValue = "sgd", paramLabel = "O", description = "sgd or rmsprop (default: ${DEFAULT-VALUE}).")
    String opt;

    @Option(names = "--min-lr", defaultValue = "1e-4", paramLabel = "LR", description = "Cosine floor (default: ${DEFAULT-VALUE}).")
    double minLr;

    @Option(names = "--warmup-epochs", defaultValue = "1", paramLabel = "E",
            description = "Linear warmup from lr/10, in epochs (default: ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--nesterov", defaultValue = "true", negatable = true, fallbackValue = "true",
            description = "Nesterov momentum for SGD (default: on).")
    boolean nesterov;

    @Option(names = "--rmsprop-alpha", defaultValue = "0.9", paramLabel = "A", description = "RMSprop alpha (default: ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--rmsprop-eps", defaultValue = "1e-3", paramLabel = "E", description = "RMSprop eps (default: ${DEFAULT-VALUE}).")
    double eps;

    @Option(names = "--drop", defaultValue = "0", paramLabel = "P", description = "Dropout before the classifier (default: ${DEFAULT-VALUE}).")
    double drop;

    @Option(names = "--drop-path", defaultValue = "0", paramLabel = "P", description = "Stochastic depth rate (default: ${DEFAULT-VALUE}).")
    double dropPath;

    @Option(names = "--val-limit", defaultValue = "2000", paramLabel = "N",
            description = "Test images (stratified) scored at K_train after each epoch; 0 for none (default: ${DEFAULT-VALUE}).")
    int valLimit;

    @Option(names = "--native-depthwise",
            description = "Train the depthwise convolutions through FixRes4J's native kernels and their native "
                    + "backward instead of libtorch's convolution (same results up to float rounding; not faster on "
                    + "the CPUs measured, see docs/PERFORMANCE.md).")
    boolean nativeDepthwise;

    @Option(names = "--out", defaultValue = "fixres-train/model.safetensors", paramLabel = "FILE",
            description = "The trained model (default: ${DEFAULT-VALUE}).")
    Path out;

    @Mixin
    RunOptions run;

    @Mixin
    DeviceOptions device;

    @Mixin
    AmpOptions amp;

    @Mixin
    CheckpointOptions checkpoints;

    @Mixin
    ImageOptions imageOptions;

    /**
     * A train run of a demo recipe: train's defaults (as the command line has them) with the recipe's values set,
     * run by {@link #call()} as {@code fixres train} runs.
     */
    static TrainCommand of(String data, org.fixres4j.app.Demo.Recipe recipe) {
        TrainCommand t = picocli.CommandLine.populateCommand(new TrainCommand());
        t.data = data;
        t.width = recipe.width();
        t.depth = recipe.depth();
        t.res = recipe.resolution();
        t.run.epochs = recipe.epochs();
        t.run.trainLimit = recipe.trainLimit();
        t.run.compute.threads = recipe.threads();
        return t;
    }

    @Mixin
    DistOptions dist;

    /** The data-parallel group: every rank trains its shard; rank 0 alone writes the outputs. */
    private org.fixres4j.dist.Collective group;

    @Override
    public Integer call() throws Exception {
        org.fixres4j.torch.DeviceSpec dev = device.checked();
        org.fixres4j.torch.Amp precision = amp.training(dev);
        try (org.fixres4j.dist.Collective c = dist.connect()) {
            group = c;
            if (c.worldSize() > 1) {
                dev = device.forLocalRank(dist.config().localRank()); // one device per process of a machine
            }
            return train(dev, precision);
        }
    }

    private Integer train(org.fixres4j.torch.DeviceSpec dev, org.fixres4j.torch.Amp precision) throws Exception {
        run.validate();
        EvalCommand.checkOutputs(out);
        DemoData d = DemoData.open(data);
        if (d.note() != null) {
            System.out.println("note: " + d.note());
        }
        String[] sc = scale.split(",");
        if (sc.length != 2) {
            throw new IllegalArgumentException("--scale takes MIN,MAX, got '" + scale + "'");
        }
        TrainConfig cfg = new TrainConfig().resolution(res).scale(Double.parseDouble(sc[0]), Double.parseDouble(sc[1]))
                .interpolation(Interpolation.parse(interpolation)).normalization(d.normalization()).epochs(run.epochs)
                .batchSize(run.batch())
                .optimizer(new TrainOptimizer.Settings(TrainOptimizer.Kind.parse(opt), run.momentum, run.weightDecay,
                        nesterov, alpha, eps))
                .lr(run.lr).minLr(minLr).warmupEpochs(warmup).nativeDepthwise(nativeDepthwise);
        run.applyTo(cfg);
        cfg.collective(group).device(dev).amp(precision);
        cfg.checkDevice();
        EfficientNetSpec spec = ModelFile.custom(arch, width, depth, 3, d.train().numClasses())
                .withDropRate(drop).withDropPathRate(dropPath);
        ModelInfo info = new ModelInfo(spec, res, 0.875, cfg.interpolation(),
                cfg.normalization(), d.classNames());
        Dataset val = valLimit > 0 ? Subsets.stratified(d.test(), Math.min(valLimit, d.test().size()), 1) : null;
        Path ckpt = checkpoints.dir(out);
        System.out.printf("train: %s, %d parameters, K_train %d, %s%n", info.describe(), spec.parameterCount(), res,
                cfg.transform().describe());
        System.out.printf("data: %s%s%n", d.train().describe(),
                run.trainLimit > 0 ? " (stratified subset of " + run.trainLimit + ")" : "");
        if (nativeDepthwise) {
            System.out.println("depthwise: native kernels, forward and backward (--native-depthwise)");
        }
        if (dev.isCuda()) {
            System.out.printf("device: %s%s%n", dev, precision.enabled() ? ", autocast " + precision.label() : "");
        }
        long t0 = System.nanoTime();
        Trainer trainer = new Trainer(cfg, info).listener(new Trainer.Listener() {
            @Override
            public void resumed(int epochsDone, Path checkpoint) {
                CheckpointOptions.printResumed(epochsDone, checkpoint);
            }

            @Override
            public void afterEpoch(Trainer.EpochResult r) {
                System.out.printf("epoch %3d/%d  loss %.4f  lr %.5f  %.0f img/s  %.0f s%s%n", r.epoch(),
                        run.epochs, r.loss(), r.lr(), r.imagesPerSecond(), r.seconds(), r.val() == null ? ""
                                : String.format("  val@%d top-1 %.2f%% (%d images)", res, r.val().percent(1),
                                        r.val().count()));
            }
        });
        boolean resume = checkpoints.resume(ckpt);
        try (Trainer.Result r = runTraining(trainer, d, val, ckpt, resume)) {
            Map<String, String> extra = new LinkedHashMap<>();
            extra.put(ModelInfo.META + "trained", org.fixres4j.io.Json.write(cfg.identity()));
            extra.put(ModelInfo.META + "train_scale_min", Double.toString(cfg.scaleMin()));
            extra.put(ModelInfo.META + "train_scale_max", Double.toString(cfg.scaleMax()));
            if (!group.isMain()) {
                return 0;
            }
            ModelFile.save(out, r.model(), info, extra);
            System.out.printf("wrote %s (%.1f s); checkpoints in %s%n", out, (System.nanoTime() - t0) / 1e9, ckpt);
        }
        return 0;
    }

    private Trainer.Result runTraining(Trainer trainer, DemoData d, Dataset val, Path ckpt, boolean resume)
            throws java.io.IOException {
        try {
            return trainer.run(d.train(), val, ckpt, resume);
        } catch (IllegalStateException e) {
            throw nonFiniteLoss(e, "--lr " + run.lr + " (warmup from lr/10, --warmup-epochs " + warmup + ")");
        }
    }

    /** The training loop's non-finite-loss error with the settings that caused it named; other errors as they are. */
    static RuntimeException nonFiniteLoss(IllegalStateException e, String settings) {
        String m = e.getMessage();
        if (m != null && m.startsWith("the loss is ")) {
            return new UserException(m + "; the run had " + settings, e);
        }
        return e;
    }
}

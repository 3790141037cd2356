package org.fixres4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.fixres4j.fixres.Demo;
import org.fixres4j.fixres.DemoData;
import org.fixres4j.fixres.FinetuneConfig;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fixres demo}: the FixRes demo (see {@link Demo}); {@code fixres demo preprocess} is the preprocessing demo.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The FixRes effect, measured: a small EfficientNet trained on Fashion-MNIST at a low resolution "
                + "with RandomResizedCrop (the checkpoint shipped in the jar, made by 'fixres train'; --train "
                + "retrains it), a sweep of test resolutions, FixRes fine-tuning (classifier + bn2 statistics) at "
                + "several of them including the best and the one 'recommend' predicts, and the paper's Table 2 in "
                + "miniature. Writes JSON and a plot. Without Fashion-MNIST it uses a dataset the project generates.",
            "'fixres demo preprocess' shows the preprocessing pipeline instead."},
        subcommands = {PreprocessDemoCommand.class})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--data", defaultValue = "auto", paramLabel = "D",
            description = "auto (Fashion-MNIST if installed, else generated shapes), fashion-mnist[:DIR] or shapes "
                    + "(default: ${DEFAULT-VALUE}).")
    String data;

    @Option(names = "--train", description = "Train the model now with the shipped checkpoint's recipe instead of "
            + "loading it (takes longer than the demo itself).")
    boolean train;

    @Option(names = "--model", paramLabel = "FILE", description = "Use this trained model (from 'fixres train').")
    Path model;

    @Option(names = "--res", split = ",", paramLabel = "R", description = "Test resolutions to sweep (default: 0.75 "
            + "to 2 x K_train).")
    List<Integer> res;

    @Option(names = "--finetune-res", split = ",", paramLabel = "R", description = "Resolutions to fine-tune at "
            + "(default: K_train, the best, the recommended one and those between).")
    List<Integer> finetuneRes;

    @Option(names = "--test-images", defaultValue = "2000", paramLabel = "N",
            description = "Test images scored at every resolution (default: ${DEFAULT-VALUE}).")
    int testImages;

    @Option(names = "--finetune-images", defaultValue = "6000", paramLabel = "N",
            description = "Training images to fine-tune on (default: ${DEFAULT-VALUE}).")
    int finetuneImages;

    @Option(names = "--finetune-epochs", defaultValue = "1", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    int finetuneEpochs;

    @Option(names = "--lr", defaultValue = "0.01", paramLabel = "LR", description = "Fine-tuning learning rate "
            + "(default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--train-bn-affine", description = "Fine-tune bn2's weight and bias too.")
    boolean bnAffine;

    @Option(names = "--unfreeze-last-stage", description = "Fine-tune the last stage and conv_head too.")
    boolean lastStage;

    @Option(names = "--threads", paramLabel = "T", description = "Threads (default: processors - 1, at least 1).")
    Integer threads;

    @Option(names = "--out-dir", defaultValue = "fixres-demo", paramLabel = "DIR",
            description = "Where the JSON, the plot and the fine-tuned models go (default: ${DEFAULT-VALUE}).")
    Path outDir;

    @Option(names = "--quick", description = "A small version (few images, few resolutions), for tests.")
    boolean quick;

    @Override
    public Integer call() throws Exception {
        Demo.Options o = new Demo.Options();
        o.data = data;
        o.outDir = outDir;
        o.sweepImages = testImages;
        o.finetuneImages = finetuneImages;
        o.finetuneEpochs = finetuneEpochs;
        o.finetuneLr = lr;
        o.mode = lastStage ? FinetuneConfig.Mode.LAST_STAGE
                : bnAffine ? FinetuneConfig.Mode.BN_AFFINE : FinetuneConfig.Mode.CLASSIFIER;
        if (threads != null) {
            if (threads < 1) {
                throw new IllegalArgumentException("--threads must be >= 1");
            }
            o.threads = threads;
        }
        if (quick) {
            o.sweepImages = Math.min(o.sweepImages, 200);
            o.finetuneImages = Math.min(o.finetuneImages, 256);
        }
        o.resolutions = res;
        o.finetuneResolutions = finetuneRes;
        if (model != null) {
            if (!Files.isRegularFile(model)) {
                throw new java.nio.file.NoSuchFileException(model.toString(), null, "no such model file");
            }
            o.model = model;
        } else {
            DemoData d = DemoData.open(data);
            Demo.Recipe recipe = Demo.RECIPES.get(d.name());
            if (train || !Demo.hasShipped(d.name())) {
                if (recipe == null) {
                    throw new IllegalArgumentException("no training recipe for data '" + data + "': give --model");
                }
                Path trained = outDir.resolve("trained-" + d.name() + ".safetensors");
                System.out.println((train ? "" : "no checkpoint is shipped for " + d.name() + ": ")
                        + "training it now: " + recipe.command().replace("--out java-resources" + recipe.resource(),
                        "--out " + trained));
                List<String> args = new ArrayList<>(List.of("train", "--data", data));
                args.addAll(recipe.trainArgs());
                if (quick) {
                    override(args, "--epochs", "1");
                    override(args, "--train-limit", "256");
                    override(args, "--val-limit", "0");
                }
                args.addAll(List.of("--out", trained.toString(), "--checkpoint-dir",
                        outDir.resolve("checkpoints/train").toString()));
                int rc = Main.execute(args.toArray(new String[0]));
                if (rc != 0) {
                    return rc;
                }
                o.model = trained;
                o.modelSource = "trained now with " + recipe.command();
            }
        }
        Demo.run(o);
        return 0;
    }

    /** Sets {@code option}'s value in an argument list (replacing an earlier one). */
    static void override(List<String> args, String option, String value) {
        int i = args.indexOf(option);
        if (i >= 0) {
            args.set(i + 1, value);
        } else {
            args.add(option);
            args.add(value);
        }
    }
}

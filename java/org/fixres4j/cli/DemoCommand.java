package org.fixres4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.fixres4j.app.Demo;
import org.fixres4j.data.DemoData;
import org.fixres4j.fixres.FinetuneConfig;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fixres demo}: the FixRes demo (see {@link Demo}); {@code fixres demo preprocess} is the preprocessing demo.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The FixRes effect, measured: a small EfficientNet trained at a low resolution with "
                + "RandomResizedCrop on Fashion-MNIST items placed on a larger canvas (the checkpoint shipped in the "
                + "jar, made by 'fixres train'; --train retrains it), a sweep of test resolutions on the test set, "
                + "bn2 re-estimation and FixRes fine-tuning at K_train, the recommended resolution and those between, "
                + "each scored on the same test images, and the paper's Table 2 in miniature with a verdict. Writes "
                + "JSON and a plot. Without Fashion-MNIST it uses a dataset the project generates.",
            "'fixres demo preprocess' shows the preprocessing pipeline instead."},
        subcommands = {PreprocessDemoCommand.class})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--data", defaultValue = "auto", paramLabel = "D",
            description = "auto (Fashion-MNIST items on a 112 px canvas if Fashion-MNIST is installed, else generated "
                    + "shapes), or any of fashion-mnist, fashion-mnist-canvas[:SIDE], shapes with --model or --train "
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

    @Option(names = "--test-images", defaultValue = "10000", paramLabel = "N",
            description = "Test images scored at every resolution (default: ${DEFAULT-VALUE}).")
    int testImages;

    @Option(names = "--finetune-images", defaultValue = "6000", paramLabel = "N",
            description = "Training images to fine-tune on (default: ${DEFAULT-VALUE}).")
    int finetuneImages;

    @Option(names = "--finetune-epochs", defaultValue = "2", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    int finetuneEpochs;

    @Option(names = "--lr", defaultValue = "0.01", paramLabel = "LR", description = "Fine-tuning learning rate "
            + "(default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--modes", split = ",", defaultValue = "classifier,last-stage", paramLabel = "M",
            description = "Fine-tuning modes to compare: classifier (FixRes: classifier + bn2 statistics), bn-affine "
                    + "(+ bn2's weight and bias), last-stage (+ the last stage and conv_head); default: "
                    + "${DEFAULT-VALUE}.")
    List<String> modes;

    @Option(names = "--no-bn-only", description = "Leave out the label-free bn2 re-estimation column.")
    boolean noBnOnly;

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
        List<FinetuneConfig.Mode> ms = new ArrayList<>();
        for (String m : modes) {
            ms.add(FinetuneConfig.Mode.parse(m));
        }
        o.modes = ms;
        o.bnOnly = !noBnOnly;
        if (threads != null) {
            Threads.check("--threads", threads);
            o.threads = threads;
        }
        if (quick) {
            o.sweepImages = Math.min(o.sweepImages, 200);
            o.finetuneImages = Math.min(o.finetuneImages, 256);
            o.finetuneEpochs = 1;
        }
        o.resolutions = res;
        o.finetuneResolutions = finetuneRes;
        if (model != null) {
            if (!Files.isRegularFile(model)) {
                throw new java.nio.file.NoSuchFileException(model.toString(), null, "no such model file");
            }
            o.model = model;
        } else {
            String spelled = Demo.resolveData(data);
            DemoData d = DemoData.open(spelled);
            Demo.Recipe recipe = Demo.RECIPES.get(d.name());
            if (train || !Demo.hasShipped(d.name())) {
                if (recipe == null) {
                    throw new IllegalArgumentException("no training recipe for data '" + data + "': give --model");
                }
                Path trained = outDir.resolve("trained-" + d.name() + ".safetensors");
                String note = Demo.autoNote(data);
                if (note != null) {
                    System.out.println("note: " + note);
                    o.noteShown = true;
                }
                System.out.println((train ? "" : "no checkpoint is shipped for " + d.name() + ": ")
                        + "training it now: " + recipe.command().replace("--out java-resources" + recipe.resource(),
                        "--out " + trained));
                TrainCommand t = TrainCommand.of(spelled, quick ? recipe.quick() : recipe);
                if (quick) {
                    t.valLimit = 0;
                }
                t.out = trained;
                t.checkpoints.checkpointDir = outDir.resolve("checkpoints/train");
                int rc = t.call();
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
}

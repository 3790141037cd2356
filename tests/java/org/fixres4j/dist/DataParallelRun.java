package org.fixres4j.dist;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.bytedeco.pytorch.global.torch;
import org.fixres4j.data.DemoData;
import org.fixres4j.data.DemoShapes;
import org.fixres4j.fixres.BnReestimate;
import org.fixres4j.model.ModelFile;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.fixres.FinetuneConfig;
import org.fixres4j.fixres.Finetuner;
import org.fixres4j.fixres.TrainConfig;
import org.fixres4j.fixres.Trainer;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.model.Variant;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.Interpolation;

/**
 * The programs of {@code DataParallelTest}: FixRes fine-tuning, the label-free bn2 re-estimation and training from
 * scratch of a tiny EfficientNet on generated shapes, in one process or as a rank of a data-parallel group. Each
 * writes the final model to {@code <dir>/<name>.rank<r>.safetensors} (every rank, so the test can check that the
 * replicas agree); the checkpoints go to {@code <dir>/<name>.ckpt} (rank 0 only).
 */
final class DataParallelRun {
    static { Torch.ensureLoaded(); }

    static final DemoShapes DATA = new DemoShapes(72, 48, 3, "train");

    private DataParallelRun() {}

    static ModelFile.Loaded tiny(long seed) {
        EfficientNetSpec spec = ModelFile.custom(EfficientNetSpec.nativeVariant(Variant.B0), 0.1, 0.1, 3, 10);
        torch.manual_seed(seed);
        EfficientNet m = ModelRegistry.create(spec);
        m.initTimm();
        return new ModelFile.Loaded(m, new ModelInfo(spec, 32, 0.875, Interpolation.BILINEAR,
                DemoData.SHAPES, DemoShapes.CLASS_NAMES));
    }

    /** Global batch 16 over 72 images: 4 steps an epoch, the last 8 images dropped. */
    static FinetuneConfig finetuneConfig(FinetuneConfig.Mode mode, Collective c) {
        return new FinetuneConfig(40).mode(mode).epochs(2).batchSize(16).lr(0.2).threads(1).seed(5).collective(c);
    }

    /**
     * Runs {@code what} and writes the result.
     *
     * @param what {@code finetune}, {@code finetune-affine}, {@code finetune-last}, {@code finetune-die} (rank 1 halts after its second step), {@code finetune-stop1} (throws after the first epoch's
     *             checkpoint, like a killed job), {@code resume} (continues {@code finetune-stop1}'s checkpoint),
     *             {@code bn-only} or {@code train}
     * @param seed the initial weights' seed (ranks may differ: rank 0's weights are broadcast)
     */
    static void run(String what, Path dir, Collective c, long seed) throws IOException {
        int rank = c == null ? 0 : c.rank();
        String name = what.equals("resume") ? "finetune-stop1" : what;
        Path ckpt = dir.resolve(name + ".ckpt");
        Path out = dir.resolve(what + ".rank" + rank + ".safetensors");
        if (what.equals("train")) {
            // 2 epochs of 2 steps at a small learning rate: from scratch, a tiny network's BatchNorms over a few values
            // amplify float rounding (batch 16 vs 8 + 8 summation orders) from step to step
            TrainConfig cfg = new TrainConfig().resolution(32).epochs(2).trainLimit(32).batchSize(16).lr(0.01)
                    .threads(1).seed(5).collective(c);
            ModelInfo info;
            try (ModelFile.Loaded t = tiny(seed)) {
                ModelInfo i = t.info(); // no dropout, no drop path: their masks are drawn per rank
                info = new ModelInfo(i.spec().withDropRate(0).withDropPathRate(0), i.inputSize(),
                        i.cropPct(), i.interpolation(), i.normalization(), i.classNames());
            }
            try (Trainer.Result r = new Trainer(cfg, info).run(DATA, null, ckpt, false)) {
                ModelFile.save(out, r.model(), info, Map.of());
            }
            return;
        }
        try (ModelFile.Loaded t = tiny(seed)) {
            if (what.equals("bn-only")) {
                BnReestimate.run(t.model(), DATA, FinetuneConfig.testTransform(t.info(), 40), 16, 1, 5, c);
            } else {
                FinetuneConfig cfg = finetuneConfig(what.equals("finetune-affine") ? FinetuneConfig.Mode.BN_AFFINE
                        : what.equals("finetune-last") ? FinetuneConfig.Mode.LAST_STAGE
                        : FinetuneConfig.Mode.CLASSIFIER, c);
                Finetuner ft = new Finetuner(cfg);
                if (what.equals("finetune-die") && rank == 1) {
                    ft.listener(new Finetuner.Listener() {
                        @Override
                        public void afterStep(int epoch, int step, int stepsPerEpoch, double loss, double lr) {
                            if (step == 1) {
                                Runtime.getRuntime().halt(3); // dies like a killed process: no clean-up, no close
                            }
                        }
                    });
                }
                if (what.equals("finetune-stop1")) {
                    ft.listener(new Finetuner.Listener() {
                        @Override
                        public void afterEpoch(Finetuner.EpochResult r) {
                            throw new IllegalStateException("stopped after epoch " + r.epoch());
                        }
                    });
                }
                try {
                    ft.run(t.model(), t.info(), DATA, ckpt, true, "tiny");
                } catch (IllegalStateException e) {
                    if (!e.getMessage().startsWith("stopped after epoch")) {
                        throw e;
                    }
                    Files.writeString(dir.resolve(what + ".rank" + rank + ".stopped"), e.getMessage());
                    return;
                }
            }
            ModelFile.save(out, t.model(), t.info(), Map.of());
        }
    }

    /** A rank: {@code <what> <dir> <seed>}; joins the group the environment describes. */
    public static void main(String[] args) throws Exception {
        DistConfig cfg = DistConfig.resolve(System.getenv(), null, null, null, Duration.ofSeconds(60), null);
        try (Collective c = Collective.connect(cfg)) {
            run(args[0], Path.of(args[1]), c, Long.parseLong(args[2]));
            System.out.println("RESULT done " + c.rank());
        }
    }
}

package org.fixres4j.fixres;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.data.Dataset;
import org.fixres4j.dist.Collective;
import org.fixres4j.dist.StateSync;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.torch.DeviceTensors;

/**
 * FixRes fine-tuning (Touvron et al. 2019, section 4.2; the FixRes repository's {@code imnet_finetune}): adapt a
 * trained model to a test resolution by training its classifier at that resolution while the last BatchNorm
 * ({@code bn2}, after {@code conv_head}) re-estimates its statistics.
 *
 * <p><b>What changes.</b> The model is put in eval mode, then {@code bn2} alone in train mode: it normalises with
 * batch statistics and updates its running mean / variance (momentum 0.1), its affine parameters frozen. Only the
 * classifier is trained ({@link FinetuneConfig.Mode#CLASSIFIER}); optionally bn2's affine
 * ({@link FinetuneConfig.Mode#BN_AFFINE}) or also the last stage and {@code conv_head}
 * ({@link FinetuneConfig.Mode#LAST_STAGE}). Every other tensor stays bit-identical. Loss: label-smoothed
 * cross-entropy; optimizer: SGD (momentum 0.9, weight decay 1e-4 on everything trained, as FixRes's SGD over
 * {@code model.parameters()}), a cosine or step schedule.
 *
 * <p><b>Cost.</b> In the default mode the trunk, {@code bn2} and the pooling run under {@code InferenceMode}: no
 * autograd graph and no activation is kept, the backward pass is the classifier's alone, so a step costs about one
 * plain (unfused) forward. In the other modes autograd records from the first trained tensor on (the frozen
 * parameters do not require grad, so the trunk below is still graph-free).
 *
 * <p><b>Devices.</b> The model is moved to the configuration's device ({@link RunConfig#device}) before the run and
 * stays there afterwards (the caller's before/after evaluation and its saving read it where it is); batches are
 * copied there step by step ({@link EpochLoop}); checkpoints are written from host copies and resume on any device.
 *
 * <p><b>Resume.</b> As {@link Trainer}: a checkpoint after every epoch (model, optimizer tensors, JSON state, written
 * atomically); sample order and augmentation come from (seed, epoch, index), so a resumed run reaches the same
 * weights as an uninterrupted one.
 */
public final class Finetuner {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    /** Progress callbacks; {@link #afterStep} may throw to stop a run. */
    public interface Listener {
        default void afterStep(int epoch, int step, int stepsPerEpoch, double loss, double lr) {}

        default void afterEpoch(EpochResult r) {}

        default void resumed(int epochsDone, Path checkpoint) {}
    }

    /**
     * One epoch.
     *
     * @param epoch 1-based
     * @param loss mean training loss
     * @param imagesPerSecond fine-tuning throughput (loading included)
     * @param seconds wall time
     * @param lr the learning rate of the last step
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"epoch", "loss", "images_per_second", "seconds", "lr"})
    public record EpochResult(int epoch, double loss, double imagesPerSecond, double seconds, double lr) {
        EpochResult(EpochLoop.Stats s) {
            this(s.epoch(), s.loss(), s.imagesPerSecond(), s.seconds(), s.lr());
        }

    }

    /** The run's history (the model was changed in place). */
    public record Result(List<EpochResult> history, int resumedFrom, List<String> trained) {
        /** Images per second over the epochs run in this process. */
        public double imagesPerSecond() {
            double s = 0;
            double n = 0;
            for (EpochResult r : history) {
                if (r.epoch() > resumedFrom) {
                    s += r.seconds();
                    n += r.imagesPerSecond() * r.seconds();
                }
            }
            return s > 0 ? n / s : 0;
        }
    }

    private final FinetuneConfig config;
    private Listener listener = new Listener() {};

    public Finetuner(FinetuneConfig config) {
        this.config = Objects.requireNonNull(config);
    }

    public Finetuner listener(Listener l) {
        listener = Objects.requireNonNull(l);
        return this;
    }

    /** The names of the tensors the mode trains. */
    static Predicate<String> trained(FinetuneConfig.Mode mode, int lastStage) {
        String stage = "blocks." + lastStage + ".";
        return switch (mode) {
            case CLASSIFIER -> k -> k.startsWith("classifier.");
            case BN_AFFINE -> k -> k.startsWith("classifier.") || k.equals("bn2.weight") || k.equals("bn2.bias");
            case LAST_STAGE -> k -> k.startsWith("classifier.") || k.equals("bn2.weight") || k.equals("bn2.bias")
                    || k.startsWith(stage) || k.startsWith("conv_head.");
        };
    }

    /** Puts the model in FixRes's modes: everything eval, {@code bn2} train. */
    static void fixresModes(EfficientNet model) {
        model.eval();
        TrainSupport.setChildTraining(model, "bn2", true);
    }

    /**
     * Fine-tunes {@code model} in place.
     *
     * @param info the model's description (its normalisation and filter are used)
     * @param train the labelled training images
     * @param checkpointDir where per-epoch checkpoints go
     * @param resume continue from the checkpoint there, if any
     * @param source a description of the starting weights (file and SHA-256) that a resumed run must share
     */
    public Result run(EfficientNet model, ModelInfo info, Dataset train, Path checkpointDir,
                      boolean resume, String source) throws IOException {
        if (model.spec().numClasses() < 1) {
            throw new IllegalArgumentException("the model has no classifier to fine-tune");
        }
        config.checkDevice();
        Dataset data = config.trainingSet(train);
        Collective c = config.group();
        org.fixres4j.kernels.ComputeThreads.set(config.threads);
        // the model, and with it the optimizer's state, on the run's device (a no-op where it is already)
        DeviceTensors.moveModule(model, config.device);
        if (!model.isChannelsLast()) {
            model.toChannelsLast(); // same values; the plain path's depthwise convolutions run faster (cuDNN's too)
        }
        ModelInfo outInfo = info.withInputSize(config.resolution);
        RunCheckpoint.RunKey runKey = RunCheckpoint.runKey(config, info, source == null ? "" : source, data);
        List<EpochResult> history = new ArrayList<>();
        int start = 0;
        TrainOptimizer opt = null;
        SyncBatchNorm sync = null;
        List<String> trainedNames;
        try (PointerScope outer = new PointerScope()) {
            Map<String, Tensor> params = TrainSupport.setTrainable(model,
                    trained(config.mode, TrainSupport.lastStage(model)));
            trainedNames = List.copyOf(params.keySet());
            opt = new TrainOptimizer(config.optimizer(), params, TrainSupport.decayed(params, true));
            RunCheckpoint checkpoints = new RunCheckpoint(checkpointDir, "finetune", opt,
                    Map.of("trained", trainedNames), runKey);
            if (resume && checkpoints.resume(model)) {
                start = checkpoints.epochsDone();
                checkpoints.resumedHistory().forEach(s -> history.add(new EpochResult(s)));
                listener.resumed(start, checkpointDir);
            }
            if (c.worldSize() > 1) {
                // every rank starts from rank 0's weights and buffers (and its resumed epoch)
                checkSameStart(c, start);
                try (PointerScope scope = new PointerScope()) {
                    StateSync.broadcast(c, model.namedTensors(), 0);
                }
                sync = new SyncBatchNorm(c, model);
                model.batchNormForward(sync);
            }
            SyncBatchNorm syncBn = sync;
            Map<String, Tensor> live = TrainSupport.owned(model, k -> k.startsWith("classifier."));
            Tensor weight = live.get("classifier.weight");
            Tensor bias = live.get("classifier.bias");
            new EpochLoop(config, model, opt).run(data, config.transform(info), start, () -> fixresModes(model),
                    x -> {
                        if (syncBn != null) {
                            syncBn.newStep();
                        }
                        return config.mode == FinetuneConfig.Mode.CLASSIFIER ? classifierLogits(model, x, weight, bias)
                                : model.forward(x);
                    },
                    listener::afterStep, s -> {
                        EpochResult r = new EpochResult(s);
                        history.add(r);
                        if (c.isMain()) {
                            checkpoints.save(s.epoch(), model, outInfo, r);
                        }
                        listener.afterEpoch(r);
                    });
            for (Tensor t : params.values()) {
                t.requires_grad_(false); // leave the model as inference expects it
            }
        } finally {
            model.batchNormForward(null);
            if (sync != null) {
                sync.newStep();
            }
            if (opt != null) {
                opt.close();
            }
            model.eval();
        }
        return new Result(history, start, trainedNames);
    }

    /** Every rank of a data-parallel run must resume from the same epoch (they read the same checkpoint folder). */
    static void checkSameStart(Collective c, int start) {
        long[][] starts = c.allGather(new long[] {start});
        for (int r = 1; r < starts.length; r++) {
            if (starts[r][0] != starts[0][0]) {
                throw new IllegalArgumentException("rank " + r + " resumes after epoch " + starts[r][0] + ", rank 0 "
                        + "after epoch " + starts[0][0] + ": every rank must see the same --checkpoint-dir");
            }
        }
    }

    /**
     * The logits of {@link FinetuneConfig.Mode#CLASSIFIER}: trunk, bn2 and pooling under {@code InferenceMode} (no
     * graph), then the classifier with autograd.
     */
    private static Tensor classifierLogits(EfficientNet model, Tensor input, Tensor weight, Tensor bias) {
        Tensor pooled;
        try (InferenceMode g = new InferenceMode()) {
            pooled = model.forwardHead(model.forwardFeatures(input), true);
        }
        // an inference tensor cannot be saved for backward: a normal copy ([N, F])
        return torch.linear(pooled.clone(), weight, bias);
    }
}

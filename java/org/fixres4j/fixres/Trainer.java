package org.fixres4j.fixres;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.data.Dataset;
import org.fixres4j.dist.Collective;
import org.fixres4j.dist.StateSync;
import org.fixres4j.eval.TopKAccuracy;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.torch.DeviceTensors;
import org.fixres4j.transform.FixResTestTransform;

/**
 * Trains an EfficientNet from scratch (any width / depth multipliers) so that the FixRes effect can be produced on
 * data at hand: RandomResizedCrop + flip at K_train, label smoothing, SGD or RMSprop, a per-step schedule, the whole
 * model in train mode (BN batch statistics, dropout and drop path when the spec has them).
 *
 * <p><b>Determinism and resume.</b> The initial weights come from {@code torch.manual_seed(seed)} +
 * {@link EfficientNet#initTimm()}; each epoch's sample order and augmentation from the loader's (seed, epoch, index)
 * streams; libtorch's global generator is re-seeded from (seed, epoch) at the start of every epoch. A checkpoint
 * (model, optimizer tensors, JSON state; see {@link Checkpoint}) is written atomically after every epoch, so a run
 * killed at any point resumes from its last completed epoch and, on the same machine and thread count, ends with the
 * same weights as an uninterrupted run. A resumed run must have the same configuration ({@link TrainConfig#identity()}),
 * model and data (size and description).
 *
 * <p><b>Devices.</b> The initial weights are made on the host (the same on every device), then the model moves to the
 * configuration's device ({@link RunConfig#device}; on CUDA in channels-last layout) and stays there: the returned
 * model is on that device. Batches are copied there step by step ({@link EpochLoop}), the per-epoch validation runs
 * there ({@link TrainEval}), and checkpoints are written from host copies, so a run resumes on any device.
 */
public final class Trainer {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    /** Progress callbacks; {@link #afterStep} may throw to stop a run (tests simulate a kill that way). */
    public interface Listener {
        /** After each optimizer step ({@code step} counts from 0 within the epoch). */
        default void afterStep(int epoch, int step, int stepsPerEpoch, double loss, double lr) {}

        /** After each epoch and its checkpoint. */
        default void afterEpoch(EpochResult r) {}

        /** Once, when a run continues from a checkpoint. */
        default void resumed(int epochsDone, Path checkpoint) {}
    }

    /**
     * One epoch's numbers.
     *
     * @param epoch 1-based
     * @param loss mean training loss
     * @param imagesPerSecond training throughput (loading included)
     * @param seconds the epoch's wall time (training only)
     * @param lr the learning rate at the epoch's last step
     * @param val validation accuracy at K_train (FixRes test transform), or null without validation data
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"epoch", "loss", "images_per_second", "seconds", "lr", "val_top1", "val_top5", "val_images"})
    public record EpochResult(int epoch, double loss, double imagesPerSecond, double seconds, double lr,
                              @JsonIgnore TopKAccuracy val) {
        EpochResult(EpochLoop.Stats s, TopKAccuracy val) {
            this(s.epoch(), s.loss(), s.imagesPerSecond(), s.seconds(), s.lr(), val);
        }

        /** Top-1 validation accuracy (percent), written after {@code lr}; null (left out) without validation. */
        @JsonProperty("val_top1")
        @JsonInclude(JsonInclude.Include.NON_NULL)
        public Double valTop1() {
            return val == null ? null : val.percent(1);
        }

        /** Validation accuracy at the largest k (percent); null (left out) without validation. */
        @JsonProperty("val_top5")
        @JsonInclude(JsonInclude.Include.NON_NULL)
        public Double valTop5() {
            return val == null ? null : val.percent(val.ks()[val.ks().length - 1]);
        }

        /** Validation images; null (left out) without validation. */
        @JsonProperty("val_images")
        @JsonInclude(JsonInclude.Include.NON_NULL)
        public Long valImages() {
            return val == null ? null : val.count();
        }
    }

    /** What a run produced: the trained model (the caller closes it) and the per-epoch history. */
    public record Result(EfficientNet model, ModelInfo info, List<EpochResult> history, int resumedFrom)
            implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }
    }

    private final TrainConfig config;
    private final ModelInfo info;
    private Listener listener = new Listener() {};

    /**
     * @param info the model to train (spec) and its input configuration ({@code inputSize} should be K_train; the
     *             normalisation and interpolation must be the config's)
     */
    public Trainer(TrainConfig config, ModelInfo info) {
        this.config = Objects.requireNonNull(config);
        this.info = Objects.requireNonNull(info);
    }

    public Trainer listener(Listener l) {
        this.listener = Objects.requireNonNull(l);
        return this;
    }

    /**
     * Trains (or continues) a run.
     *
     * @param train the training images
     * @param val validation images (evaluated at K_train after every epoch), or null
     * @param checkpointDir where the per-epoch checkpoints go
     * @param resume continue from the checkpoint in {@code checkpointDir} if there is one
     * @throws IOException if a checkpoint cannot be written or read
     * @throws IllegalArgumentException if the checkpoint belongs to another configuration
     */
    public Result run(Dataset train, Dataset val, Path checkpointDir, boolean resume) throws IOException {
        config.checkDevice();
        if (config.device.isCuda() && config.nativeDepthwise) {
            throw new IllegalArgumentException("--native-depthwise trains with FixRes4J's CPU kernels: on "
                    + config.device + " the depthwise convolutions are libtorch's (cuDNN); drop one of the two");
        }
        Dataset data = config.trainingSet(train);
        org.fixres4j.kernels.ComputeThreads.set(config.threads);
        RunCheckpoint.RunKey runKey = RunCheckpoint.runKey(config, info, null, data);
        torch.manual_seed(config.seed);
        EfficientNet model = ModelRegistry.create(info.spec());
        model.initTimm(); // on the host, from the CPU generator: the same initial weights on every device
        model.nativeDepthwise(config.nativeDepthwise);
        if (config.device.isCuda()) {
            DeviceTensors.moveModule(model, config.device);
            model.toChannelsLast(); // same values; cuDNN's depthwise convolutions want channels-last
        }
        List<EpochResult> history = new ArrayList<>();
        int start = 0;
        TrainOptimizer opt = null;
        SyncBatchNorm sync = null;
        try (PointerScope outer = new PointerScope()) {
            Map<String, Tensor> params = TrainSupport.setTrainable(model, k -> true);
            opt = new TrainOptimizer(config.optimizer, params, TrainSupport.decayed(params, false));
            RunCheckpoint checkpoints = new RunCheckpoint(checkpointDir, "train", opt, Map.of(), runKey);
            if (resume && checkpoints.resume(model)) {
                start = checkpoints.epochsDone();
                checkpoints.resumedHistory().forEach(s -> history.add(new EpochResult(s, null)));
                listener.resumed(start, checkpointDir);
            }
            Collective c = config.group();
            if (c.worldSize() > 1) {
                Finetuner.checkSameStart(c, start);
                try (PointerScope scope = new PointerScope()) {
                    StateSync.broadcast(c, model.namedTensors(), 0);
                }
                sync = new SyncBatchNorm(c, model);
                model.batchNormForward(sync);
            }
            SyncBatchNorm syncBn = sync;
            new EpochLoop(config, model, opt).run(data, config.transform(), start, () -> model.train(true),
                    x -> {
                        if (syncBn != null) {
                            syncBn.newStep();
                        }
                        return model.forward(x);
                    }, listener::afterStep, s -> {
                        TopKAccuracy acc = val == null ? null : TrainEval.evaluate(model, val,
                                new FixResTestTransform(config.resolution, config.interpolation,
                                        config.normalization), 128, config.threads).accuracy();
                        EpochResult r = new EpochResult(s, acc);
                        history.add(r);
                        if (c.isMain()) {
                            checkpoints.save(s.epoch(), model, info, r);
                        }
                        listener.afterEpoch(r);
                    });
            model.eval();
            return new Result(model, info, history, start);
        } catch (IOException | RuntimeException | Error e) {
            model.close();
            throw e;
        } finally {
            model.batchNormForward(null);
            if (sync != null) {
                sync.newStep();
            }
            if (opt != null) {
                opt.close();
            }
        }
    }
}

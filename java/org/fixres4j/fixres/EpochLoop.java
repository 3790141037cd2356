package org.fixres4j.fixres;

import java.io.IOException;
import java.util.Map;
import java.util.function.Function;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.fixres4j.data.Batch;
import org.fixres4j.data.BatchLoader;
import org.fixres4j.data.Dataset;
import org.fixres4j.dist.Collective;
import org.fixres4j.dist.GradientAllReducer;
import org.fixres4j.dist.StateSync;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.torch.AmpScope;
import org.fixres4j.torch.DeviceSpec;
import org.fixres4j.torch.DeviceTensors;
import org.fixres4j.transform.SampleTransform;

/**
 * The optimisation loop that {@link Trainer} and {@link Finetuner} share. Samples come from a loader whose order and
 * augmentation depend on (seed, epoch, index) only; each epoch re-seeds libtorch's generator from (seed, epoch), sets
 * the model's modes, takes one optimizer step per batch at the schedule's learning rate (label-smoothed
 * cross-entropy; a non-finite loss stops the run), puts the model in eval mode and hands the epoch's numbers to the
 * caller, which evaluates and checkpoints. Every batch runs in its own {@code PointerScope}.
 *
 * <p><b>Devices.</b> The loop runs where the model is ({@link RunConfig#device}): each batch's input and labels are
 * moved there ({@link DeviceTensors#toDevice}: nothing on the CPU; pinned memory and a copy queued on the current
 * stream on CUDA, the input in channels-last layout when the model is), the forward runs under the run's autocast
 * ({@link RunConfig#amp}; logits in float32 for the loss), and the loss comes back to the host once a step (the
 * non-finite check needs it, and it bounds how far the host runs ahead of the device). The loader stays on the CPU: its
 * transforms are the training augmentations (random crops and flips seeded per sample), which the CUDA feed of
 * evaluation does not implement.
 */
final class EpochLoop {
    /** Called after every optimizer step ({@code step} counts from 0 within the epoch); may throw to stop a run. */
    interface Steps {
        void afterStep(int epoch, int step, int stepsPerEpoch, double loss, double lr);
    }

    /** Called after every epoch, the model in eval mode. */
    interface EpochEnd {
        void accept(Stats epoch) throws IOException;
    }

    /**
     * What the steps of one epoch did; a checkpoint's history entry, written by Jackson under these names in
     * snake_case.
     *
     * @param epoch 1-based
     * @param loss mean training loss
     * @param imagesPerSecond throughput (loading included)
     * @param seconds the steps' wall time
     * @param lr the learning rate of the last step
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"epoch", "loss", "images_per_second", "seconds", "lr"})
    record Stats(int epoch, double loss, double imagesPerSecond, double seconds, double lr) {
        /** Reads a history entry back (as Jackson writes it; other keys are ignored). */
        static Stats fromMap(Map<?, ?> m) {
            return new Stats(((Number) m.get("epoch")).intValue(), ((Number) m.get("loss")).doubleValue(),
                    ((Number) m.get("images_per_second")).doubleValue(), ((Number) m.get("seconds")).doubleValue(),
                    ((Number) m.get("lr")).doubleValue());
        }
    }

    private final RunConfig<?> config;
    private final EfficientNet model;
    private final TrainOptimizer optimizer;

    EpochLoop(RunConfig<?> config, EfficientNet model, TrainOptimizer optimizer) {
        this.config = config;
        this.model = model;
        this.optimizer = optimizer;
    }

    /**
     * Runs epochs {@code start} (0-based) to the configuration's last.
     *
     * @param data the images trained on (already subset)
     * @param transform the training augmentation
     * @param modes sets the model's train / eval modes at the start of every epoch
     * @param logits the forward pass of one batch, given its input on the run's device (called under the run's
     *     autocast)
     */
    void run(Dataset data, SampleTransform transform, int start, Runnable modes, Function<Tensor, Tensor> logits,
             Steps steps, EpochEnd end) throws IOException {
        Collective c = config.group();
        int world = c.worldSize();
        BatchLoader.Builder lb = BatchLoader.builder(data, transform).threads(config.threads).seed(config.seed)
                .shuffle(true).strict(true);
        if (world == 1) {
            lb.batchSize(config.batchSize).dropLast(data.size() >= config.batchSize);
        } else {
            if (config.batchSize % world != 0) {
                throw new IllegalArgumentException("the batch size " + config.batchSize + " is the global batch: it "
                        + "must be divisible by the world size " + world);
            }
            if (data.size() < config.batchSize) {
                throw new IllegalArgumentException("a data-parallel run needs at least one global batch of "
                        + config.batchSize + " images, the data has " + data.size());
            }
            // rank r's local batch k is its share of global batch k; the incomplete last global batch is dropped
            lb.batchSize(config.batchSize / world).shard(c.rank(), world).dropLast(true);
        }
        DeviceSpec device = config.device;
        boolean channelsLast = device.isCuda() && model.isChannelsLast();
        try (BatchLoader loader = lb.build();
             GradientAllReducer reducer = new GradientAllReducer(c)) {
            // in a world > 1 a shard can hold one local batch more than the others: every rank takes the global count
            int stepsPerEpoch = world == 1 ? loader.batchesPerEpoch() : data.size() / config.batchSize;
            TrainSchedule schedule = config.scheduleFor(stepsPerEpoch);
            for (int epoch = start; epoch < config.epochs; epoch++) {
                TrainSupport.seedEpoch(config.seed, epoch);
                modes.run();
                long t0 = System.nanoTime();
                double lossSum = 0;
                long images = 0;
                int step = 0;
                double lr = schedule.at((long) epoch * stepsPerEpoch);
                try (BatchLoader.Epoch ep = loader.epoch(epoch)) {
                    while (ep.hasNext() && step < stepsPerEpoch) {
                        try (Batch b = ep.next(); PointerScope scope = new PointerScope()) {
                            lr = schedule.at((long) epoch * stepsPerEpoch + step);
                            Tensor input = DeviceTensors.toDevice(b.input(), device, channelsLast);
                            Tensor labels = DeviceTensors.toDevice(b.labelTensor(), device, false);
                            Tensor out = AmpScope.forward(config.amp, device.toString(), logits::apply, input);
                            double l = step(out, labels, epoch, step, lr, c, reducer);
                            lossSum += l * b.size() * world; // in a world > 1: the global batch's mean loss
                            images += (long) b.size() * world;
                            steps.afterStep(epoch, step, stepsPerEpoch, l, lr);
                        }
                        step++;
                    }
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                // BatchNorms in train mode saw only their rank's shard: average their running statistics (bn2 under
                // sync-BN is already equal everywhere, and the mean of equal floats is the same float)
                if (world > 1) {
                    try (PointerScope scope = new PointerScope()) {
                        StateSync.averageRunningStatistics(c, model.namedTensors());
                    }
                }
                model.eval();
                end.accept(new Stats(epoch + 1, lossSum / Math.max(1, images), images / seconds, seconds, lr));
            }
        }
    }

    /** One optimizer step on the batch's loss; returns the loss. */
    private double step(Tensor logits, Tensor labels, int epoch, int step, double lr, Collective c,
                        GradientAllReducer reducer) {
        Tensor loss = TrainSupport.labelSmoothingLoss(logits, labels, config.labelSmoothing);
        optimizer.zeroGrad();
        loss.backward();
        double l = loss.item_double();
        if (c.worldSize() > 1) {
            // equal local batches: the mean of the ranks' mean-loss gradients is the global batch's gradient
            reducer.allReduceAvg(optimizer.gradients());
            // every rank sees the global loss, so a non-finite loss stops every rank at the same step
            l = c.allReduceSum(new double[] {l})[0] / c.worldSize();
        }
        optimizer.step(lr);
        if (!Double.isFinite(l)) {
            throw new IllegalStateException("the loss is " + l + " at epoch " + (epoch + 1) + ", step " + step
                    + ": lower the learning rate");
        }
        return l;
    }
}

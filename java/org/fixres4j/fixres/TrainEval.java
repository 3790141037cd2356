package org.fixres4j.fixres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

import org.fixres4j.data.Dataset;
import org.fixres4j.eval.TopKAccuracy;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.torch.DeviceSpec;
import org.fixres4j.torch.DeviceTensors;
import org.fixres4j.transform.SampleTransform;

/**
 * Top-1 / top-5 of a model on a dataset at one transform: the per-epoch check of {@link Trainer} and the before /
 * after measurement of {@link Finetuner}: a {@link Sweep} at one transform of the BN-folded fast path (folded from the
 * model's current weights, run under {@code InferenceMode}); the model is left in eval mode.
 *
 * <p>It runs where the model is ({@link DeviceTensors#of(org.bytedeco.pytorch.Module)}): on CUDA the folded weights
 * are on the device, the CPU loader's batches are copied there through pinned memory
 * ({@link DeviceTensors#toDevice}) and the logits come back for scoring. (The sweep's CUDA feed, which preprocesses on
 * the device, needs FixRes4J's CUDA kernels; this per-epoch check needs only libtorch.)
 */
public final class TrainEval {
    private TrainEval() {}

    /** The result of one evaluation: accuracy and throughput. */
    public record Result(TopKAccuracy accuracy, double seconds) {
        /** Images per second. */
        public double imagesPerSecond() {
            return accuracy.count() / Math.max(1e-9, seconds);
        }
    }

    /**
     * Evaluates {@code model} on {@code data} preprocessed by {@code transform}: a one-transform {@link Sweep} of the
     * fast path folded from the model's current weights (strict: an unreadable image is an error).
     */
    public static Result evaluate(EfficientNet model, Dataset data, SampleTransform transform, int batchSize,
                                  int threads) {
        long t0 = System.nanoTime();
        model.eval();
        DeviceSpec device = DeviceTensors.of(model);
        try (FastEfficientNet fast = FastEfficientNet.fuse(model)) {
            Sweep.ModelFn fn = device.isCpu() ? fast::forward
                    : x -> fast.forward(DeviceTensors.toDevice(x, device, model.isChannelsLast()));
            Sweep.Result r = Sweep.over(data, List.of(transform)).batchSize(batchSize).threads(threads).strict(true)
                    .ks(1, Math.min(5, model.spec().numClasses())).run(fn);
            return new Result(r.entries().get(0).accuracy(), (System.nanoTime() - t0) / 1e9);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package org.fixres4j.fixres;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.fixres4j.data.Batch;
import org.fixres4j.data.BatchLoader;
import org.fixres4j.data.Dataset;
import org.fixres4j.eval.TopKAccuracy;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.transform.SampleTransform;

/**
 * Top-1 / top-5 of a model on a dataset at one transform: the per-epoch check of {@link Trainer} and the before /
 * after measurement of {@link Finetuner}. Runs the BN-folded fast path (folded from the model's current weights)
 * under {@code InferenceMode}; the model is left in eval mode. Sweeps over several resolutions use {@link Sweep}.
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

    /** Evaluates {@code model} on {@code data} preprocessed by {@code transform}. */
    public static Result evaluate(EfficientNet model, Dataset data, SampleTransform transform, int batchSize,
                                  int threads) {
        long t0 = System.nanoTime();
        model.eval();
        TopKAccuracy acc = new TopKAccuracy(model.spec().numClasses(), 1, Math.min(5, model.spec().numClasses()));
        try (FastEfficientNet fast = FastEfficientNet.fuse(model);
             BatchLoader loader = BatchLoader.builder(data, transform).batchSize(batchSize).threads(threads)
                     .strict(true).build();
             BatchLoader.Epoch epoch = loader.epoch(0)) {
            while (epoch.hasNext()) {
                try (Batch b = epoch.next(); PointerScope scope = new PointerScope();
                     InferenceMode guard = new InferenceMode()) {
                    Tensor logits = fast.forward(b.input());
                    acc.add(logits, b.labels());
                }
            }
        }
        return new Result(acc, (System.nanoTime() - t0) / 1e9);
    }
}

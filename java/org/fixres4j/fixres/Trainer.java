package org.fixres4j.fixres;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.data.Batch;
import org.fixres4j.data.BatchLoader;
import org.fixres4j.data.Dataset;
import org.fixres4j.data.Subsets;
import org.fixres4j.eval.TopKAccuracy;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.model.StateDictLoader;
import org.fixres4j.transform.FixResTestTransform;
import org.fixres4j.weights.SafeTensors;

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
 * same weights as an uninterrupted run. A resumed run must have the same configuration ({@link TrainConfig#toMap()}),
 * model and data (size and description).
 */
public final class Trainer {
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
    public record EpochResult(int epoch, double loss, double imagesPerSecond, double seconds, double lr,
                              TopKAccuracy val) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", epoch);
            m.put("loss", loss);
            m.put("images_per_second", imagesPerSecond);
            m.put("seconds", seconds);
            m.put("lr", lr);
            if (val != null) {
                m.put("val_top1", val.percent(1));
                m.put("val_top5", val.percent(val.ks()[val.ks().length - 1]));
                m.put("val_images", val.count());
            }
            return m;
        }
    }

    /** What a run produced: the trained model (the caller closes it) and the per-epoch history. */
    public record Result(EfficientNet model, Checkpoint.ModelInfo info, List<EpochResult> history, int resumedFrom)
            implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }
    }

    private final TrainConfig config;
    private final Checkpoint.ModelInfo info;
    private Listener listener = new Listener() {};

    /**
     * @param info the model to train (spec) and its input configuration ({@code inputSize} should be K_train; the
     *             normalisation and interpolation must be the config's)
     */
    public Trainer(TrainConfig config, Checkpoint.ModelInfo info) {
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
     * @throws IllegalStateException if the checkpoint belongs to another configuration
     */
    public Result run(Dataset train, Dataset val, Path checkpointDir, boolean resume) throws IOException {
        Dataset data = config.trainLimit > 0 && config.trainLimit < train.size()
                ? Subsets.stratified(train, config.trainLimit, config.seed) : train;
        torch.set_num_threads(config.threads);
        Map<String, Object> runKey = runKey(data);
        torch.manual_seed(config.seed);
        EfficientNet model = ModelRegistry.create(info.spec());
        model.initTimm();
        model.nativeDepthwise(config.nativeDepthwise);
        List<EpochResult> history = new ArrayList<>();
        List<Object> historyMaps = new ArrayList<>();
        int start = 0;
        TrainOptimizer opt = null;
        try (PointerScope outer = new PointerScope()) {
            Map<String, Tensor> params = TrainSupport.setTrainable(model, k -> true);
            opt = new TrainOptimizer(config.optimizer, params, TrainSupport.decayed(params, false));
            if (resume) {
                Checkpoint.Found found = Checkpoint.find(checkpointDir);
                if (found != null) {
                    checkCompatible(found, runKey);
                    StateDictLoader.load(model, SafeTensors.read(found.modelFile()), true);
                    opt.loadState(found.optimizerTensors());
                    start = found.epoch();
                    history.addAll(historyOf(found.state()));
                    if (found.state().get("history") instanceof List<?> l) {
                        historyMaps.addAll(l);
                    }
                    listener.resumed(start, checkpointDir);
                }
            }
            try (BatchLoader loader = BatchLoader.builder(data, config.transform()).batchSize(config.batchSize)
                    .threads(config.threads).seed(config.seed).shuffle(true).dropLast(data.size() >= config.batchSize)
                    .strict(true).build()) {
                int stepsPerEpoch = loader.batchesPerEpoch();
                TrainSchedule schedule = config.scheduleFor(stepsPerEpoch);
                for (int epoch = start; epoch < config.epochs; epoch++) {
                    TrainSupport.seedEpoch(config.seed, epoch);
                    model.train(true);
                    long t0 = System.nanoTime();
                    double lossSum = 0;
                    long images = 0;
                    int step = 0;
                    double lr = schedule.at((long) epoch * stepsPerEpoch);
                    try (BatchLoader.Epoch ep = loader.epoch(epoch)) {
                        while (ep.hasNext()) {
                            try (Batch b = ep.next(); PointerScope scope = new PointerScope()) {
                                lr = schedule.at((long) epoch * stepsPerEpoch + step);
                                Tensor logits = model.forward(b.input());
                                Tensor loss = TrainSupport.labelSmoothingLoss(logits, b.labelTensor(),
                                        config.labelSmoothing);
                                opt.zeroGrad();
                                loss.backward();
                                opt.step(lr);
                                double l = loss.item_double();
                                if (!Double.isFinite(l)) {
                                    throw new IllegalStateException("the loss is " + l + " at epoch " + (epoch + 1)
                                            + ", step " + step + ": lower the learning rate");
                                }
                                lossSum += l * b.size();
                                images += b.size();
                                listener.afterStep(epoch, step, stepsPerEpoch, l, lr);
                            }
                            step++;
                        }
                    }
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    model.eval();
                    TopKAccuracy acc = null;
                    if (val != null) {
                        acc = TrainEval.evaluate(model, val, new FixResTestTransform(config.resolution,
                                config.interpolation, config.normalization), 128, config.threads).accuracy();
                    }
                    EpochResult r = new EpochResult(epoch + 1, lossSum / Math.max(1, images), images / seconds,
                            seconds, lr, acc);
                    history.add(r);
                    historyMaps.add(r.toMap());
                    Map<String, Object> state = new LinkedHashMap<>();
                    state.put("kind", "train");
                    state.put("step", opt.steps());
                    state.put("optimizer", config.optimizer.toMap());
                    state.put("rng", rngRule());
                    state.putAll(runKey);
                    state.put("history", historyMaps);
                    Checkpoint.save(checkpointDir, epoch + 1, model, info, opt.stateTensors(), state);
                    listener.afterEpoch(r);
                }
            }
            model.eval();
            return new Result(model, info, history, start);
        } catch (IOException | RuntimeException | Error e) {
            model.close();
            throw e;
        } finally {
            if (opt != null) {
                opt.close();
            }
        }
    }

    /** What a checkpoint must match to be resumed: configuration, model and data. */
    private Map<String, Object> runKey(Dataset data) {
        Map<String, Object> k = new LinkedHashMap<>();
        k.put("config", config.toMap());
        k.put("model", info.toMap());
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("description", data.describe());
        d.put("size", data.size());
        k.put("data", d);
        return k;
    }

    static Map<String, Object> rngRule() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("init", "torch.manual_seed(seed), then timm's init");
        m.put("data", "sample i of epoch e: Seeds.sample(seed, e, i); order: Seeds.shuffle(seed, e)");
        m.put("torch", "torch.manual_seed(Seeds.hash(seed, TORCH_STREAM, e)) at the start of epoch e");
        return m;
    }

    @SuppressWarnings("unchecked")
    static void checkCompatible(Checkpoint.Found found, Map<String, Object> runKey) {
        List<String> diff = new ArrayList<>();
        for (Map.Entry<String, Object> e : runKey.entrySet()) {
            Object saved = found.state().get(e.getKey());
            // compare through JSON text: numbers read back as Long/Double
            String a = org.fixres4j.io.Json.write(org.fixres4j.io.Json.parse(org.fixres4j.io.Json.write(e.getValue())));
            String b = saved == null ? "null" : org.fixres4j.io.Json.write(saved);
            if (!a.equals(b)) {
                diff.add(e.getKey() + ": checkpoint " + b + ", now " + a);
            }
        }
        if (!diff.isEmpty()) {
            throw new IllegalStateException("the checkpoint in " + found.dir() + " belongs to another run ("
                    + String.join("; ", diff) + "): use another --checkpoint-dir, or drop --resume");
        }
    }

    @SuppressWarnings("unchecked")
    private static List<EpochResult> historyOf(Map<String, Object> state) {
        List<EpochResult> out = new ArrayList<>();
        Object h = state.get("history");
        if (h instanceof List<?> l) {
            for (Object o : l) {
                Map<String, Object> m = (Map<String, Object>) o;
                out.add(new EpochResult(((Number) m.get("epoch")).intValue(), ((Number) m.get("loss")).doubleValue(),
                        ((Number) m.get("images_per_second")).doubleValue(),
                        ((Number) m.get("seconds")).doubleValue(), ((Number) m.get("lr")).doubleValue(), null));
            }
        }
        return out;
    }
}

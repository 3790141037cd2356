package org.fixres4j.fixres;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import org.fixres4j.data.Dataset;
import org.fixres4j.data.Subsets;
import org.fixres4j.dist.Collective;
import org.fixres4j.dist.LocalCollective;

/**
 * The settings that a from-scratch run ({@link TrainConfig}) and a FixRes fine-tuning run ({@link FinetuneConfig})
 * share: resolution, epochs, batch size, the learning-rate schedule, label smoothing, seed, threads and the training
 * subset; each subclass adds its augmentation and optimizer. {@link #toMap()} is the run's identity, which a
 * checkpoint records and a resumed run must match; its keys are the same for both kinds of run.
 *
 * @param <C> the concrete configuration, which the setters return
 */
public abstract class RunConfig<C extends RunConfig<C>> {
    /** The warmup's starting fraction of lr (timm's {@code warmup_lr_init = lr / 10}). */
    static final double WARMUP_START = 0.1;

    int resolution;
    int epochs;
    int batchSize;
    String schedule = "cosine";
    double lr;
    double minLr;
    double warmupEpochs;
    int stepEpochs = 30;
    double gamma = 0.1;
    double labelSmoothing = 0.1;
    long seed = 0;
    int threads = TrainSupport.defaultThreads();
    int trainLimit = 0;
    /** The data-parallel group (not part of the run's identity: any world size resumes any checkpoint). */
    Collective collective;

    RunConfig(int epochs, int batchSize, double lr, double minLr, double warmupEpochs) {
        this.epochs = epochs;
        this.batchSize = batchSize;
        this.lr = lr;
        this.minLr = minLr;
        this.warmupEpochs = warmupEpochs;
    }

    @SuppressWarnings("unchecked")
    final C self() {
        return (C) this;
    }

    public C resolution(int r) {
        if (r < 8 || r > 4096) {
            throw new IllegalArgumentException("resolution must be in 8..4096, got " + r);
        }
        resolution = r;
        return self();
    }

    public C epochs(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + n);
        }
        epochs = n;
        return self();
    }

    public C lr(double v) {
        if (!(v > 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException("learning rate must be > 0, got " + v);
        }
        lr = v;
        return self();
    }

    public C schedule(String kind) {
        String k = kind.trim().toLowerCase(Locale.ROOT);
        if (!k.equals("cosine") && !k.equals("step") && !k.equals("constant")) {
            throw new IllegalArgumentException("schedule must be cosine, step or constant, got '" + kind + "'");
        }
        schedule = k;
        return self();
    }

    public C step(int epochsPerStep, double g) {
        if (epochsPerStep < 1 || !(g > 0)) {
            throw new IllegalArgumentException("step schedule needs a period >= 1 and gamma > 0");
        }
        stepEpochs = epochsPerStep;
        gamma = g;
        return self();
    }

    public C labelSmoothing(double eps) {
        if (!(eps >= 0 && eps < 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + eps);
        }
        labelSmoothing = eps;
        return self();
    }

    public C seed(long s) {
        seed = s;
        return self();
    }

    /** Loader threads (and libtorch's intra-op threads). */
    public C threads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        threads = n;
        return self();
    }

    /** Train on a stratified subset of this many images (0: all); recorded so a resume uses the same. */
    public C trainLimit(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("train limit must be >= 0");
        }
        trainLimit = n;
        return self();
    }

    public int resolution() {
        return resolution;
    }

    public int epochs() {
        return epochs;
    }

    public int batchSize() {
        return batchSize;
    }

    public long seed() {
        return seed;
    }

    public int threads() {
        return threads;
    }

    public int trainLimit() {
        return trainLimit;
    }

    /**
     * Trains data-parallel over {@code c} (null: one process). {@link #batchSize()} stays the global batch: each rank
     * loads {@code batchSize / worldSize} samples of every global batch, so the learning rate, the schedule and the
     * checkpoints do not depend on the world size.
     *
     * @throws IllegalArgumentException if the batch size is not divisible by the world size
     */
    public C collective(Collective c) {
        if (c != null && batchSize % c.worldSize() != 0) {
            throw new IllegalArgumentException("the batch size " + batchSize + " is the global batch: it must be "
                    + "divisible by the world size " + c.worldSize());
        }
        this.collective = c;
        return self();
    }

    /** The data-parallel group ({@link LocalCollective} when none was given). */
    Collective group() {
        return collective != null ? collective : new LocalCollective();
    }

    /** The optimizer's hyper-parameters. */
    abstract TrainOptimizer.Settings optimizer();

    /** Puts what describes the augmentation (and what is trained) into the run's map, after the resolution. */
    abstract void putAugmentation(Map<String, Object> m);

    /** Puts the schedule's settings that the run can change besides kind and lr (none by default). */
    void putScheduleTerms(Map<String, Object> s) {}

    /** The images trained on: a stratified subset of {@code train} when {@link #trainLimit(int)} asks for one. */
    Dataset trainingSet(Dataset train) {
        return trainLimit > 0 && trainLimit < train.size() ? Subsets.stratified(train, trainLimit, seed) : train;
    }

    /** The schedule for {@code stepsPerEpoch} optimizer steps per epoch. */
    public TrainSchedule scheduleFor(long stepsPerEpoch) {
        return new TrainSchedule(schedule, lr, minLr, Math.round(warmupEpochs * stepsPerEpoch), WARMUP_START,
                stepsPerEpoch * epochs, stepsPerEpoch, stepEpochs, gamma);
    }

    /** Everything that determines the result (threads excluded), as a JSON-ready map. */
    public final Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("resolution", resolution);
        putAugmentation(m);
        m.put("epochs", epochs);
        m.put("batch_size", batchSize);
        m.put("optimizer", optimizer());
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("kind", schedule);
        s.put("lr", lr);
        putScheduleTerms(s);
        if (schedule.equals("step")) {
            s.put("step_epochs", stepEpochs);
            s.put("gamma", gamma);
        }
        m.put("schedule", s);
        m.put("label_smoothing", labelSmoothing);
        m.put("seed", seed);
        m.put("train_limit", trainLimit);
        return m;
    }
}

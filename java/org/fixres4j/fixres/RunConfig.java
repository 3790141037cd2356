package org.fixres4j.fixres;

import java.util.Locale;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import org.fixres4j.data.Dataset;
import org.fixres4j.data.Subsets;
import org.fixres4j.dist.Collective;
import org.fixres4j.dist.LocalCollective;
import org.fixres4j.torch.Amp;
import org.fixres4j.torch.DeviceSpec;

/**
 * The settings that a from-scratch run ({@link TrainConfig}) and a FixRes fine-tuning run ({@link FinetuneConfig})
 * share: resolution, epochs, batch size, the learning-rate schedule, label smoothing, seed, threads and the training
 * subset; each subclass adds its augmentation and optimizer. {@link #identity()} is the run's identity, which a
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
    /** Where the model trains (not part of the run's identity: a checkpoint resumes on any device). */
    DeviceSpec device = DeviceSpec.CPU;
    /** The precision of the training forward passes (not part of the run's identity, like the device). */
    Amp amp = Amp.NONE;

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

    /**
     * Where the model, its optimizer state and every batch live during the run (default the CPU). A CUDA device must
     * have passed {@link DeviceSpec#check()}; checkpoints are written from host copies and resume on any device, so
     * the device is not part of the run's identity.
     */
    public C device(DeviceSpec d) {
        this.device = Objects.requireNonNull(d, "device");
        return self();
    }

    public DeviceSpec device() {
        return device;
    }

    /**
     * Precision of the training forward passes (default {@link Amp#NONE}): with {@link Amp#BF16} each batch's forward
     * runs under libtorch's bfloat16 autocast on the run's device (convolutions and matrix products in bfloat16), the
     * logits are cast to float32 before the loss, and the weights the optimizer updates (the master weights), their
     * gradients and BatchNorm's statistics stay float32.
     *
     * @throws IllegalArgumentException for {@link Amp#FP16}: float16 training needs dynamic loss scaling (PyTorch's
     *     {@code GradScaler}), and libtorch's Java preset maps neither a scaler nor the ops it is built on
     *     ({@code _amp_foreach_non_finite_check_and_unscale_}, {@code _amp_update_scale_}); bfloat16 has float32's
     *     exponent range and needs none
     */
    public C amp(Amp a) {
        this.amp = trainingAmp(a, device);
        return self();
    }

    /**
     * {@code a} if a training loop can run it on {@code device}: never float16 ({@link #amp(Amp)}; on the CPU the
     * message starts as {@link Amp#checkDevice}'s does), else {@link Amp#checkDevice}.
     *
     * @throws IllegalArgumentException in one line naming why
     */
    public static Amp trainingAmp(Amp a, DeviceSpec device) {
        Objects.requireNonNull(a, "amp");
        if (a == Amp.FP16) {
            // (on the CPU, Amp's own refusal would point to CUDA, where training refuses float16 too)
            throw new IllegalArgumentException(device.isCuda() ? FP16_TRAINING : FP16_CPU_TRAINING);
        }
        return a.checkDevice(device.toString());
    }

    /** Why float16 training is refused on the CPU (one line, starting as {@link Amp#checkDevice}'s refusal does). */
    static final String FP16_CPU_TRAINING = "--amp fp16 is not supported on the CPU, nor for training on CUDA (float16 "
            + "needs loss scaling, GradScaler, which libtorch's Java preset does not map): use --amp bf16";

    /** Why float16 training is refused (one line). */
    static final String FP16_TRAINING = "--amp fp16 is not supported for training: float16 needs loss scaling "
            + "(GradScaler), which libtorch's Java preset does not map; use --amp bf16 (no scaling needed)";

    /** The precision of the training forward passes. */
    public Amp amp() {
        return amp;
    }

    /**
     * Checks the device and the precision together before a run: the device must be usable
     * ({@link DeviceSpec#check()}) and the precision must suit it ({@link Amp#checkDevice}). A data-parallel group on
     * CUDA devices reduces over host copies (Gloo; see {@code dist.Buckets}): every rank should have its own device.
     */
    public void checkDevice() {
        device.check();
        amp.checkDevice(device.toString());
    }

    /** The data-parallel group ({@link LocalCollective} when none was given). */
    Collective group() {
        return collective != null ? collective : new LocalCollective();
    }

    /** The optimizer's hyper-parameters. */
    abstract TrainOptimizer.Settings optimizer();

    /**
     * What describes the augmentation (and what is trained): a record whose members the run's identity lists after
     * the resolution.
     */
    abstract Record augmentation();

    /** Whether the schedule has a cosine floor and a warmup that the run sets (fine-tuning has neither). */
    boolean hasWarmup() {
        return false;
    }

    /** The images trained on: a stratified subset of {@code train} when {@link #trainLimit(int)} asks for one. */
    Dataset trainingSet(Dataset train) {
        return trainLimit > 0 && trainLimit < train.size() ? Subsets.stratified(train, trainLimit, seed) : train;
    }

    /** The schedule for {@code stepsPerEpoch} optimizer steps per epoch. */
    public TrainSchedule scheduleFor(long stepsPerEpoch) {
        return new TrainSchedule(schedule, lr, minLr, Math.round(warmupEpochs * stepsPerEpoch), WARMUP_START,
                stepsPerEpoch * epochs, stepsPerEpoch, stepEpochs, gamma);
    }

    /** Everything that determines the result (threads excluded): the run's identity ({@link Identity}). */
    public final Identity identity() {
        boolean step = schedule.equals("step");
        Schedule s = new Schedule(schedule, lr, hasWarmup() ? minLr : null, hasWarmup() ? warmupEpochs : null,
                step ? stepEpochs : null, step ? gamma : null);
        return new Identity(resolution, augmentation(), epochs, batchSize, optimizer(), s, labelSmoothing, seed,
                trainLimit);
    }

    /**
     * A run's identity, which a checkpoint records and a resumed run must match; its members are the same for both
     * kinds of run but for the augmentation's.
     *
     * @param augmentation the subclass's augmentation members, written in place (unwrapped)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"resolution", "augmentation", "epochs", "batch_size", "optimizer", "schedule",
        "label_smoothing", "seed", "train_limit"})
    public record Identity(int resolution, @JsonUnwrapped Record augmentation, int epochs, int batchSize,
                           TrainOptimizer.Settings optimizer, Schedule schedule, double labelSmoothing, long seed,
                           int trainLimit) {}

    /**
     * The learning-rate schedule of a run's identity.
     *
     * @param minLr the cosine floor, only where the run sets one (null: left out)
     * @param warmupEpochs the warmup, only where the run sets one
     * @param stepEpochs the step schedule's period, only for {@code step}
     * @param gamma the step schedule's factor, only for {@code step}
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"kind", "lr", "min_lr", "warmup_epochs", "step_epochs", "gamma"})
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Schedule(String kind, double lr, Double minLr, Double warmupEpochs, Integer stepEpochs,
                           Double gamma) {}
}

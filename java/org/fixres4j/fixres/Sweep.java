package org.fixres4j.fixres;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.fixres4j.data.BatchLoader;
import org.fixres4j.data.CudaFeed;
import org.fixres4j.data.Dataset;
import org.fixres4j.data.LoadFailure;
import org.fixres4j.data.LoadedBatch;
import org.fixres4j.data.Progress;
import org.fixres4j.data.RealLabels;
import org.fixres4j.data.Seeds;
import org.fixres4j.dist.Collective;
import org.fixres4j.eval.LogitRows;
import org.fixres4j.eval.RealAccuracy;
import org.fixres4j.eval.TopKAccuracy;
import org.fixres4j.model.PretrainedConfig;
import org.fixres4j.torch.DeviceSpec;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.SampleTransform;

/**
 * A test-resolution sweep: one model (or one model per transform), one dataset, several preprocessing transforms
 * (typically the same eval transform at several resolutions), scored with top-k and, optionally, ImageNet ReaL
 * accuracy at every transform.
 *
 * <p><b>Decode once.</b> The sweep runs on the project's one loader, {@link BatchLoader} with several transforms:
 * each image is read and decoded once, on a worker thread, and preprocessed by the fused
 * kernel into its row of one batch tensor per transform ({@code [B, 3, H_t, W_t]} float32, NCHW, normalised as the
 * transform says). The consumer (the calling thread) then runs the model on each transform's batch in turn. While it
 * does, the workers already fill the next chunk of {@code B} images (double buffering), so decoding overlaps
 * inference. Memory: {@code 2 * B * sum over transforms of 3 * H_t * W_t * 4} bytes plus the model's activations.
 *
 * <p><b>Deterministic.</b> Chunk {@code k} holds dataset samples {@code k*B .. k*B+B-1} in dataset order, whatever
 * the number of threads, so batches and results are the same from run to run. Random transforms get the generator
 * {@link Seeds#sample(long, int, int) Seeds.sample(seed, 0, index)}.
 *
 * <p><b>Failures.</b> A sample whose file cannot be read or decoded, or whose size one of the transforms refuses, is
 * recorded as a {@link LoadFailure} and left out at <em>every</em> transform, so all resolutions are scored on the
 * same images. With {@link Builder#strict(boolean) strict} the sweep stops at the first such sample (in dataset
 * order) with a {@link LoadException} naming it.
 *
 * <p><b>The model.</b> Any {@link ModelFn}: {@code efficientNet::forward}, {@code fastEfficientNet::forward}, or
 * {@code ModelFn.of(function)}. It receives a CPU float32 tensor {@code [n, 3, H, W]} (n &lt;= B; the last batch and
 * batches with failures are shorter) and returns logits {@code [n, C]} on any device and of any floating dtype; a model
 * on a GPU moves the input itself ({@code x -> model.forward(x.to(device))}). The sweep never changes the model's
 * mode: call {@code eval()} first. By default the forward runs under libtorch's {@code InferenceMode}
 * ({@link Builder#inferenceMode(boolean)}). The input is only valid during the call: the sweep reuses its memory.
 * Every tensor made during one forward belongs to a {@code PointerScope} that is closed after the logits are read.
 *
 * <pre>{@code
 * List<SampleTransform> ts = Sweep.timmTransforms(config, 224, 256, 288, 320);
 * Sweep.Result r = Sweep.over(dataset, ts).batchSize(32).threads(4).run(fast::forward);
 * for (Sweep.Entry e : r.entries()) {
 *     System.out.println(e.resolution() + ": " + e.accuracy());
 * }
 * }</pre>
 * Before/after fine-tuning at several resolutions: run the sweep twice, once per model state, or give one model per
 * transform with {@link Builder#run(List)}.
 */
public final class Sweep {
    /** Batches in existence (the loader's pool): the one the model consumes and the one the workers fill. */
    private static final int DEPTH = 2;

    private Sweep() {}

    /** A model as the sweep sees it: a batch of preprocessed images in, logits {@code [n, C]} out. */
    @FunctionalInterface
    public interface ModelFn {
        /** The logits of a batch (see the class comment for the contract). */
        Tensor forward(Tensor input);

        /** Adapts any {@code Function<Tensor, Tensor>}. */
        static ModelFn of(Function<Tensor, Tensor> function) {
            Objects.requireNonNull(function, "function");
            return function::apply;
        }
    }

    /** Thrown in strict mode for the first sample (in dataset order) that could not be loaded. */
    public static final class LoadException extends IOException {
        private static final long serialVersionUID = 1L;
        private final transient LoadFailure failure;

        LoadException(LoadFailure failure) {
            super("sample " + failure.index() + " (" + failure.name() + ") could not be loaded: " + failure.message());
            this.failure = failure;
        }

        /** The sample that failed. */
        public LoadFailure failure() {
            return failure;
        }
    }

    /**
     * Thrown (unless {@link Builder#allowNonFinite}) when the model's logits for a sample hold a NaN or an infinity:
     * such a row ranks no class meaningfully, and scoring it would report an accuracy the model does not have.
     */
    public static final class NonFiniteLogitsException extends IOException {
        private static final long serialVersionUID = 1L;
        private final int index;

        NonFiniteLogitsException(int index, String name, int rowsInBatch, String transform) {
            super("the model's logits for sample " + index + " (" + name + ") hold NaN or infinite values"
                    + (rowsInBatch > 1 ? " (" + rowsInBatch + " such rows in its batch)" : "") + " at " + transform
                    + ": its weights or input are broken; pass --allow-nonfinite to count such samples as wrong and "
                    + "report how many there were");
            this.index = index;
        }

        /** The dataset index of the first sample with non-finite logits. */
        public int index() {
            return index;
        }
    }

    /** timm's eval transform of {@code config} at each resolution (its crop_pct, filter and mean/std). */
    public static List<SampleTransform> timmTransforms(PretrainedConfig config, int... resolutions) {
        List<SampleTransform> out = new ArrayList<>(resolutions.length);
        for (int r : resolutions) {
            out.add(config.evalTransform(r));
        }
        return out;
    }

    /** A sweep of {@code dataset} through {@code transforms} (at least one). */
    public static Builder over(Dataset dataset, List<? extends SampleTransform> transforms) {
        return new Builder(dataset, transforms);
    }

    /**
     * The short form: top-1/top-5 of {@code model} on {@code dataset} at each transform, non-strict, no ReaL labels,
     * logits not kept.
     */
    public static Result run(Dataset dataset, List<? extends SampleTransform> transforms, ModelFn model, int batch,
                             int threads, Progress progress) throws IOException {
        return over(dataset, transforms).batchSize(batch).threads(threads).progress(progress).run(model);
    }

    /** Options of a sweep; every setter validates its argument. */
    public static final class Builder {
        private final Dataset dataset;
        private final List<SampleTransform> transforms;
        /** The loader's options, which it validates (batch size, threads, seed); the sweep shards it per run. */
        private final BatchLoader.Builder loader;
        private int batchSize = 32;
        private int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        private boolean strict;
        private RealLabels.Aligned real;
        private boolean keepLogits;
        private Progress progress = Progress.none();
        private int[] ks = {1, 5};
        private boolean inferenceMode = true;
        private boolean allowNonFinite;
        private Collective collective;
        private DeviceSpec device = DeviceSpec.CPU;

        private Builder(Dataset dataset, List<? extends SampleTransform> transforms) {
            this.dataset = Objects.requireNonNull(dataset, "dataset");
            if (Objects.requireNonNull(transforms, "transforms").isEmpty()) {
                throw new IllegalArgumentException("a sweep needs at least one transform");
            }
            // checks each transform; the model's thread loads samples of the batch it waits for
            this.loader = BatchLoader.builder(dataset, transforms).poolSize(DEPTH).consumerHelps(true);
            this.transforms = List.copyOf(transforms);
        }

        /** Images per forward pass (default 32, at most 65536). */
        public Builder batchSize(int n) {
            loader.batchSize(n);
            if (n > 65536) {
                throw new IllegalArgumentException("batch size must be in 1..65536, got " + n);
            }
            this.batchSize = n;
            return this;
        }

        /** Decoding / preprocessing threads (default: one per processor). libtorch's own threads are not changed. */
        public Builder threads(int n) {
            this.threads = n;
            loader.threads(n);
            return this;
        }

        /**
         * Whether the loader's threads load ahead while the model runs (default true), or only while the model's
         * thread waits for a batch ({@link BatchLoader.Builder#overlap(boolean)}; {@link
         * org.fixres4j.data.EvalPipeline.Split#overlap()} says which an evaluation uses).
         */
        public Builder overlap(boolean on) {
            loader.overlap(on);
            return this;
        }

        /** Stop at the first sample that cannot be loaded (default false: count, list and skip it). */
        public Builder strict(boolean on) {
            this.strict = on;
            return this;
        }

        /** Also score ImageNet ReaL accuracy with these labels (aligned with the dataset), or null for none. */
        public Builder realLabels(RealLabels.Aligned labels) {
            if (labels != null && labels.size() != dataset.size()) {
                throw new IllegalArgumentException("ReaL labels for " + labels.size() + " samples, but the dataset has "
                        + dataset.size());
            }
            this.real = labels;
            return this;
        }

        /** Keep every evaluated sample's logits in the result (default false; {@code n * C} floats per transform). */
        public Builder keepLogits(boolean on) {
            this.keepLogits = on;
            return this;
        }

        /** Where progress goes (default: nowhere). */
        public Builder progress(Progress p) {
            this.progress = p == null ? Progress.none() : p;
            return this;
        }

        /** The top-k accuracies to compute (default 1 and 5): distinct, ascending, each &gt;= 1. */
        public Builder ks(int... k) {
            new TopKAccuracy(1, k); // validates
            this.ks = k.clone();
            return this;
        }

        /** Whether the forward runs under {@code InferenceMode} (default true). */
        public Builder inferenceMode(boolean on) {
            this.inferenceMode = on;
            return this;
        }

        /** The seed of random transforms (default 0; deterministic transforms ignore it). */
        public Builder seed(long s) {
            loader.seed(s);
            return this;
        }

        /**
         * Whether logits holding NaN or infinite values are counted (as wrong at every k, reported as
         * {@code nonfinite_rows}) instead of stopping the sweep with a {@link NonFiniteLogitsException} (default
         * false: stop).
         */
        public Builder allowNonFinite(boolean on) {
            this.allowNonFinite = on;
            return this;
        }

        /**
         * Shares the sweep among the ranks of {@code c} (null or a world of one: no sharing): each rank loads and
         * scores its shard of the images ({@link BatchLoader.Builder#shard}), then the counts, per-class tallies,
         * ReaL counts, failures and evaluated indices are combined exactly, so every rank returns the result one
         * process would have. Every rank must call {@code run} with the same dataset, transforms and options.
         * Logits cannot be kept across ranks.
         */
        /**
         * The device the models run on (default CPU). On CUDA the batches come from a {@link CudaFeed} (decoded on
         * CPU threads, preprocessed by the CUDA kernel straight into device tensors); the models' logits come back to
         * the host for scoring. Checked when the sweep runs.
         */
        public Builder device(DeviceSpec d) {
            this.device = Objects.requireNonNull(d, "device");
            return this;
        }

        public Builder collective(Collective c) {
            this.collective = c;
            return this;
        }

        /** Runs the sweep with one model for every transform. */
        public Result run(ModelFn model) throws IOException {
            Objects.requireNonNull(model, "model");
            List<ModelFn> models = new ArrayList<>();
            for (int i = 0; i < transforms.size(); i++) {
                models.add(model);
            }
            return new Engine(this, models).run();
        }

        /** Runs the sweep with {@code models.get(t)} for transform {@code t} (e.g. one fine-tuned per resolution). */
        public Result run(List<? extends ModelFn> models) throws IOException {
            Objects.requireNonNull(models, "models");
            if (models.size() != transforms.size()) {
                throw new IllegalArgumentException(models.size() + " models for " + transforms.size()
                        + " transforms");
            }
            for (ModelFn m : models) {
                Objects.requireNonNull(m, "model");
            }
            return new Engine(this, List.copyOf(models)).run();
        }
    }

    /**
     * The result at one transform.
     *
     * @param transform the transform
     * @param accuracy top-k accuracy (overall and per class) over the evaluated samples
     * @param real ReaL accuracy, or null when no ReaL labels were given
     * @param numClasses the model's output classes (0 when nothing was evaluated)
     * @param logits with {@link Builder#keepLogits}: {@code evaluated * numClasses} values, row {@code i} belongs to
     *               dataset sample {@link Result#indices()}{@code [i]}; otherwise null
     * @param forwardSeconds time spent in the model's forward and reading its logits
     */
    public record Entry(SampleTransform transform, TopKAccuracy accuracy, RealAccuracy real, int numClasses,
                        float[] logits, double forwardSeconds) {

        /** The output width, i.e. the test resolution of a square transform. */
        public int resolution() {
            return transform.outputWidth();
        }

        /** Top-1 accuracy in percent (NaN when nothing was evaluated). */
        public double top1() {
            return accuracy.percent(accuracy.ks()[0]);
        }

        /** The logits of evaluated row {@code i} (a copy); needs {@link Builder#keepLogits}. */
        public float[] logitsRow(int i) {
            if (logits == null) {
                throw new IllegalStateException("logits were not kept: use keepLogits(true)");
            }
            return Arrays.copyOfRange(logits, i * numClasses, (i + 1) * numClasses);
        }

        /** For reports ({@link Report}). */
        public Report report() {
            return new Report(resolution(), List.of(transform.outputWidth(), transform.outputHeight()),
                    transform.describe(), accuracy.report(), real == null ? null : real.report(), forwardSeconds,
                    forwardSeconds > 0 ? accuracy.count() / forwardSeconds : null);
        }

        /**
         * One transform's result as a report part: {@code resolution}, {@code output_size}, {@code transform}, the
         * top-k members ({@link TopKAccuracy.Report}), {@code real} (only with ReaL labels), then the forward's
         * timing.
         *
         * @param forwardImagesPerSecond null when the forward took no measurable time
         */
        @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
        @JsonPropertyOrder({"resolution", "output_size", "transform", "accuracy", "real", "forward_seconds",
            "forward_images_per_second"})
        public record Report(int resolution, List<Integer> outputSize, String transform,
                             @JsonUnwrapped TopKAccuracy.Report accuracy,
                             @JsonInclude(JsonInclude.Include.NON_NULL) RealAccuracy.Report real,
                             double forwardSeconds, Double forwardImagesPerSecond) {}
    }

    /**
     * The result of a sweep.
     *
     * @param entries one per transform, in the order given
     * @param datasetSize the samples in the dataset
     * @param failures the samples that could not be loaded, in dataset order (skipped at every transform)
     * @param indices the dataset index of each evaluated sample, ascending
     * @param seconds wall time of the whole sweep
     * @param loadWaitSeconds time the model waited for decoding / preprocessing
     * @param batchSize the batch size
     * @param threads the worker threads
     */
    public record Result(List<Entry> entries, int datasetSize, List<LoadFailure> failures, int[] indices,
                         double seconds, double loadWaitSeconds, int batchSize, int threads) {

        /** Samples evaluated at every transform. */
        public int evaluated() {
            return indices.length;
        }

        /** The entry of the first transform whose output width is {@code resolution}. */
        public Entry at(int resolution) {
            for (Entry e : entries) {
                if (e.resolution() == resolution) {
                    return e;
                }
            }
            throw new IllegalArgumentException("no transform of resolution " + resolution + " in this sweep");
        }

        /** The entry with the highest top-1 accuracy (the first of equals), or null when nothing was evaluated. */
        public Entry best() {
            Entry best = null;
            for (Entry e : entries) {
                if (!Double.isNaN(e.top1()) && (best == null || e.top1() > best.top1())) {
                    best = e;
                }
            }
            return best;
        }

        /** Images (evaluated + failed) per second of wall time. */
        public double imagesPerSecond() {
            return seconds > 0 ? (evaluated() + failures.size()) / seconds : Double.NaN;
        }
    }

    // --------------------------------------------------------------------------------------------------------------

    /** One sweep's state: the shared {@link BatchLoader} feeds it, one input tensor per transform. */
    private static final class Engine {
        static { org.fixres4j.torch.Torch.ensureLoaded(); }
        private final Dataset dataset;
        private final List<SampleTransform> transforms;
        private final List<ModelFn> models;
        private final int batch;
        private final int threads;
        private final boolean strict;
        private final RealLabels.Aligned real;
        private final boolean keepLogits;
        private final Progress progress;
        private final int[] ks;
        private final boolean inferenceMode;
        private final BatchLoader.Builder loaderOptions;
        private final boolean allowNonFinite;
        private final Collective collective;
        private final DeviceSpec device;

        Engine(Builder b, List<ModelFn> models) {
            this.dataset = b.dataset;
            this.transforms = b.transforms;
            this.models = models;
            this.batch = b.batchSize;
            this.threads = b.threads;
            this.strict = b.strict;
            this.allowNonFinite = b.allowNonFinite;
            this.collective = b.collective != null && b.collective.worldSize() > 1 ? b.collective : null;
            if (collective != null && b.keepLogits) {
                throw new IllegalArgumentException("keepLogits is not supported in a sweep shared by "
                        + collective.worldSize() + " ranks");
            }
            this.real = b.real;
            this.keepLogits = b.keepLogits;
            this.progress = b.progress;
            this.ks = b.ks;
            this.inferenceMode = b.inferenceMode;
            this.loaderOptions = b.loader;
            this.device = b.device;
            Torch.ensureLoaded();
        }

        Result run() throws IOException {
            int n = dataset.size();
            if (n == 0) {
                throw new IllegalArgumentException("the dataset is empty: " + dataset.describe());
            }
            long t0 = System.nanoTime();
            TopKAccuracy[] acc = new TopKAccuracy[transforms.size()];
            RealAccuracy[] realAcc = new RealAccuracy[transforms.size()];
            FloatChunks[] logits = new FloatChunks[transforms.size()];
            long[] forwardNanos = new long[transforms.size()];
            int[] numClasses = {0};
            List<LoadFailure> failures;
            int[] indices = new int[n];
            int evaluated = 0;
            long waitNanos = 0;
            long done = 0;
            progress.start(collective == null ? n
                    : n / collective.worldSize() + (collective.rank() < n % collective.worldSize() ? 1 : 0));
            try (Feed epoch = feed()) {
                while (true) {
                    long w0 = System.nanoTime();
                    LoadedBatch b = epoch.next();
                    waitNanos += System.nanoTime() - w0;
                    if (strict && collective == null) {
                        // (shared by ranks, a strict sweep stops after combining, so that no rank waits for one
                        // that stopped alone)
                        // every batch up to this one is complete (whole-failed ones too), so every failure before
                        // this batch's end is recorded: the first of those is the first in dataset order
                        long end = b == null ? n : (long) (b.number() + 1) * batch;
                        for (LoadFailure f : epoch.failures()) {
                            if (f.position() < end) {
                                if (b != null) {
                                    b.close();
                                }
                                throw new LoadException(f);
                            }
                        }
                    }
                    if (b == null) {
                        break;
                    }
                    try (b) {
                        int m = b.size();
                        int[] labels = b.labels();
                        int[] rowIndices = b.indices();
                        int[][] realLabels = real == null ? null : new int[m][];
                        for (int j = 0; j < m; j++) {
                            indices[evaluated + j] = rowIndices[j];
                            if (realLabels != null) {
                                realLabels[j] = real.of(rowIndices[j]);
                            }
                        }
                        for (int t = 0; t < transforms.size(); t++) {
                            long f0 = System.nanoTime();
                            LogitRows out = forward(t, b.input(t), m);
                            forwardNanos[t] += System.nanoTime() - f0;
                            if (acc[t] == null) {
                                checkClasses(out.cols());
                                numClasses[0] = out.cols();
                                acc[t] = new TopKAccuracy(out.cols(), ks);
                                realAcc[t] = real == null ? null : new RealAccuracy(out.cols(), ks);
                                logits[t] = keepLogits ? new FloatChunks() : null;
                            } else if (out.cols() != acc[t].numClasses()) {
                                throw new IllegalStateException("the model returned " + out.cols()
                                        + " classes, earlier " + acc[t].numClasses());
                            }
                            if (!allowNonFinite) {
                                checkFinite(out, rowIndices, transforms.get(t));
                            }
                            acc[t].add(out, labels);
                            if (realAcc[t] != null) {
                                realAcc[t].add(out, realLabels);
                            }
                            if (logits[t] != null) {
                                logits[t].add(out.data());
                            }
                        }
                        evaluated += m;
                        // the batch's positions, failed ones included (batches that failed whole are skipped)
                        long end = Math.min((long) (b.number() + 1) * batch, epoch.shardSize());
                        progress.advance(end - done);
                        done = end;
                    }
                }
                failures = epoch.failures();
                if (done < epoch.shardSize()) {
                    progress.advance(epoch.shardSize() - done);
                }
            } finally {
                progress.finish();
            }
            int[] evaluatedIndices = Arrays.copyOf(indices, evaluated);
            if (collective != null) {
                int classes = 0;
                for (long[] row : collective.allGather(new long[] {numClasses[0]})) {
                    classes = (int) Math.max(classes, row[0]);
                }
                numClasses[0] = classes;
                for (int t = 0; t < transforms.size() && classes > 0; t++) {
                    TopKAccuracy all = new TopKAccuracy(classes, ks);
                    all.addCounts(collective.allReduceSum(acc[t] != null ? acc[t].counts() : all.counts()));
                    acc[t] = all;
                    if (real != null) {
                        RealAccuracy allReal = new RealAccuracy(classes, ks);
                        allReal.addCounts(collective.allReduceSum(realAcc[t] != null ? realAcc[t].counts()
                                : allReal.counts()));
                        realAcc[t] = allReal;
                    }
                }
                failures = Shards.gatherFailures(collective, failures);
                evaluatedIndices = Shards.gatherIndices(collective, evaluatedIndices);
                if (strict && !failures.isEmpty()) {
                    throw new LoadException(failures.get(0));
                }
            }
            List<Entry> entries = new ArrayList<>();
            for (int t = 0; t < transforms.size(); t++) {
                TopKAccuracy a = acc[t] != null ? acc[t] : new TopKAccuracy(Math.max(1, dataset.numClasses()), ks);
                RealAccuracy r = realAcc[t] != null ? realAcc[t]
                        : real == null ? null : new RealAccuracy(Math.max(1, dataset.numClasses()), ks);
                entries.add(new Entry(transforms.get(t), a, r, numClasses[0],
                        logits[t] == null ? (keepLogits ? new float[0] : null) : logits[t].toArray(),
                        forwardNanos[t] / 1e9));
            }
            return new Result(List.copyOf(entries), n, List.copyOf(failures), evaluatedIndices,
                    (System.nanoTime() - t0) / 1e9, waitNanos / 1e9, batch, threads);
        }

        /** The batches: the shared loader's on the CPU, a {@link CudaFeed}'s on a CUDA device. */
        private Feed feed() throws IOException {
            int shard = collective == null ? 0 : collective.rank();
            int shards = collective == null ? 1 : collective.worldSize();
            if (device.isCuda()) {
                CudaFeed f = CudaFeed.cuda(dataset, transforms, batch, threads, shard, shards, device);
                return new Feed() {
                    @Override
                    public LoadedBatch next() throws IOException {
                        return f.next();
                    }

                    public List<LoadFailure> failures() { return f.failures(); }
                    public int shardSize() { return f.shardSize(); }
                    public void close() { f.close(); }
                };
            }
            BatchLoader loader = loaderOptions.shard(shard, shards).build();
            BatchLoader.Epoch epoch;
            try {
                epoch = loader.epoch(0);
            } catch (RuntimeException e) {
                loader.close();
                throw e;
            }
            return new Feed() {
                @Override
                public LoadedBatch next() {
                    return epoch.hasNext() ? epoch.next() : null;
                }

                public List<LoadFailure> failures() { return epoch.failures(); }
                public int shardSize() { return loader.shardSize(); }
                public void close() {
                    try {
                        epoch.close();
                    } finally {
                        loader.close();
                    }
                }
            };
        }

        /** Throws for the first row of {@code out} with a NaN or an infinity. */
        private void checkFinite(LogitRows out, int[] indices, SampleTransform transform)
                throws NonFiniteLogitsException {
            for (int r = 0; r < out.rows(); r++) {
                if (!out.isRowFinite(r)) {
                    int index = indices[r];
                    throw new NonFiniteLogitsException(index, dataset.get(index).name(), out.nonFiniteRows(),
                            transform.describe());
                }
            }
        }

        private void checkClasses(int cols) {
            if (dataset.numClasses() > cols) {
                throw new IllegalArgumentException("the dataset has " + dataset.numClasses() + " classes but the "
                        + "model outputs " + cols + " (" + dataset.describe() + ")");
            }
        }

        /** The logits of the {@code m} rows of {@code input} under transform {@code t}. */
        @SuppressWarnings("try")
        private LogitRows forward(int t, Tensor input, int m) {
            try (PointerScope scope = new PointerScope();
                 InferenceMode guard = inferenceMode ? new InferenceMode() : null) {
                Tensor y = models.get(t).forward(input);
                if (y == null || y.isNull() || !y.defined() || y.dim() != 2 || y.size(0) != m) {
                    throw new IllegalStateException("the model must return logits [" + m + ", C], got "
                            + (y == null || y.isNull() || !y.defined() ? "no tensor"
                            : Arrays.toString(y.sizes().vec().get())));
                }
                return LogitRows.of(y);
            }
        }
    }

    /** Where a sweep's batches come from (the CPU loader's epoch, or the CUDA feed), as the engine reads them. */
    private interface Feed extends AutoCloseable {
        /** The next batch (close it once its logits are read), null at the end. */
        LoadedBatch next() throws IOException;

        List<LoadFailure> failures();

        int shardSize();

        @Override
        void close();
    }

    /** A growable float array in chunks (avoids copying when logits are kept). */
    private static final class FloatChunks {
        private final List<float[]> parts = new ArrayList<>();
        private long size;

        void add(float[] values) {
            parts.add(values);
            size += values.length;
        }

        float[] toArray() {
            if (size > Integer.MAX_VALUE - 8) {
                throw new IllegalStateException(size + " logits are too many for one array");
            }
            float[] out = new float[(int) size];
            int o = 0;
            for (float[] p : parts) {
                System.arraycopy(p, 0, out, o, p.length);
                o += p.length;
            }
            return out;
        }
    }
}

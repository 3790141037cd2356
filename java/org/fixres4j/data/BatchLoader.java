package org.fixres4j.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.LayoutOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.ResamplePlan;
import org.fixres4j.transform.SampleTransform;

/**
 * Decodes and preprocesses a {@link Dataset} on worker threads into pooled libtorch batch tensors.
 *
 * <p><b>What it guarantees.</b>
 * <ul>
 *   <li><b>Deterministic batches.</b> An epoch's order is the dataset order, or with {@code shuffle} a permutation
 *       drawn from (seed, epoch). Batch {@code k} holds positions {@code k*B .. k*B+B-1} of that order, whatever the
 *       number of threads or their timing; batches come out in order.</li>
 *   <li><b>Seeded augmentation.</b> Sample {@code i} (dataset index) of epoch {@code e} gets the generator
 *       {@link Seeds#sample(long, int, int) Seeds.sample(seed, e, i)}, never one shared between threads.</li>
 *   <li><b>Parallel, per image.</b> Each sample is one task on the worker pool (decode, plan, preprocess into its
 *       row, one kernel thread per task), so a slow image holds up only its own row; batch {@code k} is published
 *       when its last sample is done.</li>
 *   <li><b>Back-pressure.</b> The pool has {@code poolSize} slots (a {@code [B,3,H,W]} tensor of the spec's dtype and
 *       an int64 {@code [B]} label tensor each, allocated once); a batch is started only when a slot is free, so at
 *       most {@code poolSize} batches exist at once: those being filled, those ready, and those the consumer holds.
 *       Memory: {@code poolSize * B * sampleBytes}.</li>
 *   <li><b>Failures.</b> A sample whose file cannot be read or decoded, or whose size the transform refuses, is
 *       recorded as a {@link LoadFailure} (index, name, message) and left out of its batch; with {@code strict} the
 *       epoch instead stops at the first failure: {@code next()} throws an {@link UncheckedIOException} naming the
 *       file. Any other exception (a bug) ends the epoch with that exception.</li>
 *   <li><b>No idle consumer.</b> While the consumer waits in {@link Epoch#hasNext()} for a batch that is not ready,
 *       it can load that batch's queued samples itself instead of sleeping ({@link Builder#consumerHelps(boolean)
 *       consumerHelps(true)}; the sweep that eval runs turns it on), unless a {@code PointerScope} is open on its
 *       thread. So a pipeline that gives the loader fewer threads than cores (to leave the rest to the model's
 *       compute threads) loses no core while the model has nothing to do, e.g. at the start of an epoch. Which
 *       thread loads a sample changes nothing in the batch: every sample is written into its own row, with its own
 *       generator.</li>
 *   <li><b>Loading in the model's gaps.</b> With {@link Builder#overlap(boolean) overlap(false)} the worker threads
 *       load only while the consumer waits in {@link Epoch#hasNext()} for a batch, not while it works on the
 *       previous one: for a consumer whose own work is parallel on every core (a forward pass on libtorch's OpenMP
 *       team), where a worker that takes a core from one of its threads stalls the others at the next barrier (see
 *       {@link EvalPipeline}). Batches and their contents are the same either way.</li>
 * </ul>
 *
 * <p><b>Use and memory discipline.</b>
 * <pre>{@code
 * try (BatchLoader loader = BatchLoader.builder(dataset, transform).batchSize(64).threads(2).build()) {
 *     try (BatchLoader.Epoch epoch = loader.epoch(0)) {
 *         while (epoch.hasNext()) {
 *             try (Batch batch = epoch.next(); PointerScope scope = new PointerScope()) {
 *                 Tensor logits = model.forward(batch.input());   // temporaries belong to the scope
 *                 ...                                             // finish all reads of batch.input() here
 *             }                                                   // the scope frees them, the batch goes back
 *         }
 *     }
 *     System.out.println(epoch.failures());
 * }
 * }</pre>
 * The consumer releases each batch back to the pool with {@link Batch#close()}; holding {@code poolSize} batches
 * and asking for another is an error (it would wait forever). The pool tensors are retained by the loader, so a
 * {@code PointerScope} open around {@link Builder#build()} does not free them; they are freed when the loader is
 * closed and no batch holds them. One epoch is open at a time: a new one may start once the previous is closed or
 * fully iterated; {@link Epoch#close()} stops an epoch's work early (closing the loader closes it), and
 * {@link #close()} stops the worker threads. Not thread-safe: one consumer thread.
 */
public final class BatchLoader implements AutoCloseable {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    private static final AtomicInteger IDS = new AtomicInteger();

    private final Dataset dataset;
    private final List<SampleTransform> transforms;
    private final List<OutputSpec> specs;
    private final int batchSize;
    private final int threads;
    private final int poolSize;
    private final long seed;
    private final boolean shuffle;
    private final boolean dropLast;
    private final boolean strict;
    private final int shard;
    private final int shards;
    private final String name;
    private final boolean consumerHelps;
    private final boolean overlap;
    /** With {@code overlap(false)}: whether the consumer waits in hasNext, i.e. the workers may load (guarded). */
    private final Object gate = new Object();
    private boolean gateOpen;
    private final ThreadPoolExecutor workers;
    private final LinkedBlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
    private final List<Thread> workerThreads = new ArrayList<>();
    private final List<Slot> slots = new ArrayList<>();
    private final BlockingQueue<Slot> free;
    private final AtomicInteger held = new AtomicInteger();
    private final CpuPreprocessor preprocessor;
    private volatile boolean closed;
    private Epoch current;

    /**
     * A pool slot: the batch tensors (one input tensor per transform, one label tensor), allocated once, and raw
     * views of their memory.
     */
    static final class Slot {
        final int id;
        final Tensor[] inputs;
        final Tensor labels;
        final BytePointer[] inputData;
        final LongPointer labelData;
        boolean released;

        Slot(int id, Tensor[] inputs, long[] inputBytes, Tensor labels, int batch) {
            this.id = id;
            this.inputs = inputs;
            this.labels = labels;
            this.inputData = new BytePointer[inputs.length];
            for (int t = 0; t < inputs.length; t++) {
                inputData[t] = new BytePointer(inputs[t].data_ptr());
                inputData[t].capacity(inputBytes[t]).limit(inputBytes[t]);
            }
            this.labelData = new LongPointer(labels.data_ptr());
            this.labelData.capacity(batch).limit(batch);
        }

        void release() {
            if (!released) {
                released = true;
                for (Tensor t : inputs) {
                    t.releaseReference();
                }
                labels.releaseReference();
            }
        }
    }

    private BatchLoader(Builder b) {
        this.dataset = b.dataset;
        this.transforms = b.transforms;
        List<OutputSpec> ss = new ArrayList<>(transforms.size());
        for (int t = 0; t < transforms.size(); t++) {
            SampleTransform transform = transforms.get(t);
            OutputSpec spec = b.specs != null ? b.specs.get(t)
                    : OutputSpec.nchwFloat(transform.outputWidth(), transform.outputHeight(),
                            transform.normalization());
            if (spec.width() != transform.outputWidth() || spec.height() != transform.outputHeight()) {
                throw new IllegalArgumentException("the spec's size " + spec.width() + "x" + spec.height()
                        + " differs from the transform's output " + transform.outputWidth() + "x"
                        + transform.outputHeight());
            }
            ss.add(spec);
        }
        this.specs = List.copyOf(ss);
        this.batchSize = b.batchSize;
        this.threads = b.threads;
        this.poolSize = b.poolSize;
        this.seed = b.seed;
        this.shuffle = b.shuffle;
        this.dropLast = b.dropLast;
        this.strict = b.strict;
        this.shard = b.shard;
        this.shards = b.shards;
        this.consumerHelps = b.consumerHelps;
        this.overlap = b.overlap;
        this.name = "fixres4j-loader-" + IDS.incrementAndGet();
        Torch.ensureLoaded();
        this.preprocessor = new CpuPreprocessor(1);
        this.free = new ArrayBlockingQueue<>(poolSize);
        List<Tensor> made = new ArrayList<>();
        try {
            for (int s = 0; s < poolSize; s++) {
                Tensor[] inputs = new Tensor[specs.size()];
                long[] bytes = new long[specs.size()];
                for (int t = 0; t < inputs.length; t++) {
                    OutputSpec spec = specs.get(t);
                    inputs[t] = empty(spec.shape(batchSize), scalarType(spec)).retainReference();
                    made.add(inputs[t]);
                    bytes[t] = batchSize * spec.sampleBytes();
                }
                Tensor labels = empty(new long[] {batchSize}, ScalarType.Long).retainReference();
                made.add(labels);
                Slot slot = new Slot(s, inputs, bytes, labels, batchSize);
                slots.add(slot);
                free.add(slot);
            }
        } catch (RuntimeException | Error e) {
            made.forEach(Tensor::releaseReference);
            throw e;
        }
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(threads, threads, 0L, TimeUnit.MILLISECONDS, tasks, r -> {
            Thread t = new Thread(r, name + "-worker-" + n.getAndIncrement());
            t.setDaemon(true);
            synchronized (workerThreads) {
                workerThreads.add(t);
            }
            return t;
        });
    }

    private static ScalarType scalarType(OutputSpec spec) {
        return switch (spec.type()) {
            case FLOAT32 -> ScalarType.Float;
            case FLOAT16 -> ScalarType.Half;
            case BFLOAT16 -> ScalarType.BFloat16;
            case UINT8 -> ScalarType.Byte;
        };
    }

    private static Tensor empty(long[] shape, ScalarType dtype) {
        return torch.empty(shape, new ScalarTypeOptional(dtype), new LayoutOptional(), new DeviceOptional(),
                new BoolOptional(), new MemoryFormatOptional());
    }

    /** A builder for {@code dataset} preprocessed by {@code transform}. */
    public static Builder builder(Dataset dataset, SampleTransform transform) {
        return new Builder(dataset, List.of(Objects.requireNonNull(transform, "transform")));
    }

    /**
     * A builder for {@code dataset} preprocessed by every one of {@code transforms} (at least one): each image is
     * decoded once and written into one batch tensor per transform ({@link Batch#input(int)}), e.g. a test-resolution
     * sweep. A sample that fails under any transform is left out under all of them.
     */
    public static Builder builder(Dataset dataset, List<? extends SampleTransform> transforms) {
        return new Builder(dataset, transforms);
    }

    /** Options of a {@link BatchLoader}; every setter validates its argument. */
    public static final class Builder {
        private final Dataset dataset;
        private final List<SampleTransform> transforms;
        private List<OutputSpec> specs;
        private int batchSize = 32;
        private int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        private int poolSize = 3;
        private long seed;
        private boolean shuffle;
        private boolean dropLast;
        private boolean strict;
        private int shard;
        private int shards = 1;
        private boolean consumerHelps;
        private boolean overlap = true;

        private Builder(Dataset dataset, List<? extends SampleTransform> transforms) {
            this.dataset = Objects.requireNonNull(dataset, "dataset");
            Objects.requireNonNull(transforms, "transforms");
            if (transforms.isEmpty()) {
                throw new IllegalArgumentException("a loader needs at least one transform");
            }
            for (SampleTransform t : transforms) {
                Objects.requireNonNull(t, "transform");
            }
            this.transforms = List.copyOf(transforms);
        }

        /** Samples a batch (default 32). */
        public Builder batchSize(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + n);
            }
            this.batchSize = n;
            return this;
        }

        /** Worker threads (default: one per processor). */
        public Builder threads(int n) {
            if (n < 1 || n > 1024) {
                throw new IllegalArgumentException("threads must be in 1..1024, got " + n);
            }
            this.threads = n;
            return this;
        }

        /** Pool slots, i.e. batches in existence at once (default 3; at least 2 lets loading overlap use). */
        public Builder poolSize(int n) {
            if (n < 1 || n > 64) {
                throw new IllegalArgumentException("pool size must be in 1..64, got " + n);
            }
            this.poolSize = n;
            return this;
        }

        /** The seed of augmentation and shuffling (default 0). */
        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        /** Whether each epoch visits the samples in a seeded random order (default false: dataset order). */
        public Builder shuffle(boolean on) {
            this.shuffle = on;
            return this;
        }

        /** Whether an incomplete last batch is left out (default false). */
        public Builder dropLast(boolean on) {
            this.dropLast = on;
            return this;
        }

        /**
         * Deals every epoch's order into {@code count} shards and keeps shard {@code index} (see {@link
         * BatchLoader#order(int)}): the data-parallel rank's share. Default: one shard, everything.
         */
        public Builder shard(int index, int count) {
            if (count < 1 || index < 0 || index >= count) {
                throw new IllegalArgumentException("shard " + index + " of " + count + ": need 0 <= index < count");
            }
            this.shard = index;
            this.shards = count;
            return this;
        }

        /** Whether the first unreadable sample ends the epoch with an exception (default false: skip and record). */
        public Builder strict(boolean on) {
            this.strict = on;
            return this;
        }

        /**
         * The batch layout and dtype (default: float32 NCHW RGB with the transform's normalisation); its size must
         * be the transform's output size. For a loader of one transform; see {@link #specs(List)} for several.
         */
        public Builder spec(OutputSpec s) {
            Objects.requireNonNull(s, "spec");
            if (transforms.size() != 1) {
                throw new IllegalArgumentException("spec(...) is for one transform; this loader has "
                        + transforms.size() + ": use specs(...)");
            }
            this.specs = List.of(s);
            return this;
        }

        /** One batch layout and dtype per transform, in the transforms' order (see {@link #spec(OutputSpec)}). */
        public Builder specs(List<OutputSpec> s) {
            Objects.requireNonNull(s, "specs");
            if (s.size() != transforms.size()) {
                throw new IllegalArgumentException(s.size() + " specs for " + transforms.size() + " transforms");
            }
            for (OutputSpec o : s) {
                Objects.requireNonNull(o, "spec");
            }
            this.specs = List.copyOf(s);
            return this;
        }

        /**
         * Whether the consumer thread loads the queued samples of the batch it waits for itself (default false: the
         * worker threads alone load, so {@code threads(n)} means n threads load; see {@link BatchLoader}).
         */
        public Builder consumerHelps(boolean on) {
            this.consumerHelps = on;
            return this;
        }

        /**
         * Whether the worker threads load ahead while the consumer works on a batch (default true). False: they load
         * only while the consumer waits in {@link Epoch#hasNext()} for the next batch (a sample they started runs to
         * its end), so that loading never competes for a core with the consumer's own threads; see {@link
         * BatchLoader} and {@link EvalPipeline}. The batches are the same either way.
         */
        public Builder overlap(boolean on) {
            this.overlap = on;
            return this;
        }

        /** Allocates the pool and starts the worker threads. */
        public BatchLoader build() {
            return new BatchLoader(this);
        }
    }

    /** The dataset. */
    public Dataset dataset() {
        return dataset;
    }

    /** The (first) transform. */
    public SampleTransform transform() {
        return transforms.get(0);
    }

    /** The transforms, one input tensor per batch each. */
    public List<SampleTransform> transforms() {
        return transforms;
    }

    /** The (first transform's) batch layout and dtype. */
    public OutputSpec spec() {
        return specs.get(0);
    }

    /** The batch layout and dtype of each transform. */
    public List<OutputSpec> specs() {
        return specs;
    }

    public int batchSize() {
        return batchSize;
    }

    public int threads() {
        return threads;
    }

    public int poolSize() {
        return poolSize;
    }

    /** Whether the workers load while the consumer works ({@link Builder#overlap(boolean)}). */
    public boolean overlap() {
        return overlap;
    }

    /** Whether the consumer loads queued samples while it waits ({@link Builder#consumerHelps(boolean)}). */
    public boolean consumerHelps() {
        return consumerHelps;
    }

    public long seed() {
        return seed;
    }

    /** The prefix of the worker threads' names ({@code fixres4j-loader-N}). */
    public String name() {
        return name;
    }

    /** Batches an epoch has (before skipping batches whose samples all failed). */
    public int batchesPerEpoch() {
        int n = shardSize();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** The samples this loader's shard holds in an epoch: the dataset's size without sharding. */
    public int shardSize() {
        int n = dataset.size();
        return n / shards + (shard < n % shards ? 1 : 0);
    }

    /** This loader's shard (0 without sharding) of {@link #shards()}. */
    public int shard() {
        return shard;
    }

    /** The number of shards the epoch's order is dealt into (1: no sharding). */
    public int shards() {
        return shards;
    }

    /**
     * The dataset indices in epoch {@code epoch}'s order, this loader's shard of them: of the whole epoch's order
     * (dataset order, or the (seed, epoch) permutation), the positions {@code p} with {@code p % shards == shard}.
     * Dealt that way, shard {@code r}'s batch {@code k} holds exactly its share of the global batch of {@code
     * shards * batchSize} samples at positions {@code k * shards * batchSize ..}, so data-parallel ranks see the
     * same global batches whatever their number.
     */
    public int[] order(int epoch) {
        int n = dataset.size();
        int[] all;
        if (shuffle) {
            all = Seeds.permutation(n, Seeds.shuffle(seed, epoch));
        } else {
            all = new int[n];
            for (int i = 0; i < n; i++) {
                all[i] = i;
            }
        }
        if (shards == 1) {
            return all;
        }
        int[] mine = new int[shardSize()];
        for (int j = 0; j < mine.length; j++) {
            mine[j] = all[j * shards + shard];
        }
        return mine;
    }

    /**
     * Starts epoch {@code epoch} (any number &gt;= 0; it selects the shuffle and the augmentation streams).
     *
     * @throws IllegalStateException if the loader is closed or another epoch is open and not fully iterated
     */
    public synchronized Epoch epoch(int epoch) {
        if (closed) {
            throw new IllegalStateException("loader " + name + " is closed");
        }
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        }
        if (current != null && !current.closed) {
            if (!current.exhausted()) {
                throw new IllegalStateException("epoch " + current.epoch + " is still open: close it first");
            }
            current.close();
        }
        current = new Epoch(epoch);
        current.start();
        return current;
    }

    /** Whether {@link #close()} was called and every worker thread has ended. */
    public boolean isTerminated() {
        if (!closed || !workers.isTerminated()) {
            return false;
        }
        synchronized (workerThreads) {
            return workerThreads.stream().noneMatch(Thread::isAlive);
        }
    }

    /**
     * Closes the open epoch, stops the worker threads and joins them (images in progress finish first; none of the
     * threads outlives this call, and an interrupt does not cut the wait short but is re-asserted after), then frees
     * the pool tensors that no open batch holds (the others are freed when their batch is closed). Idempotent.
     */
    @Override
    public void close() {
        Epoch e;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            e = current;
        }
        if (e != null) {
            e.close();
        }
        openGate(true);
        workers.shutdownNow();
        boolean interrupted = false;
        List<Thread> started;
        synchronized (workerThreads) {
            started = new ArrayList<>(workerThreads);
        }
        while (true) {
            try {
                // a kernel call cannot be interrupted: wait until it ends; then the threads themselves must end
                while (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
                    // keep waiting
                }
                for (Thread t : started) {
                    t.join();
                }
                break;
            } catch (InterruptedException ie) {
                interrupted = true;
            }
        }
        synchronized (this) {
            Slot s;
            while ((s = free.poll()) != null) {
                s.release();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Opens ({@code true}) or closes the gate of {@code overlap(false)}; waiting workers wake when it opens. */
    private void openGate(boolean open) {
        if (overlap) {
            return;
        }
        synchronized (gate) {
            gateOpen = open;
            if (open) {
                gate.notifyAll();
            }
        }
    }

    /**
     * With {@code overlap(false)}, waits until the consumer waits for a batch (or {@code e} is cancelled, or the loader
     * closes); false if interrupted (the loader is closing).
     */
    private boolean passGate(Epoch e) {
        if (overlap) {
            return true;
        }
        synchronized (gate) {
            while (!gateOpen && !e.cancelled && !closed) {
                try {
                    gate.wait();
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return true;
    }

    /** Gives a slot back: to the free queue, or freed when the loader is closed. */
    synchronized void returnSlot(Slot slot, boolean fromConsumer) {
        if (fromConsumer) {
            held.decrementAndGet();
        }
        if (closed) {
            slot.release();
        } else {
            free.add(slot);
        }
    }

    /** One pass over the dataset: an iterator of batches, in order. See {@link BatchLoader}. */
    public final class Epoch implements Iterator<Batch>, AutoCloseable {
        private final int epoch;
        private final int[] order;
        private final int numBatches;
        private final AtomicReferenceArray<Pending> pending;
        private final List<CompletableFuture<Batch>> futures;
        private final ConcurrentLinkedQueue<LoadFailure> failures = new ConcurrentLinkedQueue<>();
        private final AtomicInteger loadedByConsumer = new AtomicInteger();
        private long waitNanos;
        private final Thread dispatcher;
        private volatile boolean cancelled;
        private volatile boolean closed;
        private int next;
        private Batch lookahead;
        private boolean failed;

        private Epoch(int epoch) {
            this.epoch = epoch;
            this.order = order(epoch);
            this.numBatches = batchesPerEpoch();
            this.pending = new AtomicReferenceArray<>(numBatches);
            this.futures = new ArrayList<>(numBatches);
            for (int k = 0; k < numBatches; k++) {
                futures.add(new CompletableFuture<>());
            }
            this.dispatcher = new Thread(this::dispatch, name + "-dispatch-e" + epoch);
            this.dispatcher.setDaemon(true);
        }

        private void start() {
            dispatcher.start();
        }

        /** Whether every batch has been handed out (an exhausted epoch need not be closed before the next). */
        boolean exhausted() {
            return lookahead == null && (failed || next >= numBatches);
        }

        /** The epoch number. */
        public int number() {
            return epoch;
        }

        /** The batches of this epoch (before skipping batches whose samples all failed). */
        public int batchCount() {
            return numBatches;
        }

        /** Samples the consumer thread loaded itself while it waited (see {@link Builder#consumerHelps}). */
        public int loadedByConsumer() {
            return loadedByConsumer.get();
        }

        /**
         * Seconds the consumer spent in {@link #hasNext()} waiting for batches, the samples it loaded meanwhile
         * excluded: the time the consumer had nothing to do.
         */
        public double idleSeconds() {
            return waitNanos / 1e9;
        }

        /** The samples that failed so far, in epoch order (all of them once the iteration has ended). */
        public List<LoadFailure> failures() {
            List<LoadFailure> out = new ArrayList<>(failures);
            out.sort(Comparator.comparingInt(LoadFailure::position));
            return out;
        }

        private void dispatch() {
            try {
                for (int k = 0; k < numBatches && !cancelled; k++) {
                    Slot slot = free.take();
                    if (cancelled) {
                        returnSlot(slot, false);
                        return;
                    }
                    int start = k * batchSize;
                    int count = Math.min(batchSize, order.length - start);
                    Pending p = new Pending(k, slot, start, count);
                    pending.set(k, p);
                    for (int j = 0; j < count; j++) {
                        int row = j;
                        workers.execute(new LoadTask(this, p, row));
                    }
                }
            } catch (InterruptedException e) {
                // cancelled by close()
            } catch (RuntimeException e) { // the executor refused work: the loader is closing
                cancelled = true;
            }
        }

        /** Decodes, plans and preprocesses one sample into its row of the slot. */
        private void load(Pending p, int row) {
            try {
                if (!passGate(this) || cancelled) {
                    return;
                }
                int position = p.start + row;
                int index = order[position];
                Sample sample = dataset.get(index);
                p.labels[row] = sample.label();
                p.names[row] = sample.name();
                try (DecodedImage image = sample.decode()) {
                    for (int t = 0; t < transforms.size(); t++) {
                        ResamplePlan plan = transforms.get(t).plan(image.width(), image.height(),
                                Seeds.sample(seed, epoch, index));
                        preprocessor.run(List.of(new org.fixres4j.preprocess.Sample(image, plan, row)), specs.get(t),
                                p.slot.inputData[t]);
                    }
                    p.ok[row] = true;
                } catch (IOException | IllegalArgumentException e) {
                    String message = e.getMessage() == null ? e.toString() : e.getMessage();
                    LoadFailure f = new LoadFailure(index, position, sample.name(), message);
                    p.failures[row] = f;
                    failures.add(f);
                }
            } catch (Throwable t) {
                p.error(t);
            } finally {
                if (p.remaining.decrementAndGet() == 0) {
                    finish(p);
                }
            }
        }

        /** Runs on the thread that completed the last sample of a batch: compact the rows and publish. */
        private void finish(Pending p) {
            CompletableFuture<Batch> future = futures.get(p.number);
            try {
                if (cancelled) {
                    returnSlot(p.slot, false);
                    future.cancel(false);
                    return;
                }
                if (p.error != null) {
                    returnSlot(p.slot, false);
                    future.completeExceptionally(p.error);
                    return;
                }
                List<LoadFailure> failed = new ArrayList<>();
                for (LoadFailure f : p.failures) {
                    if (f != null) {
                        failed.add(f);
                    }
                }
                if (strict && !failed.isEmpty()) {
                    LoadFailure f = failed.get(0);
                    returnSlot(p.slot, false);
                    future.completeExceptionally(new UncheckedIOException(new IOException("sample " + f.index()
                            + " (" + f.name() + ") could not be loaded: " + f.message())));
                    return;
                }
                int n = 0;
                int[] idx = new int[p.count - failed.size()];
                int[] pos = new int[idx.length];
                int[] lab = new int[idx.length];
                List<String> names = new ArrayList<>(idx.length);
                for (int j = 0; j < p.count; j++) {
                    if (!p.ok[j]) {
                        continue;
                    }
                    if (n != j) {
                        for (int t = 0; t < specs.size(); t++) {
                            long rowBytes = specs.get(t).sampleBytes();
                            Pointer.memmove(new BytePointer(p.slot.inputData[t]).position(n * rowBytes),
                                    new BytePointer(p.slot.inputData[t]).position(j * rowBytes), rowBytes);
                        }
                    }
                    p.slot.labelData.put(n, p.labels[j]);
                    idx[n] = order[p.start + j];
                    pos[n] = p.start + j;
                    lab[n] = p.labels[j];
                    names.add(p.names[j]);
                    n++;
                }
                if (n == 0) {
                    returnSlot(p.slot, false);
                    future.complete(null); // nothing loaded: the iterator skips this batch
                    return;
                }
                Tensor[] inputs = new Tensor[specs.size()];
                for (int t = 0; t < inputs.length; t++) {
                    inputs[t] = p.slot.inputs[t].narrow(0, 0, n);
                }
                Tensor labels = p.slot.labels.narrow(0, 0, n);
                future.complete(new Batch(BatchLoader.this, p.slot, epoch, p.number, idx, pos, lab, names, failed,
                        inputs, labels));
            } catch (Throwable t) {
                returnSlot(p.slot, false);
                future.completeExceptionally(t);
            }
        }

        /**
         * Whether another batch follows; waits for it when needed (to skip batches whose samples all failed).
         * After an exception from {@link #next()}, or once closed, this is false.
         */
        @Override
        public boolean hasNext() {
            if (lookahead != null) {
                return true;
            }
            if (failed || closed) {
                return false;
            }
            while (next < numBatches) {
                CompletableFuture<Batch> f = futures.get(next);
                if (!f.isDone() && pending.get(next) == null && held.get() >= poolSize) {
                    throw new IllegalStateException("all " + poolSize + " pool slots are held by open batches: "
                            + "close() each Batch before asking for the next one (or raise poolSize)");
                }
                Batch b;
                boolean gated = !f.isDone();
                try {
                    if (gated) {
                        openGate(true);
                    }
                    help(f, next);
                    long w0 = System.nanoTime();
                    b = f.get();
                    waitNanos += System.nanoTime() - w0;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for batch " + next, e);
                } catch (ExecutionException | CancellationException e) {
                    return true; // next() reports it
                } finally {
                    if (gated) {
                        openGate(false);
                    }
                }
                if (b == null) {
                    next++;
                    continue;
                }
                held.incrementAndGet();
                lookahead = b;
                next++;
                return true;
            }
            return false;
        }

        /**
         * Until batch {@code f} (number {@code number}) is ready, runs its queued sample loads on this thread, as
         * long as no {@code PointerScope} is open here: a scope would adopt, and free when it closes, the native
         * memory a load makes, which belongs to the loader.
         */
        private void help(CompletableFuture<Batch> f, int number) throws InterruptedException {
            if (!consumerHelps || PointerScope.getInnerScope() != null) {
                return;
            }
            while (!f.isDone() && !cancelled) {
                // only a sample of this batch (or an earlier one of this epoch): a later batch's sample could be slow
                // and hold up a batch that is ready
                Runnable head = tasks.peek();
                if (head instanceof LoadTask t && t.epoch == this && t.pending.number <= number
                        && tasks.remove(head)) {
                    loadedByConsumer.incrementAndGet();
                    head.run();
                    continue;
                }
                // the batch's last samples may still be on their way to the queue: look again every millisecond
                long w0 = System.nanoTime();
                Thread.sleep(1);
                waitNanos += System.nanoTime() - w0;
            }
        }

        /**
         * The next batch (the caller closes it).
         *
         * @throws UncheckedIOException in strict mode, for the first sample that could not be loaded
         * @throws NoSuchElementException after the last batch
         */
        @Override
        public Batch next() {
            if (!hasNext()) {
                throw new NoSuchElementException("epoch " + epoch + " has no more batches");
            }
            if (lookahead != null) {
                Batch b = lookahead;
                lookahead = null;
                return b;
            }
            failed = true;
            try {
                futures.get(next).join();
                throw new IllegalStateException("unreachable");
            } catch (CompletionException e) {
                Throwable c = e.getCause();
                if (c instanceof RuntimeException r) {
                    throw r;
                }
                if (c instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException("loading batch " + next + " failed: " + c, c);
            } catch (CancellationException e) {
                throw new IllegalStateException("epoch " + epoch + " was closed", e);
            }
        }

        /**
         * Stops the epoch: no new batch is started, queued samples are dropped, images in progress finish, and the
         * batches not yet handed out go back to the pool. Batches the consumer holds stay valid until closed.
         * Idempotent.
         */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            cancelled = true;
            synchronized (gate) {
                gate.notifyAll(); // gated workers drop this epoch's samples
            }
            dispatcher.interrupt();
            boolean interrupted = false;
            while (true) {
                try {
                    dispatcher.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (lookahead != null) {
                lookahead.close();
                lookahead = null;
            }
            for (int k = next; k < numBatches; k++) {
                if (pending.get(k) == null) {
                    continue;
                }
                Batch b;
                try {
                    b = futures.get(k).join();
                } catch (CompletionException | CancellationException e) {
                    continue;
                }
                if (b != null) {
                    held.incrementAndGet(); // close() below counts it back
                    b.close();
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** One sample's load, queued for the workers (or the waiting consumer). */
    private static final class LoadTask implements Runnable {
        final Epoch epoch;
        final Pending pending;
        final int row;

        LoadTask(Epoch epoch, Pending pending, int row) {
            this.epoch = epoch;
            this.pending = pending;
            this.row = row;
        }

        @Override
        public void run() {
            epoch.load(pending, row);
        }
    }

    /** A batch being filled. */
    private static final class Pending {
        final int number;
        final Slot slot;
        final int start;
        final int count;
        final AtomicInteger remaining;
        final boolean[] ok;
        final int[] labels;
        final String[] names;
        final LoadFailure[] failures;
        volatile Throwable error;

        Pending(int number, Slot slot, int start, int count) {
            this.number = number;
            this.slot = slot;
            this.start = start;
            this.count = count;
            this.remaining = new AtomicInteger(count);
            this.ok = new boolean[count];
            this.labels = new int[count];
            this.names = new String[count];
            this.failures = new LoadFailure[count];
        }

        synchronized void error(Throwable t) {
            if (error == null) {
                error = t;
            }
        }
    }
}

package org.fixres4j.data;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;

import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.cuda.CUDAEvent;
import org.bytedeco.pytorch.cuda.CUDAStream;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.CudaPreprocessor;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.torch.CudaStreams;
import org.fixres4j.torch.DeviceSpec;
import org.fixres4j.transform.SampleTransform;

/**
 * Eval batches made on a CUDA device: images are decoded on CPU threads, and the fused CUDA kernel
 * ({@link CudaPreprocessor}: uint8 pixels through its pinned staging, resize, normalise, layout) writes them straight
 * into the model's input tensors on the device. No float tensor exists on the host.
 *
 * <p><b>Overlap.</b> Two slots, each with one input tensor per transform, allocated once. A feeding thread fills the
 * next slot on a copy stream (a stream of libtorch's pool) while the model reads the other on the consumer's current
 * stream; the decoding threads work ahead of both. The streams are ordered by two events per slot:
 * <ol>
 *   <li>the copy stream waits for the slot's <i>free</i> event (recorded on the compute stream when the consumer closed
 *       the batch that last used the slot) before the kernel writes it;</li>
 *   <li>the compute stream waits for the slot's <i>ready</i> event (recorded on the copy stream after the kernel) before
 *       the model reads it ({@link #next()}, on the consumer's thread).</li>
 * </ol>
 * So decode (CPU threads), upload and preprocessing (copy stream) and the forward pass (compute stream) overlap, and
 * no kernel writes a slot the model may still read.
 *
 * <p><b>Order.</b> The dataset order, sharded as {@link BatchLoader} shards it (positions {@code p} with
 * {@code p % shards == shard}); a sample that cannot be read or planned is a {@link LoadFailure} and its row is left
 * out (the survivors move up); a batch whose samples all failed is skipped. Eval transforms only (deterministic plans).
 *
 * <p>The device work goes through a {@link Target}: the CUDA one here, and a CPU one (the CPU kernel, events logged)
 * that lets tests run this class's batching, threading and ordering without a GPU.
 */
public final class CudaFeed implements AutoCloseable {
    /** Slots: the one the model reads and the one being filled. */
    static final int SLOTS = 2;
    /** Batches decoded ahead of the one being uploaded (bounds the decoded images held). */
    static final int DECODE_AHEAD = 2;

    /**
     * The device side of the feed. The feeding thread calls {@link #waitFree}, {@link #preprocess} and
     * {@link #markReady} for a slot, in that order; the consumer's thread calls {@link #waitReady} before the model
     * reads the slot and {@link #markFree} when it is done with it.
     */
    interface Target extends AutoCloseable {
        /** An input tensor for one slot and transform, {@code batch} rows of {@code spec}. */
        Tensor allocate(OutputSpec spec, int batch);

        /** Copy side: later work waits until the compute side freed {@code slot}. */
        void waitFree(int slot);

        /** Copy side: rows of {@code out} from decoded images. */
        void preprocess(List<org.fixres4j.preprocess.Sample> samples, OutputSpec spec, Tensor out);

        /** Copy side: {@code slot} is written. */
        void markReady(int slot);

        /** Compute side (consumer thread): later work waits until {@code slot} is written. */
        void waitReady(int slot);

        /** Compute side (consumer thread): the model's work on {@code slot} is enqueued; it may be rewritten after. */
        void markFree(int slot);

        @Override
        void close();
    }

    /** The rows of one batch: shard positions, dataset indices. */
    record Rows(int number, int[] positions, int[] indices) {}

    /**
     * The batches of a shard: positions {@code k*B ..} of the shard's order; the dataset index of shard position
     * {@code j} is {@code j * shards + shard}.
     */
    static List<Rows> plan(int size, int batch, int shard, int shards) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        if (shards < 1 || shard < 0 || shard >= shards) {
            throw new IllegalArgumentException("shard " + shard + " of " + shards);
        }
        int n = shardSize(size, shard, shards);
        List<Rows> out = new ArrayList<>();
        for (int k = 0, start = 0; start < n; k++, start += batch) {
            int m = Math.min(batch, n - start);
            int[] positions = new int[m];
            int[] indices = new int[m];
            for (int i = 0; i < m; i++) {
                positions[i] = start + i;
                indices[i] = (start + i) * shards + shard;
            }
            out.add(new Rows(k, positions, indices));
        }
        return out;
    }

    /** Samples of a shard (as {@link BatchLoader#shardSize()}). */
    static int shardSize(int size, int shard, int shards) {
        return size / shards + (shard < size % shards ? 1 : 0);
    }

    /** One batch on the device; close it once the model's work on it is enqueued (or done). */
    public final class DeviceBatch implements LoadedBatch {
        private final Filled f;
        private boolean closed;

        private DeviceBatch(Filled f) {
            this.f = f;
        }

        public int number() {
            return f.number;
        }

        public int size() {
            return f.indices.length;
        }

        /** The images under transform {@code t}: a view of the slot's device tensor, {@code [size, ...]}. */
        public Tensor input(int t) {
            if (closed) {
                throw new IllegalStateException("batch " + f.number + " was closed");
            }
            return f.inputs[t];
        }

        public int[] labels() {
            return f.labels.clone();
        }

        public int[] indices() {
            return f.indices.clone();
        }

        public int[] positions() {
            return f.positions.clone();
        }

        /** The slot this batch occupies (0 or 1). */
        int slot() {
            return f.slot;
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            open--;
            target.markFree(f.slot);
            for (Tensor v : f.inputs) {
                v.releaseReference();
            }
            freeSlots.add(f.slot);
        }
    }

    /** What the feeding thread hands over: a filled slot, the end, or an error. */
    private record Filled(int slot, int number, int[] positions, int[] indices, int[] labels, Tensor[] inputs,
                          Throwable error, boolean end) {}

    private final Dataset dataset;
    private final List<SampleTransform> transforms;
    private final List<OutputSpec> specs;
    private final int batch;
    private final int threads;
    private final int shard;
    private final int shards;
    private final Target target;
    private final Tensor[][] slotInputs;
    private final BlockingQueue<Integer> freeSlots = new LinkedBlockingQueue<>();
    private final BlockingQueue<Filled> filled = new ArrayBlockingQueue<>(SLOTS + 1);
    private final List<LoadFailure> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    private final ExecutorService decoders;
    private final Thread feeder;
    private volatile boolean cancelled;
    private int open;
    private boolean ended;
    private boolean closed;

    /** A feed for an eval sweep over {@code dataset} on CUDA device {@code device} (checked). */
    public static CudaFeed cuda(Dataset dataset, List<? extends SampleTransform> transforms, int batch, int threads,
                                int shard, int shards, DeviceSpec device) {
        if (!device.isCuda()) {
            throw new IllegalArgumentException("CudaFeed needs a CUDA device, got " + device);
        }
        device.check();
        org.fixres4j.kernels.Backends.Backend kernels = org.fixres4j.kernels.Backends.cudaKernels();
        if (!kernels.available()) {
            throw new org.fixres4j.torch.DeviceUnavailableException(device, "FixRes4J's CUDA kernels cannot run: "
                    + kernels.detail());
        }
        return new CudaFeed(dataset, transforms, batch, threads, shard, shards, new CudaTarget(device.index()));
    }

    CudaFeed(Dataset dataset, List<? extends SampleTransform> transforms, int batch, int threads, int shard,
             int shards, Target target) {
        this.dataset = Objects.requireNonNull(dataset, "dataset");
        this.transforms = List.copyOf(transforms);
        if (this.transforms.isEmpty()) {
            throw new IllegalArgumentException("no transforms");
        }
        for (SampleTransform t : this.transforms) {
            if (t.isRandom()) {
                throw new IllegalArgumentException("the CUDA feed runs eval transforms only, got " + t.describe());
            }
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        List<Rows> plan = plan(dataset.size(), batch, shard, shards);
        this.batch = batch;
        this.threads = threads;
        this.shard = shard;
        this.shards = shards;
        this.target = target;
        List<OutputSpec> ss = new ArrayList<>();
        for (SampleTransform t : this.transforms) {
            ss.add(OutputSpec.nchwFloat(t.outputWidth(), t.outputHeight(), t.normalization()));
        }
        this.specs = List.copyOf(ss);
        slotInputs = new Tensor[SLOTS][this.transforms.size()];
        try {
            for (int s = 0; s < SLOTS; s++) {
                for (int t = 0; t < specs.size(); t++) {
                    slotInputs[s][t] = target.allocate(specs.get(t), batch);
                    slotInputs[s][t].retainReference();
                }
                freeSlots.add(s);
            }
        } catch (RuntimeException e) {
            target.close();
            throw e;
        }
        decoders = Executors.newFixedThreadPool(threads, r -> {
            Thread th = new Thread(r, "fixres-cuda-feed-decode");
            th.setDaemon(true);
            return th;
        });
        feeder = new Thread(() -> feed(plan), "fixres-cuda-feed");
        feeder.setDaemon(true);
        feeder.start();
    }

    /** Samples in this feed's shard. */
    public int shardSize() {
        return shardSize(dataset.size(), shard, shards);
    }

    public int batchSize() {
        return batch;
    }

    public int threads() {
        return threads;
    }

    /** The output specs, one per transform (NCHW float32). */
    public List<OutputSpec> specs() {
        return specs;
    }

    /** The samples that failed so far, in shard order once the feed has ended. */
    public List<LoadFailure> failures() {
        synchronized (failures) {
            List<LoadFailure> l = new ArrayList<>(failures);
            l.sort(java.util.Comparator.comparingInt(LoadFailure::position));
            return l;
        }
    }

    /**
     * The next batch, ordered after its upload on the caller's compute stream; null at the end.
     *
     * @throws IOException wrapping whatever stopped the feed
     */
    public DeviceBatch next() throws IOException {
        if (closed) {
            throw new IllegalStateException("the feed was closed");
        }
        if (ended) {
            return null;
        }
        if (open >= SLOTS) {
            // both slots are held: the feeder could never fill another one
            throw new IllegalStateException("close a batch before asking for the next: " + SLOTS + " are open");
        }
        Filled f;
        try {
            f = filled.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for a batch", e);
        }
        if (f.error != null) {
            ended = true;
            if (f.error instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException("the CUDA feed failed: " + f.error, f.error);
        }
        if (f.end) {
            ended = true;
            return null;
        }
        target.waitReady(f.slot);
        open++;
        return new DeviceBatch(f);
    }

    /** The feeding thread: decode ahead, then fill slot after slot. */
    private void feed(List<Rows> plan) {
        List<Future<Object>[]> decoded = new ArrayList<>();
        try {
            int submitted = 0;
            for (int k = 0; k < plan.size() && !cancelled; k++) {
                while (submitted < plan.size() && submitted <= k + DECODE_AHEAD) {
                    decoded.add(submit(plan.get(submitted)));
                    submitted++;
                }
                Rows rows = plan.get(k);
                Future<Object>[] images = decoded.get(k);
                decoded.set(k, null);
                fill(rows, images);
            }
            filled.put(new Filled(-1, -1, null, null, null, null, null, true));
        } catch (Throwable t) {
            for (Future<Object>[] fs : decoded) {
                if (fs != null) {
                    closeAll(fs);
                }
            }
            if (!cancelled) {
                filled.offer(new Filled(-1, -1, null, null, null, null, t, false));
            }
        }
    }

    @SuppressWarnings("unchecked")
    private Future<Object>[] submit(Rows rows) {
        Future<Object>[] out = new Future[rows.indices().length];
        for (int i = 0; i < out.length; i++) {
            int index = rows.indices()[i];
            int position = rows.positions()[i];
            out[i] = decoders.submit(() -> decode(index, position));
        }
        return out;
    }

    /** A decoded image, or the sample's LoadFailure. */
    private Object decode(int index, int position) {
        Sample sample = dataset.get(index);
        try {
            if (cancelled) {
                return new LoadFailure(index, position, sample.name(), "cancelled");
            }
            return sample.decode();
        } catch (IOException | IllegalArgumentException e) {
            return new LoadFailure(index, position, sample.name(), e.getMessage() == null ? e.toString()
                    : e.getMessage());
        }
    }

    private void fill(Rows rows, Future<Object>[] images) throws Exception {
        List<DecodedImage> ok = new ArrayList<>();
        List<Integer> okRows = new ArrayList<>();
        try {
            for (int i = 0; i < images.length; i++) {
                Object r = images[i].get();
                images[i] = null;
                if (r instanceof DecodedImage im) {
                    ok.add(im);
                    okRows.add(i);
                } else {
                    failures.add((LoadFailure) r);
                }
            }
            // plans first: a size a transform refuses is that sample's failure, not the batch's
            Planned planned = planAll(rows, ok, okRows);
            List<org.fixres4j.preprocess.Sample>[] samples = planned.samples();
            int m = planned.rows().length;
            if (m == 0) {
                return;
            }
            int slot = freeSlots.take();
            boolean handed = false;
            try {
                target.waitFree(slot);
                Tensor[] views = new Tensor[specs.size()];
                for (int t = 0; t < specs.size(); t++) {
                    Tensor view = slotInputs[slot][t].narrow(0, 0, m);
                    view.retainReference();
                    views[t] = view;
                    target.preprocess(samples[t], specs.get(t), view);
                }
                target.markReady(slot);
                int[] positions = new int[m];
                int[] indices = new int[m];
                int[] labels = new int[m];
                for (int j = 0; j < m; j++) {
                    int row = planned.rows()[j];
                    positions[j] = rows.positions()[row];
                    indices[j] = rows.indices()[row];
                    labels[j] = dataset.label(indices[j]);
                }
                filled.put(new Filled(slot, rows.number(), positions, indices, labels, views, null, false));
                handed = true;
            } finally {
                if (!handed) {
                    freeSlots.add(slot);
                }
            }
        } finally {
            ok.forEach(DecodedImage::close);
            closeAll(images);
        }
    }

    /** Per transform, the samples to write (output rows 0..m-1), and the batch row each output row came from. */
    private record Planned(List<org.fixres4j.preprocess.Sample>[] samples, int[] rows) {}

    /**
     * Plans every decoded image under every transform; an image whose size any transform refuses becomes a failure
     * and is left out of every transform.
     */
    @SuppressWarnings("unchecked")
    private Planned planAll(Rows rows, List<DecodedImage> ok, List<Integer> okRows) {
        int[] kept = new int[ok.size()];
        List<org.fixres4j.preprocess.Sample>[] out = new List[specs.size()];
        for (int t = 0; t < out.length; t++) {
            out[t] = new ArrayList<>();
        }
        int m = 0;
        for (int i = 0; i < ok.size(); i++) {
            DecodedImage im = ok.get(i);
            int row = okRows.get(i);
            org.fixres4j.transform.ResamplePlan[] plans = new org.fixres4j.transform.ResamplePlan[specs.size()];
            try {
                for (int t = 0; t < plans.length; t++) {
                    plans[t] = transforms.get(t).plan(im.width(), im.height(), null);
                }
            } catch (IllegalArgumentException e) {
                int index = rows.indices()[row];
                failures.add(new LoadFailure(index, rows.positions()[row], dataset.get(index).name(),
                        e.getMessage() == null ? e.toString() : e.getMessage()));
                continue;
            }
            for (int t = 0; t < plans.length; t++) {
                org.fixres4j.preprocess.Sample s = new org.fixres4j.preprocess.Sample(im, plans[t], m);
                out[t].add(s);
            }
            kept[m++] = row;
        }
        return new Planned(out, java.util.Arrays.copyOf(kept, m));
    }

    private static void closeAll(Future<Object>[] fs) {
        for (int i = 0; i < fs.length; i++) {
            Future<Object> f = fs[i];
            if (f == null) {
                continue;
            }
            fs[i] = null;
            try {
                Object r = f.get();
                if (r instanceof DecodedImage im) {
                    im.close();
                }
            } catch (Exception e) {
                // the decode failed or was cancelled: nothing to free
            }
        }
    }

    /** Stops the feeding thread, waits for the device, frees the slots. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        cancelled = true;
        feeder.interrupt();
        try {
            feeder.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        decoders.shutdownNow();
        for (Filled f; (f = filled.poll()) != null; ) {
            if (f.inputs != null) {
                for (Tensor v : f.inputs) {
                    v.releaseReference();
                }
            }
        }
        target.close();
        for (Tensor[] slot : slotInputs) {
            for (Tensor t : slot) {
                if (t != null) {
                    t.releaseReference();
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------

    /** The CUDA target: the fused kernel on a copy stream, events ordering it with the consumer's stream. */
    static final class CudaTarget implements Target {
        static { org.fixres4j.torch.Torch.ensureLoaded(); }
        private final int device;
        private final CudaPreprocessor preprocessor;
        private final CUDAStream copy;
        private final CUDAStream compute;
        private final long copyAddress;
        private final CUDAEvent[] ready = new CUDAEvent[SLOTS];
        private final CUDAEvent[] free = new CUDAEvent[SLOTS];

        /** Call on the consumer's thread: its current stream is the compute stream. */
        CudaTarget(int device) {
            this.device = device;
            this.compute = CudaStreams.current(device);
            this.copy = CudaStreams.fromPool(device);
            this.copyAddress = CudaStreams.address(copy);
            for (int s = 0; s < SLOTS; s++) {
                ready[s] = CudaStreams.event();
                free[s] = CudaStreams.event();
            }
            this.preprocessor = new CudaPreprocessor(device);
        }

        @Override
        public Tensor allocate(OutputSpec spec, int batch) {
            // allocated on the compute stream and only freed in close(), after both streams are synchronised
            return torch.empty(spec.shape(batch), new TensorOptions(torch.ScalarType.Float)
                    .device(new DeviceOptional(DeviceSpec.cuda(device).torchDevice())),
                    new org.bytedeco.pytorch.MemoryFormatOptional());
        }

        @Override
        public void waitFree(int slot) {
            free[slot].block(copy);
        }

        @Override
        public void preprocess(List<org.fixres4j.preprocess.Sample> samples, OutputSpec spec, Tensor out) {
            preprocessor.run(samples, spec, out, copyAddress);
        }

        @Override
        public void markReady(int slot) {
            ready[slot].record(copy);
        }

        @Override
        public void waitReady(int slot) {
            ready[slot].block(compute);
        }

        @Override
        public void markFree(int slot) {
            free[slot].record(compute);
        }

        @Override
        public void close() {
            copy.synchronize();
            compute.synchronize();
            preprocessor.close();
        }
    }

    /**
     * The CPU stand-in: the CPU kernel writes CPU tensors, and every event call is logged as
     * {@code "waitFree 0"}, {@code "pre 0"}, ... so tests can check the order the feed keeps per slot.
     */
    static final class CpuTarget implements Target {
        static { org.fixres4j.torch.Torch.ensureLoaded(); }
        final List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());
        private final CpuPreprocessor preprocessor = new CpuPreprocessor(1);

        @Override
        public Tensor allocate(OutputSpec spec, int batch) {
            return torch.zeros(spec.shape(batch), new TensorOptions(torch.ScalarType.Float));
        }

        @Override
        public void waitFree(int slot) {
            log.add("waitFree " + slot);
        }

        @Override
        public void preprocess(List<org.fixres4j.preprocess.Sample> samples, OutputSpec spec, Tensor out) {
            log.add("pre " + out.data_ptr().address());
            preprocessor.run(samples, spec, out);
        }

        @Override
        public void markReady(int slot) {
            log.add("ready " + slot);
        }

        @Override
        public void waitReady(int slot) {
            log.add("waitReady " + slot);
        }

        @Override
        public void markFree(int slot) {
            log.add("free " + slot);
        }

        @Override
        public void close() {
            log.add("close");
        }
    }

    /** For tests: the slot tensors' base addresses, {@code [slot][transform]}. */
    long[][] slotAddresses() {
        long[][] out = new long[SLOTS][specs.size()];
        for (int s = 0; s < SLOTS; s++) {
            for (int t = 0; t < specs.size(); t++) {
                out[s][t] = slotInputs[s][t].data_ptr().address();
            }
        }
        return out;
    }
}

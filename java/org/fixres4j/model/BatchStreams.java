package org.fixres4j.model;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * A CPU forward pass over a batch on several threads at once, each on its own slice of the batch ("streams"), instead
 * of one pass whose every operator is split across the threads by libtorch's OpenMP team.
 *
 * <p>Why: a forward pass of the fast path is about 300 libtorch operator calls. With an intra-op team, each call is a
 * fork and a join, the Java side between calls runs on one thread while the others wait, and small operators (the SE's,
 * the pooling) barely divide. In bfloat16, whose convolutions run on AMX and leave those serial parts a larger share,
 * two streams of one thread each ran EfficientNet-B0 6-10% faster than one pass on two threads at batch 8, 13% at batch
 * 32, on a 2-vCPU Intel Xeon (Sapphire Rapids) VM (docs/PERFORMANCE.md); in float32 one pass was faster at batch 8 and
 * streams 7% faster at batch 32. The allocator matters: glibc's malloc with a single arena serialises the streams on
 * its lock (two streams ran at 1.2 cores' worth); a malloc with per-thread caches (jemalloc, tcmalloc, or glibc's
 * per-thread arenas) does not. See {@code fixres}'s launcher and the README's Memory paragraph.
 *
 * <p>The batch is cut along its first dimension into {@link #streams()} slices whose sizes differ by at most one; each
 * runs {@code forward} on a thread of this object's pool with {@link #threadsPerStream()} libtorch intra-op threads
 * (set on that thread), and the outputs are concatenated in order on the calling thread. A batch with fewer than two
 * images per stream runs as one pass on the calling thread, with that thread's libtorch threads. A row's result can
 * differ in the last bits from a pass over the whole batch (libtorch's kernels may block a batch of 4 otherwise than
 * one of 8), so float32 eval, whose logits are timm's, does not use streams by default.
 *
 * <p>Thread counts: a stream sets its own thread's libtorch count at its first pass; libtorch also stores that count as
 * the default that threads first using libtorch later take, so the calling thread puts its own count back as that
 * default once the streams ended. The calling thread's own count is never changed. A CUDA input runs as one pass on
 * the calling thread (the streams would not run on the caller's CUDA stream).
 *
 * <p>Thread-safe: concurrent calls queue on the pool. The result joins the caller's innermost {@link PointerScope},
 * as {@code forward}'s own would. Exceptions thrown by {@code forward} on a stream are rethrown on the calling thread.
 */
public final class BatchStreams implements AutoCloseable {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    private static final AtomicInteger POOLS = new AtomicInteger();
    private final int streams;
    private final int threadsPerStream;
    private final ExecutorService pool;
    /** Set by a stream that changed its thread's libtorch count (first pass); the caller restores the default. */
    private volatile boolean threadCountSet;

    private BatchStreams(int streams, int threadsPerStream) {
        this.streams = streams;
        this.threadsPerStream = threadsPerStream;
        int id = POOLS.incrementAndGet();
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(streams, r -> {
            Thread t = new Thread(r, "fixres4j-stream-" + id + "-" + n.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Streams for {@code threads} CPU threads in all: {@code streams} slices, each with {@code threads / streams}
     * libtorch threads (at least one).
     *
     * @throws IllegalArgumentException unless {@code 1 <= streams <= threads}
     */
    public static BatchStreams of(int threads, int streams) {
        if (streams < 1 || threads < streams) {
            throw new IllegalArgumentException("need 1 <= streams <= threads, got " + streams + " streams for "
                    + threads + " threads");
        }
        return new BatchStreams(streams, threads / streams);
    }

    /** The number of slices a batch is cut into (at most). */
    public int streams() {
        return streams;
    }

    /** libtorch intra-op threads of each stream. */
    public int threadsPerStream() {
        return threadsPerStream;
    }

    /** {@code forward} through these streams, as one function (see {@link #forward}). */
    public UnaryOperator<Tensor> over(UnaryOperator<Tensor> forward) {
        java.util.Objects.requireNonNull(forward, "forward");
        return x -> forward(forward, x);
    }

    /**
     * {@code forward} over {@code input}'s slices on the streams, the outputs concatenated along the first dimension.
     *
     * @throws IllegalArgumentException for an input without a batch dimension
     * @throws IllegalStateException after {@link #close()}
     */
    public Tensor forward(UnaryOperator<Tensor> forward, Tensor input) {
        java.util.Objects.requireNonNull(forward, "forward");
        if (input.dim() < 1) {
            throw new IllegalArgumentException("the input needs a batch dimension, got a " + input.dim() + "-d tensor");
        }
        if (pool.isShutdown()) {
            throw new IllegalStateException("these BatchStreams were closed");
        }
        long n = input.size(0);
        if (used(streams, n) == 1 || !input.is_cpu()) { // CUDA: the streams would not share the caller's stream
            return forward.apply(input);
        }
        int k = streams;
        int callerThreads = torch.get_num_threads(); // the process-wide default, restored below
        List<Future<Tensor>> parts = new ArrayList<>(k);
        List<Tensor> slices = new ArrayList<>(k);
        List<Tensor> outs = new ArrayList<>(k);
        Throwable failure = null;
        boolean interrupted = false;
        try {
            long start = 0;
            for (int i = 0; i < k; i++) {
                long len = n / k + (i < n % k ? 1 : 0);
                Tensor slice = input.narrow(0, start, len);
                slice.retainReference(); // the stream's thread reads it; released below, after every stream ended
                slices.add(slice);
                start += len;
                parts.add(pool.submit(() -> onStream(forward, slice)));
            }
        } catch (RuntimeException e) { // rejected (closed meanwhile): the streams already started still run
            failure = e instanceof java.util.concurrent.RejectedExecutionException
                    ? new IllegalStateException("these BatchStreams were closed", e) : e;
        }
        // wait for every stream that started, whatever happened: they read the slices and the caller's model
        for (Future<Tensor> f : parts) {
            while (true) {
                try {
                    outs.add(f.get());
                    break;
                } catch (ExecutionException e) {
                    failure = merge(failure, e.getCause());
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (Throwable t) { // CancellationException, or an Error of this thread: the stream still runs
                    failure = merge(failure, t);
                    if (f.isDone()) {
                        break;
                    }
                }
            }
        }
        for (Tensor sl : slices) {
            sl.releaseReference();
        }
        if (threadCountSet) { // a stream set its own count, which libtorch also stores as the default of new threads
            threadCountSet = false;
            torch.set_num_threads(callerThreads);
        }
        try {
            if (interrupted) {
                Thread.currentThread().interrupt();
                failure = merge(failure, new IllegalStateException("interrupted"));
            }
            if (failure instanceof RuntimeException r) {
                throw r;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            if (failure != null) {
                throw new IllegalStateException(failure);
            }
            return Scopes.run(() -> {
                TensorVector v = new TensorVector();
                for (Tensor o : outs) {
                    v.push_back(o);
                }
                return torch.cat(v);
            });
        } finally {
            for (Tensor o : outs) {
                o.releaseReference();
            }
        }
    }

    /**
     * How many streams a batch of {@code batch} images runs on with {@code streams} streams: all of them when each
     * gets two images or more, else 1 (one pass on the calling thread).
     */
    public static int used(int streams, long batch) {
        return streams > 1 && batch >= 2L * streams ? streams : 1;
    }

    /** On a stream's thread: its libtorch thread count, then {@code forward}; the result carries one reference. */
    private Tensor onStream(UnaryOperator<Tensor> forward, Tensor slice) {
        if (torch.get_num_threads() != threadsPerStream) {
            torch.set_num_threads(threadsPerStream); // this thread's OpenMP count, and libtorch's stored default
            threadCountSet = true;
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor out = forward.apply(slice);
            out.retainReference();
            return out;
        }
    }

    private static Throwable merge(Throwable first, Throwable next) {
        if (first == null) {
            return next;
        }
        if (next != null && next != first) {
            first.addSuppressed(next);
        }
        return first;
    }

    /** Stops the streams' threads (after the calls already queued); idempotent. */
    @Override
    public void close() {
        pool.shutdown();
    }
}

package org.fixres4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.data.EvalPipeline;
import org.fixres4j.torch.Amp;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link BatchStreams}: slices of a batch on several threads give, in order, exactly what the same slices give one
 * after the other on the calling thread; each stream runs with its own libtorch thread count; failures come back to
 * the caller; and {@link EvalPipeline#streams} picks streams only for bfloat16 unless asked.
 */
class BatchStreamsTest {
    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
    }

    private static Tensor sequential(java.util.function.UnaryOperator<Tensor> f, Tensor x, int... sizes) {
        TensorVector v = new TensorVector();
        long start = 0;
        for (int s : sizes) {
            v.push_back(f.apply(x.narrow(0, start, s)));
            start += s;
        }
        return torch.cat(v);
    }

    @Test
    void slicesOfTheFastPathMatchTheSameSlicesRunInTurn() {
        int saved = Torch.threads();
        try (EfficientNet m = EfficientNetTest.seeded(EfficientNetTest.tiny(true));
             PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            m.eval();
            Tensor x = EfficientNetTest.input(7, 3, 64, 64);
            for (Amp amp : new Amp[] {Amp.NONE, Amp.BF16}) {
                try (FastEfficientNet fast = FastEfficientNet.fuse(m, amp);
                     BatchStreams streams = BatchStreams.of(2, 2)) {
                    assertEquals(2, streams.streams());
                    assertEquals(1, streams.threadsPerStream());
                    Tensor got = streams.forward(fast::forward, x);
                    assertEquals(7, got.size(0));
                    Torch.setThreads(1);
                    Tensor want = sequential(fast::forward, x, 4, 3); // slice sizes differ by one, larger first
                    assertTrue(torch.equal(want, got), amp + ": streams == the same slices in turn");
                    // and close to one pass over the whole batch (libtorch may block a batch differently)
                    Tensor whole = fast.forward(x);
                    double d = got.sub(whole).abs().max().item_double() / whole.abs().max().item_double();
                    assertTrue(d <= 1e-5, amp + ": streams vs one pass: " + d);
                    Torch.setThreads(saved);
                }
            }
        } finally {
            Torch.setThreads(saved);
        }
    }

    @Test
    void eachStreamRunsOnItsOwnThreadWithItsThreadCount() {
        Set<String> threads = ConcurrentHashMap.newKeySet();
        List<Integer> counts = Collections.synchronizedList(new ArrayList<>());
        try (PointerScope scope = new PointerScope(); BatchStreams streams = BatchStreams.of(4, 2)) {
            assertEquals(2, streams.threadsPerStream());
            Tensor x = torch.arange(new org.bytedeco.pytorch.Scalar(12)).reshape(6, 2);
            Tensor y = streams.forward(t -> {
                threads.add(Thread.currentThread().getName());
                counts.add(torch.get_num_threads());
                return t.mul(new org.bytedeco.pytorch.Scalar(2));
            }, x);
            assertTrue(torch.equal(y, x.mul(new org.bytedeco.pytorch.Scalar(2))), "outputs concatenated in order");
            assertEquals(2, threads.size(), "two slices, two stream threads: " + threads);
            assertTrue(threads.stream().allMatch(n -> n.startsWith("fixres4j-stream-")), threads.toString());
            assertEquals(List.of(2, 2), counts);
        }
    }

    @Test
    void theStreamsLeaveLibtorchsDefaultThreadCountAsTheCallerHadIt() throws Exception {
        int saved = Torch.threads();
        try (PointerScope scope = new PointerScope(); BatchStreams streams = BatchStreams.of(2, 2)) {
            Torch.setThreads(2);
            List<Integer> inStreams = Collections.synchronizedList(new ArrayList<>());
            streams.forward(t -> {
                inStreams.add(torch.get_num_threads());
                return t.clone();
            }, torch.ones(4, 2));
            assertEquals(List.of(1, 1), inStreams, "each stream on one thread");
            assertEquals(2, Torch.threads(), "the caller's own count");
            int[] fresh = new int[1];
            Thread t = new Thread(() -> fresh[0] = torch.get_num_threads()); // first use of libtorch on this thread
            t.start();
            t.join();
            assertEquals(2, fresh[0], "a new thread still starts from the caller's count");
        } finally {
            Torch.setThreads(saved);
        }
    }

    @Test
    void aNonCpuInputRunsAsOnePassOnTheCallingThread() {
        try (PointerScope scope = new PointerScope(); BatchStreams streams = BatchStreams.of(2, 2)) {
            Tensor meta = torch.zeros(8, 2).to(new org.bytedeco.pytorch.Device("meta"),
                    org.bytedeco.pytorch.global.torch.ScalarType.Float);
            List<Thread> seen = new ArrayList<>();
            streams.forward(t -> {
                seen.add(Thread.currentThread());
                return t;
            }, meta);
            assertEquals(List.of(Thread.currentThread()), seen);
        }
        assertEquals(2, BatchStreams.used(2, 4));
        assertEquals(1, BatchStreams.used(2, 3));
        assertEquals(1, BatchStreams.used(1, 64));
    }

    @Test
    void aBatchTooSmallToShareRunsOnTheCallingThread() {
        try (PointerScope scope = new PointerScope(); BatchStreams streams = BatchStreams.of(2, 2)) {
            Tensor x = torch.ones(3, 2);
            Thread caller = Thread.currentThread();
            List<Thread> seen = new ArrayList<>();
            streams.forward(t -> {
                seen.add(Thread.currentThread());
                return t.clone();
            }, x);
            assertEquals(List.of(caller), seen, "3 images for 2 streams: one pass, on the caller");
        }
    }

    @Test
    void failuresReachTheCallerAndClosedStreamsRefuse() {
        BatchStreams streams = BatchStreams.of(2, 2);
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.ones(4, 2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> streams.forward(t -> {
                if (Thread.currentThread().getName().endsWith("-1")) {
                    throw new IllegalArgumentException("slice failed");
                }
                return t.clone();
            }, x));
            assertEquals("slice failed", e.getMessage());
            Tensor ok = streams.forward(Tensor::clone, x); // the streams survive a failure
            assertTrue(torch.equal(ok, x));
            streams.close();
            assertThrows(IllegalStateException.class, () -> streams.forward(Tensor::clone, x));
            assertThrows(IllegalArgumentException.class, () -> BatchStreams.of(1, 2));
            assertThrows(IllegalArgumentException.class, () -> BatchStreams.of(2, 0));
        }
    }

    @Test
    void anInterruptedCallerWaitsForItsStreamsBeforeLettingGoOfTheInput() throws Exception {
        try (PointerScope scope = new PointerScope(); BatchStreams streams = BatchStreams.of(2, 2)) {
            Tensor x = torch.ones(4, 2);
            java.util.concurrent.atomic.AtomicInteger finished = new java.util.concurrent.atomic.AtomicInteger();
            Thread caller = Thread.currentThread();
            java.util.concurrent.CountDownLatch interruptSent = new java.util.concurrent.CountDownLatch(1);
            Thread interrupter = new Thread(() -> {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ignored) {
                    // go on
                }
                caller.interrupt();
                interruptSent.countDown();
            });
            interrupter.start();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> streams.forward(t -> {
                try {
                    interruptSent.await(30, java.util.concurrent.TimeUnit.SECONDS); // the caller is interrupted first
                } catch (InterruptedException ignored) {
                    // the stream's own thread is not interrupted
                }
                Tensor r = t.add(new org.bytedeco.pytorch.Scalar(1)); // reads the slice after the interrupt
                finished.incrementAndGet();
                return r;
            }, x));
            interrupter.join();
            assertTrue(Thread.interrupted(), "the interrupt is kept for the caller");
            assertEquals("interrupted", e.getMessage());
            assertEquals(2, finished.get(), "both streams ran to their end before forward returned");
        }
    }

    @Test
    void evalUsesStreamsForBf16OnTwoOrMoreThreadsOrWhenAsked() {
        assertEquals(1, EvalPipeline.streams(false, 2, null), "float32: one pass (timm's logits)");
        assertEquals(1, EvalPipeline.streams(true, 1, null));
        assertEquals(2, EvalPipeline.streams(true, 2, null));
        assertEquals(4, EvalPipeline.streams(true, 4, null));
        assertEquals(2, EvalPipeline.streams(false, 2, 2), "asked for");
        assertEquals(2, EvalPipeline.streams(false, 2, 8), "at most one per thread");
        assertThrows(IllegalArgumentException.class, () -> EvalPipeline.streams(true, 2, 0));
    }
}

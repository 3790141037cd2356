package org.fixres4j.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntPredicate;
import java.util.random.RandomGenerator;

import org.fixres4j.data.Batch;
import org.fixres4j.data.BatchLoader;
import org.fixres4j.data.Dataset;
import org.fixres4j.data.InMemoryDataset;
import org.fixres4j.data.LoadFailure;
import org.fixres4j.data.Sample;
import org.fixres4j.image.DecodedImage.ChannelOrder;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.FixResTestTransform;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.ResamplePlan;
import org.fixres4j.transform.SampleTransform;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * BatchLoader under faults, through its public API: a dataset or transform that throws, a batch whose every sample
 * fails, strict mode, a consumer interrupted while it waits, and a slow consumer (the loader must stay bounded by
 * its pool, never run ahead of it).
 */
class BatchLoaderFaultsTest {
    static final int N = 24;
    static InMemoryDataset base;

    @BeforeAll
    static void fixture() {
        Torch.ensureLoaded();
        int w = 12;
        int h = 10;
        byte[] px = new byte[N * w * h * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 31 + i / 7);
        }
        int[] labels = new int[N];
        for (int i = 0; i < N; i++) {
            labels[i] = i % 3;
        }
        base = new InMemoryDataset(px, w, h, 3, ChannelOrder.RGB, labels, List.of("a", "b", "c"), "mem", "in memory");
    }

    /** A dataset that delegates to {@link #base}, counts get() calls and runs a hook first. */
    static final class Faulty implements Dataset {
        final AtomicInteger gets = new AtomicInteger();
        final java.util.function.IntConsumer hook;

        Faulty(java.util.function.IntConsumer hook) {
            this.hook = hook;
        }

        @Override
        public int size() {
            return base.size();
        }

        @Override
        public Sample get(int index) {
            gets.incrementAndGet();
            hook.accept(index);
            return base.get(index);
        }

        @Override
        public List<String> classNames() {
            return base.classNames();
        }

        @Override
        public String describe() {
            return "faulty(" + base.describe() + ")";
        }
    }

    /** FixRes test transform at 8 px that throws {@code error} for the indices it is told (by image content). */
    static SampleTransform failing(IntPredicate failOnCall, RuntimeException error) {
        FixResTestTransform t = new FixResTestTransform(8);
        AtomicInteger calls = new AtomicInteger();
        return new SampleTransform() {
            @Override
            public ResamplePlan plan(int imageWidth, int imageHeight, RandomGenerator rng) {
                if (failOnCall.test(calls.getAndIncrement())) {
                    throw error;
                }
                return t.plan(imageWidth, imageHeight, rng);
            }

            @Override
            public int outputWidth() {
                return t.outputWidth();
            }

            @Override
            public int outputHeight() {
                return t.outputHeight();
            }

            @Override
            public Normalization normalization() {
                return t.normalization();
            }

            @Override
            public String describe() {
                return "failing(" + t.describe() + ")";
            }

            @Override
            public boolean isRandom() {
                return t.isRandom();
            }
        };
    }

    static List<Integer> drain(BatchLoader.Epoch e) {
        List<Integer> seen = new ArrayList<>();
        while (e.hasNext()) {
            try (Batch b = e.next()) {
                for (int i : b.indices()) {
                    seen.add(i);
                }
            }
        }
        return seen;
    }

    @Test
    void aThrowingDatasetEndsTheEpochWithItsException() {
        IllegalStateException bug = new IllegalStateException("dataset bug at 13");
        Faulty d = new Faulty(i -> {
            if (i == 13) {
                throw bug;
            }
        });
        try (BatchLoader loader = BatchLoader.builder(d, new FixResTestTransform(8)).batchSize(4).threads(2).build();
             BatchLoader.Epoch e = loader.epoch(0)) {
            List<Integer> seen = new ArrayList<>();
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> {
                while (e.hasNext()) {
                    try (Batch b = e.next()) {
                        for (int i : b.indices()) {
                            seen.add(i);
                        }
                    }
                }
            });
            assertSame(bug, thrown, "the dataset's own exception reaches the consumer");
            assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), seen, "batches before the bad one arrive");
            assertFalse(e.hasNext(), "the epoch is over after the exception");
        }
    }

    @Test
    void aTransformRefusingSamplesRecordsFailuresAndABugEndsTheEpoch() {
        // IllegalArgumentException (a size the transform refuses): a LoadFailure, the rest of the batch goes on
        SampleTransform refusing = failing(call -> call % 5 == 0, new IllegalArgumentException("too small"));
        try (BatchLoader loader = BatchLoader.builder(base, refusing).batchSize(4).threads(1).build();
             BatchLoader.Epoch e = loader.epoch(0)) {
            List<Integer> seen = drain(e);
            assertEquals(N - 5, seen.size());
            assertEquals(5, e.failures().size());
            for (LoadFailure f : e.failures()) {
                assertTrue(f.message().contains("too small"), f.toString());
            }
        }
        // any other exception is a bug: the epoch ends with it
        SampleTransform buggy = failing(call -> call == 6, new ArithmeticException("bug"));
        try (BatchLoader loader = BatchLoader.builder(base, buggy).batchSize(4).threads(1).build();
             BatchLoader.Epoch e = loader.epoch(0)) {
            ArithmeticException thrown = assertThrows(ArithmeticException.class, () -> drain(e));
            assertEquals("bug", thrown.getMessage());
        }
    }

    @Test
    void aBatchWhoseEverySampleFailsIsSkippedAndStrictModeStops() {
        // samples 4..7 (the whole second batch) are refused by the transform (single thread: calls are in order)
        SampleTransform t = failing(call -> call >= 4 && call < 8, new IllegalArgumentException("refused"));
        try (BatchLoader loader = BatchLoader.builder(base, t).batchSize(4).threads(1).build();
             BatchLoader.Epoch e = loader.epoch(0)) {
            List<Integer> numbers = new ArrayList<>();
            List<Integer> seen = new ArrayList<>();
            while (e.hasNext()) {
                try (Batch b = e.next()) {
                    numbers.add(b.number());
                    assertTrue(b.size() > 0, "no empty batch is handed out");
                    for (int i : b.indices()) {
                        seen.add(i);
                    }
                }
            }
            assertFalse(numbers.contains(1), "batch 1 (all failed) is skipped: " + numbers);
            assertEquals(N - 4, seen.size());
            assertEquals(List.of(4, 5, 6, 7), e.failures().stream().map(LoadFailure::index).toList());
        }
        SampleTransform t2 = failing(call -> call == 5, new IllegalArgumentException("refused"));
        try (BatchLoader loader = BatchLoader.builder(base, t2).batchSize(4).threads(1).strict(true).build();
             BatchLoader.Epoch e = loader.epoch(0)) {
            UncheckedIOException thrown = assertThrows(UncheckedIOException.class, () -> drain(e));
            assertTrue(thrown.getMessage().contains("mem"), thrown.getMessage());
        }
    }

    @Test
    void aConsumerInterruptedWhileWaitingGetsAClearExceptionAndTheLoaderCloses() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Faulty d = new Faulty(i -> {
            if (i >= 4) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        AtomicReference<Throwable> caught = new AtomicReference<>();
        AtomicReference<Boolean> flag = new AtomicReference<>();
        CountDownLatch firstBatch = new CountDownLatch(1);
        CountDownLatch seen = new CountDownLatch(1);
        try (BatchLoader loader = BatchLoader.builder(d, new FixResTestTransform(8)).batchSize(4).threads(2).build()) {
            Thread consumer = new Thread(() -> {
                try (BatchLoader.Epoch e = loader.epoch(0)) {
                    try (Batch b = e.next()) {
                        firstBatch.countDown();
                    }
                    try {
                        e.hasNext(); // waits for batch 1, whose samples are blocked
                    } catch (Throwable t) {
                        caught.set(t);
                        flag.set(Thread.currentThread().isInterrupted());
                    }
                    seen.countDown();
                    Thread.interrupted(); // let close() wait for the blocked samples normally
                }
            });
            consumer.start();
            firstBatch.await();
            while (consumer.getState() != Thread.State.WAITING && consumer.isAlive()) {
                Thread.sleep(5);
            }
            consumer.interrupt();
            seen.await();
            release.countDown();
            consumer.join();
            assertTrue(caught.get() instanceof IllegalStateException, String.valueOf(caught.get()));
            assertTrue(caught.get().getMessage().contains("interrupted"), caught.get().getMessage());
            assertTrue(flag.get(), "the interrupt flag is kept");
        }
    }

    @Test
    void aSlowConsumerKeepsTheLoaderBoundedByItsPool() throws Exception {
        Faulty d = new Faulty(i -> { });
        int batch = 2;
        int pool = 2;
        try (BatchLoader loader = BatchLoader.builder(d, new FixResTestTransform(8)).batchSize(batch).threads(2)
                .poolSize(pool).build(); BatchLoader.Epoch e = loader.epoch(0)) {
            int consumed = 0;
            int maxAhead = 0;
            while (e.hasNext()) {
                try (Batch b = e.next()) {
                    // a slow consumer: give the workers every chance to run ahead before looking
                    Thread.sleep(40);
                    int ahead = d.gets.get() - consumed * batch;
                    maxAhead = Math.max(maxAhead, ahead);
                    assertTrue(ahead <= pool * batch, "samples read beyond the pool: " + ahead + " > " + pool * batch);
                    consumed++;
                    assertEquals(batch, b.size());
                }
            }
            assertEquals(N / batch, consumed);
            System.out.println("slow consumer: at most " + maxAhead + " samples read ahead of the consumer (pool "
                    + pool + " x batch " + batch + ")");
        }
    }
}

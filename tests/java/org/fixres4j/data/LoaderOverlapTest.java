package org.fixres4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.fixres4j.transform.RandomResizedCropTransform;
import org.fixres4j.transform.SampleTransform;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loader's overlap with its consumer: the consumer loads queued samples while it waits, and which thread loads
 * a sample (worker or consumer, any number of workers) changes no batch.
 */
class LoaderOverlapTest {
    @TempDir
    static Path dir;
    static FileDataset images;

    @BeforeAll
    static void fixture() throws IOException {
        Path root = dir.resolve("folder");
        for (int i = 0; i < 13; i++) {
            DatasetFixtures.png(root.resolve((i % 3 == 0 ? "a" : "b") + "/img" + i + ".png"), 24 + (i * 5) % 17,
                    20 + (i * 9) % 23, i, i == 4);
        }
        images = ImageFolder.read(root);
    }

    @Test
    void batchesAreTheSameWhoeverLoadsThem() {
        SampleTransform t = RandomResizedCropTransform.of(16);
        List<List<BatchLoaderTest.Copy>> runs = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int threads : new int[] {1, 2, 3}) {
            for (boolean helps : new boolean[] {false, true}) {
                for (int pool : new int[] {1, 2, 3}) {
                    for (boolean overlap : new boolean[] {true, false}) {
                        // no PointerScope around the iteration: the consumer helps only without one
                        try (BatchLoader loader = BatchLoader.builder(images, t).batchSize(4).threads(threads)
                                .poolSize(pool).seed(9).shuffle(true).consumerHelps(helps).overlap(overlap)
                                .build()) {
                            assertEquals(helps, loader.consumerHelps());
                            assertEquals(overlap, loader.overlap());
                            List<BatchLoaderTest.Copy> both = new ArrayList<>(BatchLoaderTest.collect(loader, 0));
                            both.addAll(BatchLoaderTest.collect(loader, 1));
                            runs.add(both);
                            names.add(threads + " threads, helps " + helps + ", pool " + pool + ", overlap "
                                    + overlap);
                        }
                    }
                }
            }
        }
        List<BatchLoaderTest.Copy> ref = runs.get(0);
        assertEquals(8, ref.size());
        for (int r = 1; r < runs.size(); r++) {
            List<BatchLoaderTest.Copy> run = runs.get(r);
            assertEquals(ref.size(), run.size(), names.get(r));
            for (int k = 0; k < ref.size(); k++) {
                String what = names.get(r) + ", batch " + k;
                assertEquals(ref.get(k).number(), run.get(k).number(), what);
                assertArrayEquals(ref.get(k).indices(), run.get(k).indices(), what);
                assertArrayEquals(ref.get(k).positions(), run.get(k).positions(), what);
                assertArrayEquals(ref.get(k).labelValues(), run.get(k).labelValues(), what);
                assertArrayEquals(ref.get(k).values(), run.get(k).values(), 0f, what);
            }
        }
    }

    /** A dataset whose sample 0 cannot be read until its last sample has been asked for. */
    static final class Gated implements Dataset {
        final Dataset base;
        final CountDownLatch last = new CountDownLatch(1);

        Gated(Dataset base) {
            this.base = base;
        }

        @Override
        public int size() {
            return base.size();
        }

        @Override
        public Sample get(int index) {
            if (index == size() - 1) {
                last.countDown();
            } else if (index == 0) {
                try {
                    assertTrue(last.await(60, TimeUnit.SECONDS), "the last sample was never loaded");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            return base.get(index);
        }

        @Override
        public java.util.List<String> classNames() {
            return base.classNames();
        }

        @Override
        public String describe() {
            return "gated " + base.describe();
        }
    }

    @Test
    void theWaitingConsumerLoadsWhatTheWorkersCannot() {
        // one batch of 6; the one worker is stuck on sample 0 until sample 5 is loaded: only the consumer can
        int[] six = {0, 1, 2, 3, 5, 6};
        Gated gated = new Gated(new SubsetDataset(images, six, "six"));
        SampleTransform t = RandomResizedCropTransform.of(16);
        List<BatchLoaderTest.Copy> helped;
        try (BatchLoader loader = BatchLoader.builder(gated, t).batchSize(6).threads(1).seed(2)
                .consumerHelps(true).build();
             BatchLoader.Epoch e = loader.epoch(0)) {
            helped = new ArrayList<>();
            while (e.hasNext()) {
                try (Batch b = e.next()) {
                    helped.add(new BatchLoaderTest.Copy(b.number(), b.indices(), b.labels(), b.positions(),
                            b.inputToArray(), null));
                }
            }
            assertEquals(5, e.loadedByConsumer(), "samples 1..5 were loaded by the consumer");
            assertTrue(e.idleSeconds() >= 0);
        }
        try (BatchLoader plain = BatchLoader.builder(new SubsetDataset(images, six, "six"), t).batchSize(6)
                .threads(2).seed(2).consumerHelps(false).build()) {
            List<BatchLoaderTest.Copy> ref = BatchLoaderTest.collect(plain, 0);
            assertEquals(1, helped.size());
            assertArrayEquals(ref.get(0).indices(), helped.get(0).indices());
            assertArrayEquals(ref.get(0).values(), helped.get(0).values(), 0f);
        }
    }

    /** A dataset that counts the samples asked for (a loader asks for each as it starts loading it). */
    private static Dataset counting(Dataset d, AtomicInteger asked) {
        return new Dataset() {
            public int size() { return d.size(); }
            public Sample get(int index) { asked.incrementAndGet(); return d.get(index); }
            public List<String> classNames() { return d.classNames(); }
            public String describe() { return "counting " + d.describe(); }
        };
    }

    @Test
    void withoutOverlapTheWorkersLoadOnlyWhileTheConsumerWaits() throws Exception {
        SampleTransform t = RandomResizedCropTransform.of(16);
        AtomicInteger asked = new AtomicInteger();
        List<BatchLoaderTest.Copy> gated;
        try (BatchLoader loader = BatchLoader.builder(counting(images, asked), t).batchSize(4).threads(2)
                .poolSize(2).seed(3).overlap(false).build();
             BatchLoader.Epoch e = loader.epoch(0)) {
            Thread.sleep(300); // the workers would have loaded both pool slots' samples by now
            assertEquals(0, asked.get(), "no sample is loaded before the consumer asks for a batch");
            assertTrue(e.hasNext());
            try (Batch b = e.next()) {
                int after = asked.get();
                Thread.sleep(300);
                // a worker that passed the gate finishes its sample; none starts another while the consumer works
                assertTrue(asked.get() <= after + 2, "loaded " + (asked.get() - after) + " samples meanwhile");
            }
        }
        // an epoch closed while the workers wait at the gate ends, and the loader closes
        try (BatchLoader loader = BatchLoader.builder(images, t).batchSize(4).threads(2).overlap(false).build()) {
            loader.epoch(0).close();
            gated = BatchLoaderTest.collect(loader, 1);
        }
        try (BatchLoader loader = BatchLoader.builder(images, t).batchSize(4).threads(2).build()) {
            List<BatchLoaderTest.Copy> ref = BatchLoaderTest.collect(loader, 1);
            assertEquals(ref.size(), gated.size());
            for (int k = 0; k < ref.size(); k++) {
                assertArrayEquals(ref.get(k).indices(), gated.get(k).indices());
                assertArrayEquals(ref.get(k).values(), gated.get(k).values(), 0f);
            }
        }
    }

    @Test
    void theSplitGivesTheModelEveryCoreUpToFourAndNeverShares() {
        assertEquals(new EvalPipeline.Split(1, 1, false), EvalPipeline.split(1));
        assertEquals(new EvalPipeline.Split(1, 2, false), EvalPipeline.split(2));
        assertEquals(new EvalPipeline.Split(1, 4, false), EvalPipeline.split(4));
        assertEquals(new EvalPipeline.Split(1, 7), EvalPipeline.split(8));
        assertEquals(new EvalPipeline.Split(2, 14), EvalPipeline.split(16));
        for (int cores = 5; cores <= 256; cores++) {
            EvalPipeline.Split s = EvalPipeline.split(cores);
            assertEquals(cores, s.loaderThreads() + s.computeThreads(), cores + " cores");
        }
        assertThrows(IllegalArgumentException.class, () -> EvalPipeline.split(0));
        assertThrows(IllegalArgumentException.class, () -> new EvalPipeline.Split(0, 2));
    }
}

package org.fixres4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.DecodedImage.ChannelOrder;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.transform.FixResTestTransform;
import org.fixres4j.transform.RandomResizedCropTransform;
import org.fixres4j.transform.SampleTransform;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The threaded loader: deterministic batches, seeded augmentation, pooling, failures and shutdown. */
@SuppressWarnings("try") // PointerScopes opened only to prove the pool survives them
class BatchLoaderTest {
    @TempDir
    static Path dir;
    static FileDataset images;

    /** One batch, copied out. */
    record Copy(int number, int[] indices, int[] labels, int[] positions, float[] values, long[] labelValues) {}

    @BeforeAll
    static void fixture() throws IOException {
        Path root = dir.resolve("folder");
        for (int i = 0; i < 11; i++) {
            String cls = i < 6 ? "cat" : "dog";
            int w = 20 + (i * 7) % 31;
            int h = 18 + (i * 11) % 29;
            DatasetFixtures.png(root.resolve(cls + "/img" + i + ".png"), w, h, i, i == 3);
        }
        images = ImageFolder.read(root);
    }

    static List<Copy> collect(BatchLoader loader, int epoch) {
        List<Copy> out = new ArrayList<>();
        try (BatchLoader.Epoch e = loader.epoch(epoch)) {
            while (e.hasNext()) {
                try (Batch b = e.next()) {
                    long[] l = new long[b.size()];
                    new LongPointer(b.labelTensor().data_ptr()).get(l);
                    assertEquals(b.size(), b.input().size(0));
                    out.add(new Copy(b.number(), b.indices(), b.labels(), b.positions(), b.inputToArray(), l));
                }
            }
        }
        return out;
    }

    /** What one sample must look like: decoded and preprocessed alone with its (seed, epoch, index) stream. */
    static float[] expected(Dataset d, SampleTransform t, long seed, int epoch, int index) throws IOException {
        try (DecodedImage im = d.get(index).decode()) {
            OutputSpec spec = OutputSpec.nchwFloat(t.outputWidth(), t.outputHeight(), t.normalization());
            return new CpuPreprocessor(1).runToFloats(im,
                    t.plan(im.width(), im.height(), Seeds.sample(seed, epoch, index)), spec);
        }
    }

    static float[] row(float[] values, int r, int n) {
        return java.util.Arrays.copyOfRange(values, r * n, (r + 1) * n);
    }

    @Test
    void batchesAreTheSameWithOneAndThreeThreads() throws IOException {
        RandomResizedCropTransform t = RandomResizedCropTransform.of(16);
        List<List<Copy>> runs = new ArrayList<>();
        for (int threads : new int[] {1, 3}) {
            try (PointerScope scope = new PointerScope();
                 BatchLoader loader = BatchLoader.builder(images, t).batchSize(4).threads(threads).seed(5)
                         .shuffle(true).build()) {
                assertEquals(3, loader.batchesPerEpoch());
                List<Copy> both = new ArrayList<>(collect(loader, 0));
                both.addAll(collect(loader, 1));
                runs.add(both);
            }
        }
        List<Copy> one = runs.get(0);
        List<Copy> three = runs.get(1);
        assertEquals(6, one.size());
        for (int k = 0; k < one.size(); k++) {
            assertArrayEquals(one.get(k).indices(), three.get(k).indices(), "batch " + k);
            assertArrayEquals(one.get(k).values(), three.get(k).values(), 0f, "batch " + k);
            assertArrayEquals(one.get(k).labels(), three.get(k).labels());
        }
        // epoch 0 covers every sample once, in the shuffled order, and epoch 1 is another order
        Set<Integer> seen = new HashSet<>();
        List<Integer> order0 = new ArrayList<>();
        List<Integer> order1 = new ArrayList<>();
        for (int k = 0; k < 6; k++) {
            for (int i : one.get(k).indices()) {
                (k < 3 ? order0 : order1).add(i);
                if (k < 3) {
                    seen.add(i);
                }
            }
        }
        assertEquals(11, seen.size());
        assertFalse(order0.equals(order1));
        // each row is exactly the sample preprocessed alone with its own stream; labels match the dataset
        int n = 3 * 16 * 16;
        for (int k = 0; k < 6; k++) {
            Copy c = one.get(k);
            int epoch = k < 3 ? 0 : 1;
            for (int r = 0; r < c.indices().length; r++) {
                int idx = c.indices()[r];
                assertArrayEquals(expected(images, t, 5, epoch, idx), row(c.values(), r, n), 0f,
                        "epoch " + epoch + " sample " + idx);
                assertEquals(images.label(idx), c.labels()[r]);
                assertEquals(images.label(idx), c.labelValues()[r]);
            }
        }
    }

    @Test
    void poolSlotsAreReusedAndSurviveTheCallersScope() {
        Set<Long> addresses = new HashSet<>();
        BatchLoader loader;
        try (PointerScope scope = new PointerScope()) {
            loader = BatchLoader.builder(images, new FixResTestTransform(24)).batchSize(2).threads(2).poolSize(2)
                    .build();
        }
        try (loader) {
            for (int e = 0; e < 3; e++) {
                int count = 0;
                BatchLoader.Epoch epoch = loader.epoch(e); // not closed: a fully iterated epoch may be replaced
                while (epoch.hasNext()) {
                    try (Batch b = epoch.next()) {
                        addresses.add(b.input().data_ptr().address());
                        count += b.size();
                    }
                }
                assertEquals(11, count);
            }
        }
        assertTrue(addresses.size() <= 2, "pool of 2 slots, saw " + addresses.size() + " buffers");
        assertTrue(loader.isTerminated());
    }

    private static FileDataset withCorruptFile() throws IOException {
        Path bad = Files.write(dir.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            paths.add(i == 2 ? bad : images.path(i));
        }
        return new FileDataset(paths, new int[] {0, 0, 1, 0, 1}, List.of("a", "b"), "with a corrupt file", 0);
    }

    @Test
    void aCorruptFileIsReportedAndSkipped() throws IOException {
        FileDataset d = withCorruptFile();
        FixResTestTransform t = new FixResTestTransform(20);
        List<Copy> batches = new ArrayList<>();
        List<LoadFailure> failures;
        try (BatchLoader loader = BatchLoader.builder(d, t).batchSize(2).threads(3).build();
             BatchLoader.Epoch e = loader.epoch(0)) {
            while (e.hasNext()) {
                try (Batch b = e.next()) {
                    batches.add(new Copy(b.number(), b.indices(), b.labels(), b.positions(), b.inputToArray(),
                            null));
                    if (b.number() == 1) {
                        assertEquals(1, b.failures().size());
                    }
                }
            }
            failures = e.failures();
        }
        assertEquals(1, failures.size());
        LoadFailure f = failures.get(0);
        assertEquals(2, f.index());
        assertEquals(2, f.position());
        assertTrue(f.name().endsWith("broken.png"), f.name());
        assertTrue(f.message().contains("broken.png") && f.message().contains("cannot decode"), f.message());
        assertEquals(3, batches.size());
        Copy second = batches.get(1);
        assertArrayEquals(new int[] {3}, second.indices());      // position 2 failed: position 3 moved up
        assertArrayEquals(new int[] {3}, second.positions());
        assertArrayEquals(new int[] {0}, second.labels());
        assertArrayEquals(expected(d, t, 0, 0, 3), second.values(), 0f);
        assertArrayEquals(new int[] {4}, batches.get(2).indices());
    }

    @Test
    void severalTransformsDecodeOnceAndFillOneTensorPerTransform() throws IOException {
        FileDataset d = withCorruptFile();
        List<SampleTransform> ts = List.of(new FixResTestTransform(16), RandomResizedCropTransform.of(12),
                new FixResTestTransform(24));
        try (BatchLoader loader = BatchLoader.builder(d, ts).batchSize(2).threads(3).seed(7).build();
             BatchLoader.Epoch e = loader.epoch(1)) {
            assertEquals(3, loader.specs().size());
            int seen = 0;
            while (e.hasNext()) {
                try (Batch b = e.next()) {
                    assertEquals(3, b.inputCount());
                    for (int t = 0; t < ts.size(); t++) {
                        SampleTransform tr = ts.get(t);
                        int n = 3 * tr.outputWidth() * tr.outputHeight();
                        assertEquals(List.of((long) b.size(), 3L, (long) tr.outputHeight(), (long) tr.outputWidth()),
                                List.of(b.input(t).size(0), b.input(t).size(1), b.input(t).size(2),
                                        b.input(t).size(3)));
                        float[] all = new float[b.size() * n];
                        new org.bytedeco.javacpp.FloatPointer(b.input(t).data_ptr()).get(all);
                        for (int r = 0; r < b.size(); r++) {
                            // the corrupt sample (index 2) is left out under every transform, rows moved up alike
                            assertArrayEquals(expected(d, tr, 7, 1, b.indices()[r]), row(all, r, n), 0f,
                                    "transform " + t + ", row " + r);
                        }
                    }
                    assertThrows(IndexOutOfBoundsException.class, () -> b.input(3));
                    seen += b.size();
                }
            }
            assertEquals(4, seen);
            assertEquals(1, e.failures().size());
        }
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.builder(d, ts).spec(
                OutputSpec.nchwFloat(16, 16, ts.get(0).normalization())));
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.builder(d, List.of()));
    }

    @Test
    void strictModeStopsAtTheCorruptFile() throws IOException {
        FileDataset d = withCorruptFile();
        try (BatchLoader loader = BatchLoader.builder(d, new FixResTestTransform(20)).batchSize(2).threads(2)
                .strict(true).build();
             BatchLoader.Epoch e = loader.epoch(0)) {
            try (Batch b = e.next()) {
                assertEquals(2, b.size());
            }
            assertTrue(e.hasNext());
            UncheckedIOException ex = assertThrows(UncheckedIOException.class, e::next);
            assertTrue(ex.getMessage().contains("broken.png"), ex.getMessage());
            assertFalse(e.hasNext());
        }
    }

    @Test
    void holdingEverySlotAndAskingForMoreIsAnError() {
        try (BatchLoader loader = BatchLoader.builder(images, new FixResTestTransform(16)).batchSize(2).threads(2)
                .poolSize(2).build();
             BatchLoader.Epoch e = loader.epoch(0)) {
            Batch a = e.next();
            Batch b = e.next();
            IllegalStateException ex = assertThrows(IllegalStateException.class, e::hasNext);
            assertTrue(ex.getMessage().contains("close() each Batch"), ex.getMessage());
            a.close();
            try (Batch c = e.next()) {
                assertEquals(2, c.number());
            }
            b.close();
            assertThrows(IllegalStateException.class, a::input);
            assertThrows(IllegalStateException.class, () -> loader.epoch(1), "one epoch at a time");
        }
    }

    /** A dataset that takes its time, so that closing happens while work is queued. */
    record Slow(Dataset base) implements Dataset {
        @Override
        public int size() {
            return 60;
        }

        @Override
        public Sample get(int index) {
            try {
                Thread.sleep(15);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return base.get(index % base.size());
        }

        @Override
        public List<String> classNames() {
            return base.classNames();
        }

        @Override
        public String describe() {
            return "slow";
        }
    }

    @Test
    void closingMidEpochStopsTheThreads() {
        BatchLoader loader = BatchLoader.builder(new Slow(images), new FixResTestTransform(16)).batchSize(2)
                .threads(3).poolSize(3).build();
        String prefix = loader.name() + "-";
        BatchLoader.Epoch first = loader.epoch(0);
        try (Batch b = first.next()) {
            assertEquals(0, b.number());
        }
        first.close();
        assertFalse(first.hasNext());
        // the loader is reusable after an epoch was closed early
        BatchLoader.Epoch second = loader.epoch(1);
        Batch held = second.next();
        assertTrue(threadsNamed(prefix) > 0);
        loader.close();
        assertTrue(loader.isTerminated());
        assertEquals(0, threadsNamed(prefix), "no worker or dispatcher thread survives close()");
        assertEquals(2, held.size(), "a batch held across close() stays valid until closed");
        held.close();
        assertThrows(IllegalStateException.class, () -> loader.epoch(2));
    }

    private static long threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
    }

    @Test
    void inMemoryGrayImagesAndDropLast() throws IOException {
        int n = 7;
        byte[] pixels = new byte[n * 28 * 28];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 31 + i / 28);
        }
        int[] labels = {3, 1, 4, 1, 5, 9, 2};
        InMemoryDataset d = new InMemoryDataset(pixels, 28, 28, 1, ChannelOrder.RGB, labels,
                FashionMnist.CLASS_NAMES, "mem", "mem");
        FixResTestTransform t = new FixResTestTransform(32);
        try (BatchLoader loader = BatchLoader.builder(d, t).batchSize(3).threads(2).dropLast(true).build()) {
            List<Copy> batches = collect(loader, 0);
            assertEquals(2, batches.size());
            assertArrayEquals(new long[] {1, 5, 9}, batches.get(1).labelValues());
            assertArrayEquals(expected(d, t, 0, 0, 4), row(batches.get(1).values(), 1, 3 * 32 * 32), 0f);
        }
    }
}

package org.fixres4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import org.fixres4j.image.DecodedImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IDX files (plain and gzipped) and Fashion-MNIST, on generated files and, where installed, Debian's copy. */
class FashionMnistTest {
    @TempDir
    Path dir;

    private static byte[] ramp(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7);
        }
        return b;
    }

    @Test
    void readsPlainAndGzippedIdx() throws IOException {
        byte[] pixels = ramp(3 * 2 * 4);
        DatasetFixtures.idx(dir.resolve("train-images-idx3-ubyte"), new int[] {3, 2, 4}, pixels, false);
        DatasetFixtures.idx(dir.resolve("train-labels-idx1-ubyte.gz"), new int[] {3}, new byte[] {9, 0, 3}, true);
        Idx.Images im = Idx.readImages(dir.resolve("train-images-idx3-ubyte"));
        assertEquals(3, im.count());
        assertEquals(2, im.rows());
        assertEquals(4, im.cols());
        assertArrayEquals(pixels, im.pixels());
        assertArrayEquals(new int[] {9, 0, 3}, Idx.readLabels(dir.resolve("train-labels-idx1-ubyte.gz")));

        InMemoryDataset d = FashionMnist.read(dir, FashionMnist.Split.TRAIN);
        assertEquals(3, d.size());
        assertEquals(10, d.numClasses());
        assertEquals("Ankle boot", d.classNames().get(d.label(0)));
        Sample s = d.get(1);
        assertEquals("fashion-mnist/train/00001", s.name());
        assertEquals(0, s.label());
        try (DecodedImage image = s.decode()) {
            assertEquals(4, image.width());
            assertEquals(2, image.height());
            assertEquals(1, image.channels());
            assertArrayEquals(java.util.Arrays.copyOfRange(pixels, 8, 16), image.toBytes());
        }
        assertThrows(NoSuchFileException.class, () -> FashionMnist.read(dir, FashionMnist.Split.TEST));
    }

    @Test
    void badIdxFilesAreClearErrors() throws IOException {
        Path labels = DatasetFixtures.idx(dir.resolve("l"), new int[] {4}, new byte[] {1, 2}, false);
        IOException e = assertThrows(IOException.class, () -> Idx.readLabels(labels));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Path images = DatasetFixtures.idx(dir.resolve("i"), new int[] {1, 2, 2}, new byte[4], true);
        e = assertThrows(IOException.class, () -> Idx.readLabels(images));
        assertTrue(e.getMessage().contains("expected an IDX file of 1 dimension"), e.getMessage());
        Path text = Files.writeString(dir.resolve("t"), "hello world");
        e = assertThrows(IOException.class, () -> Idx.readImages(text));
        assertTrue(e.getMessage().contains("not an IDX file"), e.getMessage());
        Path floats = Files.write(dir.resolve("f"), new byte[] {0, 0, 0x0D, 1, 0, 0, 0, 0});
        e = assertThrows(IOException.class, () -> Idx.readLabels(floats));
        assertTrue(e.getMessage().contains("0xd is not supported"), e.getMessage());

        DatasetFixtures.idx(dir.resolve("t10k-images-idx3-ubyte"), new int[] {2, 1, 1}, new byte[2], false);
        DatasetFixtures.idx(dir.resolve("t10k-labels-idx1-ubyte"), new int[] {3}, new byte[3], false);
        e = assertThrows(IOException.class, () -> FashionMnist.read(dir, FashionMnist.Split.TEST));
        assertTrue(e.getMessage().contains("2 images but"), e.getMessage());
        DatasetFixtures.idx(dir.resolve("t10k-labels-idx1-ubyte"), new int[] {2}, new byte[] {1, 10}, false);
        e = assertThrows(IOException.class, () -> FashionMnist.read(dir, FashionMnist.Split.TEST));
        assertTrue(e.getMessage().contains("label 10 of image 1"), e.getMessage());
    }

    @Test
    void debianPackage() throws IOException {
        assumeTrue(Files.isRegularFile(FashionMnist.DEBIAN_DIR.resolve("t10k-labels-idx1-ubyte.gz")),
                "dataset-fashion-mnist is not installed");
        InMemoryDataset test = FashionMnist.read(FashionMnist.Split.TEST);
        assertEquals(10_000, test.size());
        assertEquals(28, test.width());
        // first labels and class counts, as Python's gzip + bytes reading gives them
        assertArrayEquals(new int[] {9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, java.util.Arrays.copyOf(test.labels(), 10));
        int[] counts = new int[10];
        for (int l : test.labels()) {
            counts[l]++;
        }
        assertArrayEquals(new int[] {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}, counts);
        try (DecodedImage im = test.get(0).decode()) {
            long sum = 0;
            for (byte b : im.toBytes()) {
                sum += b & 0xFF;
            }
            assertEquals(33456, sum);
        }
        InMemoryDataset train = FashionMnist.read(FashionMnist.Split.TRAIN);
        assertEquals(60_000, train.size());
        assertArrayEquals(new int[] {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, java.util.Arrays.copyOf(train.labels(), 10));
    }
}

package org.fixres4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.fixres4j.data.FileDataset;
import org.fixres4j.data.ImageFolder;
import org.fixres4j.image.DecodedImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bench eval's generated folder: the same bytes for the same seed, JPEGs of about 500x375 in four classes. */
class EvalFolderTest {
    @TempDir
    Path dir;

    private static List<Path> files(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @Test
    void sameSeedSameBytes() throws IOException {
        Path a = EvalFolder.generate(dir.resolve("a"), 12, 7);
        Path b = EvalFolder.generate(dir.resolve("b"), 12, 7);
        Path c = EvalFolder.generate(dir.resolve("c"), 12, 8);
        List<Path> fa = files(a);
        List<Path> fb = files(b);
        List<Path> fc = files(c);
        assertEquals(12, fa.size());
        assertEquals(fa.stream().map(a::relativize).toList(), fb.stream().map(b::relativize).toList());
        boolean anyDiffers = false;
        for (int i = 0; i < fa.size(); i++) {
            assertArrayEquals(Files.readAllBytes(fa.get(i)), Files.readAllBytes(fb.get(i)), fa.get(i).toString());
            anyDiffers |= !Arrays.equals(Files.readAllBytes(fa.get(i)), Files.readAllBytes(fc.get(i)));
        }
        assertTrue(anyDiffers, "another seed gives other images");
    }

    @Test
    void fourClassesOfPhotoSizedJpegs() throws IOException {
        Path root = EvalFolder.generate(dir.resolve("f"), 9, 0);
        FileDataset ds = ImageFolder.read(root);
        assertEquals(9, ds.size());
        assertEquals(List.of("c0", "c1", "c2", "c3"), ds.classNames());
        for (int i = 0; i < ds.size(); i++) {
            assertTrue(ds.get(i).name().endsWith(".jpg"));
            try (DecodedImage im = ds.get(i).decode()) {
                int w = Math.max(im.width(), im.height());
                int h = Math.min(im.width(), im.height());
                assertTrue(w >= 440 && w <= 560 && h >= 330 && h <= 440, im.width() + "x" + im.height());
                assertEquals(3, im.channels());
            }
        }
        IOException again = assertThrows(IOException.class, () -> EvalFolder.generate(root, 4, 0));
        assertTrue(again.getMessage().contains("exists already"), again.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EvalFolder.generate(dir.resolve("z"), 0, 0));
        assertFalse(Files.exists(dir.resolve("z").resolve("c0")));
    }
}

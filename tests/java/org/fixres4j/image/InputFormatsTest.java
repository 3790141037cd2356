package org.fixres4j.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.fixres4j.TestData;
import org.fixres4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The documented input formats (docs/INPUT-FORMATS.md) on a corpus made with Pillow 9.4
 * (tests/data/decode/formats/make_format_fixtures.py): what is read gives exactly Pillow's {@code convert('RGB')}
 * pixels, what is not is refused with a message naming the file and what it is.
 */
class InputFormatsTest {

    static Stream<Arguments> corpus() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (String line : Files.readAllLines(TestData.path("decode/formats/expected.tsv"), StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                String[] f = line.split("\t");
                out.add(Arguments.of(f[0], f[1], f[2]));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}: {1} {2}")
    @MethodSource("corpus")
    void decodesLikePillowOrRefusesByName(String file, String expect, String text) throws IOException {
        Path path = TestData.path("decode/formats/" + file);
        if (expect.equals("exact")) {
            Npy.Array pillow = Npy.read(TestData.path("decode/formats/" + file + ".pillow_rgb.npy.gz"));
            try (DecodedImage im = ImageDecoder.decode(path)) {
                assertEquals(pillow.shape()[0], im.height(), file + " height");
                assertEquals(pillow.shape()[1], im.width(), file + " width");
                byte[] want = pillow.toByteArray();
                byte[] got = ImageDecoderTest.toRgb(im);
                int differ = 0;
                for (int i = 0; i < want.length; i++) {
                    differ += want[i] != got[i] ? 1 : 0;
                }
                assertEquals(0, differ, file + ": values that differ from Pillow's, of " + want.length);
                assertArrayEquals(want, got, file);
            }
        } else {
            UndecodableImageException e = assertThrows(UndecodableImageException.class,
                    () -> ImageDecoder.decode(path).close(), file);
            assertTrue(e.getMessage().contains(path.toString()), e.getMessage());
            assertTrue(e.getMessage().contains(text), e.getMessage());
        }
    }

    @Test
    void bombsAreRefusedFromTheirHeaderWithoutDecoding() throws IOException {
        Path png = TestData.path("decode/formats/bomb.png");
        assertTrue(Files.size(png) < 100);
        UndecodableImageException e = assertThrows(UndecodableImageException.class, () -> ImageDecoder.decode(png));
        assertTrue(e.getMessage().contains("100000x100000 is 10,000,000,000 pixels, over the limit of 89,478,485"),
                e.getMessage());
        ImageHeader h = ImageHeader.read(Files.readAllBytes(TestData.path("decode/formats/bomb.jpg")), "bomb.jpg");
        assertEquals(30000, h.width());
        assertEquals(30000, h.height());
        ImageHeader w = ImageHeader.read(Files.readAllBytes(TestData.path("decode/formats/bomb.webp")), "w");
        assertEquals(16383L * 16383, w.pixels());
        ImageHeader b = ImageHeader.read(Files.readAllBytes(TestData.path("decode/formats/bomb.bmp")), "b");
        assertEquals(20000, b.height()); // a top-down BMP (negative height)
    }

    @Test
    void thePixelLimitIsInclusiveAndConfigurable() throws IOException {
        Path photo = TestData.path("decode/photo.jpg"); // 160x120 = 19200 pixels
        try (DecodedImage im = ImageDecoder.decode(photo, ImageLimits.ofMaxPixels(19200))) {
            assertEquals(160, im.width());
        }
        UndecodableImageException e = assertThrows(UndecodableImageException.class,
                () -> ImageDecoder.decode(photo, ImageLimits.ofMaxPixels(19199)));
        assertTrue(e.getMessage().contains("160x120 is 19,200 pixels, over the limit of 19,199"), e.getMessage());
        ImageLimits before = ImageLimits.defaults();
        try {
            ImageLimits.setDefaults(ImageLimits.ofMaxPixels(100));
            assertThrows(UndecodableImageException.class, () -> ImageDecoder.decode(photo));
        } finally {
            ImageLimits.setDefaults(before);
        }
        try (DecodedImage im = ImageDecoder.decode(photo)) {
            assertEquals(120, im.height());
        }
        assertEquals(ImageLimits.PILLOW_MAX_IMAGE_PIXELS, ImageLimits.defaults().maxPixels());
    }

    @Test
    void theFileSizeIsBoundedBeforeReading(@TempDir Path dir) throws IOException {
        Path photo = TestData.path("decode/photo.jpg");
        long size = Files.size(photo);
        UndecodableImageException e = assertThrows(UndecodableImageException.class,
                () -> ImageDecoder.decode(photo, new ImageLimits(1_000_000, size - 1)));
        assertTrue(e.getMessage().contains("over the limit of " + (size - 1) + " bytes"), e.getMessage());
        assertTrue(e.getMessage().contains(photo.toString()), e.getMessage());
        assertEquals(size, ImageFiles.read(photo, size).length);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aFifoIsRefusedWithoutBlocking(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("zz.png");
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, p.waitFor());
        IOException e = assertThrows(IOException.class, () -> ImageDecoder.decode(fifo));
        assertTrue(e.getMessage().contains("zz.png") && e.getMessage().contains("not a regular file"),
                e.getMessage());
        IOException d = assertThrows(IOException.class, () -> ImageDecoder.decode(dir));
        assertTrue(d.getMessage().contains("directory"), d.getMessage());
        // a symbolic link to a regular file is read
        Path link = dir.resolve("link.jpg");
        Files.createSymbolicLink(link, TestData.path("decode/photo.jpg").toAbsolutePath());
        try (DecodedImage im = ImageDecoder.decode(link)) {
            assertEquals(160, im.width());
        }
    }

    @Test
    void aPngChunkClaimingMoreThanTheFileIsRefusedBeforeDecoding() throws IOException {
        // OpenCV's PNG reader allocated the claimed length: 4 GB for a mangled 651-byte palette PNG
        byte[] png = Files.readAllBytes(TestData.path("decode/formats/rgb.png"));
        int at = 33; // the chunk after IHDR
        byte[] mangled = png.clone();
        mangled[at] = (byte) 0xFF;
        UndecodableImageException e = assertThrows(UndecodableImageException.class,
                () -> ImageDecoder.decode(mangled, "mangled.png"));
        assertTrue(e.getMessage().contains("mangled.png") && e.getMessage().contains("past the end"), e.getMessage());
        byte[] cut = java.util.Arrays.copyOf(png, png.length - 20); // IDAT cut short
        assertThrows(UndecodableImageException.class, () -> ImageDecoder.decode(cut, "cut.png"));
    }

    @Test
    void truncatedAndMangledHeadersAreUndecodableNotCrashes() {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
        byte[] jpeg = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xC0, 0x00};
        byte[] webp = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X'};
        byte[] bmp = {'B', 'M', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0};
        for (byte[] b : List.of(png, jpeg, webp, bmp)) {
            for (int n = 1; n <= b.length; n++) {
                byte[] cut = java.util.Arrays.copyOf(b, n);
                UndecodableImageException e = assertThrows(UndecodableImageException.class,
                        () -> ImageDecoder.decode(cut, "cut.img"));
                assertTrue(e.getMessage().contains("cut.img"), e.getMessage());
            }
        }
    }
}

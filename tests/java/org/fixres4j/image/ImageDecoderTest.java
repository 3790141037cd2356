package org.fixres4j.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.fixres4j.TestData;
import org.fixres4j.io.Npy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** OpenCV decoding gives exactly Pillow's {@code Image.open(f).convert('RGB')} pixels (fixtures made with Pillow 9.4). */
class ImageDecoderTest {

    /** What Pillow's convert('RGB') makes of the decoded pixels: gray replicated, alpha dropped, RGB order. */
    static byte[] toRgb(DecodedImage im) {
        byte[] px = im.toBytes();
        int n = im.width() * im.height();
        int c = im.channels();
        byte[] rgb = new byte[3 * n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 3; k++) {
                int src = c == 1 ? 0 : (im.order() == DecodedImage.ChannelOrder.BGR ? 2 - k : k);
                rgb[3 * i + k] = px[c * i + src];
            }
        }
        return rgb;
    }

    private static void assertPillowPixels(String file, String expected) throws IOException {
        Npy.Array pillow = Npy.read(TestData.path("decode/" + expected));
        try (DecodedImage im = ImageDecoder.decode(TestData.path("decode/" + file))) {
            assertEquals(pillow.shape()[0], im.height(), file + " height");
            assertEquals(pillow.shape()[1], im.width(), file + " width");
            assertArrayEquals(pillow.toByteArray(), toRgb(im), file + ": pixels differ from Pillow's");
        }
    }

    @Test
    void jpegPhotoDecodesToPillowsPixels() throws IOException {
        assertPillowPixels("photo.jpg", "photo.pillow.npy.gz");
    }

    @Test
    void exifOrientationIsIgnoredLikePillow() throws IOException {
        // the tag says "rotate 90": Pillow (and timm) do not, so the image keeps its stored 160x120 size
        assertPillowPixels("exif_rotate90.jpg", "exif_rotate90.pillow_rgb.npy.gz");
        try (DecodedImage im = ImageDecoder.decode(TestData.path("decode/exif_rotate90.jpg"))) {
            assertEquals(160, im.width());
            assertEquals(120, im.height());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gray16", "rgb16", "palette", "palette_alpha", "gray_alpha"})
    void pngModesConvertLikePillow(String name) throws IOException {
        assertPillowPixels(name + ".png", name + ".pillow_rgb.npy.gz");
    }

    @Test
    void grayStaysOneChannelAndAlphaIsKeptForTheKernel() throws IOException {
        try (DecodedImage gray = ImageDecoder.decode(TestData.path("decode/gray16.png"));
             DecodedImage la = ImageDecoder.decode(TestData.path("decode/gray_alpha.png"))) {
            assertEquals(1, gray.channels());
            assertEquals(4, la.channels());
        }
    }

    @Test
    void undecodableBytesNameTheFile(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path bad = dir.resolve("not-an-image.jpg");
        Files.write(bad, "this is text, not a JPEG".getBytes());
        UndecodableImageException e = assertThrows(UndecodableImageException.class, () -> ImageDecoder.decode(bad));
        assertTrue(e.getMessage().contains("not-an-image.jpg"), e.getMessage());

        Path truncated = dir.resolve("truncated.jpg");
        byte[] jpeg = Files.readAllBytes(TestData.path("decode/photo.jpg"));
        Files.write(truncated, java.util.Arrays.copyOf(jpeg, 200));
        IOException t = assertThrows(IOException.class, () -> ImageDecoder.decode(truncated));
        assertTrue(t.getMessage().contains("truncated.jpg"), t.getMessage());

        Path empty = dir.resolve("empty.png");
        Files.write(empty, new byte[0]);
        IOException em = assertThrows(UndecodableImageException.class, () -> ImageDecoder.decode(empty));
        assertTrue(em.getMessage().contains("empty.png"), em.getMessage());

        IOException missing = assertThrows(IOException.class, () -> ImageDecoder.decode(dir.resolve("nope.jpg")));
        assertTrue(missing.getMessage().contains("nope.jpg"), missing.getMessage());
    }
}

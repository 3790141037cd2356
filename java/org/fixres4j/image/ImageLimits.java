package org.fixres4j.image;

import java.util.Objects;

/**
 * How large an image the decoder accepts, checked before any pixel is decoded: the pixel count read from the file's
 * header, and the file's size read into memory.
 *
 * <p>The rule: an image of more than {@link #maxPixels()} pixels is refused (an {@link UndecodableImageException}
 * naming the file, its size and the limit). The default is Pillow's {@code Image.MAX_IMAGE_PIXELS},
 * {@value #PILLOW_MAX_IMAGE_PIXELS} (a 9459x9459 image, 256 MiB of RGB). Pillow only warns between that and twice
 * that and refuses above twice; we refuse from the first threshold, as a 4-channel image of that size already takes
 * 358 MB per decoding thread. A file larger than {@link #maxFileBytes()} is refused without being read: by default
 * 4 bytes a pixel of the pixel limit plus 1 MiB, the size of an uncompressed 32-bit BMP at the limit, which no
 * compressed JPEG/PNG/WebP of an accepted size comes near.
 *
 * <p>The process-wide default ({@link #defaults()}) is what {@link ImageDecoder#decode(java.nio.file.Path)} and so
 * every dataset use; the CLI sets it from {@code --max-pixels}.
 *
 * @param maxPixels largest width x height accepted, &gt;= 1
 * @param maxFileBytes largest file read into memory, &gt;= 1
 */
public record ImageLimits(long maxPixels, long maxFileBytes) {
    /** Pillow's {@code Image.MAX_IMAGE_PIXELS} (1024 * 1024 * 1024 / 4 / 3). */
    public static final long PILLOW_MAX_IMAGE_PIXELS = 89_478_485L;

    /** Java arrays stop short of 2 GiB. */
    private static final long ARRAY_LIMIT = Integer.MAX_VALUE - 16L;

    private static volatile ImageLimits defaults = ofMaxPixels(PILLOW_MAX_IMAGE_PIXELS);

    /** Checks the limits are positive and the file limit fits a Java array. */
    public ImageLimits {
        if (maxPixels < 1) {
            throw new IllegalArgumentException("the pixel limit must be >= 1, got " + maxPixels);
        }
        if (maxFileBytes < 1 || maxFileBytes > ARRAY_LIMIT) {
            throw new IllegalArgumentException("the file size limit must be in 1.." + ARRAY_LIMIT + ", got "
                    + maxFileBytes);
        }
    }

    /** A pixel limit, with the file size limit derived from it (4 bytes a pixel + 1 MiB, at most ~2 GiB). */
    public static ImageLimits ofMaxPixels(long maxPixels) {
        if (maxPixels < 1) {
            throw new IllegalArgumentException("the pixel limit must be >= 1, got " + maxPixels);
        }
        long bytes = maxPixels > (ARRAY_LIMIT - (1 << 20)) / 4 ? ARRAY_LIMIT : 4 * maxPixels + (1 << 20);
        return new ImageLimits(maxPixels, bytes);
    }

    /** The process-wide limits (initially {@code ofMaxPixels(PILLOW_MAX_IMAGE_PIXELS)}). */
    public static ImageLimits defaults() {
        return defaults;
    }

    /** Replaces the process-wide limits (the CLI's {@code --max-pixels}). */
    public static void setDefaults(ImageLimits limits) {
        defaults = Objects.requireNonNull(limits, "limits");
    }
}

package org.fixres4j.data;

import java.util.Objects;

import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.DecodedImage.ChannelOrder;

/**
 * Raw pixels held in memory: {@code height} rows of {@code width * channels} bytes (uint8 HWC, tightly
 * packed) starting at {@code offset} of {@code data}. The array is shared, not copied (many samples of an in-memory
 * dataset point into one array): callers must not modify it.
 *
 * @param data the backing array (shared)
 * @param offset index of the first byte of this image in {@code data}
 * @param width image width, &gt; 0
 * @param height image height, &gt; 0
 * @param channels 1 (gray), 3 or 4
 * @param order channel order of colour pixels (ignored for 1 channel)
 */
public record Pixels(byte[] data, int offset, int width, int height, int channels, ChannelOrder order) {

    /** Checks that the image lies inside {@code data}. */
    public Pixels {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(order, "order");
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (channels != 1 && channels != 3 && channels != 4) {
            throw new IllegalArgumentException("channels must be 1, 3 or 4, got " + channels);
        }
        long bytes = (long) width * height * channels;
        if (offset < 0 || offset + bytes > data.length) {
            throw new IllegalArgumentException("image of " + bytes + " bytes at offset " + offset
                    + " does not fit in an array of " + data.length + " bytes");
        }
    }

    /** Bytes of this image. */
    public int byteCount() {
        return width * height * channels;
    }

    /** A new {@link DecodedImage} holding a copy of these pixels (the caller closes it). */
    public DecodedImage toImage(String name) {
        byte[] copy = new byte[byteCount()];
        System.arraycopy(data, offset, copy, 0, copy.length);
        return DecodedImage.ofPixels(name, copy, width, height, channels, order);
    }
}

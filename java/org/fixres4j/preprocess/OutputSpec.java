package org.fixres4j.preprocess;

import java.util.Objects;

import org.fixres4j.image.DecodedImage.ChannelOrder;
import org.fixres4j.transform.Normalization;

/**
 * How a batch is written: sample size, layout, element type, channel order and normalisation. Every sample of a
 * batch has this size; values are {@code ((float) v / 255 - mean[c]) / std[c]} in float32 (torchvision's ToTensor +
 * Normalize, bit for bit), rounded to nearest-even for float16/bfloat16, or raw pixel values for UINT8.
 */
public record OutputSpec(int width, int height, Layout layout, OutputType type, ChannelOrder order,
                         Normalization normalization) {
    public OutputSpec {
        if (width <= 0 || height <= 0 || width > (1 << 16) || height > (1 << 16)) {
            throw new IllegalArgumentException("output size must be in 1..65536, got " + width + "x" + height);
        }
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(order, "order");
        Objects.requireNonNull(normalization, "normalization");
    }

    /** Float32 NCHW RGB, the network input of timm and torchvision. */
    public static OutputSpec nchwFloat(int width, int height, Normalization normalization) {
        return new OutputSpec(width, height, Layout.NCHW, OutputType.FLOAT32, ChannelOrder.RGB, normalization);
    }

    /** Raw RGB pixels, NHWC uint8 (what Pillow would hold). */
    public static OutputSpec rgbBytes(int width, int height) {
        return new OutputSpec(width, height, Layout.NHWC, OutputType.UINT8, ChannelOrder.RGB,
                Normalization.IMAGENET);
    }

    /** Elements of one sample (3 x height x width). */
    public long sampleElements() {
        return 3L * width * height;
    }

    /** Bytes of one sample. */
    public long sampleBytes() {
        return sampleElements() * type.bytes;
    }

    /** The shape of a batch of {@code n} samples in this layout. */
    public long[] shape(long n) {
        return layout == Layout.NCHW ? new long[] {n, 3, height, width} : new long[] {n, height, width, 3};
    }

    int[] nativeInts() {
        return new int[] {layout.code, type.code, order.code, width, height};
    }
}

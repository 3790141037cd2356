package org.fixres4j.model;

/**
 * Convolution padding rules of timm ({@code timm/layers/padding.py}).
 *
 * <p>TF 'same' padding: a convolution that can be padded statically (stride 1 and an even {@code dilation * (k - 1)})
 * uses ordinary symmetric padding {@code (k - 1) / 2 * dilation}; any other (the stem and every stride-2 depthwise
 * convolution) pads its input at every call, per spatial dimension {@code pad = max((ceil(x / s) - 1) * s +
 * (k - 1) * d + 1 - x, 0)}, {@code pad / 2} before and the rest after (the extra pixel goes to the right / bottom),
 * then convolves without padding; the output size is {@code ceil(x / s)}. Native (PyTorch-style) padding is
 * {@code ((s - 1) + d * (k - 1)) / 2} on both sides.
 */
public final class Padding {
    private Padding() {}

    /** timm's {@code get_padding}: the symmetric padding of native EfficientNets. */
    public static int symmetric(int kernel, int stride, int dilation) {
        return ((stride - 1) + dilation * (kernel - 1)) / 2;
    }

    /** timm's {@code is_static_pad}: whether TF 'same' padding can be done by the convolution itself. */
    public static boolean isStaticSame(int kernel, int stride, int dilation) {
        return stride == 1 && (dilation * (kernel - 1)) % 2 == 0;
    }

    /** timm's {@code get_same_padding}: the total 'same' padding of one dimension of size {@code x}. */
    public static int sameTotal(int x, int kernel, int stride, int dilation) {
        int out = (x + stride - 1) / stride;
        return Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - x, 0);
    }

    /**
     * The dynamic 'same' padding of an input of {@code height x width}, in {@code constant_pad_nd}'s order
     * {@code {left, right, top, bottom}}.
     */
    public static long[] same(int height, int width, int kernel, int stride, int dilation) {
        int ph = sameTotal(height, kernel, stride, dilation);
        int pw = sameTotal(width, kernel, stride, dilation);
        return new long[] {pw / 2, pw - pw / 2, ph / 2, ph - ph / 2};
    }
}

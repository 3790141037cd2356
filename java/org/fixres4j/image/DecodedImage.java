package org.fixres4j.image;

import org.bytedeco.opencv.opencv_core.Mat;

/**
 * A decoded image in native memory: uint8, HWC, 1 (gray), 3 (BGR) or 4 (BGRA) channels, as OpenCV holds it. Owns
 * its pixels: {@link #close()} frees them. The preprocessing kernel reads it in place (any row stride), replicating
 * gray and dropping alpha exactly like Pillow's {@code convert('RGB')}.
 */
public final class DecodedImage implements AutoCloseable {
    /** Channel order of the colour channels in memory. */
    public enum ChannelOrder {
        RGB(0),
        BGR(1);

        /** The fx order code (kernels.h). */
        public final int code;

        ChannelOrder(int code) {
            this.code = code;
        }
    }

    private final String name;
    private Mat mat;
    private final int width;
    private final int height;
    private final int channels;
    private final ChannelOrder order;
    private final long rowStride;

    DecodedImage(String name, Mat mat, ChannelOrder order) {
        this.name = name;
        this.mat = mat;
        this.width = mat.cols();
        this.height = mat.rows();
        this.channels = mat.channels();
        this.order = order;
        this.rowStride = mat.step();
        if (mat.depth() != org.bytedeco.opencv.global.opencv_core.CV_8U) {
            throw new IllegalArgumentException("DecodedImage needs uint8 pixels, got OpenCV depth " + mat.depth());
        }
        if (channels != 1 && channels != 3 && channels != 4) {
            throw new IllegalArgumentException("DecodedImage needs 1, 3 or 4 channels, got " + channels);
        }
    }

    /**
     * Wraps a copy of uint8 HWC pixels (tightly packed, {@code width * channels} bytes a row).
     *
     * @param order channel order of the colour channels (ignored for 1 channel)
     */
    public static DecodedImage ofPixels(String name, byte[] pixels, int width, int height, int channels,
                                        ChannelOrder order) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (channels != 1 && channels != 3 && channels != 4) {
            throw new IllegalArgumentException("channels must be 1, 3 or 4, got " + channels);
        }
        if ((long) width * height * channels != pixels.length) {
            throw new IllegalArgumentException("pixels has " + pixels.length + " bytes, expected "
                    + (long) width * height * channels + " for " + width + "x" + height + "x" + channels);
        }
        Mat mat = new Mat(height, width, org.bytedeco.opencv.global.opencv_core.CV_8UC(channels));
        mat.data().put(pixels);
        return new DecodedImage(name, mat, order);
    }

    /** The file name or label this image came from (for error messages). */
    public String name() {
        return name;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** 1, 3 or 4. */
    public int channels() {
        return channels;
    }

    public ChannelOrder order() {
        return order;
    }

    /** Bytes from one row to the next. */
    public long rowStride() {
        return rowStride;
    }

    /** Address of the top-left pixel; valid until {@link #close()}. */
    public long address() {
        return mat().data().address();
    }

    /** The underlying OpenCV matrix (owned by this image). */
    public Mat mat() {
        Mat m = mat;
        if (m == null) {
            throw new IllegalStateException("image '" + name + "' was closed");
        }
        return m;
    }

    /** A copy of the pixels, HWC, tightly packed, in this image's channel order. */
    public byte[] toBytes() {
        byte[] out = new byte[width * height * channels];
        Mat m = mat();
        int row = width * channels;
        for (int y = 0; y < height; y++) {
            m.data().position(y * rowStride).get(out, y * row, row);
        }
        m.data().position(0);
        return out;
    }

    @Override
    public void close() {
        Mat m = mat;
        mat = null;
        if (m != null) {
            m.close();
        }
    }

    @Override
    public String toString() {
        return name + " (" + width + "x" + height + "x" + channels + " " + order + ")";
    }
}

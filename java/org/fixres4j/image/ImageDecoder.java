package org.fixres4j.image;

import static org.bytedeco.opencv.global.opencv_core.CV_16U;
import static org.bytedeco.opencv.global.opencv_core.CV_8U;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC1;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_UNCHANGED;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imdecode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * Decodes JPEG, PNG, WebP and BMP with OpenCV (libjpeg-turbo, libpng, libwebp) into {@link DecodedImage}s that the
 * preprocessing kernel turns into exactly what Pillow's {@code Image.open(f).convert('RGB')} would give:
 * <ul>
 *   <li>no EXIF rotation (Pillow, and so timm, ignore the orientation tag: {@code IMREAD_UNCHANGED} does too);</li>
 *   <li>gray stays 1 channel (the kernel replicates it), alpha stays (the kernel drops it), palettes are expanded;</li>
 *   <li>16-bit gray is clamped to 255 (Pillow's {@code I -> L}), 16-bit colour keeps the high byte (Pillow's
 *       {@code RGB;16B} unpacking);</li>
 *   <li>CMYK and YCCK JPEGs are converted with Pillow's integer formula ({@link CmykJpeg}), not libjpeg's.</li>
 * </ul>
 *
 * <p>The contract, for any bytes: an image comes back, or an {@link IOException} (usually an
 * {@link UndecodableImageException}) whose message names the file; never another exception, never a hang. Before
 * any pixel is decoded, the header is read ({@link ImageHeader}): formats and variants outside the list above are
 * refused by name, and images of more than {@link ImageLimits#maxPixels()} pixels are refused without being decoded
 * (decompression bombs). Files are read through {@link ImageFiles}: regular files only, up to
 * {@link ImageLimits#maxFileBytes()}. The limits are {@link ImageLimits#defaults()} unless given.
 *
 * <p>Thread-safe: decoding holds no shared state.
 */
public final class ImageDecoder {
    private ImageDecoder() {}

    /** Reads and decodes a file with the process-wide {@link ImageLimits#defaults()}; the exception names the file. */
    public static DecodedImage decode(Path file) throws IOException {
        return decode(file, ImageLimits.defaults());
    }

    /** Reads and decodes a file within {@code limits}; the exception names the file. */
    public static DecodedImage decode(Path file, ImageLimits limits) throws IOException {
        byte[] bytes = ImageFiles.read(file, limits.maxFileBytes());
        return decode(bytes, file.toString(), limits);
    }

    /** Decodes encoded bytes with the {@link ImageLimits#defaults()}; {@code name} appears in error messages. */
    public static DecodedImage decode(byte[] bytes, String name) throws UndecodableImageException {
        return decode(bytes, name, ImageLimits.defaults());
    }

    /** Decodes encoded bytes within {@code limits}; {@code name} (a file name) appears in error messages. */
    public static DecodedImage decode(byte[] bytes, String name, ImageLimits limits)
            throws UndecodableImageException {
        if (bytes.length == 0) {
            throw new UndecodableImageException("cannot decode image " + name + ": the file is empty");
        }
        if (bytes.length > limits.maxFileBytes()) {
            throw new UndecodableImageException("cannot decode image " + name + ": " + bytes.length
                    + " bytes, over the limit of " + limits.maxFileBytes() + " bytes");
        }
        ImageHeader header = ImageHeader.read(bytes, name);
        checkPixels(name, header.width(), header.height(), limits);
        if (header.format() == ImageHeader.Format.JPEG && header.components() == 4) {
            try {
                return CmykJpeg.decode(bytes, name, header, header.ycck());
            } catch (RuntimeException e) {
                throw new UndecodableImageException("cannot decode image " + name + " (" + bytes.length
                        + " bytes, CMYK JPEG): the decoder failed: " + firstLine(e));
            }
        }
        if (header.format() == ImageHeader.Format.PNG) {
            byte[] ended = ImageHeader.pngWithEnd(bytes);
            if (ended != null) {
                bytes = ended;
            }
        }
        OpenCv.ensureLoaded();
        Mat decoded;
        try (BytePointer data = new BytePointer(bytes); Mat buffer = new Mat(1, bytes.length, CV_8UC1, data)) {
            decoded = imdecode(buffer, IMREAD_UNCHANGED);
        } catch (RuntimeException e) { // an OpenCV assertion (cv::Exception) on bytes its decoder rejects
            throw new UndecodableImageException("cannot decode image " + name + " (" + bytes.length + " bytes, "
                    + header.format() + "): the decoder failed: " + firstLine(e));
        }
        if (decoded == null || decoded.empty()) {
            if (decoded != null) {
                decoded.close();
            }
            throw new UndecodableImageException("cannot decode image " + name + " (" + bytes.length
                    + " bytes): truncated or corrupt " + header.format() + " data");
        }
        try {
            checkPixels(name, decoded.cols(), decoded.rows(), limits);
            Mat eight = toEightBit(decoded, name);
            if (eight != decoded) {
                decoded.close();
            }
            return new DecodedImage(name, eight, DecodedImage.ChannelOrder.BGR);
        } catch (RuntimeException | UndecodableImageException e) {
            decoded.close();
            throw e;
        }
    }

    private static void checkPixels(String name, long width, long height, ImageLimits limits)
            throws UndecodableImageException {
        if (width * height > limits.maxPixels()) {
            throw new UndecodableImageException(String.format(java.util.Locale.ROOT,
                    "cannot decode image %s: %dx%d is %,d pixels, over the limit of %,d (--max-pixels); "
                            + "not decoded", name, width, height, width * height, limits.maxPixels()));
        }
    }

    private static String firstLine(RuntimeException e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage().strip();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private static Mat toEightBit(Mat m, String name) throws UndecodableImageException {
        int channels = m.channels();
        if (channels != 1 && channels != 3 && channels != 4) {
            throw new UndecodableImageException("cannot decode image " + name + ": " + channels
                    + " channels (expected gray, colour or colour with alpha)");
        }
        if (m.depth() == CV_8U) {
            return m;
        }
        if (m.depth() != CV_16U) {
            throw new UndecodableImageException("cannot decode image " + name + ": unsupported sample depth "
                    + "(OpenCV depth " + m.depth() + "); expected 8 or 16 bits");
        }
        int rows = m.rows();
        int cols = m.cols();
        int n = cols * channels;
        Mat out = new Mat(rows, cols, CV_8UC(channels));
        BytePointer src = m.data();
        BytePointer dst = out.data();
        byte[] rowIn = new byte[n * 2];
        byte[] rowOut = new byte[n];
        for (int y = 0; y < rows; y++) {
            src.position((long) y * m.step()).get(rowIn);
            ByteBuffer b = ByteBuffer.wrap(rowIn).order(ByteOrder.nativeOrder());
            for (int i = 0; i < n; i++) {
                int v = b.getShort(2 * i) & 0xFFFF;
                rowOut[i] = (byte) (channels == 1 ? Math.min(v, 255) : v >>> 8);
            }
            dst.position((long) y * out.step()).put(rowOut);
        }
        src.position(0);
        dst.position(0);
        return out;
    }
}

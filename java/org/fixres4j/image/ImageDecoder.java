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
import java.nio.file.Files;
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
 *       {@code RGB;16B} unpacking).</li>
 * </ul>
 * Thread-safe: decoding holds no shared state.
 */
public final class ImageDecoder {
    private ImageDecoder() {}

    /** Reads and decodes a file; the exception names the file. */
    public static DecodedImage decode(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IOException("cannot read image " + file + ": " + e.getMessage(), e);
        }
        return decode(bytes, file.toString());
    }

    /** Decodes encoded bytes; {@code name} (a file name) appears in error messages. */
    public static DecodedImage decode(byte[] bytes, String name) throws UndecodableImageException {
        if (bytes.length == 0) {
            throw new UndecodableImageException("cannot decode image " + name + ": the file is empty");
        }
        OpenCv.ensureLoaded();
        Mat decoded;
        try (BytePointer data = new BytePointer(bytes); Mat buffer = new Mat(1, bytes.length, CV_8UC1, data)) {
            decoded = imdecode(buffer, IMREAD_UNCHANGED);
        }
        if (decoded == null || decoded.empty()) {
            if (decoded != null) {
                decoded.close();
            }
            throw new UndecodableImageException("cannot decode image " + name + " (" + bytes.length
                    + " bytes): not a JPEG, PNG, WebP or BMP image, or truncated/corrupt");
        }
        try {
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

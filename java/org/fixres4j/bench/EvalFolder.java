package org.fixres4j.bench;

import static org.bytedeco.opencv.global.opencv_core.flip;
import static org.bytedeco.opencv.global.opencv_core.merge;
import static org.bytedeco.opencv.global.opencv_core.split;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMWRITE_JPEG_QUALITY;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imdecode;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imencode;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_COLOR;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_AREA;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_LINEAR;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.MatVector;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Size;

/**
 * The image folder {@code fixres bench eval} runs on when it is given none: {@code count} JPEGs (quality 90) of
 * about 500x375 (some portrait) in four class folders, {@code c0 .. c3} (image {@code i} in {@code c(i % 4)}), each a
 * seeded variation of the bundled 500x375 sample photograph: a crop of 60-100% of each side, a resize to 440-560 by
 * 330-420 (a portrait one in eight), a horizontal flip half the time, and a per-channel gain and offset. The same
 * seed and count give the same bytes (java.util.Random and OpenCV on one machine).
 */
public final class EvalFolder {
    /** The class folders. */
    public static final int CLASSES = 4;
    private static final String SOURCE = "/org/fixres4j/samples/coffee-500x375.jpg";

    private EvalFolder() {}

    /**
     * Writes the folder under {@code dir} (created; it must not hold class folders yet).
     *
     * @return {@code dir}
     */
    public static Path generate(Path dir, int count, long seed) throws IOException {
        if (count < 1 || count > 100_000) {
            throw new IllegalArgumentException("image count must be in 1..100000, got " + count);
        }
        Files.createDirectories(dir);
        for (int c = 0; c < CLASSES; c++) {
            Path cls = dir.resolve("c" + c);
            if (Files.exists(cls)) {
                throw new IOException(cls + " exists already: give an empty or new folder");
            }
        }
        byte[] jpeg;
        try (InputStream in = EvalFolder.class.getResourceAsStream(SOURCE)) {
            if (in == null) {
                throw new IOException("resource " + SOURCE + " is missing from the jar");
            }
            jpeg = in.readAllBytes();
        }
        for (int c = 0; c < CLASSES; c++) {
            Files.createDirectories(dir.resolve("c" + c));
        }
        try (BytePointer bytes = new BytePointer(jpeg);
             Mat encoded = new Mat(1, jpeg.length, org.bytedeco.opencv.global.opencv_core.CV_8UC1, bytes);
             Mat photo = imdecode(encoded, IMREAD_COLOR)) {
            if (photo.empty()) {
                throw new IOException("cannot decode " + SOURCE);
            }
            for (int i = 0; i < count; i++) {
                byte[] out = variation(photo, new Random(seed * 1_000_003L + i));
                Files.write(dir.resolve(String.format(Locale.ROOT, "c%d/img_%05d.jpg", i % CLASSES, i)), out);
            }
        }
        return dir;
    }

    /** One seeded variation of {@code photo} (BGR), JPEG-encoded. */
    static byte[] variation(Mat photo, Random rnd) throws IOException {
        int w = photo.cols();
        int h = photo.rows();
        int cw = (int) Math.round(w * (0.6 + 0.4 * rnd.nextDouble()));
        int ch = (int) Math.round(h * (0.6 + 0.4 * rnd.nextDouble()));
        int x0 = rnd.nextInt(w - cw + 1);
        int y0 = rnd.nextInt(h - ch + 1);
        int tw = 440 + rnd.nextInt(121);
        int th = 330 + rnd.nextInt(91);
        if (rnd.nextInt(8) == 0) {
            int t = tw;
            tw = th;
            th = t;
        }
        boolean mirror = rnd.nextBoolean();
        double[] gain = new double[3];
        double[] offset = new double[3];
        for (int c = 0; c < 3; c++) {
            gain[c] = 0.8 + 0.4 * rnd.nextDouble();
            offset[c] = -20 + 40 * rnd.nextDouble();
        }
        try (Rect box = new Rect(x0, y0, cw, ch);
             Mat crop = new Mat(photo, box);
             Mat sized = new Mat();
             Size size = new Size(tw, th);
             MatVector planes = new MatVector();
             Mat shifted = new Mat();
             BytePointer buf = new BytePointer();
             IntPointer params = new IntPointer(IMWRITE_JPEG_QUALITY, 90)) {
            resize(crop, sized, size, 0, 0, tw * th < cw * ch ? INTER_AREA : INTER_LINEAR);
            if (mirror) {
                flip(sized, sized, 1);
            }
            split(sized, planes);
            for (int c = 0; c < 3; c++) {
                Mat p = planes.get(c);
                p.convertTo(p, -1, gain[c], offset[c]);
            }
            merge(planes, shifted);
            if (!imencode(".jpg", shifted, buf, params)) {
                throw new IOException("OpenCV could not encode a JPEG");
            }
            byte[] out = new byte[(int) buf.limit()];
            buf.get(out);
            return out;
        }
    }
}

package org.fixres4j.bench;

import static org.bytedeco.opencv.global.opencv_core.CV_32F;
import static org.bytedeco.opencv.global.opencv_core.CV_32FC1;
import static org.bytedeco.opencv.global.opencv_core.split;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGR2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.MatVector;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Size;

/**
 * The baseline of {@code fixres bench preprocess}: the nearest OpenCV equivalent of timm's eval transform, as an app
 * would chain it through JavaCPP: {@code resize} (shorter side to floor(res / crop_pct)), a crop view, {@code cvtColor}
 * BGR to RGB, {@code split} into planes, and {@code convertTo} float32 with the per-channel normalisation written
 * straight into the output planes. OpenCV's resize does not antialias except with INTER_AREA, so its pixels differ
 * from Pillow's; the point is the cost. Not thread-safe: one per thread.
 */
public final class OpenCvChain implements AutoCloseable {
    private final int res;
    private final int interpolation;
    private final float[] mean;
    private final float[] std;
    private final Mat resized = new Mat();
    private final Mat rgb = new Mat();
    private final MatVector planes = new MatVector();

    /**
     * @param interpolation an OpenCV flag, e.g. {@code INTER_AREA} (antialiased downscale) or {@code INTER_CUBIC}
     */
    public OpenCvChain(int res, int interpolation, float[] mean, float[] std) {
        this.res = res;
        this.interpolation = interpolation;
        this.mean = mean.clone();
        this.std = std.clone();
    }

    /** Transforms a BGR image into {@code 3 * res * res} floats (NCHW, RGB, normalised) at {@code out}. */
    public void run(Mat bgr, FloatPointer out, double cropPct) {
        int w = bgr.cols();
        int h = bgr.rows();
        int shortTarget = (int) Math.floor(res / cropPct);
        int rw;
        int rh;
        if (w <= h) {
            rw = shortTarget;
            rh = (int) (shortTarget * (double) h / w);
        } else {
            rh = shortTarget;
            rw = (int) (shortTarget * (double) w / h);
        }
        try (Size size = new Size(rw, rh)) {
            resize(bgr, resized, size, 0, 0, interpolation);
        }
        int top = (int) Math.rint((rh - res) / 2.0);
        int left = (int) Math.rint((rw - res) / 2.0);
        try (Rect box = new Rect(left, top, res, res); Mat crop = new Mat(resized, box)) {
            cvtColor(crop, rgb, COLOR_BGR2RGB);
        }
        split(rgb, planes);
        long plane = (long) res * res;
        for (int c = 0; c < 3; c++) {
            // a view of plane c: never close it (closing a JavaCPP view releases the memory it was made from)
            FloatPointer dst = out.getPointer(c * plane);
            try (Mat target = new Mat(res, res, CV_32FC1, dst)) {
                planes.get(c).convertTo(target, CV_32F, 1.0 / (255.0 * std[c]), -mean[c] / std[c]);
            }
        }
    }

    @Override
    public void close() {
        resized.close();
        rgb.close();
        planes.close();
    }
}

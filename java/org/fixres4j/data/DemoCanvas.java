package org.fixres4j.data;

import java.util.List;
import java.util.Objects;
import java.util.random.RandomGenerator;

import org.fixres4j.image.DecodedImage.ChannelOrder;

/**
 * Gray items (Fashion-MNIST's 28x28 images) placed on a larger black canvas at a random scale and position, so that
 * objects do not fill the frame, as in ImageNet photographs: the item's side is {@code U(scaleMin, scaleMax)} times
 * its native size (bilinear resampling, area-weighted when shrinking), its centre within the middle
 * {@code 1 - margin} of the free space. Rendered on demand from (seed, split, index): no memory, the same on every
 * machine. Labels and class names are the base dataset's.
 */
public final class DemoCanvas implements Dataset {
    private final InMemoryDataset base;
    private final int canvas;
    private final double scaleMin;
    private final double scaleMax;
    private final long seed;
    private final String split;

    /**
     * @param base 1-channel images (e.g. a Fashion-MNIST split)
     * @param canvas the canvas side in pixels
     * @param scaleMin the smallest item scale (relative to its native size)
     * @param scaleMax the largest
     * @param seed the placement seed
     * @param split a name mixed into the seed
     */
    public DemoCanvas(InMemoryDataset base, int canvas, double scaleMin, double scaleMax, long seed, String split) {
        this.base = Objects.requireNonNull(base);
        if (base.channels() != 1) {
            throw new IllegalArgumentException("the canvas takes 1-channel images");
        }
        if (!(scaleMin > 0 && scaleMin <= scaleMax)
                || Math.ceil(Math.max(base.width(), base.height()) * scaleMax) > canvas) {
            throw new IllegalArgumentException("items of scale " + scaleMin + ".." + scaleMax + " do not fit a "
                    + canvas + " px canvas");
        }
        this.canvas = canvas;
        this.scaleMin = scaleMin;
        this.scaleMax = scaleMax;
        this.seed = seed;
        this.split = Objects.requireNonNull(split);
    }

    @Override
    public int size() {
        return base.size();
    }

    @Override
    public int label(int index) {
        return base.label(index);
    }

    @Override
    public int[] labels() {
        return base.labels();
    }

    @Override
    public Sample get(int index) {
        Sample s = base.get(index);
        Pixels p = s.pixels();
        RandomGenerator rng = new Seeds.SplitMix64(Seeds.hash(seed, split.hashCode(), index, 3));
        double scale = scaleMin + (scaleMax - scaleMin) * rng.nextDouble();
        int w = Math.max(1, (int) Math.round(p.width() * scale));
        int h = Math.max(1, (int) Math.round(p.height() * scale));
        double cx = (canvas - w) * (0.5 + 0.4 * (rng.nextDouble() - 0.5));
        double cy = (canvas - h) * (0.5 + 0.4 * (rng.nextDouble() - 0.5));
        int x0 = (int) Math.round(cx);
        int y0 = (int) Math.round(cy);
        byte[] out = new byte[canvas * canvas];
        byte[] item = resample(p.data(), p.offset(), p.width(), p.height(), w, h);
        for (int y = 0; y < h; y++) {
            System.arraycopy(item, y * w, out, (y0 + y) * canvas + x0, w);
        }
        return Sample.ofPixels(s.name().replace("fashion-mnist/", "fashion-mnist-canvas/"),
                new Pixels(out, 0, canvas, canvas, 1, ChannelOrder.RGB), s.label());
    }

    /** Separable triangle-filter resampling (bilinear; its support widens with the shrink factor). */
    static byte[] resample(byte[] src, int off, int sw, int sh, int dw, int dh) {
        float[] tmp = new float[sh * dw];
        float[][] wx = weights(sw, dw);
        int[] x0 = starts(sw, dw);
        for (int y = 0; y < sh; y++) {
            for (int x = 0; x < dw; x++) {
                float acc = 0;
                float[] k = wx[x];
                for (int i = 0; i < k.length; i++) {
                    acc += k[i] * (src[off + y * sw + x0[x] + i] & 0xFF);
                }
                tmp[y * dw + x] = acc;
            }
        }
        float[][] wy = weights(sh, dh);
        int[] y0 = starts(sh, dh);
        byte[] out = new byte[dw * dh];
        for (int y = 0; y < dh; y++) {
            float[] k = wy[y];
            for (int x = 0; x < dw; x++) {
                float acc = 0;
                for (int i = 0; i < k.length; i++) {
                    acc += k[i] * tmp[(y0[y] + i) * dw + x];
                }
                out[y * dw + x] = (byte) Math.max(0, Math.min(255, Math.round(acc)));
            }
        }
        return out;
    }

    private static int[] starts(int in, int out) {
        double scale = (double) in / out;
        double support = Math.max(1.0, scale);
        int[] s = new int[out];
        for (int i = 0; i < out; i++) {
            double center = (i + 0.5) * scale;
            s[i] = Math.max(0, (int) Math.floor(center - support + 0.5));
        }
        return s;
    }

    private static float[][] weights(int in, int out) {
        double scale = (double) in / out;
        double f = Math.max(1.0, scale);
        double support = f;
        float[][] w = new float[out][];
        int[] st = starts(in, out);
        for (int i = 0; i < out; i++) {
            double center = (i + 0.5) * scale;
            int xmax = Math.min(in, (int) Math.floor(center + support + 0.5));
            int n = Math.max(1, xmax - st[i]);
            double[] k = new double[n];
            double sum = 0;
            for (int j = 0; j < n; j++) {
                double d = Math.abs((st[i] + j + 0.5 - center) / f);
                k[j] = Math.max(0, 1 - d);
                sum += k[j];
            }
            w[i] = new float[n];
            for (int j = 0; j < n; j++) {
                w[i][j] = (float) (sum > 0 ? k[j] / sum : 1.0 / n);
            }
        }
        return w;
    }

    @Override
    public List<String> classNames() {
        return base.classNames();
    }

    @Override
    public String describe() {
        return "fashion_mnist_canvas(" + base.describe() + " on a " + canvas + "x" + canvas + " black canvas, item "
                + "scale " + scaleMin + ".." + scaleMax + ", seed " + seed + ")";
    }
}

package org.fixres4j.transform;

import java.util.Objects;
import java.util.random.RandomGenerator;

/** torchvision 0.14 / Python integer geometry shared by the transforms (package-private). */
final class Geometry {
    private Geometry() {}

    /** Python 3 {@code round(x)} (half to even), as an int. */
    static int pyRound(double x) {
        return (int) Math.rint(x);
    }

    /** Python {@code int(a * b / c)} for non-negative ints: exact product, correctly rounded division, truncation. */
    static int mulDiv(int a, int b, int c) {
        return (int) ((double) ((long) a * b) / c);
    }

    static void checkImage(int w, int h) {
        if (w <= 0 || h <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + w + "x" + h);
        }
    }

    static void checkSize(String what, int size) {
        if (size <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + size);
        }
    }

    static RandomGenerator requireRng(RandomGenerator rng, String transform) {
        return Objects.requireNonNull(rng, () -> transform + " is random: plan() needs a RandomGenerator");
    }

    /**
     * torchvision {@code Resize(int size)} on a w x h image: the shorter side becomes {@code size}, the longer side
     * {@code int(size * long / short)}. Returns {width, height}.
     */
    static int[] resizeShorterSide(int w, int h, int size) {
        if (w <= h) {
            return new int[] {size, mulDiv(size, h, w)};
        }
        return new int[] {mulDiv(size, w, h), size};
    }

    /** The FixRes repo's Resize(largest=False): height := size, width := int(size * w / h). Returns {width, height}. */
    static int[] resizeHeight(int w, int h, int size, String transform) {
        int newW = mulDiv(size, w, h);
        if (newW <= 0) {
            throw new IllegalArgumentException(transform + ": a " + w + "x" + h + " image resized to height " + size
                    + " has width 0 (int(" + size + " * " + w + " / " + h + "))");
        }
        return new int[] {newW, size};
    }

    /** FixRes: R = int((256 / 224) * S). */
    static int fixResResize(int size) {
        return (int) ((256.0 / 224.0) * size);
    }

    /**
     * torchvision 0.14 {@code F.center_crop} on a w x h image: where the crop is larger, pad with zeros (left/top
     * {@code (c - w) // 2}, right/bottom {@code (c - w + 1) // 2}), then crop at {@code int(round((W - c) / 2))} in
     * the padded image. Returns the crop's offset {x, y} in the unpadded image (negative where padded).
     */
    static int[] centerCrop(int w, int h, int cropW, int cropH) {
        int padLeft = cropW > w ? (cropW - w) / 2 : 0;
        int padTop = cropH > h ? (cropH - h) / 2 : 0;
        int padRight = cropW > w ? (cropW - w + 1) / 2 : 0;
        int padBottom = cropH > h ? (cropH - h + 1) / 2 : 0;
        int pw = w + padLeft + padRight;
        int ph = h + padTop + padBottom;
        if ((padLeft | padTop | padRight | padBottom) != 0 && pw == cropW && ph == cropH) {
            return new int[] {-padLeft, -padTop};
        }
        int top = pyRound((ph - cropH) / 2.0);
        int left = pyRound((pw - cropW) / 2.0);
        return new int[] {left - padLeft, top - padTop};
    }

    /** {@code torch.rand(1) < p}: true with probability p (always one draw, whatever p). */
    static boolean bernoulli(RandomGenerator rng, double p) {
        return rng.nextDouble() < p;
    }

    static void checkProbability(String what, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(what + " must be in [0, 1], got " + p);
        }
    }

    static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}

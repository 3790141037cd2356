package org.fixres4j.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import org.junit.jupiter.api.Test;

/** RandomResizedCropTransform and FixResFinetuneTransform. */
class RandomTransformTest {

    static List<ResamplePlan> plans(SampleTransform t, long seed, int n, int w, int h) {
        RandomGenerator rng = new SplittableRandom(seed);
        List<ResamplePlan> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(t.plan(w, h, rng));
        }
        return out;
    }

    @Test
    void rrcDefaults() {
        RandomResizedCropTransform t = RandomResizedCropTransform.of(224);
        assertEquals(0.08, t.scaleMin());
        assertEquals(1.0, t.scaleMax());
        assertEquals(0.75, t.ratioMin());
        assertEquals(4.0 / 3.0, t.ratioMax());
        assertEquals(Interpolation.BILINEAR, t.interpolation());
        assertEquals(0.5, t.flipProbability());
        assertTrue(t.isRandom());
        assertEquals(Interpolation.BICUBIC, t.withInterpolation(Interpolation.BICUBIC).interpolation());
        assertTrue(t.describe().startsWith("random_resized_crop(size=224, scale=(0.08, 1), ratio=(0.75, "),
                t.describe());
        assertThrows(NullPointerException.class, () -> t.plan(100, 100, null));
        assertThrows(NullPointerException.class, () -> t.plan(100, 100));
    }

    @Test
    void rrcValidation() {
        Normalization n = Normalization.IMAGENET;
        Interpolation b = Interpolation.BILINEAR;
        assertThrows(IllegalArgumentException.class, () -> new RandomResizedCropTransform(0, 0.08, 1, 0.75, 1.3, b, 0.5, n));
        assertThrows(IllegalArgumentException.class, () -> new RandomResizedCropTransform(8, 0, 1, 0.75, 1.3, b, 0.5, n));
        assertThrows(IllegalArgumentException.class, () -> new RandomResizedCropTransform(8, 0.5, 0.4, 0.75, 1.3, b, 0.5, n));
        assertThrows(IllegalArgumentException.class, () -> new RandomResizedCropTransform(8, 0.1, 1, 2, 1, b, 0.5, n));
        assertThrows(IllegalArgumentException.class, () -> new RandomResizedCropTransform(8, 0.1, 1, 0.75, 1.3, b, 1.5, n));
        assertThrows(IllegalArgumentException.class,
                () -> new RandomResizedCropTransform(8, 0.1, 1, 0.75, 1.3, b, Double.NaN, n));
    }

    @Test
    void rrcIsReproducibleWithTheSameSeed() {
        RandomResizedCropTransform t = RandomResizedCropTransform.of(224);
        assertEquals(plans(t, 42, 200, 500, 375), plans(t, 42, 200, 500, 375));
        assertNotEquals(plans(t, 42, 200, 500, 375), plans(t, 43, 200, 500, 375));
    }

    @Test
    void rrcPlansAreValidForManyImageSizes() {
        RandomResizedCropTransform t = RandomResizedCropTransform.of(96);
        SplittableRandom sizes = new SplittableRandom(1);
        RandomGenerator rng = new SplittableRandom(2);
        for (int i = 0; i < 20000; i++) {
            int w = 1 + sizes.nextInt(i % 10 == 0 ? 8 : 2000);
            int h = 1 + sizes.nextInt(i % 7 == 0 ? 8 : 2000);
            ResamplePlan p = t.plan(w, h, rng).validateFor(w, h);
            assertEquals(0.0, p.boxX0());
            assertEquals(0.0, p.boxY0());
            assertEquals(p.roiW(), p.boxX1());
            assertEquals(p.roiH(), p.boxY1());
            assertEquals(96, p.resizeW());
            assertEquals(96, p.resizeH());
            assertEquals(0, p.cropX());
            assertEquals(0, p.cropY());
            assertEquals(96, p.outW());
            assertEquals(96, p.outH());
            double frac = (double) p.roiW() * p.roiH() / ((double) w * h);
            assertTrue(frac <= 1.0, "crop larger than the image");
        }
    }

    @Test
    void rrcStatistics() {
        RandomResizedCropTransform t = RandomResizedCropTransform.of(224);
        RandomGenerator rng = new SplittableRandom(7);
        int n = 100_000;
        double areaSum = 0;
        int flips = 0;
        double minFrac = 1;
        double maxFrac = 0;
        double minAspect = 10;
        double maxAspect = 0;
        for (int i = 0; i < n; i++) {
            ResamplePlan p = t.plan(256, 256, rng);
            double frac = p.roiW() * (double) p.roiH() / (256 * 256);
            areaSum += frac;
            minFrac = Math.min(minFrac, frac);
            maxFrac = Math.max(maxFrac, frac);
            double aspect = (double) p.roiW() / p.roiH();
            minAspect = Math.min(minAspect, aspect);
            maxAspect = Math.max(maxAspect, aspect);
            flips += p.flipX() ? 1 : 0;
        }
        // U(0.08, 1) has mean 0.54, but large crops with a non-square aspect are rejected more often (they do
        // not fit), so torchvision's accepted crops average ~0.479 of a square image (measured with torchvision's
        // algorithm in Python over 200k draws)
        double mean = areaSum / n;
        assertEquals(0.479, mean, 0.006, "mean area fraction");
        assertTrue(minFrac >= 0.07 && minFrac < 0.085, "min area fraction " + minFrac);
        assertTrue(maxFrac > 0.98 && maxFrac <= 1.0, "max area fraction " + maxFrac);
        // rounding of w and h widens the ratio range a little
        assertTrue(minAspect >= 0.7 && minAspect < 0.77, "min aspect " + minAspect);
        assertTrue(maxAspect <= 1.43 && maxAspect > 1.3, "max aspect " + maxAspect);
        assertEquals(0.5, flips / (double) n, 0.01, "flip rate");
    }

    @Test
    void rrcPositionsCoverTheImage() {
        RandomResizedCropTransform t = new RandomResizedCropTransform(32, 0.08, 0.08, 1, 1, Interpolation.NEAREST,
                0, Normalization.IMAGENET);
        RandomGenerator rng = new SplittableRandom(3);
        // area 0.08 * 100 * 100 = 800, square: w = h = round(28.28) = 28; top, left uniform in 0..72 inclusive
        boolean[] seenLeft = new boolean[73];
        boolean[] seenTop = new boolean[73];
        for (int i = 0; i < 20000; i++) {
            ResamplePlan p = t.plan(100, 100, rng);
            assertEquals(28, p.roiW());
            assertEquals(28, p.roiH());
            assertFalse(p.flipX());
            seenLeft[p.roiX()] = true;
            seenTop[p.roiY()] = true;
        }
        for (int i = 0; i <= 72; i++) {
            assertTrue(seenLeft[i] && seenTop[i], "offset " + i + " never drawn");
        }
    }

    @Test
    void rrcFallbackForExtremeAspectRatios() {
        RandomResizedCropTransform t = RandomResizedCropTransform.of(64);
        RandomGenerator rng = new SplittableRandom(11);
        for (int i = 0; i < 200; i++) {
            // 1000x10: no try fits (h would be >= 28); in_ratio 100 > 4/3: h = 10, w = round(10 * 4/3) = 13,
            // left = (1000 - 13) // 2 = 493
            ResamplePlan wide = t.plan(1000, 10, rng);
            assertEquals(493, wide.roiX());
            assertEquals(0, wide.roiY());
            assertEquals(13, wide.roiW());
            assertEquals(10, wide.roiH());
            // 10x1000: w = 10, h = round(10 / 0.75) = 13, top = (1000 - 13) // 2 = 493
            ResamplePlan tall = t.plan(10, 1000, rng);
            assertEquals(0, tall.roiX());
            assertEquals(493, tall.roiY());
            assertEquals(10, tall.roiW());
            assertEquals(13, tall.roiH());
        }
        // a 1x1 image: tries may or may not fit, always the whole pixel
        for (int i = 0; i < 100; i++) {
            ResamplePlan p = t.plan(1, 1, rng);
            assertEquals(new ResamplePlan(0, 0, 1, 1, 0, 0, 1, 1, 64, 64, 0, 0, 64, 64, Interpolation.BILINEAR,
                    p.flipX()), p);
        }
        // no try can fit (area 2..3 times the image's) and the image's ratio 4/3 is inside [1, 2]: the whole image
        RandomResizedCropTransform impossible = new RandomResizedCropTransform(64, 2, 3, 1, 2, Interpolation.NEAREST,
                0, Normalization.IMAGENET);
        assertEquals(new ResamplePlan(0, 0, 40, 30, 0, 0, 40, 30, 64, 64, 0, 0, 64, 64, Interpolation.NEAREST, false),
                impossible.plan(40, 30, rng));
        // a degenerate ratio range: clamped to at least one pixel
        RandomResizedCropTransform degenerate = new RandomResizedCropTransform(8, 2, 3, 50, 60,
                Interpolation.NEAREST, 0, Normalization.IMAGENET);
        ResamplePlan d = degenerate.plan(1, 100, rng).validateFor(1, 100);
        assertEquals(1, d.roiW());
        assertEquals(1, d.roiH());
        assertEquals(49, d.roiY());
        // the image's ratio 4/3 above the range [1, 1]: h = 30, w = round(30 * 1) = 30, left = (40 - 30) // 2
        RandomResizedCropTransform square = new RandomResizedCropTransform(64, 2, 3, 1, 1, Interpolation.NEAREST,
                0, Normalization.IMAGENET);
        assertEquals(new ResamplePlan(5, 0, 30, 30, 0, 0, 30, 30, 64, 64, 0, 0, 64, 64, Interpolation.NEAREST, false),
                square.plan(40, 30, rng));
    }

    @Test
    void fixResFinetuneGeometry() {
        FixResFinetuneTransform noFlip = new FixResFinetuneTransform(224, 0, Normalization.IMAGENET);
        assertTrue(noFlip.isRandom());
        assertThrows(NullPointerException.class, () -> noFlip.plan(500, 375, null));
        // 500x375 -> 341x256; j = round((341 - 224) / 2) = round(58.5) = 58; left in [0, 116]
        int j = 58;
        int[] counts = new int[2 * j + 1];
        RandomGenerator rng = new SplittableRandom(9);
        int n = 200_000;
        for (int i = 0; i < n; i++) {
            ResamplePlan p = noFlip.plan(500, 375, rng).validateFor(500, 375);
            assertEquals(341, p.resizeW());
            assertEquals(256, p.resizeH());
            assertEquals(16, p.cropY());
            assertEquals(Interpolation.BILINEAR, p.interpolation());
            assertFalse(p.flipX());
            assertTrue(p.cropX() >= 0 && p.cropX() <= 2 * j, "left " + p.cropX());
            counts[p.cropX()]++;
        }
        // P(left = j) = 1/(j+1) (jit 0 with either sign), P(left = j +- k) = 1/(2(j+1)) for k >= 1
        double centre = counts[j] / (double) n;
        assertEquals(1.0 / (j + 1), centre, 0.003);
        for (int k = 0; k <= 2 * j; k++) {
            if (k != j) {
                assertEquals(1.0 / (2 * (j + 1)), counts[k] / (double) n, 0.002, "left " + k);
            }
        }
    }

    @Test
    void fixResFinetuneFlipsBeforeCropping() {
        FixResFinetuneTransform t = new FixResFinetuneTransform(224);
        assertEquals(0.5, t.flipProbability());
        assertEquals(Normalization.IMAGENET, t.normalization());
        assertEquals(plans(t, 5, 100, 500, 375), plans(t, 5, 100, 500, 375));
        RandomGenerator rng = new SplittableRandom(21);
        int flips = 0;
        int n = 20000;
        for (int i = 0; i < n; i++) {
            ResamplePlan p = t.plan(500, 375, rng).validateFor(500, 375);
            if (p.flipX()) {
                flips++;
                // the repo crops the flipped image at left in [0, 116]: in the original that is 341 - 224 - left
                assertTrue(p.cropX() >= 1 && p.cropX() <= 117, "flipped crop x " + p.cropX());
            } else {
                assertTrue(p.cropX() >= 0 && p.cropX() <= 116, "crop x " + p.cropX());
            }
        }
        assertEquals(0.5, flips / (double) n, 0.015);
    }

    @Test
    void fixResFinetuneNarrowImagesAreNotShifted() {
        FixResFinetuneTransform t = new FixResFinetuneTransform(224);
        RandomGenerator rng = new SplittableRandom(4);
        for (int i = 0; i < 500; i++) {
            // 333x500 -> 170x256: j = round(-27) = -27, no shift; PIL's crop pads the outside with zeros
            ResamplePlan p = t.plan(333, 500, rng).validateFor(333, 500);
            assertEquals(170, p.resizeW());
            assertEquals(-27, p.cropX()); // flipped: 170 - 224 + 27 = -27 as well
            assertEquals(16, p.cropY());
        }
        // j = round((W - S) / 2) with W - S = -3: round(-1.5) = -2 (PIL crop at -2), unlike CenterCrop's -(3 // 2)
        FixResFinetuneTransform s = new FixResFinetuneTransform(100, 0, Normalization.IMAGENET);
        // 100 -> R = 114; width int(114 * w / 300) = 97 for w = 256
        ResamplePlan p = s.plan(256, 300, rng);
        assertEquals(97, p.resizeW());
        assertEquals(-2, p.cropX());
        assertEquals(-1, new FixResTestTransform(100).plan(256, 300).cropX());
        // j = 0 (W == S): no shift either
        ResamplePlan q = new FixResFinetuneTransform(224, 0, Normalization.IMAGENET).plan(224, 256, rng);
        assertEquals(224, q.resizeW());
        assertEquals(0, q.cropX());
        assertTrue(t.describe().contains("no_color_jitter"), t.describe());
    }
}

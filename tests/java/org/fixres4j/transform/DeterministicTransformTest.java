package org.fixres4j.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** TimmEvalTransform, FixResTestTransform, ResizedCropTransform, BoxResizeTransform, HorizontalFlipTransform. */
class DeterministicTransformTest {

    static ResamplePlan whole(int w, int h, int rw, int rh, int cx, int cy, int out, Interpolation i) {
        return ResamplePlan.wholeImage(w, h, rw, rh, cx, cy, out, out, i, false);
    }

    @Test
    void timmScaleSizesOfTheEfficientNetConfigs() {
        // spec section 3: floor(input_size / crop_pct) of the tf_efficientnet configs
        int[][] cfg = {{224, 875, 256}, {240, 882, 272}, {260, 890, 292}, {300, 904, 331}, {380, 922, 412},
            {456, 934, 488}, {528, 942, 560}, {600, 949, 632}, {672, 954, 704}, {475, 936, 507}, {800, 960, 833}};
        for (int[] c : cfg) {
            TimmEvalTransform t = new TimmEvalTransform(c[0], c[1] / 1000.0, Interpolation.BICUBIC,
                    Normalization.IMAGENET);
            assertEquals(c[2], t.scaleSize(), "res " + c[0]);
        }
    }

    @Test
    void timmEvalDefaultsAndGeometry() {
        TimmEvalTransform t = TimmEvalTransform.of(224);
        assertEquals(0.875, t.cropPct());
        assertEquals(Interpolation.BICUBIC, t.interpolation());
        assertEquals(Normalization.IMAGENET, t.normalization());
        assertFalse(t.isRandom());
        assertEquals(224, t.outputWidth());
        assertEquals(224, t.outputHeight());
        // landscape: short side 375 -> 256, long int(256 * 500 / 375) = 341; left round(58.5) = 58 (half to even)
        assertEquals(whole(500, 375, 341, 256, 58, 16, 224, Interpolation.BICUBIC), t.plan(500, 375));
        // portrait: the width is the short side
        assertEquals(whole(375, 500, 256, 341, 16, 58, 224, Interpolation.BICUBIC), t.plan(375, 500, null));
        // round((W - 224) / 2) = 59.5 -> 60
        assertEquals(60, t.plan(256 * 343 / 256, 256).cropX());
        // square
        assertEquals(whole(1000, 1000, 256, 256, 16, 16, 224, Interpolation.BICUBIC), t.plan(1000, 1000));
        // the short side already equals 256: identity resize
        assertEquals(whole(300, 256, 300, 256, 38, 16, 224, Interpolation.BICUBIC), t.plan(300, 256));
        // tiny image: upsampled
        assertEquals(whole(3, 2, 384, 256, 80, 16, 224, Interpolation.BICUBIC), t.plan(3, 2));
        assertEquals("timm_eval(res=224, crop_pct=0.875, interpolation=bicubic, "
                + "mean=[0.485,0.456,0.406] std=[0.229,0.224,0.225])", t.describe());
    }

    @Test
    void timmEvalPadsLikeTorchvisionWhenCropPctExceedsOne() {
        TimmEvalTransform t = new TimmEvalTransform(80, 1.15, Interpolation.BILINEAR, Normalization.INCEPTION);
        // floor(80 / 1.15) = 69; 97x61 -> 109x69; pad top (80 - 69) // 2 = 5, crop x round(29 / 2) = 14
        assertEquals(whole(97, 61, 109, 69, 14, -5, 80, Interpolation.BILINEAR), t.plan(97, 61));
        // both sides padded: crop = exactly the padded image
        TimmEvalTransform big = new TimmEvalTransform(100, 2.0, Interpolation.BILINEAR, Normalization.IMAGENET);
        assertEquals(whole(60, 60, 50, 50, -25, -25, 100, Interpolation.BILINEAR), big.plan(60, 60));
        assertEquals(whole(61, 60, 50, 50, -25, -25, 100, Interpolation.BILINEAR), big.plan(61, 60));
        // 51 wide: left pad (100 - 51) // 2 = 24, right 25
        assertEquals(whole(51, 50, 51, 50, -24, -25, 100, Interpolation.BILINEAR), big.plan(51, 50));
    }

    @Test
    void timmEvalValidation() {
        assertThrows(IllegalArgumentException.class, () -> TimmEvalTransform.of(0));
        assertThrows(IllegalArgumentException.class,
                () -> new TimmEvalTransform(224, 0, Interpolation.BICUBIC, Normalization.IMAGENET));
        assertThrows(IllegalArgumentException.class,
                () -> new TimmEvalTransform(224, Double.NaN, Interpolation.BICUBIC, Normalization.IMAGENET));
        assertThrows(IllegalArgumentException.class,
                () -> new TimmEvalTransform(1, 2.0, Interpolation.BICUBIC, Normalization.IMAGENET));
        assertThrows(NullPointerException.class,
                () -> new TimmEvalTransform(224, 0.875, null, Normalization.IMAGENET));
        assertThrows(IllegalArgumentException.class, () -> TimmEvalTransform.of(224).plan(0, 10));
    }

    @Test
    void fixResResizeHeights() {
        // spec section 1.2: R = int((256 / 224) * S)
        int[][] sizes = {{224, 256}, {320, 365}, {384, 438}, {420, 480}, {472, 539}, {512, 585}, {576, 658},
            {600, 685}, {632, 722}, {680, 777}, {800, 914}};
        for (int[] s : sizes) {
            assertEquals(s[1], new FixResTestTransform(s[0]).resizeHeight(), "S=" + s[0]);
            assertEquals(s[1], new FixResFinetuneTransform(s[0]).resizeHeight(), "S=" + s[0]);
        }
    }

    @Test
    void fixResTestGeometry() {
        FixResTestTransform t = new FixResTestTransform(224);
        assertEquals(Interpolation.BILINEAR, t.interpolation());
        assertEquals(Normalization.IMAGENET, t.normalization());
        assertFalse(t.isRandom());
        // landscape: as timm eval at crop_pct 0.875
        assertEquals(whole(500, 375, 341, 256, 58, 16, 224, Interpolation.BILINEAR), t.plan(500, 375));
        // portrait: the HEIGHT becomes 256, width int(256 * 333 / 500) = 170 < 224: pad (224 - 170) // 2 = 27
        assertEquals(whole(333, 500, 170, 256, -27, 16, 224, Interpolation.BILINEAR), t.plan(333, 500));
        // odd padding: width 75 at S=100 (R=114): left pad (100 - 75) // 2 = 12
        assertEquals(whole(333, 500, 75, 114, -12, 7, 100, Interpolation.BILINEAR),
                new FixResTestTransform(100).plan(333, 500));
        // identity: R = int(256 / 224 * 88) = 100
        assertEquals(whole(150, 100, 150, 100, 31, 6, 88, Interpolation.BILINEAR),
                new FixResTestTransform(88).plan(150, 100));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.plan(1, 1000));
        assertTrue(e.getMessage().contains("width 0"), e.getMessage());
        assertTrue(t.describe().startsWith("fixres_test(size=224, resize_height=256, interpolation=bilinear"),
                t.describe());
        FixResTestTransform c = new FixResTestTransform(320, Interpolation.BICUBIC, Normalization.INCEPTION);
        assertEquals(Interpolation.BICUBIC, c.plan(500, 375).interpolation());
        assertThrows(IllegalArgumentException.class, () -> new FixResTestTransform(0));
    }

    @Test
    void resizedCropAndBoxResize() {
        ResizedCropTransform rc = new ResizedCropTransform(37, 101, 211, 263, 80, Interpolation.BICUBIC,
                Normalization.IMAGENET);
        assertEquals(new ResamplePlan(101, 37, 263, 211, 0, 0, 263, 211, 80, 80, 0, 0, 80, 80,
                Interpolation.BICUBIC, false), rc.plan(500, 375));
        assertEquals(rc.plan(500, 375), rc.plan(364, 248));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> rc.plan(363, 248));
        assertTrue(e.getMessage().contains("363x248"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new ResizedCropTransform(-1, 0, 10, 10, 8, Interpolation.NEAREST, Normalization.IMAGENET));

        BoxResizeTransform box = new BoxResizeTransform(10.3, 20.7, 250.25, 200.5, 80, 60, Interpolation.BILINEAR,
                Normalization.IMAGENET);
        assertEquals(new ResamplePlan(0, 0, 301, 227, 10.3, 20.7, 250.25, 200.5, 80, 60, 0, 0, 80, 60,
                Interpolation.BILINEAR, false), box.plan(301, 227));
        assertEquals(80, box.outputWidth());
        assertEquals(60, box.outputHeight());
        assertThrows(IllegalArgumentException.class, () -> box.plan(250, 227));
        assertThrows(IllegalArgumentException.class,
                () -> new BoxResizeTransform(5, 0, 5, 10, 8, 8, Interpolation.NEAREST, Normalization.IMAGENET));
        assertEquals("pillow_box(box=(10.3, 20.7, 250.25, 200.5), width=80, height=60, interpolation=bilinear, "
                + "mean=[0.485,0.456,0.406] std=[0.229,0.224,0.225])", box.describe());
    }

    @Test
    void horizontalFlipTogglesTheBase() {
        SampleTransform base = TimmEvalTransform.of(224);
        HorizontalFlipTransform f = new HorizontalFlipTransform(base);
        assertEquals(base.plan(500, 375).withFlipX(true), f.plan(500, 375));
        assertEquals(base.plan(500, 375), new HorizontalFlipTransform(f).plan(500, 375));
        assertEquals(base.normalization(), f.normalization());
        assertEquals(224, f.outputWidth());
        assertFalse(f.isRandom());
        assertTrue(f.describe().startsWith("hflip(timm_eval("), f.describe());
        HorizontalFlipTransform r = new HorizontalFlipTransform(RandomResizedCropTransform.of(64));
        assertTrue(r.isRandom());
        ResamplePlan a = RandomResizedCropTransform.of(64).plan(300, 200, new SplittableRandom(5));
        assertEquals(a.withFlipX(!a.flipX()), r.plan(300, 200, new SplittableRandom(5)));
    }
}

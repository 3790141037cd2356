package org.fixres4j.transform;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.fixres4j.io.Json;
import org.junit.jupiter.api.Test;

/** Interpolation, Normalization and ResamplePlan. */
class TransformValuesTest {

    @Test
    void interpolationCodesAndParsing() {
        assertEquals(0, Interpolation.NEAREST.code());
        assertEquals(1, Interpolation.BILINEAR.code());
        assertEquals(2, Interpolation.BICUBIC.code());
        assertSame(Interpolation.BICUBIC, Interpolation.parse("bicubic"));
        assertSame(Interpolation.BICUBIC, Interpolation.parse(" BiCubic "));
        assertSame(Interpolation.NEAREST, Interpolation.parse("NEAREST"));
        assertSame(Interpolation.BILINEAR, Interpolation.fromCode(1));
        assertEquals("bilinear", Interpolation.BILINEAR.id());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Interpolation.parse("lanczos"));
        assertTrue(e.getMessage().contains("lanczos") && e.getMessage().contains("nearest, bilinear, bicubic"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Interpolation.parse(null));
        assertThrows(IllegalArgumentException.class, () -> Interpolation.fromCode(3));
    }

    @Test
    void normalizationConstantsAndParsing() {
        assertArrayEquals(new float[] {0.485f, 0.456f, 0.406f}, Normalization.IMAGENET.mean());
        assertArrayEquals(new float[] {0.229f, 0.224f, 0.225f}, Normalization.IMAGENET.std());
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, Normalization.INCEPTION.mean());
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, Normalization.INCEPTION.std());
        assertEquals(Normalization.IMAGENET, Normalization.parse("0.485, 0.456,0.406", "0.229,0.224,0.225"));
        assertEquals(Normalization.IMAGENET.hashCode(),
                Normalization.parse("0.485,0.456,0.406", "0.229,0.224,0.225").hashCode());
        assertNotEquals(Normalization.IMAGENET, Normalization.INCEPTION);
        assertEquals("mean=[0.5,0.5,0.5] std=[0.5,0.5,0.5]", Normalization.INCEPTION.toString());
    }

    @Test
    void normalizationIsImmutableAndValidated() {
        float[] mean = {0.1f, 0.2f, 0.3f};
        Normalization n = new Normalization(mean, new float[] {1, 1, 1});
        mean[0] = 9;
        assertEquals(0.1f, n.mean()[0]);
        n.mean()[1] = 9;
        assertEquals(0.2f, n.mean()[1]);
        assertThrows(IllegalArgumentException.class, () -> new Normalization(new float[] {0, 0}, new float[] {1, 1, 1}));
        assertThrows(IllegalArgumentException.class, () -> new Normalization(null, new float[] {1, 1, 1}));
        assertThrows(IllegalArgumentException.class,
                () -> new Normalization(new float[] {0, Float.NaN, 0}, new float[] {1, 1, 1}));
        assertThrows(IllegalArgumentException.class,
                () -> new Normalization(new float[] {0, 0, 0}, new float[] {1, 0, 1}));
        assertThrows(IllegalArgumentException.class,
                () -> new Normalization(new float[] {0, 0, 0}, new float[] {1, Float.POSITIVE_INFINITY, 1}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Normalization.parse("0.1,0.2", "1,1,1"));
        assertTrue(e.getMessage().contains("three"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Normalization.parse("0.1,x,0.2", "1,1,1"));
        assertTrue(e.getMessage().contains("'x'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Normalization.parse("0,0,0", "1,0,1"));
    }

    static ResamplePlan plan(int roiX, int roiY, int roiW, int roiH, double x0, double y0, double x1, double y1) {
        return new ResamplePlan(roiX, roiY, roiW, roiH, x0, y0, x1, y1, 10, 10, 0, 0, 8, 8, Interpolation.BILINEAR,
                false);
    }

    @Test
    void planValidatesItself() {
        plan(0, 0, 10, 10, 0, 0, 10, 10);
        plan(3, 4, 10, 10, 0.5, 0.25, 9.75, 10);
        assertThrows(IllegalArgumentException.class, () -> plan(-1, 0, 10, 10, 0, 0, 10, 10));
        assertThrows(IllegalArgumentException.class, () -> plan(0, 0, 0, 10, 0, 0, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> plan(0, 0, 10, 10, 0, 0, 10.5, 10));
        assertThrows(IllegalArgumentException.class, () -> plan(0, 0, 10, 10, 5, 0, 5, 10));
        assertThrows(IllegalArgumentException.class, () -> plan(0, 0, 10, 10, 6, 0, 5, 10));
        assertThrows(IllegalArgumentException.class, () -> plan(0, 0, 10, 10, -0.5, 0, 5, 10));
        assertThrows(IllegalArgumentException.class, () -> plan(0, 0, 10, 10, 0, 0, 5, Double.NaN));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ResamplePlan(0, 0, 10, 10, 0, 0, 10, 10, 0, 10, 0, 0, 8, 8, Interpolation.NEAREST, false));
        assertTrue(e.getMessage().contains("resize"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new ResamplePlan(0, 0, 10, 10, 0, 0, 10, 10, 10, 10, 0, 0, 8, -1, Interpolation.NEAREST, false));
        assertThrows(NullPointerException.class,
                () -> new ResamplePlan(0, 0, 10, 10, 0, 0, 10, 10, 10, 10, 0, 0, 8, 8, null, false));
        // crop offsets may be anything: outside pixels are padded
        new ResamplePlan(0, 0, 10, 10, 0, 0, 10, 10, 10, 10, -50, 70, 8, 8, Interpolation.BICUBIC, true);
    }

    @Test
    void planValidatesForAnImage() {
        ResamplePlan p = plan(3, 4, 10, 10, 0, 0, 10, 10);
        assertSame(p, p.validateFor(13, 14));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.validateFor(12, 14));
        assertTrue(e.getMessage().contains("12x14"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> p.validateFor(13, 13));
        assertThrows(IllegalArgumentException.class, () -> p.validateFor(0, 14));
        ResamplePlan big = plan(Integer.MAX_VALUE - 10, 0, 10, 10, 0, 0, 10, 10);
        assertThrows(IllegalArgumentException.class, () -> big.validateFor(Integer.MAX_VALUE - 1, 10));
    }

    @Test
    void planMapRoundTripAndFlip() {
        ResamplePlan p = new ResamplePlan(1, 2, 30, 40, 0.5, 1.25, 29.5, 40, 64, 48, -3, 7, 32, 32,
                Interpolation.BICUBIC, false);
        assertEquals("{\"roi_x\":1,\"roi_y\":2,\"roi_w\":30,\"roi_h\":40,\"box_x0\":0.5,\"box_y0\":1.25,"
                + "\"box_x1\":29.5,\"box_y1\":40.0,\"resize_w\":64,\"resize_h\":48,\"crop_x\":-3,\"crop_y\":7,"
                + "\"out_w\":32,\"out_h\":32,\"filter\":2,\"flip_x\":0}", Json.write(p), "fx_resample_plan's names, in order");
        Map<String, Object> m = Json.parseObject(Json.write(p));
        assertEquals(16, m.size());
        assertEquals(2L, m.get("filter"));
        assertEquals(0L, m.get("flip_x"));
        assertEquals(p, ResamplePlan.fromMap(m));
        assertEquals(p, ResamplePlan.fromMap(Json.parseObject(Json.write(m))));
        ResamplePlan f = p.withFlipX(true);
        assertTrue(f.flipX());
        assertFalse(p.flipX());
        assertSame(p, p.withFlipX(false));
        assertEquals(1L, Json.parseObject(Json.write(f)).get("flip_x"));
        Map<String, Object> bad = Json.parseObject(Json.write(f));
        bad.put("flip_x", 2L);
        assertThrows(IllegalArgumentException.class, () -> ResamplePlan.fromMap(bad));
        bad.put("flip_x", 1L);
        bad.put("roi_w", 2.5);
        assertThrows(IllegalArgumentException.class, () -> ResamplePlan.fromMap(bad));
        bad.remove("roi_w");
        assertThrows(IllegalArgumentException.class, () -> ResamplePlan.fromMap(bad));
    }

    @Test
    void wholeImagePlan() {
        ResamplePlan p = ResamplePlan.wholeImage(500, 375, 341, 256, 58, 16, 224, 224, Interpolation.BICUBIC, false);
        assertEquals(new ResamplePlan(0, 0, 500, 375, 0, 0, 500, 375, 341, 256, 58, 16, 224, 224,
                Interpolation.BICUBIC, false), p);
    }
}

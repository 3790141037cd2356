package org.fixres4j.transform;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

import org.fixres4j.io.Json;
import org.fixres4j.io.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every deterministic transform reproduces the plan of every golden case in tests/data/preprocess/cases.json
 * (written by make_goldens.py from Pillow + torchvision), and the data files are consistent with the plans.
 */
class GoldenPlanTest {
    static final Path DIR = Path.of("tests", "data", "preprocess");
    static List<Map<String, Object>> cases;
    static final Map<String, Npy.Array> SOURCES = new HashMap<>();

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void load() throws IOException {
        Map<String, Object> doc = Json.parseObject(Files.readString(DIR.resolve("cases.json")));
        assertEquals("make_goldens.py", doc.get("generator"));
        cases = (List<Map<String, Object>>) doc.get("cases");
        assertFalse(cases.isEmpty());
    }

    static Npy.Array source(Map<String, Object> c) {
        return SOURCES.computeIfAbsent((String) c.get("source"), s -> {
            try {
                return Npy.read(DIR.resolve(s));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    static int num(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).intValue();
    }

    static double dbl(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).doubleValue();
    }

    /** The Java transform a case's "transform" object describes. */
    static SampleTransform transformOf(Map<String, Object> t) {
        Interpolation interp = Interpolation.parse((String) t.get("interpolation"));
        Normalization norm = Normalization.IMAGENET;
        SampleTransform base = switch ((String) t.get("kind")) {
            case "timm_eval" -> new TimmEvalTransform(num(t, "res"), dbl(t, "crop_pct"), interp, norm);
            case "fixres_test" -> new FixResTestTransform(num(t, "size"), interp, norm);
            case "pillow_box" -> new BoxResizeTransform(dbl(t, "box_x0"), dbl(t, "box_y0"), dbl(t, "box_x1"),
                    dbl(t, "box_y1"), num(t, "width"), num(t, "height"), interp, norm);
            case "resized_crop" -> new ResizedCropTransform(num(t, "top"), num(t, "left"), num(t, "height"),
                    num(t, "width"), num(t, "size"), interp, norm);
            default -> throw new IllegalArgumentException("unknown kind " + t.get("kind"));
        };
        return Boolean.TRUE.equals(t.get("flip")) ? new HorizontalFlipTransform(base) : base;
    }

    @TestFactory
    @SuppressWarnings("unchecked")
    Stream<DynamicTest> everyCaseReproducesItsPlan() {
        return cases.stream().map(c -> DynamicTest.dynamicTest((String) c.get("name"), () -> {
            long[] shape = source(c).shape();
            int h = (int) shape[0];
            int w = (int) shape[1];
            SampleTransform t = transformOf((Map<String, Object>) c.get("transform"));
            assertFalse(t.isRandom());
            ResamplePlan expected = ResamplePlan.fromMap((Map<String, Object>) c.get("plan"));
            ResamplePlan actual = t.plan(w, h, null).validateFor(w, h);
            assertEquals(expected, actual, t.describe());
            assertEquals(c.get("plan"), Json.parseObject(Json.write(actual)));
            assertEquals(t.outputWidth(), actual.outW());
            assertEquals(t.outputHeight(), actual.outH());
        }));
    }

    @Test
    @SuppressWarnings("unchecked")
    void casesCoverEveryKindWithEveryFilterAndFlips() {
        Map<String, Set<String>> filters = new TreeMap<>();
        Set<String> flipped = new TreeSet<>();
        for (Map<String, Object> c : cases) {
            Map<String, Object> t = (Map<String, Object>) c.get("transform");
            String kind = (String) t.get("kind");
            filters.computeIfAbsent(kind, k -> new TreeSet<>()).add((String) t.get("interpolation"));
            if (Boolean.TRUE.equals(t.get("flip"))) {
                flipped.add(kind);
            }
        }
        assertEquals(Set.of("timm_eval", "fixres_test", "pillow_box", "resized_crop"), filters.keySet());
        for (Set<String> f : filters.values()) {
            assertEquals(Set.of("nearest", "bilinear", "bicubic"), f);
        }
        assertEquals(filters.keySet(), flipped);
    }

    @Test
    @SuppressWarnings("unchecked")
    void goldensHaveThePlansOutputShape() throws IOException {
        for (Map<String, Object> c : cases) {
            Map<String, Object> p = (Map<String, Object>) c.get("plan");
            Npy.Array g = Npy.read(DIR.resolve((String) c.get("golden")));
            assertEquals("|u1", g.dtype(), (String) c.get("name"));
            assertArrayEquals(new long[] {num(p, "out_h"), num(p, "out_w"), 3}, g.shape(), (String) c.get("name"));
        }
    }

    /** The PNG sources decode (javax.imageio) to exactly the pixels of their .npy.gz. */
    @Test
    void pngSourcesMatchTheirNpy() throws IOException {
        List<String> checked = new ArrayList<>();
        for (Map<String, Object> c : cases) {
            String png = (String) c.get("image");
            if (checked.contains(png)) {
                continue;
            }
            checked.add(png);
            Npy.Array a = source(c);
            long[] s = a.shape();
            int h = (int) s[0];
            int w = (int) s[1];
            int ch = (int) s[2];
            assertTrue(ch == 1 || ch == 3 || ch == 4, png);
            BufferedImage img = ImageIO.read(DIR.resolve(png).toFile());
            assertEquals(w, img.getWidth(), png);
            assertEquals(h, img.getHeight(), png);
            Raster r = img.getRaster();
            assertEquals(ch, r.getNumBands(), png);
            byte[] expected = a.toByteArray();
            int[] px = new int[ch];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    r.getPixel(x, y, px);
                    for (int k = 0; k < ch; k++) {
                        int e = expected[(y * w + x) * ch + k] & 0xff;
                        if (e != px[k]) {
                            throw new AssertionError(png + " differs at (" + x + ", " + y + ") channel " + k + ": "
                                    + px[k] + " != " + e);
                        }
                    }
                }
            }
        }
        assertEquals(7, checked.size());
    }
}

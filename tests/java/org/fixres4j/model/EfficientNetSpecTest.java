package org.fixres4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The architecture rules, checked against timm 0.9.16 without allocating a model (no natives needed). */
class EfficientNetSpecTest {

    /** timm's parameter counts, state-dict sizes, head width, stem, repeats and stage outputs per variant. */
    static final Map<Variant, Object[]> TIMM = Map.of(
            Variant.B0, new Object[] {5_288_548L, 360, 1280, 32, new int[] {1, 2, 2, 3, 3, 4, 1}, new int[] {16, 24, 40, 80, 112, 192, 320}},
            Variant.B1, new Object[] {7_794_184L, 508, 1280, 32, new int[] {2, 3, 3, 4, 4, 5, 2}, new int[] {16, 24, 40, 80, 112, 192, 320}},
            Variant.B2, new Object[] {9_109_994L, 508, 1408, 32, new int[] {2, 3, 3, 4, 4, 5, 2}, new int[] {16, 24, 48, 88, 120, 208, 352}},
            Variant.B3, new Object[] {12_233_232L, 574, 1536, 40, new int[] {2, 3, 3, 5, 5, 6, 2}, new int[] {24, 32, 48, 96, 136, 232, 384}},
            Variant.B4, new Object[] {19_341_616L, 706, 1792, 48, new int[] {2, 4, 4, 6, 6, 8, 2}, new int[] {24, 32, 56, 112, 160, 272, 448}},
            Variant.B5, new Object[] {30_389_784L, 854, 2048, 48, new int[] {3, 5, 5, 7, 7, 9, 3}, new int[] {24, 40, 64, 128, 176, 304, 512}},
            Variant.B6, new Object[] {43_040_704L, 986, 2304, 56, new int[] {3, 6, 6, 8, 8, 11, 3}, new int[] {32, 40, 72, 144, 200, 344, 576}},
            Variant.B7, new Object[] {66_347_960L, 1200, 2560, 64, new int[] {4, 7, 7, 10, 10, 13, 4}, new int[] {32, 48, 80, 160, 224, 384, 640}},
            Variant.B8, new Object[] {87_413_142L, 1332, 2816, 72, new int[] {4, 8, 8, 11, 11, 15, 4}, new int[] {32, 56, 88, 176, 248, 424, 704}},
            Variant.L2, new Object[] {480_309_308L, 1914, 5504, 136, new int[] {6, 11, 11, 16, 16, 22, 6}, new int[] {72, 104, 176, 344, 480, 824, 1376}});

    /** SHA-256 of timm's state dict as "key TAB comma-separated shape NEWLINE" lines, in order (tf_ = native). */
    static final Map<Variant, String> KEY_DIGESTS = Map.of(
            Variant.B0, "e8a70b47fffd3e85cb63b6f6ab1e95dfc0bb0d9148893efc1efded4609a396a8",
            Variant.B1, "72e4d50093eacf0db3577f0475b9099060b24715500f9c9fb61f76d048401bdb",
            Variant.B2, "99a5a0792e515d5687bdfec93f602c1e3d535e4118c7399ec6c97899a0a7df38",
            Variant.B3, "d0156b7a58002c201dcabbc7f605780bcd8ac002e2875fcc637be6d76efeb27b",
            Variant.B4, "614e0416674eb1983b9746e1a04bcb4909ca7b0be077907adf4e1d32e98ea49b",
            Variant.B5, "e3259b333869ad5e0a3e1cfe5b807bbaef093e6d0dbe9e52beec9568bb714c9c",
            Variant.B6, "7229604097716409b5c760a0a94763bddf2425cc3dda9909d8d5ed42636a2e7f",
            Variant.B7, "283cc2878859463ad341dd8a7370a7beaa11571989d3386fe5d886d7af7cf34b",
            Variant.B8, "88e79e6ac4c5301da4a235585ca23680cc4ec0d5b5de6a67ef7c4569bec29ba4",
            Variant.L2, "9e9886e3a16f7b019ed3a721d2a8fa9619417d5dbefaa10d8263b148d7fd2a7a");

    @ParameterizedTest
    @EnumSource(Variant.class)
    void everyVariantMatchesTimm(Variant v) throws Exception {
        Object[] t = TIMM.get(v);
        for (EfficientNetSpec spec : List.of(EfficientNetSpec.tf(v), EfficientNetSpec.nativeVariant(v))) {
            assertEquals((long) t[0], spec.parameterCount(), spec.name() + " parameters");
            assertEquals((int) t[1], spec.stateDictEntries().size(), spec.name() + " state-dict entries");
            assertEquals((int) t[2], spec.numFeatures(), spec.name() + " num_features");
            assertEquals((int) t[3], spec.stemChannels(), spec.name() + " stem");
            List<List<EfficientNetSpec.Block>> blocks = spec.blocks();
            assertArrayEquals((int[]) t[4], blocks.stream().mapToInt(List::size).toArray(), spec.name() + " repeats");
            assertArrayEquals((int[]) t[5], blocks.stream().mapToInt(s -> s.get(s.size() - 1).out()).toArray(),
                    spec.name() + " stage channels");
            assertEquals(KEY_DIGESTS.get(v), digest(spec), spec.name() + " keys and shapes");
        }
    }

    static String digest(EfficientNetSpec spec) throws Exception {
        StringBuilder b = new StringBuilder();
        for (EfficientNetSpec.Entry e : spec.stateDictEntries()) {
            b.append(e.key()).append('\t');
            long[] s = e.shape();
            for (int i = 0; i < s.length; i++) {
                b.append(i > 0 ? "," : "").append(s[i]);
            }
            b.append('\n');
        }
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(b.toString().getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void l2IsCountedWithoutAllocating() {
        EfficientNetSpec l2 = EfficientNetSpec.of("tf_efficientnet_l2");
        assertEquals(480_309_308L, l2.parameterCount()); // 480.31 M, timm's results csv
        assertEquals(88, l2.blockCount());
        assertEquals(25, l2.featureSize(800));
        assertEquals(15, l2.featureSize(475));
    }

    @Test
    void b0BlockTableIsTimms() {
        List<List<EfficientNetSpec.Block>> b = EfficientNetSpec.tf(Variant.B0).blocks();
        EfficientNetSpec.Block ds = b.get(0).get(0);
        assertEquals(BlockSpec.Type.DS, ds.type());
        assertEquals(32, ds.in());
        assertEquals(32, ds.mid());
        assertEquals(16, ds.out());
        assertEquals(8, ds.seChannels());
        assertFalse(ds.hasSkip());
        EfficientNetSpec.Block b10 = b.get(1).get(0);
        assertEquals(96, b10.mid());
        assertEquals(4, b10.seChannels()); // round(96 * 0.25 / 6): of the block input, not of mid
        assertEquals(2, b10.stride());
        assertFalse(b10.hasSkip());
        EfficientNetSpec.Block b11 = b.get(1).get(1);
        assertEquals(144, b11.mid());
        assertEquals(6, b11.seChannels());
        assertEquals(1, b11.stride());
        assertTrue(b11.hasSkip());
        EfficientNetSpec.Block b51 = b.get(5).get(1);
        assertEquals(1152, b51.mid());
        assertEquals(48, b51.seChannels());
        assertEquals(5, b51.kernel());
        // B1's second DS block has a residual (16 -> 16)
        assertTrue(EfficientNetSpec.tf(Variant.B1).blocks().get(0).get(1).hasSkip());
    }

    @Test
    void dropPathFollowsTimmsLinearSchedule() {
        EfficientNetSpec s = EfficientNetSpec.tf(Variant.B0).withDropPathRate(0.2);
        List<EfficientNetSpec.Block> all = s.blocks().stream().flatMap(List::stream).collect(Collectors.toList());
        assertEquals(16, all.size());
        for (EfficientNetSpec.Block b : all) {
            assertEquals(0.2 * b.globalIndex() / 16, b.dropPathRate(), 0.0);
        }
        assertEquals(0.0, all.get(0).dropPathRate());
        assertEquals(0.2 * 15 / 16, all.get(15).dropPathRate(), 1e-15);
    }

    @Test
    void makeDivisibleIsTimms() {
        assertEquals(32, EfficientNetSpec.makeDivisible(32 * 1.0));
        assertEquals(40, EfficientNetSpec.makeDivisible(32 * 1.2));   // 38.4 -> 40
        assertEquals(136, EfficientNetSpec.makeDivisible(32 * 4.3));  // 137.6 -> 136
        assertEquals(16, EfficientNetSpec.makeDivisible(10));         // 8 < 0.9 * 10 -> 16
        assertEquals(8, EfficientNetSpec.makeDivisible(4));           // min value
        assertEquals(1408, EfficientNetSpec.makeDivisible(1280 * 1.1));
        assertEquals(5504, EfficientNetSpec.makeDivisible(1280 * 4.3));
        assertEquals(24, EfficientNetSpec.makeDivisible(20, 8, 0, 0.9)); // 20 + 4 = 24 -> 24
    }

    @Test
    void tfAndNativeDifferInPaddingAndEps() {
        EfficientNetSpec tf = EfficientNetSpec.of("tf_efficientnet_b4");
        EfficientNetSpec nat = EfficientNetSpec.of("efficientnet_b4");
        assertTrue(tf.tfSamePadding());
        assertFalse(nat.tfSamePadding());
        assertEquals(1e-3, tf.bnEps());
        assertEquals(1e-5, nat.bnEps());
        assertEquals(0.1, tf.bnMomentum());
        assertEquals(0.0, tf.dropRate());
        assertEquals(Variant.B4.dropout(), 0.4);
        assertThrows(IllegalArgumentException.class, () -> EfficientNetSpec.of("resnet50"));
        assertThrows(IllegalArgumentException.class, () -> EfficientNetSpec.of("tf_efficientnet_b9"));
    }

    @Test
    void numClassesChangesOnlyTheHead() {
        EfficientNetSpec s = EfficientNetSpec.tf(Variant.B0).withNumClasses(10);
        assertEquals(5_288_548L - 1000 * 1281 + 10 * 1281, s.parameterCount());
        EfficientNetSpec none = s.withNumClasses(0);
        assertFalse(none.stateDictShapes().containsKey("classifier.weight"));
        assertArrayEquals(new long[] {10, 1280}, s.stateDictShapes().get("classifier.weight"));
    }

    @Test
    void blockStringsRoundTrip() {
        for (String text : EfficientNetSpec.BASE_ARCH) {
            assertEquals(text.replace("_e1_", "_"), BlockSpec.parse(text).toString());
            assertEquals(BlockSpec.parse(text), BlockSpec.parse(BlockSpec.parse(text).toString()));
        }
        BlockSpec b = BlockSpec.parse("ir_r2_k3_s2_e6_c24_se0.25");
        assertEquals(new BlockSpec(BlockSpec.Type.IR, 2, 3, 2, 6.0, 24, 0.25, false), b);
        assertEquals(new BlockSpec(BlockSpec.Type.IR, 1, 5, 1, 4.0, 40, 0.0, true),
                BlockSpec.parse("ir_c40_k5_s1_e4_r1_noskip"));
        assertThrows(IllegalArgumentException.class, () -> BlockSpec.parse("er_r1_k3_s1_e4_c24"));
        assertThrows(IllegalArgumentException.class, () -> BlockSpec.parse("ir_r1_k3_s1_c24"));
        assertThrows(IllegalArgumentException.class, () -> BlockSpec.parse("ir_r1_k3_s3_e6_c24"));
        assertThrows(IllegalArgumentException.class, () -> BlockSpec.parse("ds_r1_k3_s1_c16_zz9"));
        assertThrows(IllegalArgumentException.class, () -> BlockSpec.parse("ds_rX_k3_s1_c16"));
    }

    @Test
    void samePaddingIsTfs() {
        assertArrayEquals(new long[] {0, 1, 0, 1}, Padding.same(224, 224, 3, 2, 1));
        assertArrayEquals(new long[] {1, 2, 1, 2}, Padding.same(56, 56, 5, 2, 1));
        assertArrayEquals(new long[] {1, 1, 1, 1}, Padding.same(475, 475, 3, 2, 1));
        assertArrayEquals(new long[] {2, 2, 1, 2}, Padding.same(200, 263, 5, 2, 1)); // w odd: symmetric; h even: (1, 2)
        assertArrayEquals(new long[] {1, 1, 1, 1}, Padding.same(7, 7, 3, 1, 1));
        assertTrue(Padding.isStaticSame(5, 1, 1));
        assertFalse(Padding.isStaticSame(3, 2, 1));
        assertEquals(1, Padding.symmetric(3, 2, 1));
        assertEquals(2, Padding.symmetric(5, 2, 1));
        assertEquals(0, Padding.symmetric(1, 1, 1));
    }
}

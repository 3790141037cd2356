package org.fixres4j.fixres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The apparent-object-size model against the FixRes paper's worked numbers (section 3.1). */
class RecommendTest {

    @Test
    void expectedSigmaOfTheDefaultScale() {
        // (2/3) (1 - 0.08^1.5) / 0.92 = 0.70824...; the paper: 0.708
        double e = Recommend.expectedSigma(0.08, 1.0);
        assertEquals(0.7082, e, 1e-4);
        assertEquals((2.0 / 3.0) * (1 - Math.pow(0.08, 1.5)) / 0.92, e, 1e-15);
        // a numerical check of E[sqrt(s)] for s ~ U[0.08, 1]
        int n = 1_000_000;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.sqrt(0.08 + 0.92 * (i + 0.5) / n);
        }
        assertEquals(sum / n, e, 1e-9);
        // the paper's form with sigma bounds: (2/3)(s+^3 - s-^3)/(s+^2 - s-^2)
        double lo = Math.sqrt(0.08);
        assertEquals((2.0 / 3.0) * (1 - lo * lo * lo) / (1 - lo * lo), e, 1e-15);
        assertEquals(Math.sqrt(0.5), Recommend.expectedSigma(0.5, 0.5), 0.0);
        assertEquals(1.0, Recommend.expectedSigma(1, 1), 0.0);
    }

    @Test
    void theStandardSetting() {
        Recommendation r = Recommend.of(224);
        assertEquals(256.0 / 224.0, r.testCropRatio(), 0.0);
        assertEquals(0.81, r.apparentSizeRatio(), 0.005);          // paper: 0.80 after rounding
        assertEquals(0.8094, r.apparentSizeRatio(), 1e-4);
        assertEquals(1.2355, r.scaleFactor(), 1e-4);                 // paper: alpha ~1.24-1.25
        assertEquals(276.74, r.exactKTest(), 0.01);
        assertEquals(8, r.stride());
        assertEquals(280, r.kTest());                                // paper: 224 -> ~280
        assertEquals(1.25, r.kTestOverKTrain(), 0.0);
        assertEquals(320, r.kTestImage());                           // FixRes: int((256/224) * 280)
        assertEquals(0.8094 * 280 / 224, r.apparentSizeRatioAtKTest(), 1e-4);
        assertEquals(Recommend.apparentSizeRatio(224, 224, 0.08, 1, 256.0 / 224.0), r.apparentSizeRatio(), 1e-15);
        assertEquals(1.0, Recommend.apparentSizeRatio(224, 1, 0.08, 1, 256.0 / 224.0) * r.exactKTest(), 1e-12);
        assertTrue(r.explain().contains("E[sigma]") && r.explain().contains("K_test = 280"), r.explain());
        // in reports: every term in derivation order under today's names, through Jackson
        java.util.Map<String, Object> json = org.fixres4j.io.Json.parseObject(org.fixres4j.io.Json.write(r));
        assertEquals(java.util.List.of("k_train", "scale_min", "scale_max", "test_crop_ratio", "expected_sigma",
                "apparent_size_ratio", "scale_factor", "exact_k_test", "stride", "k_test", "k_test_image",
                "k_test_over_k_train", "apparent_size_ratio_at_k_test"), java.util.List.copyOf(json.keySet()));
        assertEquals(280L, json.get("k_test"));
        assertEquals(1.25, json.get("k_test_over_k_train"));
        assertEquals(224.0 / r.scaleFactor(), Recommend.kTrainFor(224, 0.08, 1, 256.0 / 224.0), 1e-9);
    }

    @Test
    void strideAndOtherSettings() {
        assertEquals(288, Recommend.of(224, 0.08, 1, 256.0 / 224.0, 32).kTest());   // 276.7 -> 9 * 32
        assertEquals(277, Recommend.of(224, 0.08, 1, 256.0 / 224.0, 1).kTest());
        assertEquals(272, Recommend.of(224, 0.08, 1, 256.0 / 224.0, 16).kTest());   // 17.3 * 16
        // B0's timm crop_pct 0.875 is the same ratio
        assertEquals(256.0 / 224.0, Recommend.cropRatioOfCropPct(0.875), 0.0);
        // no random crop (scale (1, 1)) and a full-image test: nothing to correct
        Recommendation none = Recommend.of(224, 1, 1, 1, 8);
        assertEquals(1.0, none.apparentSizeRatio(), 0.0);
        assertEquals(224, none.kTest());
        // a smaller crop range means smaller training crops, objects bigger in training: larger K_test
        assertTrue(Recommend.of(224, 0.08, 0.5, 256.0 / 224.0, 8).kTest() > 280);
        // tiny resolutions never go below one stride
        assertEquals(32, Recommend.of(8, 0.08, 1, 256.0 / 224.0, 32).kTest());
        assertThrows(IllegalArgumentException.class, () -> Recommend.expectedSigma(0, 1));
        assertThrows(IllegalArgumentException.class, () -> Recommend.expectedSigma(0.5, 0.4));
        assertThrows(IllegalArgumentException.class, () -> Recommend.expectedSigma(0.5, 1.5));
        assertThrows(IllegalArgumentException.class, () -> Recommend.of(0));
        assertThrows(IllegalArgumentException.class, () -> Recommend.of(224, 0.08, 1, Double.NaN, 8));
        assertThrows(IllegalArgumentException.class, () -> Recommend.of(224, 0.08, 1, 1.1, 0));
    }
}

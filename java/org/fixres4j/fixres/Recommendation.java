package org.fixres4j.fixres;

import java.util.Locale;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * The FixRes test-resolution recommendation with every term of its derivation (see {@link Recommend}). Written to
 * JSON reports by Jackson ({@link org.fixres4j.io.Json}) as every term in derivation order, snake_case, with
 * {@code k_test_over_k_train} after {@code k_test_image}.
 *
 * @param kTrain the training resolution K_train
 * @param scaleMin the lower bound s_min of RandomResizedCrop's area fraction
 * @param scaleMax the upper bound s_max
 * @param testCropRatio K_test^image / K_test (256/224 = 1/0.875 for the standard test transform)
 * @param expectedSigma E[sigma], sigma = sqrt(s) with s ~ U[s_min, s_max]: the mean side fraction of a training crop
 * @param apparentSizeRatio E[r_test / r_train] at K_test = K_train: E[sigma] * testCropRatio (about 0.81 for the
 *                          defaults; below 1 means objects look smaller at test time than in training)
 * @param scaleFactor alpha = 1 / apparentSizeRatio: the factor on K_train that makes the expected ratio 1
 * @param exactKTest K_train * alpha, unrounded
 * @param stride the grid the recommendation is rounded to
 * @param kTest the recommended test resolution: exactKTest rounded to the nearest multiple of stride (halves up),
 *              at least stride
 * @param kTestImage the test image size before the centre crop, {@code int(testCropRatio * kTest)} (the FixRes
 *                   repo's {@code int((256 / 224) * S)} rule)
 * @param apparentSizeRatioAtKTest E[r_test / r_train] at the recommended kTest: apparentSizeRatio * kTest / kTrain
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonPropertyOrder({"k_train", "scale_min", "scale_max", "test_crop_ratio", "expected_sigma", "apparent_size_ratio",
    "scale_factor", "exact_k_test", "stride", "k_test", "k_test_image", "k_test_over_k_train",
    "apparent_size_ratio_at_k_test"})
public record Recommendation(int kTrain, double scaleMin, double scaleMax, double testCropRatio,
                             double expectedSigma, double apparentSizeRatio, double scaleFactor,
                             @JsonProperty("exact_k_test") double exactKTest,
                             int stride, int kTest, int kTestImage,
                             @JsonProperty("apparent_size_ratio_at_k_test") double apparentSizeRatioAtKTest) {

    /** kTest / kTrain. */
    @JsonProperty("k_test_over_k_train")
    public double kTestOverKTrain() {
        return (double) kTest / kTrain;
    }

    /** A few lines showing the derivation with its numbers. */
    public String explain() {
        return String.format(Locale.ROOT,
                "RandomResizedCrop scale s ~ U[%s, %s]; sigma = sqrt(s)%n"
                        + "E[sigma] = (2/3) (s_max^1.5 - s_min^1.5) / (s_max - s_min) = %.4f%n"
                        + "test crop ratio K_test_image / K_test = %.4f%n"
                        + "apparent size ratio at K_test = K_train: E[sigma] * %.4f = %.4f%n"
                        + "scale factor alpha = 1 / %.4f = %.4f -> K_test = %d * %.4f = %.1f%n"
                        + "rounded to a multiple of %d: K_test = %d (%.3fx K_train), resize to %d before the crop; "
                        + "expected ratio there %.3f",
                fmt(scaleMin), fmt(scaleMax), expectedSigma, testCropRatio, testCropRatio, apparentSizeRatio,
                apparentSizeRatio, scaleFactor, kTrain, scaleFactor, exactKTest, stride, kTest, kTestOverKTrain(),
                kTestImage, apparentSizeRatioAtKTest);
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "K_train %d -> K_test %d (%.3fx; exact %.1f, E[sigma] %.4f, ratio %.4f)",
                kTrain, kTest, kTestOverKTrain(), exactKTest, expectedSigma, apparentSizeRatio);
    }
}

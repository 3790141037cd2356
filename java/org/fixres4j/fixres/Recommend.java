package org.fixres4j.fixres;

/**
 * The FixRes paper's apparent-object-size model (Touvron et al., NeurIPS 2019, arXiv 1906.06423, section 3.1),
 * which recommends a test resolution for a network trained with RandomResizedCrop.
 *
 * <p><b>Model.</b> Training crops a region whose area is a fraction s ~ U[s_min, s_max] of the image (the aspect
 * ratio is ignored), i.e. a side fraction sigma = sqrt(s) of sqrt(HW), and resizes it to K_train: an object of r
 * pixels appears with r_train = r K_train / (sigma sqrt(HW)). Testing resizes the image to K_test^image and keeps the
 * centre K_test: r_test = r K_test^image / sqrt(HW). Hence
 * <pre>
 *   r_test / r_train = sigma * (K_test^image / K_test) * (K_test / K_train)
 * </pre>
 * <b>Expectation.</b> With s uniform on [s_min, s_max] (density 1/(s_max - s_min)):
 * <pre>
 *   E[sigma] = integral of sqrt(s) ds / (s_max - s_min) = (2/3) (s_max^1.5 - s_min^1.5) / (s_max - s_min)
 * </pre>
 * (equivalently the paper's (2/3)(sigma+^3 - sigma-^3)/(sigma+^2 - sigma-^2)); for (0.08, 1) it is 0.7082. At
 * K_test = K_train with the standard 256/224 test crop, E[r_test / r_train] = 0.7082 * 1.1429 = 0.8094: objects look
 * about 19% smaller at test time (the paper rounds to 0.80).
 *
 * <p><b>Recommendation.</b> Choose K_test so that the expected ratio is 1, keeping the crop ratio:
 * K_test = K_train / (E[sigma] * K_test^image / K_test) = 1.2355 K_train for the defaults (224 -&gt; 276.7; the paper:
 * alpha about 1.24-1.25, 224 -&gt; ~280), then round to a multiple of a stride. <b>The default stride is 8</b>
 * ({@link #DEFAULT_STRIDE}): the published FixEfficientNet test sizes are all multiples of 8 but not all of 32 (420,
 * 472, 632), and 8 gives 224 -&gt; 280, the paper's number. For small inputs whose last feature map is only a few
 * pixels, pass the network's total stride (32 for EfficientNet) instead. This is a starting point, not a guarantee:
 * the paper picks the final resolution empirically, and it fine-tunes the classifier and last batch norm at it.
 */
public final class Recommend {
    /** The default rounding grid (see the class comment). */
    public static final int DEFAULT_STRIDE = 8;
    /** torchvision's RandomResizedCrop default scale range. */
    public static final double DEFAULT_SCALE_MIN = 0.08;
    /** torchvision's RandomResizedCrop default scale range. */
    public static final double DEFAULT_SCALE_MAX = 1.0;
    /** The standard test crop ratio 256/224 (crop_pct 0.875). */
    public static final double STANDARD_CROP_RATIO = 256.0 / 224.0;

    private Recommend() {}

    /**
     * E[sqrt(s)] for s uniform on [scaleMin, scaleMax]: (2/3) (max^1.5 - min^1.5) / (max - min), or sqrt(min) when
     * the range is a single value.
     */
    public static double expectedSigma(double scaleMin, double scaleMax) {
        checkScale(scaleMin, scaleMax);
        if (scaleMin == scaleMax) {
            return Math.sqrt(scaleMin);
        }
        return (2.0 / 3.0) * (Math.pow(scaleMax, 1.5) - Math.pow(scaleMin, 1.5)) / (scaleMax - scaleMin);
    }

    /** The expected apparent-size ratio E[r_test / r_train] = E[sigma] * testCropRatio * kTest / kTrain. */
    public static double apparentSizeRatio(int kTrain, int kTest, double scaleMin, double scaleMax,
                                           double testCropRatio) {
        checkPositive("K_train", kTrain);
        checkPositive("K_test", kTest);
        checkRatio(testCropRatio);
        return expectedSigma(scaleMin, scaleMax) * testCropRatio * kTest / kTrain;
    }

    /** The recommendation for torchvision's default scale (0.08, 1), the 256/224 crop and stride 8. */
    public static Recommendation of(int kTrain) {
        return of(kTrain, DEFAULT_SCALE_MIN, DEFAULT_SCALE_MAX, STANDARD_CROP_RATIO, DEFAULT_STRIDE);
    }

    /**
     * The recommendation with every term.
     *
     * @param kTrain the training resolution, &gt; 0
     * @param scaleMin RandomResizedCrop's lower area fraction, in (0, 1]
     * @param scaleMax its upper area fraction, in [scaleMin, 1]
     * @param testCropRatio K_test^image / K_test, &gt; 0 (1 / crop_pct; usually &gt;= 1)
     * @param stride the rounding grid, &gt;= 1 (1: no rounding beyond the integer)
     */
    public static Recommendation of(int kTrain, double scaleMin, double scaleMax, double testCropRatio, int stride) {
        checkPositive("K_train", kTrain);
        checkPositive("stride", stride);
        checkRatio(testCropRatio);
        double sigma = expectedSigma(scaleMin, scaleMax);
        double ratio = sigma * testCropRatio;
        double alpha = 1.0 / ratio;
        double exact = kTrain * alpha;
        long rounded = (long) Math.floor(exact / stride + 0.5) * stride;
        int kTest = (int) Math.max(stride, Math.min(rounded, Integer.MAX_VALUE / 2));
        int kTestImage = (int) (testCropRatio * kTest);
        return new Recommendation(kTrain, scaleMin, scaleMax, testCropRatio, sigma, ratio, alpha, exact, stride,
                kTest, kTestImage, ratio * kTest / kTrain);
    }

    /**
     * The inverse use of the rule (the paper's "train at a lower resolution"): the training resolution whose expected
     * apparent-size ratio at {@code kTest} is 1, unrounded.
     */
    public static double kTrainFor(int kTest, double scaleMin, double scaleMax, double testCropRatio) {
        checkPositive("K_test", kTest);
        checkRatio(testCropRatio);
        return kTest * expectedSigma(scaleMin, scaleMax) * testCropRatio;
    }

    /** The crop ratio K_test^image / K_test of timm's {@code crop_pct}: 1 / cropPct. */
    public static double cropRatioOfCropPct(double cropPct) {
        if (!(cropPct > 0 && Double.isFinite(cropPct))) {
            throw new IllegalArgumentException("crop_pct must be finite and > 0, got " + cropPct);
        }
        return 1.0 / cropPct;
    }

    private static void checkScale(double scaleMin, double scaleMax) {
        if (!(scaleMin > 0 && scaleMin <= scaleMax && scaleMax <= 1)) {
            throw new IllegalArgumentException("the scale range must satisfy 0 < s_min <= s_max <= 1, got ("
                    + scaleMin + ", " + scaleMax + ")");
        }
    }

    private static void checkRatio(double r) {
        if (!(r > 0 && Double.isFinite(r))) {
            throw new IllegalArgumentException("the test crop ratio K_test_image / K_test must be finite and > 0, "
                    + "got " + r);
        }
    }

    private static void checkPositive(String what, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + v);
        }
    }
}

package org.fixres4j.transform;

import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * torchvision's {@code RandomResizedCrop(size, scale, ratio)} followed by {@code RandomHorizontalFlip(p)}: the
 * training augmentation of timm and of the FixRes repo's (unused for fine-tuning) 'train' transform.
 *
 * <p>The crop is {@code RandomResizedCrop.get_params} of torchvision 0.14, step by step:
 * <ul>
 *   <li>up to 10 tries: target_area = area * U(scale), aspect = exp(U(log ratio0, log ratio1)), both drawn as
 *       float32 like torch's {@code torch.empty(1).uniform_}; w = round(sqrt(target_area * aspect)),
 *       h = round(sqrt(target_area / aspect)) with Python's half-to-even round; accepted if 0 &lt; w &lt;= W and
 *       0 &lt; h &lt;= H, then top = randint(0, H - h) and left = randint(0, W - w), both inclusive;</li>
 *   <li>otherwise the fallback: a central crop with the image's aspect ratio clamped to the ratio range
 *       (top = (H - h) // 2, left = (W - w) // 2); for degenerate ratio ranges the fallback size is clamped to
 *       1..W and 1..H, where torchvision would fail.</li>
 * </ul>
 * Then {@code resized_crop} semantics (roi = the crop, box = the whole roi: the filter never reads outside the crop)
 * and a flip with probability {@code flipProbability} (one draw, after the crop's). The draws come from the given
 * generator, so a seed reproduces the plans, but the values are not torch's random stream.
 *
 * @param size the output size (square)
 * @param scaleMin lower bound of the area fraction, &gt; 0
 * @param scaleMax upper bound of the area fraction, &gt;= scaleMin
 * @param ratioMin lower bound of the aspect ratio w/h, &gt; 0
 * @param ratioMax upper bound of the aspect ratio, &gt;= ratioMin
 * @param interpolation the resize filter
 * @param flipProbability the probability of a horizontal flip, in [0, 1]
 * @param normalization the output normalisation
 */
public record RandomResizedCropTransform(int size, double scaleMin, double scaleMax, double ratioMin,
                                         double ratioMax, Interpolation interpolation, double flipProbability,
                                         Normalization normalization) implements SampleTransform {

    /** Tries of get_params before the fallback (torchvision: 10). */
    public static final int TRIES = 10;

    /** Validates the parameters. */
    public RandomResizedCropTransform {
        Geometry.checkSize("size", size);
        if (!(Double.isFinite(scaleMin) && Double.isFinite(scaleMax) && scaleMin > 0 && scaleMin <= scaleMax)) {
            throw new IllegalArgumentException("scale must satisfy 0 < min <= max (finite), got (" + scaleMin + ", "
                    + scaleMax + ")");
        }
        if (!(Double.isFinite(ratioMin) && Double.isFinite(ratioMax) && ratioMin > 0 && ratioMin <= ratioMax)) {
            throw new IllegalArgumentException("ratio must satisfy 0 < min <= max (finite), got (" + ratioMin + ", "
                    + ratioMax + ")");
        }
        Objects.requireNonNull(interpolation, "interpolation");
        Geometry.checkProbability("flip probability", flipProbability);
        Objects.requireNonNull(normalization, "normalization");
    }

    /** torchvision's defaults: scale (0.08, 1), ratio (3/4, 4/3), bilinear, flip 0.5, ImageNet mean/std. */
    public static RandomResizedCropTransform of(int size) {
        return new RandomResizedCropTransform(size, 0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0, Interpolation.BILINEAR, 0.5,
                Normalization.IMAGENET);
    }

    /** This transform with another interpolation. */
    public RandomResizedCropTransform withInterpolation(Interpolation i) {
        return new RandomResizedCropTransform(size, scaleMin, scaleMax, ratioMin, ratioMax, i, flipProbability,
                normalization);
    }

    /** The crop of get_params as {top, left, height, width}; draws 2 values per try and 2 for the accepted crop. */
    public int[] cropParams(int imageWidth, int imageHeight, RandomGenerator rng) {
        Geometry.checkImage(imageWidth, imageHeight);
        Geometry.requireRng(rng, "random_resized_crop");
        double area = (double) imageWidth * imageHeight;
        float logR0 = (float) Math.log(ratioMin);
        float logR1 = (float) Math.log(ratioMax);
        for (int t = 0; t < TRIES; t++) {
            double targetArea = area * uniformFloat(rng, scaleMin, scaleMax);
            double aspect = (float) Math.exp(uniformFloat(rng, logR0, logR1));
            long w = Math.round(Math.rint(Math.sqrt(targetArea * aspect)));
            long h = Math.round(Math.rint(Math.sqrt(targetArea / aspect)));
            if (0 < w && w <= imageWidth && 0 < h && h <= imageHeight) {
                int top = rng.nextInt(imageHeight - (int) h + 1);
                int left = rng.nextInt(imageWidth - (int) w + 1);
                return new int[] {top, left, (int) h, (int) w};
            }
        }
        // fallback to a central crop
        double inRatio = (double) imageWidth / imageHeight;
        int w;
        int h;
        if (inRatio < ratioMin) {
            w = imageWidth;
            h = clamp(Geometry.pyRound(w / ratioMin), imageHeight);
        } else if (inRatio > ratioMax) {
            h = imageHeight;
            w = clamp(Geometry.pyRound(h * ratioMax), imageWidth);
        } else {
            w = imageWidth;
            h = imageHeight;
        }
        return new int[] {(imageHeight - h) / 2, (imageWidth - w) / 2, h, w};
    }

    private static int clamp(int v, int max) {
        return Math.max(1, Math.min(v, max));
    }

    /** {@code torch.empty(1).uniform_(a, b).item()}: a float32 value in [a, b]. */
    private static float uniformFloat(RandomGenerator rng, double a, double b) {
        return (float) (a + (b - a) * rng.nextDouble());
    }

    @Override
    public ResamplePlan plan(int imageWidth, int imageHeight, RandomGenerator rng) {
        int[] c = cropParams(imageWidth, imageHeight, rng);
        boolean flip = Geometry.bernoulli(rng, flipProbability);
        return new ResamplePlan(c[1], c[0], c[3], c[2], 0.0, 0.0, c[3], c[2], size, size, 0, 0, size, size,
                interpolation, flip);
    }

    @Override
    public int outputWidth() {
        return size;
    }

    @Override
    public int outputHeight() {
        return size;
    }

    @Override
    public boolean isRandom() {
        return true;
    }

    @Override
    public String describe() {
        return "random_resized_crop(size=" + size + ", scale=(" + Geometry.fmt(scaleMin) + ", "
                + Geometry.fmt(scaleMax) + "), ratio=(" + Geometry.fmt(ratioMin) + ", " + Geometry.fmt(ratioMax)
                + "), interpolation=" + interpolation.id() + ", flip=" + Geometry.fmt(flipProbability) + ", "
                + normalization + ")";
    }
}

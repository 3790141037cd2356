package org.fixres4j.transform;

import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * The geometry of the FixRes repository's v2 fine-tuning transform ({@code transforms_v2.py}, key 'val_train'):
 * <ol>
 *   <li>the {@link FixResTestTransform} resize: height := R = {@code int((256 / 224) * S)}, width :=
 *       {@code int(R * w / h)}, bilinear;</li>
 *   <li>{@code RandomHorizontalFlip} with probability {@code flipProbability} (first draw);</li>
 *   <li>a "shifted" centre crop of S x S in the flipped image: top {@code i = round((H - S) / 2)}; with
 *       {@code j = round((W - S) / 2)} (half to even), the left edge is {@code j + sign * jit}, where
 *       {@code jit = U{0..j}} (second draw, only when j &gt; 0, else 0) and the sign is + or - with equal odds
 *       (third draw, always made, like the repo's {@code np.random.randint(2)}). The left edge thus lies in
 *       [0, 2j]. The crop is PIL's {@code img.crop}, so where the image is narrower than S (portrait images, where j
 *       &lt;= 0) the window starts at j itself and the outside is zero: unlike torchvision's CenterCrop, no
 *       {@code (S - w) // 2} padding rule.</li>
 * </ol>
 * Because the repo flips before cropping and the plan crops before flipping, a flipped sample's crop_x is
 * {@code W - S - left}. <b>Not reproduced:</b> the repo's {@code ColorJitter(0.05, 0.05, 0.05)}, a colour
 * operation outside the kernel's geometry (the plan has no colour stage); the draws come from the given generator,
 * not from numpy's and torch's streams.
 *
 * @param size the output size S (square)
 * @param flipProbability the probability of a horizontal flip, in [0, 1] (FixRes: 0.5)
 * @param normalization the output normalisation (FixRes: ImageNet)
 */
public record FixResFinetuneTransform(int size, double flipProbability, Normalization normalization)
        implements SampleTransform {

    /** Validates the parameters. */
    public FixResFinetuneTransform {
        Geometry.checkSize("size", size);
        Geometry.checkProbability("flip probability", flipProbability);
        Objects.requireNonNull(normalization, "normalization");
    }

    /** The FixRes repo's transform at size {@code size}: flip 0.5, ImageNet mean/std. */
    public FixResFinetuneTransform(int size) {
        this(size, 0.5, Normalization.IMAGENET);
    }

    /** The height every image is resized to, R = {@code int((256 / 224) * size)}. */
    public int resizeHeight() {
        return Geometry.fixResResize(size);
    }

    @Override
    public ResamplePlan plan(int imageWidth, int imageHeight, RandomGenerator rng) {
        Geometry.checkImage(imageWidth, imageHeight);
        Geometry.requireRng(rng, "fixres_finetune");
        int[] r = Geometry.resizeHeight(imageWidth, imageHeight, resizeHeight(), "fixres_finetune");
        int w = r[0];
        int h = r[1];
        boolean flip = Geometry.bernoulli(rng, flipProbability);
        int top = Geometry.pyRound((h - size) / 2.0);
        int j = Geometry.pyRound((w - size) / 2.0);
        int jit = j > 0 ? rng.nextInt(j + 1) : 0;
        int sign = rng.nextInt(2) == 0 ? 1 : -1;
        int left = j + sign * jit;
        int cropX = flip ? w - size - left : left;
        return ResamplePlan.wholeImage(imageWidth, imageHeight, w, h, cropX, top, size, size,
                Interpolation.BILINEAR, flip);
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
        return "fixres_finetune(size=" + size + ", resize_height=" + resizeHeight() + ", interpolation=bilinear, flip="
                + Geometry.fmt(flipProbability) + ", shifted_center_crop, no_color_jitter, " + normalization + ")";
    }
}

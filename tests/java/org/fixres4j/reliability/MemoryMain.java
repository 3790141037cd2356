package org.fixres4j.reliability;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.bytedeco.javacpp.FloatPointer;
import org.fixres4j.classify.Classifier;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.preprocess.Sample;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.ResamplePlan;

/**
 * The memory measurement of MemoryGrowthTest, in its own JVM (fixed heap, pre-touched, so that the Java heap's
 * growth cannot pass for a leak or hide one): N preprocessing calls, then M inference batches of a tiny
 * EfficientNet through {@link Classifier}, RSS (/proc/self/status) after a warm-up and after the run. Prints
 * {@code memory <what>: warm-up RSS A MB, after N calls B MB, growth G MB}.
 *
 * <pre>MemoryMain PREPROCESS_CALLS INFERENCE_BATCHES</pre>
 */
public final class MemoryMain {
    private MemoryMain() {}

    public static void main(String[] args) throws Exception {
        int calls = Integer.parseInt(args[0]);
        int batches = Integer.parseInt(args[1]);
        SplittableRandom rng = new SplittableRandom(5);

        // preprocessing: a 64x48 image to a 32x32 float32 sample, a fresh plan and sample list every call
        CpuPreprocessor pre = new CpuPreprocessor(1);
        OutputSpec spec = OutputSpec.nchwFloat(32, 32, Normalization.IMAGENET);
        try (DecodedImage im = ReliabilityFixtures.randomImage(rng, 64, 48, 3);
             FloatPointer out = new FloatPointer(spec.sampleElements())) {
            Runnable call = () -> {
                ResamplePlan plan = ResamplePlan.wholeImage(64, 48, 43, 32, 5, 0, 32, 32, Interpolation.BICUBIC,
                        false);
                pre.run(List.of(new Sample(im, plan, 0)), spec, out);
            };
            for (int i = 0; i < Math.max(10_000, calls / 10); i++) {
                call.run();
            }
            long before = settledRss();
            for (int i = 0; i < calls; i++) {
                call.run();
                if ((i + 1) % Math.max(1, calls / 5) == 0) {
                    System.out.printf("  preprocess: %d calls, RSS %.1f MB%n", i + 1,
                            ReliabilityFixtures.rssBytes() / 1e6);
                }
            }
            long after = settledRss();
            print("preprocess", before, after, calls + " calls");
        }

        // inference: batches of 2 images at 32 px through the Classifier (preprocess + libtorch forward)
        try (Classifier c = ReliabilityFixtures.tinyClassifier(32, 2, 1, true)) {
            List<DecodedImage> images = new ArrayList<>();
            images.add(ReliabilityFixtures.randomImage(rng, 40, 30, 3));
            images.add(ReliabilityFixtures.randomImage(rng, 30, 50, 1));
            for (int i = 0; i < Math.max(50, batches / 10); i++) {
                c.logits(images);
            }
            long before = settledRss();
            float checksum = 0;
            for (int i = 0; i < batches; i++) {
                checksum += c.logits(images)[0][0];
                if ((i + 1) % Math.max(1, batches / 5) == 0) {
                    System.out.printf("  inference: %d batches, RSS %.1f MB%n", i + 1,
                            ReliabilityFixtures.rssBytes() / 1e6);
                }
            }
            long after = settledRss();
            print("inference", before, after, batches + " batches (checksum " + checksum + ")");
            images.forEach(DecodedImage::close);
        }
    }

    private static long settledRss() throws Exception {
        System.gc();
        Thread.sleep(200);
        return ReliabilityFixtures.rssBytes();
    }

    private static void print(String what, long before, long after, String n) {
        System.out.printf("memory %s: warm-up RSS %.1f MB, after %s %.1f MB, growth %.1f MB%n", what, before / 1e6, n,
                after / 1e6, (after - before) / 1e6);
    }
}

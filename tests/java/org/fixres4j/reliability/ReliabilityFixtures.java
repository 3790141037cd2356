package org.fixres4j.reliability;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.fixres4j.classify.Classifier;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.DecodedImage.ChannelOrder;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.model.PretrainedConfig;
import org.fixres4j.torch.Torch;

/** Small models and images for the reliability tests (CI-sized: a quarter-width, 0.3-depth EfficientNet). */
final class ReliabilityFixtures {
    private ReliabilityFixtures() {}

    /** A tiny TF-style EfficientNet with 10 classes, libtorch's default initialisation from a fixed seed. */
    static synchronized EfficientNet tinyModel() {
        Torch.ensureLoaded();
        org.bytedeco.pytorch.global.torch.manual_seed(42);
        return org.fixres4j.model.ModelRegistry.create(EfficientNetSpec.custom("tiny_tf", 0.25, 0.3, true, 10));
    }

    static PretrainedConfig b0Config() {
        return ModelRegistry.config(ModelRegistry.pretrainedNames().stream()
                .filter(n -> n.startsWith("tf_efficientnet_b0")).findFirst().orElseThrow());
    }

    /** A classifier around {@link #tinyModel()} at {@code resolution} px. */
    static Classifier tinyClassifier(int resolution, int batchSize, int threads, boolean fast) {
        return Classifier.of(tinyModel(), b0Config(), new Classifier.Options().resolution(resolution)
                .batchSize(batchSize).threads(threads).fast(fast));
    }

    static DecodedImage randomImage(SplittableRandom rng, int w, int h, int channels) {
        byte[] px = new byte[w * h * channels];
        rng.nextBytes(px);
        return DecodedImage.ofPixels("random " + w + "x" + h, px, w, h, channels,
                rng.nextBoolean() ? ChannelOrder.RGB : ChannelOrder.BGR);
    }

    /** The Resident Set Size of this process in bytes, from /proc/self/status (VmRSS). */
    static long rssBytes() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                String[] parts = line.trim().split("\\s+");
                return Long.parseLong(parts[1]) * 1024L;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}

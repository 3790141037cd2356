package example;

import java.nio.file.Path;
import java.util.List;
import org.fixres4j.classify.Classifier;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.transform.ResamplePlan;
import org.fixres4j.transform.SampleTransform;
import org.fixres4j.transform.TimmEvalTransform;
import org.fixres4j.weights.SafeTensors;

/**
 * The README's "Using it as a library" example, on a real photograph: {@code ReadmeExample PHOTO WEIGHTS}. The
 * weights are made here by the library itself (a randomly initialised B0 saved as safetensors), so the predictions
 * are not meaningful, but every step is the real one. Exits non-zero if a result is not what it must be.
 */
public final class ReadmeExample {
    public static void main(String[] args) throws Exception {
        Path photo = Path.of(args[0]);
        Path weights = Path.of(args[1]);
        try (EfficientNet model = ModelRegistry.create("tf_efficientnet_b0")) {
            SafeTensors.write(weights, model.stateDict());
        }

        // classify with timm weights, at a FixRes test resolution
        try (Classifier c = Classifier.load("tf_efficientnet_b0.ap_in1k", weights,
                new Classifier.Options().resolution(320))) {
            List<Classifier.Prediction> top5 = c.classify(photo, 5);
            check(top5.size() == 5, "5 predictions, got " + top5);
            double previous = 1;
            for (Classifier.Prediction p : top5) {
                System.out.printf("%-30s %.5f%n", p.label(), p.probability());
                check(p.probability() > 0 && p.probability() <= previous, "probabilities in (0, 1], descending");
                check(!p.label().isEmpty(), "ImageNet class names");
                previous = p.probability();
            }
        }

        // just the input pipeline: Pillow-exact, straight into a batch slot
        CpuPreprocessor pre = new CpuPreprocessor(1);
        SampleTransform t = TimmEvalTransform.of(224);             // resize shorter side to 256 (bicubic) + centre crop 224
        try (DecodedImage img = ImageDecoder.decode(photo)) {
            ResamplePlan plan = t.plan(img.width(), img.height(), null);
            float[] chw = pre.runToFloats(img, plan, OutputSpec.nchwFloat(224, 224, t.normalization()));
            check(chw.length == 3 * 224 * 224, "3x224x224 floats, got " + chw.length);
            double min = Double.MAX_VALUE;
            double max = -Double.MAX_VALUE;
            for (float v : chw) {
                check(Float.isFinite(v), "finite values");
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            // ImageNet normalisation of 0..255 spans about -2.1..2.6; a photograph covers much of it
            check(min < -1 && max > 1 && min >= -2.2 && max <= 2.7, "normalised range, got " + min + ".." + max);
            System.out.printf("preprocessed %dx%d -> 3x224x224, values %.3f..%.3f%n", img.width(), img.height(),
                    min, max);
        }
        System.out.println("readme example: ok");
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError("expected " + what);
        }
    }
}

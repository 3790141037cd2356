package example;

import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.preprocess.Sample;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.TimmEvalTransform;

/**
 * An application that uses libtorch itself before any FixRes4J class: {@code TorchFirst PHOTO} runs the README's
 * one-line init first, as documented; {@code TorchFirst PHOTO --without-init} leaves it out (with an empty JavaCPP
 * cache and a system libtorch, that is the JVM crash the init exists for: CI runs it to prove the hazard is there).
 */
public final class TorchFirst {
    public static void main(String[] args) throws Exception {
        Path photo = Path.of(args[0]);
        boolean init = !(args.length > 1 && args[1].equals("--without-init"));
        if (init) {
            Torch.ensureLoaded();                               // before the application's own first use of libtorch
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor batch = torch.zeros(2, 3, 224, 224);         // the application touches libtorch first
            TimmEvalTransform t = TimmEvalTransform.of(224);
            try (DecodedImage img = ImageDecoder.decode(photo)) {
                List<Sample> samples = List.of(
                        new Sample(img, t.plan(img.width(), img.height(), null), 0),
                        new Sample(img, t.plan(img.width(), img.height(), null), 1));
                new CpuPreprocessor(2).run(samples, OutputSpec.nchwFloat(224, 224, t.normalization()), batch);
            }
            double absSum = batch.abs().sum().item_double();
            double diff = batch.select(0, 0).sub(batch.select(0, 1)).abs().max().item_double();
            ReadmeExample.check(absSum > 1000, "a filled batch, |sum| " + absSum);
            ReadmeExample.check(diff == 0, "the same image in both slots, max difference " + diff);
            System.out.printf("torch first: batch [2,3,224,224] filled, mean |x| %.4f%n", absSum / (2 * 3 * 224 * 224));
        }
        System.out.println("torch first: ok");
    }
}

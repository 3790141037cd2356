package org.fixres4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.fixres4j.classify.Classifier;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;
import org.fixres4j.io.AtomicFiles;
import org.fixres4j.io.Npy;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code fixres logits}: the model's logits for images, as float32 {@code [N, classes]} {@code .npy}. */
@Command(name = "logits", mixinStandardHelpOptions = true,
        defaultValueProvider = CommandDefaults.class,
        description = {"Run an EfficientNet on images and write its logits, float32 [N, classes], as NumPy .npy.",
            "Preprocessing defaults come from the model's pretrained config (timm's)."})
final class LogitsCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    DeviceOptions device;

    @Mixin
    AmpOptions amp;

    @Option(names = {"--out", "--results-file"}, required = true, paramLabel = "FILE.npy",
            description = "Output file.")
    Path out;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Image files.")
    List<Path> images;

    @Override
    public Integer call() throws Exception {
        EvalCommand.checkOutputs(out);
        org.fixres4j.torch.Amp precision = amp.on(device.device.toString());
        for (Path p : images) {
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException("no such image file: " + p);
            }
        }
        try (Classifier c = model.load(device.checked(), precision)) {
            int classes = c.labels().size();
            try (AtomicFiles.Replacement replacement = AtomicFiles.begin(out)) {
                Path tmp = replacement.tmp();
                try (Npy.Writer w = Npy.writer(tmp, "<f4", new long[] {images.size(), classes})) {
                    int chunk = 64;
                    for (int start = 0; start < images.size(); start += chunk) {
                        List<DecodedImage> decoded = new ArrayList<>();
                        try {
                            for (Path p : images.subList(start, Math.min(images.size(), start + chunk))) {
                                decoded.add(ImageDecoder.decode(p));
                            }
                            for (float[] row : c.logits(decoded)) {
                                w.write(row, 0, row.length);
                            }
                        } finally {
                            decoded.forEach(DecodedImage::close);
                        }
                    }
                }
                replacement.commit();
            }
            System.err.printf("fixres logits: %d image(s) x %d classes -> %s (%s, %s)%n", images.size(), classes, out,
                    c.name(), c.transform().describe());
        }
        return 0;
    }
}

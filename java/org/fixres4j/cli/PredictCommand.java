package org.fixres4j.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.fixres4j.classify.Classifier;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code fixres predict}: the top classes of each image with their probabilities. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        defaultValueProvider = CommandDefaults.class,
        description = "Print the top classes of each image with softmax probabilities.")
final class PredictCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    DeviceOptions device;

    @Option(names = "--top", paramLabel = "K", defaultValue = "5", description = "Classes per image (default: 5).")
    int top;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Image files.")
    List<Path> images;

    @Override
    public Integer call() throws Exception {
        try (Classifier c = model.load(device.checked())) {
            List<List<Classifier.Prediction>> all = c.classify(images, top);
            for (int i = 0; i < images.size(); i++) {
                System.out.println(images.get(i));
                for (Classifier.Prediction p : all.get(i)) {
                    System.out.printf("  %6.2f%%  %4d  %s%n", 100 * p.probability(), p.index(), p.label());
                }
            }
        }
        return 0;
    }
}

package org.fixres4j.cli;

import org.fixres4j.classify.Classifier;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options of the commands that classify images (predict, logits): the model, its preprocessing, how it runs. */
final class ModelOptions {
    @Mixin
    ImageOptions imageOptions;

    @Mixin
    ModelArgs model;

    @Option(names = {"--res", "--img-size"}, paramLabel = "R",
            description = "Test resolution (default: the model's input size).")
    Integer res;

    @Mixin
    PreprocessingOptions preprocessing;

    @Option(names = {"-b", "--batch"}, paramLabel = "B", defaultValue = "8", description = "Batch size (default: 8).")
    int batch;

    @Option(names = "--threads", paramLabel = "T",
            description = "Threads for preprocessing and libtorch (default: all processors).")
    Integer threads;

    @Option(names = "--plain", description = "Run the plain module instead of the BN-folded fast path.")
    boolean plain;

    @Option(names = "--channels-last", description = "Run the model in channels-last (NHWC) memory format. The "
            + "fast path always does; this converts the plain module (--plain) too.")
    boolean channelsLast;

    Classifier.Options toOptions() {
        Threads.check("--threads", threads);
        Classifier.Options o = new Classifier.Options().batchSize(batch).fast(!plain).channelsLast(channelsLast)
                .preprocessing(preprocessing.overrides(res));
        if (threads != null) {
            o.threads(threads);
        }
        return o;
    }

    /** Loads the classifier through the one model loader; sets libtorch's thread count when --threads is given. */
    Classifier load() throws java.io.IOException {
        return load(org.fixres4j.torch.Amp.NONE);
    }

    /** {@link #load()} in a precision (--amp). */
    Classifier load(org.fixres4j.torch.Amp amp) throws java.io.IOException {
        Classifier.Options o = toOptions().amp(amp);
        Classifier c = Classifier.load(model.source(), o);
        if (threads != null) {
            org.fixres4j.torch.Torch.setThreads(threads);
        }
        return c;
    }
}

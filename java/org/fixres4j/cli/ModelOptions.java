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

    @Mixin
    ComputeOptions compute;

    @Mixin
    ForwardOptions forward;

    Classifier.Options toOptions() {
        compute.validate();
        Classifier.Options o = new Classifier.Options().batchSize(compute.batch()).fast(!forward.plain)
                .channelsLast(forward.channelsLast)
                .preprocessing(preprocessing.overrides(res));
        if (compute.threads != null) {
            o.threads(compute.threads);
        }
        return o;
    }

    /** Loads the classifier through the one model loader; sets libtorch's thread count when --threads is given. */
    Classifier load() throws java.io.IOException {
        return load(org.fixres4j.torch.DeviceSpec.CPU, org.fixres4j.torch.Amp.NONE);
    }

    /** {@link #load()} on {@code device} (refused before any loading when this process cannot use it). */
    Classifier load(org.fixres4j.torch.DeviceSpec device) throws java.io.IOException {
        return load(device, org.fixres4j.torch.Amp.NONE);
    }

    /** {@link #load()} on {@code device} in a precision (--amp, already checked for that device). */
    Classifier load(org.fixres4j.torch.DeviceSpec device, org.fixres4j.torch.Amp amp) throws java.io.IOException {
        Classifier.Options o = toOptions().device(device).amp(amp);
        Classifier c = Classifier.load(model.source(), o);
        if (compute.threads != null) {
            org.fixres4j.kernels.ComputeThreads.set(compute.threads);
        }
        return c;
    }
}

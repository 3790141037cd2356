package org.fixres4j.cli;

import org.fixres4j.torch.Amp;

import picocli.CommandLine.Option;

/**
 * {@code --amp}: the precision a command runs its model in ({@link Amp}). One mixin for eval, finetune, train, logits
 * and bench model; the device's check ({@link #on(String)}: fp16 only on CUDA; {@link #training}: no fp16 training)
 * runs before any work.
 */
final class AmpOptions {
    @Option(names = "--amp", paramLabel = "M", defaultValue = "none",
            description = "Precision: none (float32, timm-exact logits; default), bf16 (bfloat16: the fast path and "
                    + "the fused depthwise kernel in bfloat16, the plain module under libtorch's autocast; fast on "
                    + "CPUs with AVX512-BF16 or AMX) or fp16 (CUDA only).")
    String amp = "none";

    /** The parsed mode, checked for the CPU. */
    Amp cpu() {
        return on("cpu");
    }

    /**
     * The parsed mode for a training loop (train, finetune) on {@code device}: as {@link #on(String)}, and float16
     * refused, whose training needs a loss scaler the preset does not map
     * ({@link org.fixres4j.fixres.RunConfig#trainingAmp}).
     */
    Amp training(org.fixres4j.torch.DeviceSpec device) {
        return org.fixres4j.fixres.RunConfig.trainingAmp(Amp.parse(amp), device);
    }

    /** The parsed mode, checked for a device ({@code cpu}, {@code cuda}, {@code cuda:N}). */
    Amp on(String device) {
        return Amp.parse(amp).checkDevice(device);
    }
}

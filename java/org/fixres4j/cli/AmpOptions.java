package org.fixres4j.cli;

import org.fixres4j.torch.Amp;

import picocli.CommandLine.Option;

/**
 * {@code --amp}: the precision a command runs its model in ({@link Amp}). One mixin for eval, finetune, logits and
 * bench model; the device's check ({@link #on(String)}: fp16 only on CUDA) runs before any work.
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

    /** The parsed mode, checked for a device ({@code cpu}, {@code cuda}, {@code cuda:N}). */
    Amp on(String device) {
        return Amp.parse(amp).checkDevice(device);
    }
}

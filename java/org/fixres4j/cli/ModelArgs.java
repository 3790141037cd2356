package org.fixres4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import org.fixres4j.model.ModelSource;

import picocli.CommandLine.Option;

/**
 * Which model a command runs (predict, logits, eval, recommend, finetune): a timm name with a timm weight file, a
 * self-describing model file of {@code fixres train} / {@code finetune}, or such a file with a name that must describe
 * it; read by the one loader, {@link ModelSource}. The same arguments in every command: {@code --weights FILE},
 * {@code --arch NAME}, and {@code --model}, which is timm's spelling of {@code --arch} and finetune's older spelling
 * of {@code --weights}, told apart by its value ({@link #looksLikeFile}).
 */
final class ModelArgs {
    @Option(names = "--arch", paramLabel = "A",
            description = "timm model name: tf_efficientnet_b0 ... b8, tf_efficientnet_l2, efficientnet_b0 ... b8, "
                    + "with a tag (tf_efficientnet_b0.ap_in1k) or a legacy alias (tf_efficientnet_b0_ap). Optional "
                    + "for model files of fixres train / finetune: their metadata describes the model (any "
                    + "width/depth) and its input configuration; given, it must name the same network.")
    String arch;

    @Option(names = "--weights", paramLabel = "FILE",
            description = ".safetensors (a timm file, or a fixres train / finetune model) or torch.save .pth/.bin "
                    + "(never executed: read by an allow-list unpickler).")
    Path weights;

    @Option(names = "--model", paramLabel = "A|FILE",
            description = "--arch (timm's spelling) or, when it names a file (one that exists, or ending in "
                    + ".safetensors, .pth, .pt or .bin), --weights.")
    String model;

    /** Whether a {@code --model} value is a file rather than a model name: it exists, or has a weight file's suffix. */
    static boolean looksLikeFile(String value) {
        String v = value.toLowerCase(Locale.ROOT);
        if (v.endsWith(".safetensors") || v.endsWith(".pth") || v.endsWith(".bin") || v.endsWith(".pt")) {
            return true;
        }
        try {
            return Files.isRegularFile(Path.of(value));
        } catch (java.nio.file.InvalidPathException e) {
            return false;
        }
    }

    /** The model name: --arch, or --model when it is a name; null when neither is given. */
    String arch() {
        resolve();
        return arch;
    }

    /** The weight file: --weights, or --model when it names a file; null when neither is given. */
    Path weights() {
        resolve();
        return weights;
    }

    /** The weight file, which this command needs. */
    Path requiredWeights() {
        Path w = weights();
        if (w == null) {
            throw new IllegalArgumentException("give the model file: --weights FILE (or --model FILE)");
        }
        return w;
    }

    /** The model source: the file's metadata (read from its header) and the name, checked against each other. */
    ModelSource source() throws IOException {
        return ModelSource.of(arch(), requiredWeights());
    }

    /** Moves --model onto --arch or --weights, refusing it when that one is given too. */
    private void resolve() {
        if (model == null) {
            return;
        }
        String m = model;
        model = null;
        if (looksLikeFile(m)) {
            if (weights != null) {
                throw new IllegalArgumentException("--model " + m + " names a model file and so does --weights: give "
                        + "one of them");
            }
            weights = Path.of(m);
        } else {
            if (arch != null) {
                throw new IllegalArgumentException("--model " + m + " names a model and so does --arch: give one of "
                        + "them");
            }
            arch = m;
        }
    }
}

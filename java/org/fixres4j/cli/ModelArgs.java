package org.fixres4j.cli;

import java.io.IOException;
import java.nio.file.Path;

import org.fixres4j.model.ModelSource;

import picocli.CommandLine.Option;

/**
 * Which model a command runs (predict, logits, eval): a timm name with a timm weight file, a self-describing model
 * file of {@code fixres train} / {@code finetune}, or such a file with a name that must describe it; read by the one
 * loader, {@link ModelSource}.
 */
final class ModelArgs {
    @Option(names = {"--arch", "--model"}, paramLabel = "A",
            description = "timm model name (--model is timm's spelling): tf_efficientnet_b0 ... b8, tf_efficientnet_l2, "
                    + "efficientnet_b0 ... b8, with a tag (tf_efficientnet_b0.ap_in1k) or a legacy alias "
                    + "(tf_efficientnet_b0_ap). Optional for model files of fixres train / finetune: their metadata "
                    + "describes the model (any width/depth) and its input configuration; given, it must name the "
                    + "same network.")
    String arch;

    @Option(names = "--weights", required = true, paramLabel = "FILE",
            description = ".safetensors (a timm file, or a fixres train / finetune model) or torch.save .pth/.bin "
                    + "(never executed: read by an allow-list unpickler).")
    Path weights;

    /** The model source: the file's metadata (read from its header) and the name, checked against each other. */
    ModelSource source() throws IOException {
        return ModelSource.of(arch, weights);
    }
}

package org.fixres4j.fixres;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.data.Seeds;
import org.fixres4j.model.EfficientNet;

/** Pieces shared by {@link Trainer} and {@link Finetuner}: the loss, parameter selection, modes and seeding. */
final class TrainSupport {
    private TrainSupport() {}

    /** The stream that seeds libtorch's global generator (dropout, drop path) at the start of each epoch. */
    static final long TORCH_STREAM = 0x7F4A_7C15_9E37_79B9L;

    /**
     * Cross-entropy with label smoothing, mean over the batch: {@code (1 - eps) * nll + eps * mean_c(-log p_c)}
     * (timm's {@code LabelSmoothingCrossEntropy}, equal to PyTorch's {@code label_smoothing=eps}).
     */
    static Tensor labelSmoothingLoss(Tensor logits, Tensor labels, double eps) {
        Tensor logp = logits.log_softmax(1);
        Tensor nll = logp.gather(1, labels.unsqueeze(1)).squeeze(1).neg();
        if (eps <= 0) {
            return nll.mean();
        }
        Tensor smooth = logp.mean(new long[] {1}, false, new ScalarTypeOptional()).neg();
        return nll.mul(new Scalar(1 - eps)).add(smooth, new Scalar(eps)).mean();
    }

    /** Seeds libtorch's global generator for epoch {@code epoch} of a run seeded {@code seed}. */
    static void seedEpoch(long seed, int epoch) {
        torch.manual_seed(Seeds.hash(seed, TORCH_STREAM, epoch));
    }

    /** Sets requires_grad on exactly the named tensors (parameters; buffers never require grad). */
    static Map<String, Tensor> setTrainable(EfficientNet model, java.util.function.Predicate<String> trained) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        var dict = model.named_parameters(true);
        var keys = dict.keys();
        for (long i = 0; i < keys.size(); i++) {
            String k = keys.get(i).getString();
            Tensor p = dict.get(k);
            boolean on = trained.test(k);
            p.requires_grad_(on);
            if (on) {
                out.put(k, p);
            }
        }
        return out;
    }

    /** The names that get weight decay: all when {@code decayAll}, else only tensors of 2 or more dimensions. */
    static List<String> decayed(Map<String, Tensor> params, boolean decayAll) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            if (decayAll || e.getValue().dim() > 1) {
                out.add(e.getKey());
            }
        }
        return out;
    }

    /** The child module {@code name} of the model (e.g. {@code bn2}), as a generic module. */
    static Module child(EfficientNet model, String name) {
        Module m = model.named_children().get(name);
        if (m == null || m.isNull()) {
            throw new IllegalStateException("the model has no child module " + name);
        }
        return m;
    }

    /** The number of the last stage (the {@code s} of {@code blocks.s.*}). */
    static int lastStage(EfficientNet model) {
        return model.spec().arch().size() - 1;
    }

    /** Milliseconds since {@code t0} (nanoTime). */
    static double ms(long t0) {
        return (System.nanoTime() - t0) / 1e6;
    }
}

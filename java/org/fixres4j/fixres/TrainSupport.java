package org.fixres4j.fixres;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringSharedModuleDict;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.data.Seeds;
import org.fixres4j.model.EfficientNet;

/** Pieces shared by {@link Trainer} and {@link Finetuner}: the loss, parameter selection, modes and seeding. */
final class TrainSupport {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
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

    /**
     * Sets requires_grad on exactly the parameters {@code trained} accepts, and returns those parameters as owning
     * handles ({@link #owned}).
     */
    static Map<String, Tensor> setTrainable(EfficientNet model, java.util.function.Predicate<String> trained) {
        Map<String, Tensor> out;
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> selected = new LinkedHashMap<>();
            var dict = model.named_parameters(true);
            var keys = dict.keys();
            for (long i = 0; i < keys.size(); i++) {
                String k = keys.get(i).getString();
                Tensor p = dict.get(k);
                boolean on = trained.test(k);
                p.requires_grad_(on);
                if (on) {
                    selected.put(k, p);
                }
            }
            out = copies(selected);
        }
        return adopt(out);
    }

    /**
     * Owning handles of some of the model's live tensors (parameters and buffers): the same tensors (in-place changes
     * and gradients are the model's), each its own {@code at::Tensor} reference. The maps libtorch returns hold
     * their elements by reference, so their handles die with the map; these do not. They belong to the caller's
     * innermost {@code PointerScope}, or to the GC without one.
     */
    static Map<String, Tensor> owned(EfficientNet model, java.util.function.Predicate<String> which) {
        Map<String, Tensor> out;
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> selected = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : model.namedTensors().entrySet()) {
                if (which.test(e.getKey())) {
                    selected.put(e.getKey(), e.getValue());
                }
            }
            out = copies(selected);
        }
        return adopt(out);
    }

    /** Owning copies (C++ copy constructor: same tensor, new reference), retained past the current scope. */
    private static Map<String, Tensor> copies(Map<String, Tensor> refs) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : refs.entrySet()) {
            out.put(e.getKey(), new Tensor(e.getValue()).retainReference());
        }
        return out;
    }

    /** Moves retained handles into the innermost open scope (or leaves them to the GC). */
    private static Map<String, Tensor> adopt(Map<String, Tensor> retained) {
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            for (Tensor t : retained.values()) {
                outer.attach(t);
                t.releaseReference();
            }
        }
        return retained;
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

    /**
     * Switches the child module {@code name} (e.g. {@code bn2}) to train or eval mode. The child map libtorch returns
     * holds its modules by reference: it stays open (in a scope) until the call is done.
     */
    static void setChildTraining(EfficientNet model, String name, boolean on) {
        try (PointerScope scope = new PointerScope()) {
            StringSharedModuleDict children = model.named_children();
            if (!children.contains(name)) {
                throw new IllegalStateException("the model has no child module " + name);
            }
            Module m = children.get(name);
            m.train(on);
            java.lang.ref.Reference.reachabilityFence(children);
        }
    }

    /** The number of the last stage (the {@code s} of {@code blocks.s.*}). */
    static int lastStage(EfficientNet model) {
        return model.spec().arch().size() - 1;
    }

    /**
     * The default thread count of training and fine-tuning: one core is left to the loader threads (processors - 1,
     * at least 1). libtorch's OpenMP threads spin while they wait; on a 2-core machine two of them plus the loader
     * ran several times slower than one (measured while other work shared the cores: 40 against 574 images/s).
     */
    static int defaultThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    }

    /** Milliseconds since {@code t0} (nanoTime). */
    static double ms(long t0) {
        return (System.nanoTime() - t0) / 1e6;
    }
}

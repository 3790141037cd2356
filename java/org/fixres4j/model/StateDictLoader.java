package org.fixres4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.TensorData;
import org.fixres4j.weights.TorchTensors;

/**
 * Loads a {@link StateDict} (from {@code SafeTensors} or {@code PthReader}) into an {@link EfficientNet}.
 *
 * <p>Strict mode checks everything before copying anything and throws one {@link Mismatch} that lists every missing,
 * unexpected and shape-mismatched key. Non-strict mode loads what matches and reports the rest (e.g. a
 * {@code classifier.*} of another class count when fine-tuning: the model keeps its own head). In both modes a
 * missing {@code num_batches_tracked} is tolerated and set to 0, as PyTorch does for state dicts without version
 * metadata. Values are converted to the model's dtype (e.g. float16 files) and memory format by {@code copy_}.
 */
public final class StateDictLoader {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    private StateDictLoader() {}

    /**
     * What a load did.
     *
     * @param loaded keys copied into the model
     * @param missing keys of the model absent from the state dict (not loaded)
     * @param unexpected keys of the state dict the model does not have (ignored)
     * @param mismatched {@code key: file shape vs model shape} for keys whose shapes differ (not loaded)
     * @param defaulted {@code num_batches_tracked} keys absent from the state dict, set to 0
     */
    public record Report(List<String> loaded, List<String> missing, List<String> unexpected, List<String> mismatched,
                         List<String> defaulted) {
        /** Whether every key of both sides matched (ignoring defaulted counters). */
        public boolean isClean() {
            return missing.isEmpty() && unexpected.isEmpty() && mismatched.isEmpty();
        }

        /** A one-paragraph summary listing every problem key. */
        public String describe() {
            StringBuilder b = new StringBuilder();
            b.append(loaded.size()).append(" tensors loaded");
            if (!defaulted.isEmpty()) {
                b.append(", ").append(defaulted.size()).append(" num_batches_tracked absent (set to 0)");
            }
            list(b, "missing", missing);
            list(b, "unexpected", unexpected);
            list(b, "shape-mismatched", mismatched);
            return b.toString();
        }

        private static void list(StringBuilder b, String what, List<String> keys) {
            if (!keys.isEmpty()) {
                b.append("\n  ").append(keys.size()).append(' ').append(what).append(": ")
                        .append(String.join(", ", keys));
            }
        }
    }

    /** Thrown by a strict load; {@link #report()} has the details (nothing was loaded). */
    public static final class Mismatch extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final transient Report report;

        Mismatch(String model, Report report) {
            super("state dict does not fit " + model + ": " + report.describe());
            this.report = report;
        }

        public Report report() {
            return report;
        }
    }

    /**
     * Reads a weight file as timm users have them: {@code .safetensors} (the hub's {@code model.safetensors}) by
     * {@code SafeTensors}, anything else that looks like a {@code torch.save} file ({@code .pth}, the hub's
     * {@code pytorch_model.bin}, zip or legacy format, plain or wrapped in {@code state_dict} / {@code model}) by the
     * code-free {@code PthReader}.
     *
     * @throws org.fixres4j.weights.WeightFormatException if the file is neither
     */
    public static StateDict read(Path file) throws IOException {
        return org.fixres4j.weights.WeightFiles.read(file);
    }

    /** Reads {@code file} ({@link #read(Path)}) and loads it strictly or not. */
    public static Report load(EfficientNet model, Path file, boolean strict) throws IOException {
        return load(model, read(file), strict);
    }

    /** Strict load: every key must match in name and shape. */
    public static Report load(EfficientNet model, StateDict stateDict) {
        return load(model, stateDict, true);
    }

    /**
     * Loads {@code stateDict} into {@code model}.
     *
     * @throws Mismatch in strict mode if anything is missing, unexpected or of another shape (nothing is loaded then)
     */
    @SuppressWarnings("try")
    public static Report load(EfficientNet model, StateDict stateDict, boolean strict) {
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> target = model.namedTensors();
            List<String> loaded = new ArrayList<>();
            List<String> missing = new ArrayList<>();
            List<String> mismatched = new ArrayList<>();
            List<String> defaulted = new ArrayList<>();
            for (Map.Entry<String, Tensor> e : target.entrySet()) {
                String key = e.getKey();
                TensorData src = stateDict.get(key);
                if (src == null) {
                    (key.endsWith(".num_batches_tracked") ? defaulted : missing).add(key);
                    continue;
                }
                long[] want = shape(e.getValue());
                if (!Arrays.equals(src.shape(), want)) {
                    mismatched.add(key + ": " + Arrays.toString(src.shape()) + " in the state dict vs "
                            + Arrays.toString(want) + " in the model");
                    continue;
                }
                loaded.add(key);
            }
            Set<String> unexpectedSet = new LinkedHashSet<>(stateDict.keys());
            unexpectedSet.removeAll(target.keySet());
            Report report = new Report(Collections.unmodifiableList(loaded), Collections.unmodifiableList(missing),
                    List.copyOf(unexpectedSet), Collections.unmodifiableList(mismatched),
                    Collections.unmodifiableList(defaulted));
            if (strict && !report.isClean()) {
                throw new Mismatch(model.spec().name(), report);
            }
            try (NoGradGuard g = new NoGradGuard()) {
                for (String key : loaded) {
                    try (PointerScope inner = new PointerScope()) {
                        target.get(key).copy_(TorchTensors.toTorch(stateDict.get(key)));
                    }
                }
                for (String key : defaulted) {
                    target.get(key).zero_();
                }
            }
            return report;
        }
    }

    static long[] shape(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int i = 0; i < s.length; i++) {
            s[i] = t.size(i);
        }
        return s;
    }
}

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
 * <p>Strict mode checks everything before copying anything and throws one {@link Mismatch}: its message gives the
 * counts of missing, unexpected and shape-mismatched keys, the first few of each and what the file looks like (a
 * FixRes4J model that describes itself, a timm architecture whose keys and shapes it matches, or the shape of its
 * network); {@link Mismatch#report()} has every key. Non-strict mode loads what matches and reports the rest (e.g. a
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

        /**
         * One line: how many keys of each kind are wrong, with the first {@code max} of each, e.g. {@code 310 missing
         * (conv_stem.weight, bn1.weight, bn1.bias, ...), 290 unexpected (...)}.
         */
        public String summary(int max) {
            List<String> parts = new ArrayList<>();
            brief(parts, "missing", missing, max);
            brief(parts, "unexpected", unexpected, max);
            brief(parts, "shape-mismatched", mismatched, max);
            return parts.isEmpty() ? "every key matches" : String.join(", ", parts);
        }

        private static void brief(List<String> parts, String what, List<String> keys, int max) {
            if (!keys.isEmpty()) {
                parts.add(keys.size() + " " + what + " (" + String.join(", ", keys.subList(0, Math.min(max,
                        keys.size()))) + (keys.size() > max ? ", ..." : "") + ")");
            }
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

    /** Keys of each kind named in a {@link Mismatch}'s message. */
    static final int KEYS_SHOWN = 3;

    /**
     * Thrown by a strict load (nothing was loaded). The message is one line: the counts of missing, unexpected and
     * mis-shaped keys with the first {@value #KEYS_SHOWN} of each, then what the file looks like;
     * {@link #report()} has every key and {@link #fileDescription()} the diagnosis alone.
     */
    public static final class Mismatch extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final transient Report report;
        private final String fileDescription;

        Mismatch(String model, int modelKeys, int fileKeys, Report report, String fileDescription) {
            super("the weights do not fit " + model + " (" + modelKeys + " tensors; the file has " + fileKeys + "): "
                    + report.summary(KEYS_SHOWN) + ". " + fileDescription);
            this.report = report;
            this.fileDescription = fileDescription;
        }

        /** Every missing, unexpected and mis-shaped key. */
        public Report report() {
            return report;
        }

        /** What the file looks like, e.g. which architecture its keys and shapes fit. */
        public String fileDescription() {
            return fileDescription;
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
                throw new Mismatch(model.spec().name(), target.size(), stateDict.size(), report,
                        describeFile(stateDict));
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

    /**
     * What a state dict looks like, in one or two sentences: a FixRes4J model file (its metadata names the network:
     * load it without a timm name), the timm architectures whose keys and shapes it matches exactly, or the shape of
     * its EfficientNet (stem, blocks per stage, features, classes; its width multiplier when the stem tells it), or
     * that it is no EfficientNet at all.
     */
    public static String describeFile(StateDict sd) {
        String fixres = sd.metadata() == null ? null : sd.metadata().get("fixres4j.model");
        if (fixres != null) {
            return "The file is a FixRes4J model, " + fixres + ", and its metadata describes it: load it without a "
                    + "timm name (command line: without --arch; Java: ModelFile.load(file))";
        }
        TensorData stem = sd.get("conv_stem.weight");
        if (stem == null || stem.rank() != 4) {
            List<String> first = new ArrayList<>();
            for (String k : sd.keys()) {
                if (first.size() == KEYS_SHOWN) {
                    break;
                }
                first.add(k);
            }
            return "The file is not an EfficientNet state dict in timm's layout (no 4-D conv_stem.weight; its first "
                    + "keys: " + String.join(", ", first) + (sd.size() > KEYS_SHOWN ? ", ..." : "") + ")";
        }
        TensorData head = sd.get("classifier.weight");
        int classes = head != null && head.rank() == 2 ? (int) head.dim(0) : -1;
        List<String> matches = new ArrayList<>();
        for (String arch : ModelRegistry.architectures()) {
            try {
                EfficientNetSpec spec = EfficientNetSpec.of(arch).withInChannels((int) stem.dim(1));
                if (classes > 0) {
                    spec = spec.withNumClasses(classes);
                }
                if (sameShapes(spec.stateDictShapes(), sd)) {
                    matches.add(arch);
                }
            } catch (RuntimeException e) {
                // an architecture that cannot take these channels or classes is no match
            }
        }
        String classText = classes > 0 ? classes + " classes" : "no classifier";
        if (!matches.isEmpty()) {
            return "Its keys and shapes are those of " + String.join(" or ", matches) + " (" + classText
                    + "): use that name";
        }
        java.util.TreeMap<Integer, Integer> perStage = new java.util.TreeMap<>();
        Set<String> seen = new LinkedHashSet<>();
        for (String k : sd.keys()) {
            String[] parts = k.split("\\.");
            if (parts.length > 3 && parts[0].equals("blocks") && parts[1].matches("\\d+")
                    && parts[2].matches("\\d+") && seen.add(parts[1] + "." + parts[2])) {
                perStage.merge(Integer.parseInt(parts[1]), 1, Integer::sum);
            }
        }
        long stemChannels = stem.dim(0);
        TensorData convHead = sd.get("conv_head.weight");
        double width = stemChannels / (double) EfficientNetSpec.BASE_STEM;
        return "It is an EfficientNet of no timm architecture: stem " + stemChannels + " channels (width "
                + java.math.BigDecimal.valueOf(width).round(new java.math.MathContext(3)).stripTrailingZeros()
                        .toPlainString() + " x the base 32), blocks per stage "
                + perStage.values() + (convHead != null && convHead.rank() == 4 ? ", " + convHead.dim(0)
                + " features" : "") + ", " + classText + (sd.metadata() != null && !sd.metadata().isEmpty()
                ? "" : "; a model of fixres train / finetune with its metadata stripped?");
    }

    private static boolean sameShapes(Map<String, long[]> want, StateDict sd) {
        for (Map.Entry<String, long[]> e : want.entrySet()) {
            TensorData t = sd.get(e.getKey());
            if (t == null) {
                if (e.getKey().endsWith(".num_batches_tracked")) {
                    continue;
                }
                return false;
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                return false;
            }
        }
        return want.keySet().containsAll(sd.keys());
    }

    static long[] shape(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int i = 0; i < s.length; i++) {
            s[i] = t.size(i);
        }
        return s;
    }
}

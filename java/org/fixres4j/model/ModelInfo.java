package org.fixres4j.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import org.fixres4j.io.Json;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;

/**
 * What a model file says about its model: the architecture and the input configuration it was trained with.
 *
 * @param spec the architecture (base name, multipliers, padding style, classes, input channels)
 * @param inputSize the training (or fine-tuned test) resolution: the default evaluation size
 * @param cropPct the evaluation crop fraction (0.875 = FixRes's and timm's 224/256)
 * @param interpolation the resize filter
 * @param normalization the input mean / std
 * @param classNames the class names (index order), or an empty list
 */
public record ModelInfo(EfficientNetSpec spec, int inputSize, double cropPct, Interpolation interpolation,
                        Normalization normalization, List<String> classNames) {
    /** Metadata key prefix of FixRes4J's model description. */
    public static final String META = "fixres4j.";

    /** Bounds on a model file's metadata, checked before anything is allocated (B7 is 2.0 / 3.1, L2 4.3 / 5.3). */
    public static final double MIN_MULTIPLIER = 0.01;
    public static final double MAX_MULTIPLIER = 8.0;
    public static final int MAX_IN_CHANS = 64;
    public static final int MAX_CLASSES = 1_000_000;
    public static final int MAX_INPUT_SIZE = 8192;
    public static final int MAX_CLASS_NAME = 1000;
    /** Parameters a model file may describe (EfficientNet-L2 has 480 million). */
    public static final long MAX_PARAMETERS = 2_000_000_000L;

    public ModelInfo {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(interpolation, "interpolation");
        Objects.requireNonNull(normalization, "normalization");
        classNames = List.copyOf(classNames);
        if (inputSize < 8 || !(cropPct > 0)) {
            throw new IllegalArgumentException("bad input size " + inputSize + " or crop_pct " + cropPct);
        }
    }

    /** The same model described at another default resolution (after fine-tuning at a test size). */
    public ModelInfo withInputSize(int size) {
        return new ModelInfo(spec, size, cropPct, interpolation, normalization, classNames);
    }

    /**
     * The base architecture name: {@code efficientnet_b0} / {@code tf_efficientnet_b0} for the standard stage
     * layout (any multipliers), the spec's own name otherwise.
     */
    public String baseArchitecture() {
        return ModelFile.baseArchitectureOf(spec);
    }

    /** A readable one-line name, e.g. {@code efficientnet_b0(width=0.25, depth=0.25, in_chans=3, classes=10)}. */
    public String describe() {
        return ModelFile.describeSpec(spec);
    }

    /**
     * A {@link PretrainedConfig} for {@link ModelSource}: this file's input
     * configuration under the base architecture's name (tag {@code fixres4j}).
     */
    public PretrainedConfig toPretrainedConfig() {
        return new PretrainedConfig(baseArchitecture(), "fixres4j", inputSize, 0, cropPct, interpolation,
                normalization, Math.max(1, spec.numClasses()), "center", "", false);
    }

    /** The safetensors metadata describing this model (string values, keys prefixed {@code fixres4j.}). */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new TreeMap<>();
        m.put("format", "pt");
        m.put(META + "arch", baseArchitecture());
        m.put(META + "model", describe());
        m.put(META + "width", Double.toString(spec.width()));
        m.put(META + "depth", Double.toString(spec.depth()));
        m.put(META + "in_chans", Integer.toString(spec.inChannels()));
        m.put(META + "num_classes", Integer.toString(spec.numClasses()));
        m.put(META + "tf_same_padding", Boolean.toString(spec.tfSamePadding()));
        m.put(META + "bn_eps", Double.toString(spec.bnEps()));
        m.put(META + "input_size", Integer.toString(inputSize));
        m.put(META + "crop_pct", Double.toString(cropPct));
        m.put(META + "interpolation", interpolation.name().toLowerCase(Locale.ROOT));
        m.put(META + "mean", join(normalization.mean()));
        m.put(META + "std", join(normalization.std()));
        if (!classNames.isEmpty()) {
            m.put(META + "class_names", Json.write(classNames));
        }
        return m;
    }

    /** The model description for reports and checkpoint states ({@link Report}). */
    public Report report() {
        return new Report(baseArchitecture(), describe(), spec.width(), spec.depth(), spec.inChannels(),
                spec.numClasses(), spec.parameterCount(), inputSize, cropPct,
                interpolation.name().toLowerCase(Locale.ROOT), normalization.mean(), normalization.std());
    }

    /**
     * The model description as a report part: base architecture, one-line name, multipliers, channels, classes,
     * parameter count and the input configuration.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"arch", "model", "width", "depth", "in_chans", "num_classes", "parameters", "input_size",
        "crop_pct", "interpolation", "mean", "std"})
    public record Report(String arch, String model, double width, double depth,
                         @JsonProperty("in_chans") int inChans, int numClasses, long parameters, int inputSize,
                         double cropPct, String interpolation, float[] mean, float[] std) {}

    /**
     * Reads the metadata written by {@link #toMetadata()}; null when the file has none (e.g. timm's own files).
     *
     * @throws IllegalArgumentException if the metadata is present but malformed
     */
    public static ModelInfo fromMetadata(Map<String, String> m) {
        if (m == null || !m.containsKey(META + "arch")) {
            return null;
        }
        try {
            String arch = m.get(META + "arch");
            EfficientNetSpec base = EfficientNetSpec.of(arch);
            double width = bounded(m, "width", MIN_MULTIPLIER, MAX_MULTIPLIER);
            double depth = bounded(m, "depth", MIN_MULTIPLIER, MAX_MULTIPLIER);
            int inChans = (int) boundedInt(m, "in_chans", 1, MAX_IN_CHANS);
            if (inChans != 3) {
                throw new IllegalArgumentException(META + "in_chans is " + inChans + ", but FixRes4J's "
                        + "preprocessing feeds 3-channel (RGB) images: only in_chans=3 models can run");
            }
            int classes = (int) boundedInt(m, "num_classes", 0, MAX_CLASSES);
            EfficientNetSpec spec = ModelFile.custom(base, width, depth, inChans, classes);
            long params = spec.parameterCount();
            if (params > MAX_PARAMETERS) {
                throw new IllegalArgumentException("width " + width + " and depth " + depth + " describe "
                        + params + " parameters, over the limit of " + MAX_PARAMETERS);
            }
            int size = (int) boundedInt(m, "input_size", 8, MAX_INPUT_SIZE);
            double cropPct = m.containsKey(META + "crop_pct") ? bounded(m, "crop_pct", 1e-3, 1.0) : 0.875;
            Interpolation interp = Interpolation.parse(m.getOrDefault(META + "interpolation", "bicubic"));
            Normalization norm = Normalization.parse(req(m, "mean"), req(m, "std"));
            for (int c = 0; c < 3; c++) {
                if (!Float.isFinite(norm.mean()[c]) || !Float.isFinite(norm.std()[c]) || !(norm.std()[c] > 0)) {
                    throw new IllegalArgumentException(META + "mean / std must be finite with std > 0, got "
                            + req(m, "mean") + " / " + req(m, "std"));
                }
            }
            List<String> names = new ArrayList<>();
            String cn = m.get(META + "class_names");
            if (cn != null) {
                if (!(Json.parse(cn) instanceof List<?> list)) {
                    throw new IllegalArgumentException(META + "class_names is not a JSON array");
                }
                if (list.size() != classes) {
                    throw new IllegalArgumentException(META + "class_names has " + list.size()
                            + " names for num_classes=" + classes);
                }
                for (Object o : list) {
                    if (!(o instanceof String name) || name.length() > MAX_CLASS_NAME) {
                        throw new IllegalArgumentException(META + "class_names holds a value that is not a name "
                                + "of at most " + MAX_CLASS_NAME + " characters");
                    }
                    names.add(name);
                }
            }
            return new ModelInfo(spec, size, cropPct, interp, norm, names);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("malformed fixres4j model metadata: " + e.getMessage(), e);
        }
    }

    private static double bounded(Map<String, String> m, String key, double min, double max) {
        String v = req(m, key);
        double d;
        try {
            d = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(META + key + " is not a number: " + abbreviate(v));
        }
        if (!(d >= min && d <= max)) {
            throw new IllegalArgumentException(META + key + " is " + abbreviate(v) + ", outside " + min + ".."
                    + max);
        }
        return d;
    }

    private static long boundedInt(Map<String, String> m, String key, long min, long max) {
        String v = req(m, key);
        long x;
        try {
            x = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(META + key + " is not a whole number: " + abbreviate(v));
        }
        if (x < min || x > max) {
            throw new IllegalArgumentException(META + key + " is " + x + ", outside " + min + ".." + max);
        }
        return x;
    }

    private static String req(Map<String, String> m, String key) {
        String v = m.get(META + key);
        if (v == null) {
            throw new IllegalArgumentException("missing " + META + key);
        }
        return v;
    }

    private static String join(float[] v) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            b.append(i == 0 ? "" : ",").append(v[i]);
        }
        return b.toString();
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }
}

package org.fixres4j.fixres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

import org.fixres4j.io.AtomicFiles;
import org.fixres4j.io.FaultPoints;
import org.fixres4j.io.Json;
import org.fixres4j.io.Sha256;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.model.PretrainedConfig;
import org.fixres4j.model.StateDictLoader;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.weights.SafeTensors;
import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.TensorData;

/**
 * Model files and resumable checkpoints of {@code train} and {@code finetune}.
 *
 * <p><b>Model files.</b> A model is one {@code .safetensors} file with timm's keys (so timm's
 * {@code load_state_dict} takes it strictly) and, in the safetensors {@code __metadata__}, everything needed to
 * rebuild and preprocess it ({@link ModelInfo}): the base architecture ({@code efficientnet_b0} or
 * {@code tf_efficientnet_b0} style), the width and depth multipliers, input channels, classes, and the input
 * configuration (size, crop_pct, interpolation, mean, std, class names). {@link #loadModel(Path)} rebuilds any
 * such file, custom multipliers included; files without the metadata (timm's own) need an architecture name.
 * In timm: {@code timm.models.efficientnet._gen_efficientnet('efficientnet_b0', channel_multiplier=W,
 * depth_multiplier=D, num_classes=N)}, then {@code load_state_dict(safetensors.torch.load_file(f))}.
 *
 * <p><b>Checkpoints.</b> A checkpoint directory holds, per completed epoch {@code e}, the model
 * ({@code epoch-EEEE.safetensors}), the optimizer's tensors ({@code epoch-EEEE.optimizer.safetensors}) and a JSON
 * state ({@code state.json}: epoch, step, optimizer settings, RNG rule, configuration, metrics, and the SHA-256 of
 * both tensor files). Every file is written atomically: a temporary sibling, {@code fsync}, rename, then an
 * {@code fsync} of the directory; {@code state.json} is written last and names the files of its epoch, so a process
 * killed at any point leaves either the previous consistent checkpoint or the new one, never a mix. Older epochs'
 * files, and temporary files left by a killed write, are deleted after the new state is in place.
 */
public final class Checkpoint {
    /** Metadata key prefix of FixRes4J's model description. */
    public static final String META = "fixres4j.";
    /** The state file's name. */
    public static final String STATE_FILE = "state.json";
    /** The state format version. */
    public static final int FORMAT = 1;

    /** Bounds on a model file's metadata, checked before anything is allocated (B7 is 2.0 / 3.1, L2 4.3 / 5.3). */
    static final double MIN_MULTIPLIER = 0.01;
    static final double MAX_MULTIPLIER = 8.0;
    static final int MAX_IN_CHANS = 64;
    static final int MAX_CLASSES = 1_000_000;
    static final int MAX_INPUT_SIZE = 8192;
    static final int MAX_CLASS_NAME = 1000;
    /** Parameters a model file may describe (EfficientNet-L2 has 480 million). */
    static final long MAX_PARAMETERS = 2_000_000_000L;

    private Checkpoint() {}

    // ----------------------------------------------------------------------------------------------- model info

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
            return baseArchitectureOf(spec);
        }

        /** A readable one-line name, e.g. {@code efficientnet_b0(width=0.25, depth=0.25, in_chans=3, classes=10)}. */
        public String describe() {
            return describeSpec(spec);
        }

        /**
         * A {@link PretrainedConfig} for {@link org.fixres4j.classify.Classifier#of}: this file's input
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

        /** The model description as a JSON-ready map. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("arch", baseArchitecture());
            m.put("model", describe());
            m.put("width", spec.width());
            m.put("depth", spec.depth());
            m.put("in_chans", spec.inChannels());
            m.put("num_classes", spec.numClasses());
            m.put("parameters", spec.parameterCount());
            m.put("input_size", inputSize);
            m.put("crop_pct", cropPct);
            m.put("interpolation", interpolation.name().toLowerCase(Locale.ROOT));
            m.put("mean", normalization.mean());
            m.put("std", normalization.std());
            return m;
        }

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
                EfficientNetSpec spec = custom(base, width, depth, inChans, classes);
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
    }

    /**
     * An EfficientNet with the standard (B0) stage layout of {@code base} (its padding style and BN epsilon) and any
     * multipliers: the spelling of {@code --arch efficientnet_b0 --width 0.25 --depth 0.25}. The spec's name is
     * {@link #describeSpec}'s.
     */
    public static EfficientNetSpec custom(EfficientNetSpec base, double width, double depth, int inChannels,
                                          int numClasses) {
        EfficientNetSpec s = new EfficientNetSpec(base.name(), base.arch(), width, depth, base.tfSamePadding(),
                base.bnEps(), base.bnMomentum(), numClasses, inChannels, base.dropRate(), base.dropPathRate());
        return new EfficientNetSpec(describeSpec(s), s.arch(), width, depth, s.tfSamePadding(), s.bnEps(),
                s.bnMomentum(), numClasses, inChannels, s.dropRate(), s.dropPathRate());
    }

    /**
     * {@link #custom} from an architecture name ({@code efficientnet_b0}, {@code tf_efficientnet_b3}, or a timm
     * pretrained name) and optional multipliers replacing the variant's.
     */
    public static EfficientNetSpec custom(String arch, Double width, Double depth, int inChannels, int numClasses) {
        EfficientNetSpec base;
        try {
            base = EfficientNetSpec.of(arch);
        } catch (IllegalArgumentException e) {
            base = ModelRegistry.resolve(arch).spec();
        }
        return custom(base, width != null ? width : base.width(), depth != null ? depth : base.depth(), inChannels,
                numClasses);
    }

    /** {@code efficientnet_b0} or {@code tf_efficientnet_b0} (the layout is B0's whatever the multipliers). */
    static String baseArchitectureOf(EfficientNetSpec spec) {
        if (!spec.arch().equals(EfficientNetSpec.baseArch())) {
            return spec.name();
        }
        return spec.tfSamePadding() ? "tf_efficientnet_b0" : "efficientnet_b0";
    }

    /** e.g. {@code efficientnet_b0(width=0.25, depth=0.25, in_chans=3, classes=10)}. */
    public static String describeSpec(EfficientNetSpec spec) {
        return baseArchitectureOf(spec) + "(width=" + num(spec.width()) + ", depth=" + num(spec.depth())
                + ", in_chans=" + spec.inChannels() + ", classes=" + spec.numClasses() + ")";
    }

    private static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v) + ".0" : Double.toString(v);
    }

    private static String join(float[] v) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            b.append(i == 0 ? "" : ",").append(v[i]);
        }
        return b.toString();
    }

    // ----------------------------------------------------------------------------------------------- model files

    /** A model read back from a file: the module (loaded strictly) and its description. */
    public record Loaded(EfficientNet model, ModelInfo info) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }
    }

    /**
     * Writes a model with its description atomically (temporary file, fsync, rename, directory fsync).
     *
     * @param extra further metadata (e.g. {@code fixres4j.finetuned_at}); keys are used as given
     */
    public static void saveModel(Path file, EfficientNet model, ModelInfo info, Map<String, String> extra)
            throws IOException {
        StateDict sd = model.stateDict();
        Map<String, String> meta = new TreeMap<>(info.toMetadata());
        if (extra != null) {
            meta.putAll(extra);
        }
        writeSafeTensors(file, sd.tensors(), meta);
    }

    /**
     * Reads a model file written by {@link #saveModel} (or any safetensors with FixRes4J's metadata) and builds the
     * model strictly.
     *
     * @throws IllegalArgumentException if the file lacks the metadata (use {@link #loadModel(Path, String)})
     */
    public static Loaded loadModel(Path file) throws IOException {
        return loadModel(file, null);
    }

    /**
     * Reads a model file. With FixRes4J's metadata the architecture comes from it ({@code arch}, when given, must
     * describe the same network: {@link #checkArchitecture}); without it, {@code arch} (a timm name) is required and
     * the class count comes from the classifier's shape, the input configuration from timm's pretrained config.
     */
    public static Loaded loadModel(Path file, String arch) throws IOException {
        StateDict sd = StateDictLoader.read(file);
        ModelInfo info = infoOf(sd.metadata(), file);
        if (info != null && arch != null) {
            checkArchitecture(info, arch, file);
        }
        if (info == null) {
            if (arch == null) {
                throw new IllegalArgumentException(file + " has no FixRes4J model metadata: name its architecture "
                        + "(--arch, a timm name such as tf_efficientnet_b0.ap_in1k)");
            }
            ModelRegistry.Resolved r = ModelRegistry.resolve(arch);
            int classes = r.config().numClasses();
            TensorData head = sd.get("classifier.weight");
            if (head != null && head.shape().length == 2) {
                classes = (int) head.shape()[0];
            }
            if (classes < 0 || classes > MAX_CLASSES) {
                throw new IllegalArgumentException(file + ": classifier.weight has " + classes + " classes, outside 0.."
                        + MAX_CLASSES);
            }
            TensorData stem = sd.get("conv_stem.weight");
            long inChans = stem != null && stem.shape().length == 4 ? stem.shape()[1] : 3;
            if (inChans != 3) {
                throw new IllegalArgumentException(file + ": conv_stem.weight takes " + inChans + " input channels, "
                        + "but FixRes4J's preprocessing feeds 3-channel (RGB) images: only in_chans=3 models can run");
            }
            PretrainedConfig c = r.config();
            info = new ModelInfo(r.spec().withNumClasses(classes).withInChannels((int) inChans), c.inputSize(),
                    c.cropPct(), c.interpolation(), c.normalization(), List.of());
        }
        checkShapes(info.spec(), sd, file);
        EfficientNet model = ModelRegistry.create(info.spec());
        try {
            StateDictLoader.load(model, sd, true);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return new Loaded(model, info);
    }

    /** {@link ModelInfo#fromMetadata} with the file named in its error. */
    private static ModelInfo infoOf(Map<String, String> metadata, Path file) {
        try {
            return ModelInfo.fromMetadata(metadata);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Compares the tensors a file holds with those the spec describes (names and shapes, computed from the spec alone)
     * before the model is built, so a file whose metadata describes another (possibly huge) network is refused
     * without allocating it.
     *
     * @throws IllegalArgumentException naming the file and the first differences
     */
    static void checkShapes(EfficientNetSpec spec, StateDict sd, Path file) {
        Map<String, long[]> expected = spec.stateDictShapes();
        List<String> diff = new ArrayList<>();
        int missing = 0;
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            TensorData t = sd.get(e.getKey());
            if (t == null) {
                if (!e.getKey().endsWith(".num_batches_tracked")) {
                    missing++;
                    if (diff.size() < 3) {
                        diff.add("missing " + e.getKey() + " " + java.util.Arrays.toString(e.getValue()));
                    }
                }
            } else if (!java.util.Arrays.equals(t.shape(), e.getValue())) {
                missing++;
                if (diff.size() < 3) {
                    diff.add(e.getKey() + " is " + java.util.Arrays.toString(t.shape()) + ", the model needs "
                            + java.util.Arrays.toString(e.getValue()));
                }
            }
        }
        int unexpected = 0;
        for (String k : sd.keys()) {
            if (!expected.containsKey(k)) {
                unexpected++;
                if (diff.size() < 3) {
                    diff.add("unexpected " + org.fixres4j.weights.Keys.render(k));
                }
            }
        }
        if (missing + unexpected > 0) {
            throw new IllegalArgumentException(file + " does not hold the weights of "
                    + describeSpec(spec) + " (" + expected.size() + " tensors): " + missing
                    + " missing or of another shape, " + unexpected + " unexpected; " + String.join("; ", diff)
                    + (missing + unexpected > diff.size() ? "; ..." : ""));
        }
    }

    /**
     * The model description in a file's metadata, read from the safetensors header alone (no tensor is read); null
     * for files without it (timm's own safetensors, {@code torch.save} files).
     *
     * @throws IllegalArgumentException if the metadata is present but malformed
     */
    public static ModelInfo readInfo(Path file) throws IOException {
        if (org.fixres4j.weights.WeightFiles.detect(file) != org.fixres4j.weights.WeightFiles.Format.SAFETENSORS) {
            return null;
        }
        return infoOf(SafeTensors.readHeader(file).metadata(), file);
    }

    /**
     * Checks that an architecture name ({@code efficientnet_b0}, a timm name such as
     * {@code tf_efficientnet_b0.ap_in1k}, or a legacy alias) describes the network of a file's metadata: the same
     * stage layout, width and depth multipliers, padding style and BatchNorm epsilon. The class count and input
     * channels are not compared: they come from the file.
     *
     * @throws IllegalArgumentException naming what differs, or if the name is unknown
     */
    public static void checkArchitecture(ModelInfo info, String arch, Path file) {
        EfficientNetSpec named;
        try {
            named = EfficientNetSpec.of(arch);
        } catch (IllegalArgumentException e) {
            named = ModelRegistry.resolve(arch).spec();
        }
        EfficientNetSpec held = info.spec();
        List<String> diff = new ArrayList<>();
        if (!named.arch().equals(held.arch())) {
            diff.add("stage layout " + baseArchitectureOf(named) + " (file " + baseArchitectureOf(held) + ")");
        }
        if (Math.abs(named.width() - held.width()) > 1e-9) {
            diff.add("width " + named.width() + " (file " + held.width() + ")");
        }
        if (Math.abs(named.depth() - held.depth()) > 1e-9) {
            diff.add("depth " + named.depth() + " (file " + held.depth() + ")");
        }
        if (named.tfSamePadding() != held.tfSamePadding()) {
            diff.add("padding " + padding(named) + " (file " + padding(held) + ")");
        }
        if (Math.abs(named.bnEps() - held.bnEps()) > 1e-12 * Math.max(1, named.bnEps())) {
            diff.add("BatchNorm eps " + named.bnEps() + " (file " + held.bnEps() + ")");
        }
        if (!diff.isEmpty()) {
            throw new IllegalArgumentException("--arch " + arch + " does not match " + file + ", whose FixRes4J "
                    + "metadata describes " + info.describe() + ": " + arch + " has " + String.join(", ", diff)
                    + "; leave --arch out (the file describes its model) or name the architecture it was made from");
        }
    }

    private static String padding(EfficientNetSpec s) {
        return s.tfSamePadding() ? "TF 'same'" : "symmetric";
    }

    // ----------------------------------------------------------------------------------------------- atomic I/O

    /** Writes tensors as safetensors atomically: temporary sibling, fsync, rename, directory fsync. */
    public static void writeSafeTensors(Path file, Map<String, TensorData> tensors, Map<String, String> metadata)
            throws IOException {
        SafeTensors.write(file, tensors, metadata); // AtomicFiles: temporary sibling, fsyncs, atomic rename
    }

    /** Writes a JSON value atomically (pretty, final newline). */
    public static void writeJson(Path file, Object value) throws IOException {
        Json.write(file, value);
    }

    // ----------------------------------------------------------------------------------------------- checkpoints

    /**
     * A checkpoint as found on disk.
     *
     * @param dir the checkpoint directory
     * @param epoch the number of completed epochs
     * @param state the JSON state (as written by {@link #save})
     * @param modelFile the model of that epoch
     * @param optimizerFile the optimizer's tensors of that epoch
     */
    public record Found(Path dir, int epoch, Map<String, Object> state, Path modelFile, Path optimizerFile) {
        /** The optimizer's tensors. */
        public Map<String, TensorData> optimizerTensors() throws IOException {
            return SafeTensors.read(optimizerFile).tensors();
        }
    }

    /** The model file of epoch {@code epoch} in {@code dir}. */
    public static Path modelFile(Path dir, int epoch) {
        return dir.resolve(String.format(Locale.ROOT, "epoch-%04d.safetensors", epoch));
    }

    /** The optimizer file of epoch {@code epoch} in {@code dir}. */
    public static Path optimizerFile(Path dir, int epoch) {
        return dir.resolve(String.format(Locale.ROOT, "epoch-%04d.optimizer.safetensors", epoch));
    }

    /**
     * Saves the checkpoint of a completed epoch: model, optimizer tensors, then the state (which records both
     * files' SHA-256), each atomically; then deletes other epochs' files.
     *
     * @param epoch the number of completed epochs (1 after the first)
     * @param state the JSON state; {@code epoch}, {@code format} and {@code files} are added
     */
    public static void save(Path dir, int epoch, EfficientNet model, ModelInfo info,
                            Map<String, TensorData> optimizerTensors, Map<String, Object> state) throws IOException {
        Map<String, String> meta = new TreeMap<>(info.toMetadata());
        meta.put(META + "epoch", Integer.toString(epoch));
        save(dir, epoch, model.stateDict().tensors(), meta, optimizerTensors, state);
    }

    /**
     * {@link #save(Path, int, EfficientNet, ModelInfo, Map, Map)} from the model's tensors and metadata: model file,
     * optimizer file, then {@code state.json} (each atomic), then other epochs' files are deleted.
     */
    static void save(Path dir, int epoch, Map<String, TensorData> modelTensors, Map<String, String> modelMetadata,
                     Map<String, TensorData> optimizerTensors, Map<String, Object> state) throws IOException {
        Files.createDirectories(dir);
        Path mf = modelFile(dir, epoch);
        Path of = optimizerFile(dir, epoch);
        writeSafeTensors(mf, modelTensors, modelMetadata);
        FaultPoints.reached("checkpoint:after-model", mf);
        writeSafeTensors(of, optimizerTensors, Map.of("format", "pt"));
        FaultPoints.reached("checkpoint:after-optimizer", of);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("format", FORMAT);
        s.put("epoch", epoch);
        Map<String, Object> files = new LinkedHashMap<>();
        files.put("model", mf.getFileName().toString());
        files.put("model_sha256", Sha256.of(mf));
        files.put("optimizer", of.getFileName().toString());
        files.put("optimizer_sha256", Sha256.of(of));
        s.put("files", files);
        for (Map.Entry<String, Object> e : state.entrySet()) {
            if (!s.containsKey(e.getKey())) {
                s.put(e.getKey(), e.getValue());
            }
        }
        writeJson(dir.resolve(STATE_FILE), s);
        FaultPoints.reached("checkpoint:after-state", dir.resolve(STATE_FILE));
        deleteOtherEpochs(dir, epoch);
    }

    private static void deleteOtherEpochs(Path dir, int keep) throws IOException {
        String keepModel = modelFile(dir, keep).getFileName().toString();
        String keepOpt = optimizerFile(dir, keep).getFileName().toString();
        List<Path> old = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "epoch-*.safetensors")) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!n.equals(keepModel) && !n.equals(keepOpt)) {
                    old.add(p);
                }
            }
        }
        // temporary files of writes killed half-way (AtomicFiles names them .tmp.<random>.<name>)
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".tmp.*")) {
            for (Path p : ds) {
                if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    old.add(p);
                }
            }
        }
        for (Path p : old) {
            Files.deleteIfExists(p);
        }
    }

    /**
     * The checkpoint in {@code dir}, or null if there is none (no directory or no state file).
     *
     * @throws IOException if the state names files that are missing or whose SHA-256 differs (a damaged checkpoint)
     */
    @SuppressWarnings("unchecked")
    public static Found find(Path dir) throws IOException {
        Path st = dir.resolve(STATE_FILE);
        if (!Files.isRegularFile(st)) {
            return null;
        }
        Object root = Json.read(st); // a damaged file: an IOException naming it
        if (!(root instanceof Map) || !(((Map<String, Object>) root).get("files") instanceof Map)
                || !(((Map<String, Object>) root).get("epoch") instanceof Number)) {
            throw new IOException(st + " is not a FixRes4J checkpoint state (no epoch / files)");
        }
        Map<String, Object> state = (Map<String, Object>) root;
        if (state.get("format") instanceof Number n && n.intValue() > FORMAT) {
            throw new IOException(st + " has checkpoint format " + n + "; this FixRes4J reads format " + FORMAT);
        }
        Object epochValue = state.get("epoch");
        if (!(epochValue instanceof Long) || (Long) epochValue < 0 || (Long) epochValue > 1_000_000) {
            throw new IOException(st + ": epoch " + epochValue + " is not a whole number in 0..1000000");
        }
        Map<String, Object> files = (Map<String, Object>) state.get("files");
        Path mf = namedFile(dir, st, files, "model");
        Path of = namedFile(dir, st, files, "optimizer");
        Map<Path, Object> expected = new LinkedHashMap<>();
        expected.put(mf, files.get("model_sha256"));
        expected.put(of, files.get("optimizer_sha256"));
        for (Map.Entry<Path, Object> e : expected.entrySet()) {
            if (!Files.isRegularFile(e.getKey())) {
                throw new NoSuchFileException(e.getKey().toString(), null, "named by " + st + " but missing");
            }
            String sha = Sha256.of(e.getKey());
            if (!sha.equals(e.getValue())) {
                throw new IOException(e.getKey() + " does not match the SHA-256 that " + st + " records "
                        + "(damaged or replaced): refusing to resume from it");
            }
        }
        return new Found(dir, ((Long) epochValue).intValue(), state, mf, of);
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }

    /** A file that the state names: a plain file name in the checkpoint directory, nothing else. */
    private static Path namedFile(Path dir, Path st, Map<String, Object> files, String key) throws IOException {
        Object name = files.get(key);
        if (!(name instanceof String n) || n.isEmpty() || n.length() > 255 || n.contains("/")
                || n.contains("\\") || n.equals(".") || n.equals("..") || n.indexOf('\0') >= 0) {
            throw new IOException(st + ": files." + key + " is not a file name in the checkpoint directory: "
                    + Json.write(abbreviate(String.valueOf(name))));
        }
        return dir.resolve(n);
    }
}

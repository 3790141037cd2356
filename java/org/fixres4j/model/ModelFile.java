package org.fixres4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.fixres4j.weights.SafeTensors;
import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.TensorData;

/**
 * FixRes4J's model files: one {@code .safetensors} file with timm's keys (so timm's {@code load_state_dict} takes it
 * strictly) and, in the safetensors {@code __metadata__}, everything needed to rebuild and preprocess it
 * ({@link ModelInfo}): the base architecture ({@code efficientnet_b0} or {@code tf_efficientnet_b0} style), the width
 * and depth multipliers, input channels, classes, and the input configuration (size, crop_pct, interpolation, mean,
 * std, class names). {@link #load(Path)} rebuilds any such file, custom multipliers included; files without the
 * metadata (timm's own) need an architecture name. In timm:
 * {@code timm.models.efficientnet._gen_efficientnet('efficientnet_b0', channel_multiplier=W, depth_multiplier=D,
 * num_classes=N)}, then {@code load_state_dict(safetensors.torch.load_file(f))}. {@link ModelSource} is the loader
 * that commands and applications use: it adds the preprocessing.
 */
public final class ModelFile {
    private ModelFile() {}

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
    public static String baseArchitectureOf(EfficientNetSpec spec) {
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
    public static void save(Path file, EfficientNet model, ModelInfo info, Map<String, String> extra)
            throws IOException {
        StateDict sd = model.stateDict();
        Map<String, String> meta = new TreeMap<>(info.toMetadata());
        if (extra != null) {
            meta.putAll(extra);
        }
        SafeTensors.write(file, sd.tensors(), meta); // AtomicFiles: temporary sibling, fsyncs, atomic rename
    }

    /**
     * Reads a model file written by {@link #save} (or any safetensors with FixRes4J's metadata) and builds the
     * model strictly.
     *
     * @throws IllegalArgumentException if the file lacks the metadata (use {@link #load(Path, String)})
     */
    public static Loaded load(Path file) throws IOException {
        return load(file, null);
    }

    /**
     * Reads a model file. With FixRes4J's metadata the architecture comes from it ({@code arch}, when given, must
     * describe the same network: {@link #checkArchitecture}); without it, {@code arch} (a timm name) is required and
     * the class count comes from the classifier's shape, the input configuration from timm's pretrained config.
     */
    public static Loaded load(Path file, String arch) throws IOException {
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
            // a timm name describes a network of known size: the strict load below names what differs and which
            // architecture the file fits (StateDictLoader.Mismatch)
            info = timmInfo(ModelRegistry.resolve(arch), sd, file);
        } else {
            // metadata may describe any network: compare shapes before building it
            checkShapes(info.spec(), sd, file);
        }
        EfficientNet model = ModelRegistry.create(info.spec());
        try {
            StateDictLoader.load(model, sd, true);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return new Loaded(model, info);
    }

    /**
     * The description of a timm weight file (no FixRes4J metadata) under a timm name: the class count from the
     * classifier's shape, the input channels from the stem's (3 required), the input configuration timm's.
     *
     * @throws IllegalArgumentException if the class count is out of range or the stem is not RGB
     */
    public static ModelInfo timmInfo(ModelRegistry.Resolved r, StateDict sd, Path file) {
        int classes = r.config().numClasses();
        TensorData head = sd.get("classifier.weight");
        if (head != null && head.shape().length == 2) {
            classes = (int) head.shape()[0];
        }
        if (classes < 0 || classes > ModelInfo.MAX_CLASSES) {
            throw new IllegalArgumentException(file + ": classifier.weight has " + classes + " classes, outside 0.."
                    + ModelInfo.MAX_CLASSES);
        }
        TensorData stem = sd.get("conv_stem.weight");
        long inChans = stem != null && stem.shape().length == 4 ? stem.shape()[1] : 3;
        if (inChans != 3) {
            throw new IllegalArgumentException(file + ": conv_stem.weight takes " + inChans + " input channels, "
                    + "but FixRes4J's preprocessing feeds 3-channel (RGB) images: only in_chans=3 models can run");
        }
        PretrainedConfig c = r.config();
        return new ModelInfo(r.spec().withNumClasses(classes).withInChannels((int) inChans), c.inputSize(),
                c.cropPct(), c.interpolation(), c.normalization(), List.of());
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
    public static void checkShapes(EfficientNetSpec spec, StateDict sd, Path file) {
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
}

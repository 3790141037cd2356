package org.fixres4j.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.WeightFiles;

/**
 * Where a model and its preprocessing come from, the one loader of the commands and of
 * {@link org.fixres4j.classify.Classifier}: a timm name with a timm weight file ({@code --arch} + {@code --weights}),
 * a self-describing FixRes4J model file ({@link ModelFile}: its {@link ModelInfo} metadata gives the network, its
 * input configuration and class names), or such a file with an architecture name, which must then describe the same
 * network ({@link ModelFile#checkArchitecture}). {@link #preprocessing(EvalPreprocessing.Overrides)} gives the eval
 * preprocessing, the file's when it describes itself, else the timm name's, with the caller's overrides;
 * {@link #load()} builds the model strictly.
 *
 * <pre>{@code
 * ModelSource src = ModelSource.of(null, Path.of("model.safetensors"));      // a file of fixres train / finetune
 * EvalPreprocessing pre = src.preprocessing(EvalPreprocessing.Overrides.NONE.withResolution(320));
 * try (ModelFile.Loaded m = src.load()) { ... pre.transform() ... }
 * }</pre>
 */
public final class ModelSource {
    private final Path weights;
    private final ModelRegistry.Resolved resolved;
    private final ModelInfo info;

    private ModelSource(Path weights, ModelRegistry.Resolved resolved, ModelInfo info) {
        if (resolved == null && info == null) {
            throw new IllegalArgumentException(weights + " has no FixRes4J model metadata (it was not written by "
                    + "fixres train or finetune): name its architecture with --arch, a timm name such as "
                    + "tf_efficientnet_b0.ap_in1k");
        }
        this.weights = weights;
        this.resolved = resolved;
        this.info = info;
    }

    /**
     * Reads the file's metadata (its header only) and resolves {@code arch}.
     *
     * @param arch a timm name ({@code tf_efficientnet_b0.ap_in1k}, {@code tf_efficientnet_b0_ap}, ...), or null for a
     *        self-describing file
     * @throws IllegalArgumentException if the file is missing, the name unknown, the name and the metadata disagree,
     *         or neither is there
     */
    public static ModelSource of(String arch, Path weights) throws IOException {
        if (!Files.isRegularFile(weights)) {
            throw new IllegalArgumentException("no such weights file: " + weights);
        }
        ModelRegistry.Resolved resolved = arch == null ? null : ModelRegistry.resolve(arch);
        ModelInfo info = ModelFile.readInfo(weights);
        if (info != null && arch != null) {
            ModelFile.checkArchitecture(info, arch, weights);
        }
        return new ModelSource(weights, resolved, info);
    }

    /** A self-describing FixRes4J model file ({@link #of} without a name). */
    public static ModelSource of(Path weights) throws IOException {
        return of(null, weights);
    }

    /** The weight file. */
    public Path weights() {
        return weights;
    }

    /** The timm name given, or null. */
    public ModelRegistry.Resolved resolved() {
        return resolved;
    }

    /** The file's FixRes4J metadata, or null (a timm file). */
    public ModelInfo info() {
        return info;
    }

    /** The input configuration: the file's when it describes itself, else the timm name's. */
    public PretrainedConfig config() {
        return info != null ? info.toPretrainedConfig() : resolved.config();
    }

    /** The name in reports: the timm name when given, else the file's description. */
    public String name() {
        return resolved != null ? resolved.name() : info.describe();
    }

    /** The model's class names from the metadata, or an empty list. */
    public List<String> classNames() {
        return info == null ? List.of() : info.classNames();
    }

    /** The model's own eval preprocessing. */
    public EvalPreprocessing preprocessing() {
        return preprocessing(EvalPreprocessing.Overrides.NONE);
    }

    /** The model's eval preprocessing with the caller's overrides ({@link EvalPreprocessing#of}). */
    public EvalPreprocessing preprocessing(EvalPreprocessing.Overrides overrides) {
        return EvalPreprocessing.of(config(), overrides);
    }

    /**
     * Builds the model and loads its weights strictly ({@link ModelFile#load(Path, String)}): every tensor present,
     * none extra, same shapes. The caller closes the result.
     */
    public ModelFile.Loaded load() throws IOException {
        if (!Files.isRegularFile(weights)) {
            throw new IllegalArgumentException("no such weights file: " + weights);
        }
        return ModelFile.load(weights, resolved == null ? null : resolved.requested());
    }

    /**
     * {@link #load()}, or with {@code strict} false a tolerant load of a timm file: the class count from the
     * classifier's shape ({@link ModelFile#timmInfo}), missing or extra tensors ignored
     * ({@link StateDictLoader#load}). Files with FixRes4J metadata always load strictly.
     */
    public ModelFile.Loaded load(boolean strict) throws IOException {
        if (strict || info != null) {
            return load();
        }
        StateDict sd = WeightFiles.read(weights);
        ModelInfo described = ModelFile.timmInfo(resolved, sd, weights);
        EfficientNet model = ModelRegistry.create(described.spec());
        try {
            StateDictLoader.load(model, sd, false);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return new ModelFile.Loaded(model, described);
    }
}

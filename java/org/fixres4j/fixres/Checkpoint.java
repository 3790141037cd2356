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
import org.fixres4j.model.ModelFile;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.weights.SafeTensors;
import org.fixres4j.weights.TensorData;

/**
 * Resumable checkpoints of {@code train} and {@code finetune}. The model files they hold are
 * {@link ModelFile}s (the metadata schema is {@link ModelInfo}'s).
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
    /** The state file's name. */
    public static final String STATE_FILE = "state.json";
    /** The state format version. */
    public static final int FORMAT = 1;


    private Checkpoint() {}

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
        meta.put(ModelInfo.META + "epoch", Integer.toString(epoch));
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

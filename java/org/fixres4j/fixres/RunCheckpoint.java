package org.fixres4j.fixres;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import org.fixres4j.model.ModelInfo;
import org.fixres4j.data.Dataset;
import org.fixres4j.io.Json;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.StateDictLoader;
import org.fixres4j.weights.WeightFiles;

/**
 * The per-epoch checkpoints of a {@link Trainer} or {@link Finetuner} run ({@link Checkpoint#save}): what a resumed
 * run must match (its run key: configuration, model, data and, for fine-tuning, the starting weights), the resume
 * (weights, optimizer state, history), and the JSON state written after every epoch:
 * {@code kind, step, optimizer, [trained], rng, <run key>, history}.
 */
final class RunCheckpoint {
    private final Path dir;
    private final String kind;
    private final TrainOptimizer optimizer;
    private final Map<String, Object> extra;
    private final RunKey runKey;
    private final List<Object> history = new ArrayList<>();
    private int epochsDone;

    /**
     * @param kind {@code train} or {@code finetune}
     * @param extra entries recorded after the optimizer's settings (e.g. the names of the trained tensors)
     * @param runKey what a resumed run must match ({@link #runKey})
     */
    RunCheckpoint(Path dir, String kind, TrainOptimizer optimizer, Map<String, Object> extra,
                  RunKey runKey) {
        this.dir = dir;
        this.kind = kind;
        this.optimizer = optimizer;
        this.extra = extra;
        this.runKey = runKey;
    }

    /**
     * What a checkpoint must match to be resumed: configuration, model, the starting weights ({@code source}; null
     * for a run from scratch, which records none) and data (description and size).
     */
    static RunKey runKey(RunConfig<?> config, ModelInfo model, String source, Dataset data) {
        return new RunKey(config.identity(), model.report(), source, new DataKey(data.describe(), data.size()));
    }

    /** The data a run trains on, as its run key records it. */
    @JsonPropertyOrder({"description", "size"})
    record DataKey(String description, int size) {}

    /** What a resumed run must match; its members are written at the top level of the checkpoint's state. */
    record RunKey(RunConfig.Identity config, ModelInfo.Report model, String source, DataKey data) {
        /**
         * The members in order ({@code source} only when there is one), each a typed part: the state document
         * merges them with the checkpoint's own members, so they are listed by name here.
         */
        Map<String, Object> members() {
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("config", config);
            k.put("model", model);
            if (source != null) {
                k.put("source", source);
            }
            k.put("data", data);
            return k;
        }
    }

    /**
     * Continues from the checkpoint in the folder, if there is one: checks that it belongs to this run, loads the
     * model's weights and the optimizer's state, and keeps its history.
     *
     * @return whether there was a checkpoint ({@link #epochsDone()} then says how far it got)
     * @throws IllegalArgumentException naming what differs if the checkpoint belongs to another run (or another kind
     *     of run)
     * @throws java.io.IOException naming the file if the checkpoint is damaged
     */
    boolean resume(EfficientNet model) throws IOException {
        Checkpoint.Found found = Checkpoint.find(dir);
        if (found == null) {
            return false;
        }
        checkCompatible(found, runKey);
        StateDictLoader.load(model, WeightFiles.read(found.modelFile()), true); // refuses NaN / Inf weights
        optimizer.loadState(found.optimizerTensors());
        epochsDone = found.epoch();
        if (found.state().get("history") instanceof List<?> l) {
            history.addAll(l);
        }
        return true;
    }

    /** Completed epochs of the checkpoint resumed from (0 without one). */
    int epochsDone() {
        return epochsDone;
    }

    /** The epochs of the checkpoint resumed from, as its history records them. */
    List<EpochLoop.Stats> resumedHistory() {
        List<EpochLoop.Stats> out = new ArrayList<>();
        for (Object o : history) {
            // entries read from the state file are maps; those this run added are records (Jackson writes both)
            out.add(EpochLoop.Stats.fromMap(o instanceof Map<?, ?> m ? m : Json.mapper().convertValue(o, Map.class)));
        }
        return out;
    }

    /**
     * Adds the epoch to the history and writes the checkpoint of {@code epoch} completed epochs.
     *
     * @param info the model description the checkpoint's model file records
     * @param entry the epoch's history entry
     */
    void save(int epoch, EfficientNet model, ModelInfo info, Object entry)
            throws IOException {
        history.add(entry);
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("kind", kind);
        state.put("step", optimizer.steps());
        state.put("optimizer", optimizer.settings());
        state.putAll(extra);
        state.put("rng", rngRule());
        state.putAll(runKey.members());
        state.put("history", history);
        Checkpoint.save(dir, epoch, model, info, optimizer.stateTensors(), state);
    }

    /** How every random draw of a run is seeded (recorded in the state). */
    private static Map<String, Object> rngRule() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("init", "torch.manual_seed(seed), then timm's init");
        m.put("data", "sample i of epoch e: Seeds.sample(seed, e, i); order: Seeds.shuffle(seed, e)");
        m.put("torch", "torch.manual_seed(Seeds.hash(seed, TORCH_STREAM, e)) at the start of epoch e");
        return m;
    }

    private void checkCompatible(Checkpoint.Found found, RunKey runKey) {
        Path st = found.dir().resolve(Checkpoint.STATE_FILE);
        Object savedKind = found.state().get("kind");
        if (savedKind != null && !kind.equals(savedKind)) {
            throw new IllegalArgumentException("the checkpoint in " + found.dir() + " was written by "
                    + abbreviate(Json.write(savedKind)) + ", not " + kind + " (" + st + "): use another "
                    + "--checkpoint-dir, or drop --resume");
        }
        List<String> diff = new ArrayList<>();
        int[] count = {0};
        for (Map.Entry<String, Object> e : runKey.members().entrySet()) {
            Object saved = found.state().get(e.getKey());
            // compare through JSON text: numbers read back as Long/Double
            Object now = Json.parse(Json.write(e.getValue()));
            difference(e.getKey(), saved, now, diff, count);
        }
        if (count[0] > 0) {
            throw new IllegalArgumentException("the checkpoint in " + found.dir() + " belongs to another run ("
                    + count[0] + (count[0] == 1 ? " difference: " : " differences: ") + String.join("; ", diff)
                    + (count[0] > diff.size() ? "; ..." : "") + "): use another --checkpoint-dir, or drop --resume");
        }
    }

    /** Collects the differing leaves (dotted paths) of two JSON values, at most 4 rendered. */
    private static void difference(String path, Object saved, Object now, List<String> out, int[] count) {
        if (saved instanceof Map<?, ?> a && now instanceof Map<?, ?> b) {
            java.util.Set<Object> keys = new java.util.LinkedHashSet<>(b.keySet());
            keys.addAll(a.keySet());
            for (Object k : keys) {
                difference(path + "." + k, a.get(k), b.get(k), out, count);
            }
            return;
        }
        String x = saved == null ? "none" : Json.write(saved);
        String y = now == null ? "none" : Json.write(now);
        if (!x.equals(y)) {
            count[0]++;
            if (out.size() < 4) {
                out.add(path + " is " + abbreviate(x) + " in the checkpoint, " + abbreviate(y) + " now");
            }
        }
    }

    private static String abbreviate(String s) {
        String oneLine = s.replace('\n', ' ').replace('\r', ' ');
        return oneLine.length() <= 100 ? oneLine : oneLine.substring(0, 100) + "...";
    }
}

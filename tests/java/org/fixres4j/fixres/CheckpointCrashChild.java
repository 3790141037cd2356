package org.fixres4j.fixres;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import org.fixres4j.model.ModelInfo;
import org.fixres4j.weights.TensorData;

/**
 * The child JVM of {@link CheckpointCrashTest}: writes the checkpoint of one epoch with {@link Checkpoint#save} (the
 * same code path as training, from tensors instead of a libtorch module), so that the parent can SIGKILL it at a
 * fault point ({@link org.fixres4j.io.FaultPoints}). Arguments: the checkpoint directory and the epoch.
 */
public final class CheckpointCrashChild {
    private CheckpointCrashChild() {}

    /** The model tensors of an epoch (values differ per epoch; several tensors so a write can stop half-way). */
    static Map<String, TensorData> model(int epoch) {
        Map<String, TensorData> m = new LinkedHashMap<>();
        for (int t = 0; t < 6; t++) {
            float[] v = new float[4096];
            for (int i = 0; i < v.length; i++) {
                v[i] = epoch * 1000 + t + i * 1e-3f;
            }
            m.put("layer" + t + ".weight", TensorData.ofFloats(new long[] {64, 64}, v));
        }
        return m;
    }

    static Map<String, String> metadata(int epoch) {
        Map<String, String> m = new TreeMap<>();
        m.put("format", "pt");
        m.put(ModelInfo.META + "epoch", Integer.toString(epoch));
        return m;
    }

    static Map<String, TensorData> optimizer(int epoch) {
        Map<String, TensorData> m = new LinkedHashMap<>();
        m.put("steps", TensorData.ofLongs(new long[0], 10L * epoch));
        m.put("momentum", TensorData.ofFloats(new long[] {3}, epoch, epoch, epoch));
        return m;
    }

    static Map<String, Object> state(int epoch) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("kind", "crash-test");
        s.put("note", "x".repeat(2000)); // long enough that a half-written file is a truncated one
        s.put("epoch_note", (long) epoch);
        return s;
    }

    static void save(Path dir, int epoch) throws java.io.IOException {
        Checkpoint.save(dir, epoch, model(epoch), metadata(epoch), optimizer(epoch), state(epoch));
    }

    public static void main(String[] args) throws Exception {
        save(Path.of(args[0]), Integer.parseInt(args[1]));
        System.out.println("fixres4j: done");
    }
}

package org.fixres4j.dist;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.Tensor;

/**
 * Keeping model replicas identical: broadcast a state (parameters and buffers) from one rank before training, and
 * average BatchNorm's running statistics across ranks (each rank saw other batches) before evaluating or saving.
 * Pure functions over named tensors, e.g. {@code EfficientNet.namedTensors()} (live tensors: writing them changes
 * the model), in buckets like {@link GradientAllReducer}.
 */
public final class StateSync {
    private StateSync() {}

    /**
     * Copies rank {@code root}'s tensors into every rank's (in place, under no-grad). Every rank passes the same
     * names, dtypes and shapes, in the same order; checked first (one small allgather), so a mismatch throws on every
     * rank instead of corrupting the weights.
     */
    public static void broadcast(Collective c, Map<String, Tensor> state, int root) {
        broadcast(c, state, root, GradientAllReducer.DEFAULT_BUCKET_BYTES);
    }

    /** {@link #broadcast(Collective, Map, int)} with a bucket size in bytes. */
    public static void broadcast(Collective c, Map<String, Tensor> state, int root, long bucketBytes) {
        if (root < 0 || root >= c.worldSize()) {
            throw new IllegalArgumentException("broadcast root must be in 0.." + (c.worldSize() - 1) + ", got "
                    + root);
        }
        if (c.worldSize() == 1) {
            return;
        }
        List<String> names = new ArrayList<>(state.keySet());
        List<Tensor> tensors = new ArrayList<>(state.values());
        List<Buckets.Bucket> plan = Buckets.plan(tensors, bucketBytes);
        Buckets.checkSameLayout(c, "states", names, tensors);
        Buckets.apply(tensors, plan, flat -> c.broadcast(flat, root));
    }

    /**
     * Every parameter and buffer of any libtorch module by its dotted name (parameters first, then buffers), as live
     * tensors: what {@link #broadcast} and {@link #averageRunningStatistics} take for modules other than
     * {@code EfficientNet} (whose {@code namedTensors()} gives the same set in timm's order).
     */
    public static Map<String, Tensor> namedTensors(Module module) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        put(out, module.named_parameters(true));
        put(out, module.named_buffers(true));
        return out;
    }

    private static void put(Map<String, Tensor> into, StringTensorDict dict) {
        StringVector keys = dict.keys();
        for (long i = 0; i < keys.size(); i++) {
            String k = keys.get(i).getString();
            into.put(k, dict.get(k));
        }
    }

    /** The BatchNorm running statistics of a state: the tensors whose key ends in running_mean or running_var. */
    public static Map<String, Tensor> runningStatistics(Map<String, Tensor> state) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            if (e.getKey().endsWith(".running_mean") || e.getKey().endsWith(".running_var")
                    || e.getKey().equals("running_mean") || e.getKey().equals("running_var")) {
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    /**
     * Replaces every BatchNorm running mean and variance of {@code state} by its average over the ranks (in place);
     * {@code num_batches_tracked} is left alone. Returns how many tensors were averaged.
     */
    public static int averageRunningStatistics(Collective c, Map<String, Tensor> state) {
        Map<String, Tensor> stats = runningStatistics(state);
        allReduceAvg(c, stats, GradientAllReducer.DEFAULT_BUCKET_BYTES);
        return stats.size();
    }

    /** Averages named floating-point tensors over the ranks, in place (layout checked first). */
    public static void allReduceAvg(Collective c, Map<String, Tensor> tensors, long bucketBytes) {
        if (c.worldSize() == 1) {
            return;
        }
        List<String> names = new ArrayList<>(tensors.keySet());
        List<Tensor> list = new ArrayList<>(tensors.values());
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) != null && list.get(i).defined() && !list.get(i).is_floating_point()) {
                throw new IllegalArgumentException(names.get(i) + " is not floating-point: it cannot be averaged");
            }
        }
        List<Buckets.Bucket> plan = Buckets.plan(list, bucketBytes);
        Buckets.checkSameLayout(c, "tensors", names, list);
        Buckets.apply(list, plan, c::allReduceAvg);
    }
}

package org.fixres4j.model;

import java.util.Arrays;

import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.TensorData;

/**
 * The deterministic weight rule of tests/data/timm/make_timm_goldens.py, so Java and timm build identical models
 * without storing their weights: per key, FNV-1a 64 seed, splitmix64 stream, 24-bit uniforms mapped to [lo, hi) in
 * float64 and rounded once to float32. BN running statistics come from the committed .bn_stats.npy files.
 */
final class SeededWeights {
    private SeededWeights() {}

    static long fnv1a64(String key) {
        long h = 0xCBF29CE484222325L;
        for (byte b : key.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            h ^= (b & 0xFF);
            h *= 0x100000001B3L;
        }
        return h;
    }

    static float[] uniform(String key, long n, double lo, double hi) {
        long seed = fnv1a64(key);
        float[] out = new float[Math.toIntExact(n)];
        for (int i = 0; i < out.length; i++) {
            long z = seed + (i + 1L) * 0x9E3779B97F4A7C15L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z = z ^ (z >>> 31);
            double u = (z >>> 40) / 16777216.0;
            out[i] = (float) (lo + (hi - lo) * u);
        }
        return out;
    }

    /** (lo, hi) of a key, as {@code bounds} in the Python script. */
    static double[] bounds(String key, long[] shape) {
        String module = key.substring(0, key.lastIndexOf('.'));
        String leaf = key.substring(key.lastIndexOf('.') + 1);
        String last = module.substring(module.lastIndexOf('.') + 1);
        if (leaf.equals("running_mean")) {
            return new double[] {-0.2, 0.2};
        }
        if (leaf.equals("running_var")) {
            return new double[] {0.5, 1.5};
        }
        if (last.startsWith("bn")) {
            return leaf.equals("weight") ? new double[] {0.6, 1.4} : new double[] {-0.2, 0.2};
        }
        if (leaf.equals("bias")) {
            return new double[] {-0.1, 0.1};
        }
        long fanIn = 1;
        for (int i = 1; i < shape.length; i++) {
            fanIn *= shape[i];
        }
        double a = Math.sqrt(6.0 / fanIn);
        return new double[] {-a, a};
    }

    static TensorData tensor(String key, long[] shape, double lo, double hi) {
        return TensorData.ofFloats(shape, uniform(key, TensorData.numel(shape), lo, hi));
    }

    /** The input batch of a golden case (key "input", [-2, 2)). */
    static TensorData input(long[] shape) {
        return tensor("input", shape, -2.0, 2.0);
    }

    /** The rule's state dict for a spec; {@code bnStats} (mean then var of each BN, in order) may be null. */
    static StateDict stateDict(EfficientNetSpec spec, float[] bnStats) {
        StateDict sd = new StateDict();
        int offset = 0;
        for (EfficientNetSpec.Entry e : spec.stateDictEntries()) {
            String k = e.key();
            long[] shape = e.shape();
            if (bnStats != null && (k.endsWith("running_mean") || k.endsWith("running_var"))) {
                int n = Math.toIntExact(e.numel());
                sd.put(k, TensorData.ofFloats(shape, Arrays.copyOfRange(bnStats, offset, offset + n)));
                offset += n;
            } else if (e.isCounter()) {
                sd.put(k, TensorData.ofLongs(shape, 0L));
            } else {
                double[] b = bounds(k, shape);
                sd.put(k, tensor(k, shape, b[0], b[1]));
            }
        }
        if (bnStats != null && offset != bnStats.length) {
            throw new IllegalArgumentException("BN statistics: used " + offset + " of " + bnStats.length);
        }
        return sd;
    }
}

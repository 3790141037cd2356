package org.fixres4j.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Deterministic subsets for {@code --limit N}:
 * <ul>
 *   <li>{@link #first}: samples 0..N-1 (on a class-folder dataset these are the first classes only);</li>
 *   <li>{@link #stratified}: N samples spread over the classes in proportion to their sizes (largest remainder;
 *       ties go to the lower class index), chosen within each class by a seeded shuffle ({@link Seeds#subset}),
 *       returned in dataset order. The same (dataset, N, seed) always gives the same subset.</li>
 * </ul>
 * N at least the dataset size returns the dataset itself.
 */
public final class Subsets {
    /** How {@link #limit} picks samples. */
    public enum Mode {
        /** The first N samples. */
        FIRST,
        /** A seeded, class-stratified choice of N samples. */
        STRATIFIED
    }

    private Subsets() {}

    /** {@code dataset} limited to {@code n} samples by {@code mode}; {@code n} &lt; 0 means no limit. */
    public static Dataset limit(Dataset dataset, int n, Mode mode, long seed) {
        if (n < 0 || n >= dataset.size()) {
            return dataset;
        }
        return mode == Mode.FIRST ? first(dataset, n) : stratified(dataset, n, seed);
    }

    /** The first {@code n} samples. */
    public static Dataset first(Dataset dataset, int n) {
        checkCount(n);
        if (n >= dataset.size()) {
            return dataset;
        }
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        return new SubsetDataset(dataset, idx, "first " + n);
    }

    /** {@code n} samples, stratified by class and seeded (see the class comment). */
    public static Dataset stratified(Dataset dataset, int n, long seed) {
        checkCount(n);
        if (n >= dataset.size()) {
            return dataset;
        }
        return new SubsetDataset(dataset, stratifiedIndices(dataset.labels(), dataset.numClasses(), n, seed),
                "stratified " + n + ", seed " + seed);
    }

    /** The indices {@link #stratified} picks, ascending. */
    public static int[] stratifiedIndices(int[] labels, int numClasses, int n, long seed) {
        checkCount(n);
        int total = labels.length;
        if (n >= total) {
            int[] all = new int[total];
            Arrays.setAll(all, i -> i);
            return all;
        }
        List<List<Integer>> byClass = new ArrayList<>(numClasses);
        for (int c = 0; c < numClasses; c++) {
            byClass.add(new ArrayList<>());
        }
        for (int i = 0; i < total; i++) {
            byClass.get(labels[i]).add(i);
        }
        // largest-remainder apportionment of n over the class sizes
        int[] quota = new int[numClasses];
        long[] remainder = new long[numClasses];
        int assigned = 0;
        for (int c = 0; c < numClasses; c++) {
            long prod = (long) n * byClass.get(c).size();
            quota[c] = (int) (prod / total);
            remainder[c] = prod % total;
            assigned += quota[c];
        }
        Integer[] order = new Integer[numClasses];
        Arrays.setAll(order, c -> c);
        Arrays.sort(order, (a, b) -> remainder[a] != remainder[b] ? Long.compare(remainder[b], remainder[a])
                : Integer.compare(a, b));
        for (int k = 0; assigned < n; k++) {
            int c = order[k % numClasses];
            if (quota[c] < byClass.get(c).size()) {
                quota[c]++;
                assigned++;
            }
        }
        RandomGenerator rng = Seeds.subset(seed);
        int[] out = new int[n];
        int o = 0;
        for (int c = 0; c < numClasses; c++) {
            List<Integer> members = byClass.get(c);
            // every class draws its own permutation, in class order, so the result depends on nothing else
            int[] perm = Seeds.permutation(members.size(), rng);
            for (int j = 0; j < quota[c]; j++) {
                out[o++] = members.get(perm[j]);
            }
        }
        Arrays.sort(out);
        return out;
    }

    private static void checkCount(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("subset size must be >= 0, got " + n);
        }
    }
}

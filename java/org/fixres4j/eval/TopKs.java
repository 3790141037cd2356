package org.fixres4j.eval;

import java.util.Arrays;

/**
 * The ks of a top-k accumulator ({@link TopKAccuracy}, {@link RealAccuracy}) and what both do with them: validate
 * them, find a k, describe per-k counts ({@link TopKCounts} reports them).
 */
final class TopKs {
    private TopKs() {}

    /**
     * A copy of {@code ks} once checked: at least one, each &gt;= 1, distinct and ascending; {@code numClasses}
     * &gt;= 1.
     */
    static int[] checked(int numClasses, int[] ks) {
        if (numClasses < 1) {
            throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
        }
        if (ks.length == 0) {
            throw new IllegalArgumentException("at least one k is needed");
        }
        for (int i = 0; i < ks.length; i++) {
            if (ks[i] < 1 || (i > 0 && ks[i] <= ks[i - 1])) {
                throw new IllegalArgumentException("ks must be >= 1, distinct and ascending, got "
                        + Arrays.toString(ks));
            }
        }
        return ks.clone();
    }

    /** The position of {@code k} in {@code ks}. */
    static int indexOf(int[] ks, int k) {
        for (int i = 0; i < ks.length; i++) {
            if (ks[i] == k) {
                return i;
            }
        }
        throw new IllegalArgumentException("k=" + k + " is not one of " + Arrays.toString(ks));
    }

    /** {@code top-1 12.500%, top-5 ...} ({@code n/a} when {@code total} is 0), then {@code " of <total>"}. */
    static StringBuilder describe(StringBuilder b, int[] ks, long[] correct, long total) {
        for (int i = 0; i < ks.length; i++) {
            b.append(i == 0 ? "" : ", ").append("top-").append(ks[i]).append(' ')
                    .append(total == 0 ? "n/a" : String.format("%.3f%%", 100.0 * correct[i] / total));
        }
        return b.append(" of ").append(total);
    }

    /** Checks that a batch of logits has one column per class. */
    static void checkColumns(LogitRows logits, int numClasses) {
        if (logits.cols() != numClasses) {
            throw new IllegalArgumentException("logits have " + logits.cols() + " classes, expected " + numClasses);
        }
    }
}

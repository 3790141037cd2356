package org.fixres4j.eval;

/**
 * Ranks the classes of one row of scores (logits, probabilities: any monotone score; no softmax is needed or done).
 * The order is total and deterministic:
 * <ul>
 *   <li>a higher score ranks first;</li>
 *   <li><b>equal scores rank by class index, lower index first</b> ({@code -0.0} equals {@code 0.0});</li>
 *   <li>NaN ranks below every number (a row of NaNs ranks by index).</li>
 * </ul>
 * So "top-k correct" means: fewer than k classes rank before the label. torch's {@code topk} leaves the order of ties
 * unspecified; the rule here makes results reproducible.
 */
public final class Ranking {
    private Ranking() {}

    /** Whether class {@code a} with score {@code sa} ranks before class {@code b} with score {@code sb}. */
    public static boolean before(float sa, int a, float sb, int b) {
        boolean na = Float.isNaN(sa);
        boolean nb = Float.isNaN(sb);
        if (na != nb) {
            return nb;
        }
        if (!na && sa != sb) {
            return sa > sb;
        }
        return a < b;
    }

    /**
     * The 0-based rank of class {@code label} in {@code scores[offset .. offset+numClasses-1]}: how many classes
     * rank before it. O(numClasses), no sorting.
     */
    public static int rankOf(float[] scores, int offset, int numClasses, int label) {
        checkRow(scores, offset, numClasses);
        if (label < 0 || label >= numClasses) {
            throw new IllegalArgumentException("label " + label + " is outside 0.." + (numClasses - 1));
        }
        float s = scores[offset + label];
        int rank = 0;
        for (int c = 0; c < numClasses; c++) {
            if (c != label && before(scores[offset + c], c, s, label)) {
                rank++;
            }
        }
        return rank;
    }

    /** {@link #rankOf(float[], int, int, int)} for a whole array. */
    public static int rankOf(float[] scores, int label) {
        return rankOf(scores, 0, scores.length, label);
    }

    /**
     * The {@code k} best classes of a row, best first (k is capped at numClasses). O(numClasses * k).
     */
    public static int[] topK(float[] scores, int offset, int numClasses, int k) {
        checkRow(scores, offset, numClasses);
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        int m = Math.min(k, numClasses);
        int[] best = new int[m];
        int size = 0;
        for (int c = 0; c < numClasses; c++) {
            float s = scores[offset + c];
            if (size == m && !before(s, c, scores[offset + best[m - 1]], best[m - 1])) {
                continue;
            }
            int pos = size < m ? size++ : m - 1;
            while (pos > 0 && before(s, c, scores[offset + best[pos - 1]], best[pos - 1])) {
                best[pos] = best[pos - 1];
                pos--;
            }
            best[pos] = c;
        }
        return best;
    }

    /** {@link #topK(float[], int, int, int)} for a whole array. */
    public static int[] topK(float[] scores, int k) {
        return topK(scores, 0, scores.length, k);
    }

    private static void checkRow(float[] scores, int offset, int numClasses) {
        if (numClasses < 1) {
            throw new IllegalArgumentException("a row needs at least one class, got " + numClasses);
        }
        if (offset < 0 || (long) offset + numClasses > scores.length) {
            throw new IllegalArgumentException("row [" + offset + ", " + ((long) offset + numClasses)
                    + ") is outside an array of " + scores.length + " scores");
        }
    }
}

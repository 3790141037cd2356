package org.fixres4j.eval;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonUnwrapped;

import org.bytedeco.pytorch.Tensor;

/**
 * ImageNet ReaL accuracy (Beyer et al. 2020; timm's {@code RealLabelsImagenet}): a sample is top-k correct when
 * <b>any</b> of its k best classes is in its list of ReaL labels. Samples with an empty (or null) list are skipped
 * and counted; the accuracy is over the scored samples only (46,837 of the 50,000 validation images). The k best
 * classes come from {@link Ranking#topK} (ties: lower index first). A scored sample whose scores hold a NaN or an
 * infinity is never correct ({@link #nonFiniteRows()}). Not thread-safe.
 */
public final class RealAccuracy {
    private final int numClasses;
    private final int[] ks;
    private long scored;
    private long skipped;
    private long nonFiniteRows;
    private final long[] correct;

    /** Top-1 and top-5 over {@code numClasses} classes. */
    public RealAccuracy(int numClasses) {
        this(numClasses, 1, 5);
    }

    /** Top-k for each k of {@code ks} (distinct, ascending, each &gt;= 1). */
    public RealAccuracy(int numClasses, int... ks) {
        this.ks = TopKs.checked(numClasses, ks);
        this.numClasses = numClasses;
        this.correct = new long[ks.length];
    }

    /** Every count as one array (scored, skipped, non-finite rows, correct per k); sums of these arrays merge. */
    public long[] counts() {
        long[] out = new long[3 + ks.length];
        out[0] = scored;
        out[1] = skipped;
        out[2] = nonFiniteRows;
        System.arraycopy(correct, 0, out, 3, ks.length);
        return out;
    }

    /** Adds counts laid out as {@link #counts()} gives them. */
    public void addCounts(long[] counts) {
        if (counts.length != 3 + ks.length) {
            throw new IllegalArgumentException(counts.length + " counts do not fit " + ks.length + " ks");
        }
        scored += counts[0];
        skipped += counts[1];
        nonFiniteRows += counts[2];
        for (int i = 0; i < ks.length; i++) {
            correct[i] += counts[3 + i];
        }
    }

    /** Adds one sample: scores {@code scores[offset .. offset+numClasses-1]} and its ReaL labels (may be empty). */
    public void add(float[] scores, int offset, int[] realLabels) {
        if (realLabels == null || realLabels.length == 0) {
            skipped++;
            return;
        }
        int[] top = Ranking.topK(scores, offset, numClasses, ks[ks.length - 1]);
        scored++;
        if (!LogitRows.isFinite(scores, offset, numClasses)) {
            nonFiniteRows++;
            return; // wrong at every k
        }
        for (int i = 0; i < ks.length; i++) {
            int k = Math.min(ks[i], top.length);
            boolean hit = false;
            for (int j = 0; j < k && !hit; j++) {
                for (int l : realLabels) {
                    if (top[j] == l) {
                        hit = true;
                        break;
                    }
                }
            }
            if (hit) {
                correct[i]++;
            }
        }
    }

    /** Adds {@code realLabels.length} samples whose scores are consecutive rows of {@code numClasses} values. */
    public void addRows(float[] rows, int[][] realLabels) {
        if ((long) realLabels.length * numClasses != rows.length) {
            throw new IllegalArgumentException(realLabels.length + " samples need "
                    + (long) realLabels.length * numClasses + " scores (" + numClasses + " classes), got "
                    + rows.length);
        }
        for (int r = 0; r < realLabels.length; r++) {
            add(rows, r * numClasses, realLabels[r]);
        }
    }

    /** Adds a batch of logits {@code [N, numClasses]}. */
    public void add(LogitRows logits, int[][] realLabels) {
        TopKs.checkColumns(logits, numClasses);
        addRows(logits.data(), realLabels);
    }

    /** Adds a batch of logits {@code [N, numClasses]} from a tensor. */
    public void add(Tensor logits, int[][] realLabels) {
        add(LogitRows.of(logits), realLabels);
    }

    /** Samples scored (non-empty label list). */
    public long scored() {
        return scored;
    }

    /** Samples skipped (empty label list). */
    public long skipped() {
        return skipped;
    }

    /** Scored samples whose scores held a NaN or an infinity (wrong at every k). */
    public long nonFiniteRows() {
        return nonFiniteRows;
    }

    /** Top-k correct samples; k must be one of the ks. */
    public long correct(int k) {
        return correct[TopKs.indexOf(ks, k)];
    }

    /** ReaL top-k accuracy as a fraction of the scored samples; NaN when none was scored. */
    public double accuracy(int k) {
        return scored == 0 ? Double.NaN : (double) correct(k) / scored;
    }

    /** ReaL top-k accuracy in percent; NaN when none was scored. */
    public double percent(int k) {
        return 100.0 * accuracy(k);
    }

    /** The result for reports ({@link Report}). */
    public Report report() {
        return new Report(scored, skipped, new TopKCounts(ks, correct, scored),
                nonFiniteRows > 0 ? nonFiniteRows : null);
    }

    /**
     * The result as a report part: {@code scored}, {@code skipped}, {@code top<k>} (percent) and
     * {@code top<k>_correct}, and {@code nonfinite_rows} when there were any.
     *
     * @param nonfiniteRows null when there were none (the member is then left out)
     */
    @JsonPropertyOrder({"scored", "skipped", "topK", "nonfinite_rows"})
    public record Report(long scored, long skipped, @JsonUnwrapped TopKCounts topK,
                         @JsonProperty("nonfinite_rows") @JsonInclude(JsonInclude.Include.NON_NULL)
                         Long nonfiniteRows) {}

    @Override
    public String toString() {
        return TopKs.describe(new StringBuilder("ReaL "), ks, correct, scored).append(" scored (").append(skipped)
                .append(" skipped)").toString();
    }
}

package org.fixres4j.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonUnwrapped;

import org.bytedeco.pytorch.Tensor;

/**
 * Top-k accuracy accumulated over batches of scores, overall and per class (default k = 1 and 5). A sample is
 * top-k correct when its label's {@link Ranking rank} is below k: ties are broken by class index, lower first, so the
 * result never depends on how a sort breaks ties. A row holding any NaN or infinite score is <b>never</b> correct (a
 * row of NaNs would otherwise rank its classes by index and score class 0 as a hit): it counts as a wrong sample and in
 * {@link #nonFiniteRows()}. Only ranks are used: no softmax, no confidence. k larger than the number of classes counts
 * every (finite) sample as correct. Not thread-safe.
 */
public final class TopKAccuracy {
    private final int numClasses;
    private final int[] ks;
    private long count;
    private final long[] correct;
    private final long[] classCount;
    private final long[][] classCorrect;
    private long nonFiniteRows;

    /** Top-1 and top-5 over {@code numClasses} classes. */
    public TopKAccuracy(int numClasses) {
        this(numClasses, 1, 5);
    }

    /** Top-k for each k of {@code ks} (distinct, ascending, each &gt;= 1). */
    public TopKAccuracy(int numClasses, int... ks) {
        this.ks = TopKs.checked(numClasses, ks);
        this.numClasses = numClasses;
        this.correct = new long[ks.length];
        this.classCount = new long[numClasses];
        this.classCorrect = new long[ks.length][numClasses];
    }

    /** Adds one sample: its scores {@code scores[offset .. offset+numClasses-1]} and its label. */
    public void add(float[] scores, int offset, int label) {
        int rank = Ranking.rankOf(scores, offset, numClasses, label);
        count++;
        classCount[label]++;
        if (!LogitRows.isFinite(scores, offset, numClasses)) {
            nonFiniteRows++;
            return; // wrong at every k
        }
        for (int i = 0; i < ks.length; i++) {
            if (rank < ks[i]) {
                correct[i]++;
                classCorrect[i][label]++;
            }
        }
    }

    /** Adds one sample whose scores fill the whole array. */
    public void add(float[] scores, int label) {
        if (scores.length != numClasses) {
            throw new IllegalArgumentException("expected " + numClasses + " scores, got " + scores.length);
        }
        add(scores, 0, label);
    }

    /** Adds {@code labels.length} samples whose scores are consecutive rows of {@code numClasses} values. */
    public void addRows(float[] rows, int[] labels) {
        if ((long) labels.length * numClasses != rows.length) {
            throw new IllegalArgumentException(labels.length + " labels need " + (long) labels.length * numClasses
                    + " scores (" + numClasses + " classes), got " + rows.length);
        }
        for (int r = 0; r < labels.length; r++) {
            add(rows, r * numClasses, labels[r]);
        }
    }

    /** Adds a batch of logits {@code [N, numClasses]}. */
    public void add(LogitRows logits, int[] labels) {
        TopKs.checkColumns(logits, numClasses);
        addRows(logits.data(), labels);
    }

    /** Adds a batch of logits {@code [N, numClasses]} from a tensor (any floating dtype or device). */
    public void add(Tensor logits, int[] labels) {
        add(LogitRows.of(logits), labels);
    }

    /**
     * Every count of this accumulator as one array (count, non-finite rows, correct per k, per-class counts, per-class
     * correct per k): element-wise sums of these arrays over accumulators of the same classes and ks are their
     * merge ({@link #addCounts}), which is how ranks of a sharded evaluation combine theirs exactly.
     */
    public long[] counts() {
        long[] out = new long[2 + ks.length + numClasses + ks.length * numClasses];
        int o = 0;
        out[o++] = count;
        out[o++] = nonFiniteRows;
        for (long c : correct) {
            out[o++] = c;
        }
        for (long c : classCount) {
            out[o++] = c;
        }
        for (long[] row : classCorrect) {
            for (long c : row) {
                out[o++] = c;
            }
        }
        return out;
    }

    /** Adds counts laid out as {@link #counts()} gives them (e.g. the sum over the other ranks). */
    public void addCounts(long[] counts) {
        if (counts.length != 2 + ks.length + numClasses + ks.length * numClasses) {
            throw new IllegalArgumentException(counts.length + " counts do not fit " + numClasses + " classes and "
                    + ks.length + " ks");
        }
        int o = 0;
        count += counts[o++];
        nonFiniteRows += counts[o++];
        for (int i = 0; i < ks.length; i++) {
            correct[i] += counts[o++];
        }
        for (int c = 0; c < numClasses; c++) {
            classCount[c] += counts[o++];
        }
        for (int i = 0; i < ks.length; i++) {
            for (int c = 0; c < numClasses; c++) {
                classCorrect[i][c] += counts[o++];
            }
        }
    }

    /** Adds the counts of another accumulator with the same classes and ks. */
    public void merge(TopKAccuracy other) {
        if (other.numClasses != numClasses || !Arrays.equals(other.ks, ks)) {
            throw new IllegalArgumentException("cannot merge accumulators of different classes or ks");
        }
        count += other.count;
        nonFiniteRows += other.nonFiniteRows;
        for (int i = 0; i < ks.length; i++) {
            correct[i] += other.correct[i];
            for (int c = 0; c < numClasses; c++) {
                classCorrect[i][c] += other.classCorrect[i][c];
            }
        }
        for (int c = 0; c < numClasses; c++) {
            classCount[c] += other.classCount[c];
        }
    }

    public int numClasses() {
        return numClasses;
    }

    /** The ks, ascending (a copy). */
    public int[] ks() {
        return ks.clone();
    }

    /** Samples added. */
    public long count() {
        return count;
    }

    /** Samples whose scores held a NaN or an infinity (counted, and wrong at every k). */
    public long nonFiniteRows() {
        return nonFiniteRows;
    }

    /** Top-k correct samples; k must be one of {@link #ks()}. */
    public long correct(int k) {
        return correct[TopKs.indexOf(ks, k)];
    }

    /** Top-k accuracy as a fraction in [0, 1]; NaN when no sample was added. */
    public double accuracy(int k) {
        return count == 0 ? Double.NaN : (double) correct(k) / count;
    }

    /** Top-k accuracy in percent; NaN when no sample was added. */
    public double percent(int k) {
        return 100.0 * accuracy(k);
    }

    /** Samples of class {@code c} added. */
    public long classCount(int c) {
        return classCount[c];
    }

    /** Top-k correct samples of class {@code c}. */
    public long classCorrect(int k, int c) {
        return classCorrect[TopKs.indexOf(ks, k)][c];
    }

    /** Per-class counts, class order; classes without samples included. */
    public List<ClassResult> perClass() {
        List<ClassResult> out = new ArrayList<>(numClasses);
        for (int c = 0; c < numClasses; c++) {
            long[] k = new long[ks.length];
            for (int i = 0; i < ks.length; i++) {
                k[i] = classCorrect[i][c];
            }
            out.add(new ClassResult(c, classCount[c], ks.clone(), k));
        }
        return out;
    }

    /**
     * The counts of one class.
     *
     * @param classIndex the class
     * @param count samples of the class
     * @param ks the ks
     * @param correct top-k correct samples of the class, per k
     */
    public record ClassResult(int classIndex, long count, int[] ks, long[] correct) {
        /** Top-k accuracy of the class as a fraction; NaN without samples. */
        public double accuracy(int k) {
            int i = TopKs.indexOf(ks, k);
            return count == 0 ? Double.NaN : (double) correct[i] / count;
        }
    }

    /** The overall result for reports ({@link Report}). */
    public Report report() {
        return new Report(count, new TopKCounts(ks, correct, count), nonFiniteRows > 0 ? nonFiniteRows : null);
    }

    /**
     * The overall result as a report part: {@code count}, {@code top<k>} (percent) and {@code top<k>_correct}, and
     * {@code nonfinite_rows} when there were any.
     *
     * @param nonfiniteRows null when there were none (the member is then left out)
     */
    @JsonPropertyOrder({"count", "topK", "nonfinite_rows"})
    public record Report(long count, @JsonUnwrapped TopKCounts topK,
                         @JsonProperty("nonfinite_rows") @JsonInclude(JsonInclude.Include.NON_NULL)
                         Long nonfiniteRows) {}

    @Override
    public String toString() {
        return TopKs.describe(new StringBuilder(), ks, correct, count).toString();
    }
}

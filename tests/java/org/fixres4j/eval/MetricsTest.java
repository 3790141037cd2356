package org.fixres4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.Test;

/** Ranking, top-k and ReaL accuracy on hand-computed cases. */
@SuppressWarnings("try")
class MetricsTest {

    @Test
    void rankingBreaksTiesByLowerIndexAndPutsNanLast() {
        float[] s = {0.5f, 2f, 2f, -1f, Float.NaN, 2f};
        assertArrayEquals(new int[] {1, 2, 5, 0, 3, 4}, Ranking.topK(s, 6));
        assertArrayEquals(new int[] {1, 2, 5}, Ranking.topK(s, 3));
        assertArrayEquals(new int[] {1, 2, 5, 0, 3, 4}, Ranking.topK(s, 99), "k is capped");
        assertEquals(0, Ranking.rankOf(s, 1));
        assertEquals(1, Ranking.rankOf(s, 2));
        assertEquals(2, Ranking.rankOf(s, 5));
        assertEquals(3, Ranking.rankOf(s, 0));
        assertEquals(5, Ranking.rankOf(s, 4));
        // -0.0 and 0.0 tie; infinities order normally
        float[] z = {0f, -0f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY};
        assertArrayEquals(new int[] {3, 0, 1, 2}, Ranking.topK(z, 4));
        assertEquals(1, Ranking.rankOf(z, 0));
        assertEquals(2, Ranking.rankOf(z, 1));
        // rows inside a flat array
        float[] flat = {9, 9, 9, 1, 3, 2};
        assertArrayEquals(new int[] {1, 2}, Ranking.topK(flat, 3, 3, 2));
        assertEquals(2, Ranking.rankOf(flat, 3, 3, 0));
        assertThrows(IllegalArgumentException.class, () -> Ranking.rankOf(flat, 3, 3, 3));
        assertThrows(IllegalArgumentException.class, () -> Ranking.topK(flat, 4, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> Ranking.topK(flat, 0));
        // rank and topK agree on random-ish rows with many ties
        float[] r = new float[40];
        for (int i = 0; i < r.length; i++) {
            r[i] = (i * 7919) % 5;
        }
        int[] order = Ranking.topK(r, r.length);
        for (int pos = 0; pos < order.length; pos++) {
            assertEquals(pos, Ranking.rankOf(r, order[pos]));
        }
    }

    @Test
    void topOneAndTopFiveByHand() {
        TopKAccuracy acc = new TopKAccuracy(6);
        // label 1 is the max -> top-1 and top-5 correct
        acc.add(new float[] {0, 5, 1, 2, 3, 4}, 1);
        // label 0 is the smallest (rank 5) -> neither
        acc.add(new float[] {0, 5, 1, 2, 3, 4}, 0);
        // label 2 ties with class 1 at the top: class 1 wins the tie -> rank 1: top-5 only
        acc.add(new float[] {0, 7, 7, 2, 3, 4}, 2);
        // label 1 ties with class 2 at the top and wins the tie -> top-1
        acc.add(new float[] {0, 7, 7, 2, 3, 4}, 1);
        assertEquals(4, acc.count());
        assertEquals(2, acc.correct(1));
        assertEquals(3, acc.correct(5));
        assertEquals(0.5, acc.accuracy(1));
        assertEquals(75.0, acc.percent(5));
        assertEquals(1, acc.classCount(0));
        assertEquals(1, acc.classCount(2));
        assertEquals(2, acc.classCount(1));
        assertEquals(2, acc.classCorrect(1, 1));
        assertEquals(0, acc.classCorrect(1, 2));
        assertEquals(1, acc.classCorrect(5, 2));
        assertEquals(0, acc.classCorrect(5, 0));
        List<TopKAccuracy.ClassResult> per = acc.perClass();
        assertEquals(6, per.size());
        assertEquals(1.0, per.get(1).accuracy(1));
        assertEquals(0.0, per.get(2).accuracy(1));
        assertTrue(Double.isNaN(per.get(3).accuracy(5)));
        TopKAccuracy.Report m = acc.report();
        assertEquals(4L, m.count());
        assertEquals(50.0, m.topK().members().get("top1"));
        assertEquals(3L, m.topK().members().get("top5_correct"));
        assertEquals("{\"count\":4,\"top1\":50.0,\"top1_correct\":2,\"top5\":75.0,\"top5_correct\":3}",
                org.fixres4j.io.Json.write(m));
        assertEquals("top-1 50.000%, top-5 75.000% of 4", acc.toString());
        assertThrows(IllegalArgumentException.class, () -> acc.correct(3));
        assertThrows(IllegalArgumentException.class, () -> acc.add(new float[] {1, 2}, 0));
    }

    @Test
    void rowsMergeNanAndEmpty() {
        TopKAccuracy a = new TopKAccuracy(3, 1, 2);
        assertTrue(Double.isNaN(a.accuracy(1)));
        a.addRows(new float[] {3, 2, 1, 1, 2, 3}, new int[] {0, 1});  // rank 0; rank 1
        TopKAccuracy b = new TopKAccuracy(3, 1, 2);
        b.add(new float[] {Float.NaN, 0, 0}, 0);                      // a NaN row is wrong at every k
        assertEquals(1, b.nonFiniteRows());
        a.merge(b);
        assertEquals(3, a.count());
        assertEquals(1, a.correct(1));
        assertEquals(2, a.correct(2));
        assertEquals(1, a.nonFiniteRows());
        assertThrows(IllegalArgumentException.class, () -> a.merge(new TopKAccuracy(3)));
        assertThrows(IllegalArgumentException.class, () -> a.addRows(new float[5], new int[] {0, 1}));
        assertThrows(IllegalArgumentException.class, () -> new TopKAccuracy(3, 5, 1));
        // more ks than classes: top-5 of 3 classes is always right
        TopKAccuracy small = new TopKAccuracy(3);
        small.add(new float[] {1, 2, 3}, 0);
        assertEquals(1, small.correct(5));
    }

    @Test
    void realAccuracyByHand() {
        RealAccuracy real = new RealAccuracy(5, 1, 2);
        float[] rows = {
            5, 4, 3, 2, 1,   // top-1 {0}, top-2 {0, 1}
            1, 2, 3, 4, 5,   // top-1 {4}, top-2 {4, 3}
            1, 1, 1, 1, 1,   // ties: top-1 {0}, top-2 {0, 1}
            0, 0, 0, 0, 9,   // skipped
        };
        real.addRows(rows, new int[][] {{1, 3}, {3}, {0}, {}});
        assertEquals(3, real.scored());
        assertEquals(1, real.skipped());
        // sample 0: top-1 miss (0 not in {1,3}), top-2 hit (1); sample 1: miss, hit (3); sample 2: hit, hit
        assertEquals(1, real.correct(1));
        assertEquals(3, real.correct(2));
        assertEquals(100.0 / 3, real.percent(1), 1e-12);
        real.add(rows, 0, null);
        assertEquals(2, real.skipped());
        assertEquals(2L, real.report().skipped());
        RealAccuracy none = new RealAccuracy(5);
        none.add(rows, 15, new int[0]);
        assertTrue(Double.isNaN(none.accuracy(1)));
        assertTrue(none.toString().contains("0 scored (1 skipped)"), none.toString());
    }

    @Test
    void logitsFromTensors() {
        Torch.ensureLoaded();
        try (PointerScope scope = new PointerScope()) {
            Tensor t = torch.zeros(new long[] {2, 3}, new TensorOptions(torch.ScalarType.Float));
            new FloatPointer(t.data_ptr()).put(new float[] {1, 3, 2, 0.5f, 0.25f, 0.75f});
            LogitRows rows = LogitRows.of(t);
            assertEquals(2, rows.rows());
            assertEquals(3, rows.cols());
            assertEquals(0.75f, rows.get(1, 2));
            TopKAccuracy acc = new TopKAccuracy(3, 1);
            acc.add(t, new int[] {1, 2});
            assertEquals(2, acc.correct(1));
            // half precision and a transposed (non-contiguous) view convert the same way
            Tensor half = t.to(torch.ScalarType.Half);
            assertArrayEquals(rows.data(), LogitRows.of(half).data(), 0f);
            Tensor tt = t.t();
            assertFalse(tt.is_contiguous());
            assertArrayEquals(new float[] {1, 0.5f, 3, 0.25f, 2, 0.75f}, LogitRows.of(tt).data(), 0f);
            assertThrows(IllegalArgumentException.class, () -> LogitRows.of(t.reshape(6)));
            Tensor ints = torch.zeros(new long[] {1, 2}, new TensorOptions(torch.ScalarType.Long));
            assertThrows(IllegalArgumentException.class, () -> LogitRows.of(ints));
            RealAccuracy real = new RealAccuracy(3, 1);
            real.add(t, new int[][] {{1}, {0, 2}});
            assertEquals(2, real.correct(1));
        }
    }

    @Test
    void nonFiniteRowsAreNeverCorrect() {
        // two classes, all-NaN logits: ranking by index would score class 0 as top-1 and everything as top-2
        TopKAccuracy acc = new TopKAccuracy(2, 1, 2);
        float nan = Float.NaN;
        acc.addRows(new float[] {nan, nan, nan, nan}, new int[] {0, 1});
        assertEquals(2, acc.count());
        assertEquals(0, acc.correct(1));
        assertEquals(0, acc.correct(2));
        assertEquals(2, acc.nonFiniteRows());
        assertEquals(2L, acc.report().nonfiniteRows());
        assertTrue(org.fixres4j.io.Json.write(acc.report()).endsWith(",\"nonfinite_rows\":2}"));
        // an infinity is as bad: the row is wrong even where its label would rank first
        acc.add(new float[] {Float.POSITIVE_INFINITY, 0}, 0);
        acc.add(new float[] {1, 0}, 0);
        assertEquals(1, acc.correct(1));
        assertEquals(3, acc.nonFiniteRows());
        assertEquals(4, acc.count());
        assertEquals(null, new TopKAccuracy(2, 1).report().nonfiniteRows(), "absent when there are none");
        assertEquals("{\"count\":0,\"top1\":null,\"top1_correct\":0}",
                org.fixres4j.io.Json.write(new TopKAccuracy(2, 1).report()));

        RealAccuracy real = new RealAccuracy(2, 1, 2);
        real.addRows(new float[] {nan, nan, 1, 0}, new int[][] {{0, 1}, {0}});
        assertEquals(2, real.scored());
        assertEquals(1, real.correct(1));
        assertEquals(1, real.correct(2));
        assertEquals(1, real.nonFiniteRows());
        assertEquals(1L, real.report().nonfiniteRows());
        assertEquals("{\"scored\":2,\"skipped\":0,\"top1\":50.0,\"top1_correct\":1,\"top2\":50.0,\"top2_correct\":1,"
                + "\"nonfinite_rows\":1}", org.fixres4j.io.Json.write(real.report()));
    }
}

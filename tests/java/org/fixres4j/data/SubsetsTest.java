package org.fixres4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

import org.fixres4j.image.DecodedImage.ChannelOrder;
import org.junit.jupiter.api.Test;

/** --limit subsets and the seeded streams they and the loader use. */
class SubsetsTest {
    /** 100 samples: class 0 has 50, class 1 has 30, class 2 has 20, interleaved. */
    static InMemoryDataset dataset() {
        int[] labels = new int[100];
        for (int i = 0; i < 100; i++) {
            labels[i] = i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2;
        }
        return new InMemoryDataset(new byte[100], 1, 1, 1, ChannelOrder.RGB, labels, List.of("a", "b", "c"), "t",
                "test");
    }

    @Test
    void firstN() {
        InMemoryDataset d = dataset();
        Dataset f = Subsets.first(d, 7);
        assertEquals(7, f.size());
        assertEquals("t/00006", f.get(6).name());
        assertArrayEquals(Arrays.copyOf(d.labels(), 7), f.labels());
        assertSame(d, Subsets.first(d, 100));
        assertSame(d, Subsets.limit(d, -1, Subsets.Mode.FIRST, 0));
        assertTrue(f.describe().startsWith("subset(first 7, 7 of test"), f.describe());
        assertThrows(IllegalArgumentException.class, () -> Subsets.first(d, -2));
    }

    @Test
    void stratifiedIsProportionalSeededAndSorted() {
        InMemoryDataset d = dataset();
        SubsetDataset s = (SubsetDataset) Subsets.stratified(d, 10, 42);
        int[] counts = new int[3];
        for (int l : s.labels()) {
            counts[l]++;
        }
        assertArrayEquals(new int[] {5, 3, 2}, counts);
        int[] idx = s.baseIndices();
        int[] sorted = idx.clone();
        Arrays.sort(sorted);
        assertArrayEquals(sorted, idx);
        assertEquals(10, new HashSet<>(Arrays.stream(idx).boxed().toList()).size());
        assertArrayEquals(idx, ((SubsetDataset) Subsets.stratified(d, 10, 42)).baseIndices(), "same seed");
        assertFalse(Arrays.equals(idx, ((SubsetDataset) Subsets.stratified(d, 10, 43)).baseIndices()),
                "another seed");
        // largest remainder: 7 of (50, 30, 20) -> 3.5, 2.1, 1.4 -> 3, 2, 1 + one more to the largest remainder (a)
        int[] c7 = new int[3];
        for (int l : Subsets.stratified(d, 7, 1).labels()) {
            c7[l]++;
        }
        assertArrayEquals(new int[] {4, 2, 1}, c7);
        // ties in the remainder go to the lower class: 3 of (1, 1, 1) is everything, 2 of them are classes 0 and 1
        int[] two = Subsets.stratifiedIndices(new int[] {2, 1, 0}, 3, 2, 5);
        assertArrayEquals(new int[] {1, 2}, two);
        assertSame(d, Subsets.limit(d, 100, Subsets.Mode.STRATIFIED, 0));
    }

    @Test
    void splitMix64MatchesTheReference() {
        // the reference splitmix64.c from seed 0: e220a8397b1dcdaf 6e789e6aa1b965f4 06c45d188009454f
        RandomGenerator g = new Seeds.SplitMix64(0);
        assertEquals(0xe220a8397b1dcdafL, g.nextLong());
        assertEquals(0x6e789e6aa1b965f4L, g.nextLong());
        assertEquals(0x06c45d188009454fL, g.nextLong());
    }

    @Test
    void sampleStreamsDependOnSeedEpochAndIndexOnly() {
        long a = Seeds.sample(7, 0, 5).nextLong();
        assertEquals(a, Seeds.sample(7, 0, 5).nextLong());
        Set<Long> firsts = new HashSet<>();
        for (int e = 0; e < 3; e++) {
            for (int i = 0; i < 100; i++) {
                firsts.add(Seeds.sample(7, e, i).nextLong());
            }
        }
        assertEquals(300, firsts.size());
        assertNotEquals(Seeds.hash(1, 2), Seeds.hash(2, 1));
        assertNotEquals(a, Seeds.sample(8, 0, 5).nextLong());
    }

    @Test
    void boundedIntAndPermutation() {
        RandomGenerator g = new Seeds.SplitMix64(3);
        int[] hist = new int[7];
        for (int i = 0; i < 70_000; i++) {
            hist[Seeds.boundedInt(g, 7)]++;
        }
        for (int h : hist) {
            assertTrue(h > 9_500 && h < 10_500, Arrays.toString(hist));
        }
        int[] p = Seeds.permutation(50, Seeds.shuffle(1, 2));
        int[] s = p.clone();
        Arrays.sort(s);
        for (int i = 0; i < 50; i++) {
            assertEquals(i, s[i]);
        }
        assertArrayEquals(p, Seeds.permutation(50, Seeds.shuffle(1, 2)));
        assertFalse(Arrays.equals(p, Seeds.permutation(50, Seeds.shuffle(1, 3))));
        assertThrows(IllegalArgumentException.class, () -> Seeds.boundedInt(g, 0));
    }
}

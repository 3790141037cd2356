package org.fixres4j.data;

import java.util.random.RandomGenerator;

/**
 * Deterministic random streams derived from a seed, independent of threads, JDK version and call order: every
 * stream is a SplitMix64 generator (Steele, Lea and Flood 2014) whose state is a hash of the seed and the stream's
 * coordinates. The loader gives sample {@code i} of epoch {@code e} the stream {@link #sample(long, int, int)}, so a
 * sample's augmentation depends only on (seed, epoch, i).
 */
public final class Seeds {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final long SAMPLE_STREAM = 0x5A3C_1E2D_0F4B_6987L;
    private static final long SHUFFLE_STREAM = 0x2B7E_1516_28AE_D2A6L;
    private static final long SUBSET_STREAM = 0x6A09_E667_F3BC_C908L;

    private Seeds() {}

    /** The SplitMix64 finaliser (a bijection of longs with good avalanche). */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * A hash of a seed and coordinates: chained {@link #mix} steps, with the running hash rotated before each
     * coordinate is folded in, so the order matters ((1, 2) and (2, 1) differ).
     */
    public static long hash(long seed, long... coordinates) {
        long h = mix(seed + GOLDEN);
        for (long c : coordinates) {
            h = mix(Long.rotateLeft(h, 23) ^ mix(c + GOLDEN));
        }
        return h;
    }

    /** The augmentation stream of sample {@code index} in epoch {@code epoch}. */
    public static RandomGenerator sample(long seed, int epoch, int index) {
        return new SplitMix64(hash(seed, SAMPLE_STREAM, epoch, index));
    }

    /** The generator that shuffles epoch {@code epoch}. */
    public static RandomGenerator shuffle(long seed, int epoch) {
        return new SplitMix64(hash(seed, SHUFFLE_STREAM, epoch));
    }

    /** The generator that picks subsets (see {@link Subsets}). */
    public static RandomGenerator subset(long seed) {
        return new SplitMix64(hash(seed, SUBSET_STREAM));
    }

    /** A permutation of 0..n-1 (Fisher-Yates with {@code rng}). */
    public static int[] permutation(int n, RandomGenerator rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = boundedInt(rng, i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /**
     * A uniform int in [0, bound) by Lemire's multiply-and-reject method, written out here so that the result does
     * not depend on the JDK's {@code nextInt(bound)} implementation.
     */
    public static int boundedInt(RandomGenerator rng, int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        long m = (rng.nextLong() >>> 32) * bound;
        long low = m & 0xFFFFFFFFL;
        if (low < bound) {
            long threshold = (0x1_0000_0000L - bound) % bound;
            while (low < threshold) {
                m = (rng.nextLong() >>> 32) * bound;
                low = m & 0xFFFFFFFFL;
            }
        }
        return (int) (m >>> 32);
    }

    /** SplitMix64: a tiny, fast, well-specified generator (the state advances by the golden gamma). */
    public static final class SplitMix64 implements RandomGenerator {
        private long state;

        /** A generator starting from {@code seed}. */
        public SplitMix64(long seed) {
            this.state = seed;
        }

        @Override
        public long nextLong() {
            state += GOLDEN;
            return mix(state);
        }
    }
}

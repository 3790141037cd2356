package org.fixres4j.bench;

import java.util.Arrays;

/** Wall-clock timing for the quick benchmarks: warm-up, then the median over timed blocks. */
final class Timer {
    private Timer() {}

    /**
     * Milliseconds per item of {@code action} (which processes {@code itemsPerCall} items), measured for about
     * {@code seconds} after a warm-up of a fifth of that: the median of up to 15 blocks.
     */
    static double msPerItem(double seconds, int itemsPerCall, Runnable action) {
        long warmEnd = System.nanoTime() + (long) (seconds * 0.2e9);
        int calls = 0;
        do {
            action.run();
            calls++;
        } while (System.nanoTime() < warmEnd || calls < 2);
        long t0 = System.nanoTime();
        action.run();
        double once = Math.max(1e-6, (System.nanoTime() - t0) * 1e-9);
        int blocks = 15;
        int perBlock = (int) Math.max(1, Math.min(1_000_000, seconds / blocks / once));
        double[] ms = new double[blocks];
        for (int b = 0; b < blocks; b++) {
            long s = System.nanoTime();
            for (int i = 0; i < perBlock; i++) {
                action.run();
            }
            ms[b] = (System.nanoTime() - s) * 1e-6 / ((double) perBlock * itemsPerCall);
        }
        Arrays.sort(ms);
        return ms[blocks / 2];
    }

    /**
     * A timed action whose blocks are all the same number of calls, for interleaving with other measurements: the
     * constructor warms it up and sizes a block to about {@code blockSeconds}; {@link #next()} times one block.
     */
    static final class Blocks {
        private final Runnable action;
        private final int itemsPerCall;
        private final int callsPerBlock;

        Blocks(double blockSeconds, int itemsPerCall, Runnable action) {
            this.action = action;
            this.itemsPerCall = itemsPerCall;
            long warmEnd = System.nanoTime() + (long) (Math.max(0.05, blockSeconds) * 1e9);
            int calls = 0;
            do {
                action.run();
                calls++;
            } while (System.nanoTime() < warmEnd || calls < 3);
            int probe = Math.max(1, calls / 4);
            long t0 = System.nanoTime();
            for (int i = 0; i < probe; i++) {
                action.run();
            }
            double once = Math.max(1e-7, (System.nanoTime() - t0) * 1e-9 / probe);
            this.callsPerBlock = (int) Math.max(1, Math.min(1_000_000, blockSeconds / once));
        }

        /** Times one block: milliseconds per item. */
        double next() {
            long s = System.nanoTime();
            for (int i = 0; i < callsPerBlock; i++) {
                action.run();
            }
            return (System.nanoTime() - s) * 1e-6 / ((double) callsPerBlock * itemsPerCall);
        }
    }

    /** The median of {@code values} (not modified); the mean of the middle two for an even count. */
    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    }
}

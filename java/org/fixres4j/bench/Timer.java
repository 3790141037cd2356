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
}

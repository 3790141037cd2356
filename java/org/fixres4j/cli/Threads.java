package org.fixres4j.cli;

/** The one check of every {@code --threads} option: a positive count no larger than a sane bound. */
final class Threads {
    /** The largest thread count accepted (far above any machine's processors; a typo guard). */
    static final int MAX = 1024;

    private Threads() {}

    /** Throws a one-line usage error unless {@code value} is null (not given) or in 1..{@link #MAX}. */
    static void check(String option, Integer value) {
        if (value != null && (value < 1 || value > MAX)) {
            throw new IllegalArgumentException(option + " must be in 1.." + MAX + ", got " + value);
        }
    }

    /** The same for a list of thread counts. */
    static void check(String option, int[] values) {
        for (int v : values) {
            check(option, v);
        }
    }
}

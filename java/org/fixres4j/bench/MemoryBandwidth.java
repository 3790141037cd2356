package org.fixres4j.bench;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/** Measures this machine's single-thread copy bandwidth (the memory-traffic floor of the benchmarks). */
public final class MemoryBandwidth {
    private MemoryBandwidth() {}

    /**
     * Best of several {@code memcpy}s of {@code megabytes} MiB (far beyond the caches), in bytes moved per second,
     * counting both the bytes read and the bytes written.
     */
    public static double copyBytesPerSecond(int megabytes) {
        long n = (long) megabytes << 20;
        try (BytePointer src = new BytePointer(n); BytePointer dst = new BytePointer(n)) {
            Pointer.memset(src, 1, n);
            Pointer.memset(dst, 2, n);
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 7; i++) {
                long t0 = System.nanoTime();
                Pointer.memcpy(dst, src, n);
                best = Math.min(best, (System.nanoTime() - t0) * 1e-9);
            }
            return 2.0 * n / best;
        }
    }
}

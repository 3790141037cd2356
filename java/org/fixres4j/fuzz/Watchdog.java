package org.fixres4j.fuzz;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Ends the run when one input takes longer than a limit (a hang, e.g. a decoder loop): the input is saved next to
 * the log, a line says which, and the JVM halts with status 3 (the stuck thread may be in native code).
 */
final class Watchdog {
    private final long limitNanos;
    private final Path saveDir;
    private volatile long started;
    private volatile String what;
    private volatile byte[] input;

    Watchdog(long limitSeconds, Path saveDir) {
        this.limitNanos = limitSeconds * 1_000_000_000L;
        this.saveDir = saveDir;
        Thread t = new Thread(this::watch, "fuzz-watchdog");
        t.setDaemon(true);
        t.start();
    }

    void enter(String family, long set, byte[] bytes) {
        what = family + " set " + set;
        input = bytes;
        started = System.nanoTime();
    }

    void exit() {
        started = 0;
        input = null;
    }

    private void watch() {
        while (true) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                return;
            }
            long s = started;
            if (s != 0 && System.nanoTime() - s > limitNanos) {
                String name = what;
                byte[] bytes = input;
                String saved = "";
                if (bytes != null) {
                    try {
                        Files.createDirectories(saveDir);
                        Path f = saveDir.resolve("hang-" + name.replace(' ', '-') + ".bin");
                        Files.write(f, bytes);
                        saved = " (input saved to " + f + ")";
                    } catch (IOException e) {
                        saved = " (could not save the input: " + e.getMessage() + ")";
                    }
                }
                System.out.println("fuzz HANG: " + name + " ran longer than " + limitNanos / 1_000_000_000L + " s"
                        + saved);
                System.out.flush();
                Runtime.getRuntime().halt(3);
            }
        }
    }
}

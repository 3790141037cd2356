package org.fixres4j.io;

import java.nio.file.Path;

/**
 * Named points in the middle of durable writes where a crash test can stop the process. Inactive unless the system
 * property {@value #PROPERTY} is set (only the fault-injection tests set it, in a child JVM): its value is
 * {@code <point>} or {@code <point>@<file name>}; when that point is reached (for that file), the process prints
 * {@code fixres4j: paused at <point> <file>} on standard output and sleeps until it is killed (the test then sends
 * SIGKILL), so whatever is on disk is exactly what a crash at that point leaves.
 */
public final class FaultPoints {
    /** The system property naming the point to pause at. */
    public static final String PROPERTY = "fixres4j.test.pauseAt";

    private static final String TARGET = System.getProperty(PROPERTY);

    private FaultPoints() {}

    /** Pauses forever if {@code point} (for {@code file}, may be null) is the configured one; otherwise nothing. */
    public static void reached(String point, Path file) {
        if (TARGET == null) {
            return;
        }
        String name = file == null || file.getFileName() == null ? "" : file.getFileName().toString();
        if (!TARGET.equals(point) && !TARGET.equals(point + "@" + name)) {
            return;
        }
        System.out.println("fixres4j: paused at " + point + " " + name);
        System.out.flush();
        while (true) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                // keep waiting for the kill
            }
        }
    }
}

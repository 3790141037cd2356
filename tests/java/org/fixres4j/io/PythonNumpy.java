package org.fixres4j.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs /usr/bin/python3 with numpy for interoperability tests, when both are installed. */
public final class PythonNumpy {
    public static final Path PYTHON = Path.of("/usr/bin/python3");
    private static Boolean available;

    private PythonNumpy() {}

    /** Whether /usr/bin/python3 exists and imports numpy. */
    public static synchronized boolean available() {
        if (available == null) {
            boolean ok = false;
            if (Files.isExecutable(PYTHON)) {
                try {
                    run("import numpy", List.of());
                    ok = true;
                } catch (IOException | RuntimeException e) {
                    ok = false;
                }
            }
            available = ok;
        }
        return available;
    }

    /** Runs a script with arguments; returns stdout+stderr, or throws with it if the exit status is not 0. */
    public static String run(String script, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(PYTHON.toString(), "-c", script));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("python timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException("python exited with " + p.exitValue() + ":\n" + text);
        }
        return text;
    }
}

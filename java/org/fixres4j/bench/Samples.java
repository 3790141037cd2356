package org.fixres4j.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The sample photographs shipped in the jar ({@code org/fixres4j/samples}), extracted to temporary files. */
public final class Samples {
    private Samples() {}

    /** Extracts a bundled sample photograph and returns its path (deleted when the JVM exits). */
    public static Path extract(String name) throws IOException {
        return extractResource("/org/fixres4j/samples/" + name, name);
    }

    /** Extracts any resource of this jar (absolute resource path) to a temporary file named {@code name}. */
    public static Path extractResource(String resource, String name) throws IOException {
        try (InputStream in = Samples.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("resource " + resource + " is missing from the jar");
            }
            Path dir = Files.createTempDirectory("fixres4j-");
            Path file = dir.resolve(name);
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            file.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            return file;
        }
    }
}

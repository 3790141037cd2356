package org.fixres4j;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the repository's test data (tests/data) whatever the working directory of the test run. */
public final class TestData {
    private TestData() {}

    /** {@code tests/data/<relative>}, found from the working directory or its parents. */
    public static Path path(String relative) {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            Path candidate = d.resolve("tests").resolve("data").resolve(relative);
            if (Files.exists(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("test data tests/data/" + relative + " not found above " + dir);
    }
}

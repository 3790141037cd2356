package org.fixres4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.fixres4j.report.Plot;
import org.fixres4j.report.Reports;
import org.fixres4j.weights.SafeTensors;
import org.fixres4j.weights.TensorData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every output goes through {@link AtomicFiles}: a new file gets the mode any file the process creates gets (the
 * umask's, read here from a plain file), a replaced file keeps its mode, and a failed write leaves the old file and
 * no temporary file behind.
 */
class AtomicFilesTest {
    @TempDir
    Path dir;

    private Set<PosixFilePermission> umaskMode;

    @BeforeEach
    void readUmask() throws IOException {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "POSIX file modes");
        Path plain = dir.resolve("plain-for-comparison");
        Files.newOutputStream(plain).close(); // created as every file of the process is: 0666 less the umask
        umaskMode = Files.getPosixFilePermissions(plain);
        Files.delete(plain);
    }

    /** Writes each kind of output the CLI produces into {@code out}. */
    private static void writeEveryKind(Path out) throws IOException {
        Npy.write(out.resolve("x.npy"), new long[] {2}, new float[] {1, 2});
        Json.write(out.resolve("x.json"), Map.of("a", 1L));
        Reports.writeJson(out.resolve("r.json"), Map.of("a", 1L));
        Reports.writeCsv(out.resolve("r.csv"), List.of("a"), List.of(List.of("1")));
        new Plot().series("s", new double[] {1, 2}, new double[] {3, 4}).write(out.resolve("p.png"));
        SafeTensors.write(out.resolve("w.safetensors"), Map.of("t", TensorData.ofFloats(new long[] {2}, 1, 2)),
                Map.of());
        AtomicFiles.write(out.resolve("b.bin"), new byte[] {1, 2, 3});
    }

    private static final List<String> NAMES = List.of("x.npy", "x.json", "r.json", "r.csv", "p.png",
            "w.safetensors", "b.bin");

    @Test
    void newFilesGetTheUmaskModeNotOwnerOnly() throws IOException {
        Path out = dir.resolve("new");
        writeEveryKind(out);
        for (String n : NAMES) {
            assertEquals(PosixFilePermissions.toString(umaskMode),
                    PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve(n))), n);
        }
        assertNoTemporaryFiles(out);
    }

    @Test
    void replacedFilesKeepTheirMode() throws IOException {
        Path out = dir.resolve("replaced");
        writeEveryKind(out);
        for (String mode : List.of("rw-r--r--", "rw-rw-r--", "rw-------")) {
            for (String n : NAMES) {
                Files.setPosixFilePermissions(out.resolve(n), PosixFilePermissions.fromString(mode));
            }
            writeEveryKind(out);
            for (String n : NAMES) {
                assertEquals(mode, PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve(n))),
                        n + " replaced over a " + mode + " file");
            }
        }
        assertNoTemporaryFiles(out);
    }

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTemporaryFile() throws IOException {
        Path f = dir.resolve("keep.txt");
        AtomicFiles.write(f, "old".getBytes(StandardCharsets.UTF_8));
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(f, tmp -> {
            Files.writeString(tmp, "half of the new");
            throw new IOException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertEquals("old", Files.readString(f));
        assertNoTemporaryFiles(dir);
        // a streamed replacement closed without commit changes nothing either
        try (AtomicFiles.Replacement r = AtomicFiles.begin(f)) {
            Files.writeString(r.tmp(), "never committed");
        }
        assertEquals("old", Files.readString(f));
        assertNoTemporaryFiles(dir);
        try (AtomicFiles.Replacement r = AtomicFiles.begin(f)) {
            Files.writeString(r.tmp(), "new");
            r.commit();
            assertThrows(IllegalStateException.class, r::commit);
        }
        assertEquals("new", Files.readString(f));
    }

    @Test
    void temporaryFileKeepsTheSuffixSoGzipOutputsAreGzipped() throws IOException {
        Path gz = dir.resolve("a.npy.gz");
        Npy.write(gz, new long[] {3}, new float[] {1, 2, 3});
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(gz), 2);
        assertArrayEquals(new byte[] {0x1f, (byte) 0x8b}, head);
        assertArrayEquals(new float[] {1, 2, 3}, Npy.read(gz).toFloatArray());
    }

    @Test
    void aLongFileNameStillGetsATemporarySibling() throws IOException {
        Path f = dir.resolve("n".repeat(240) + ".json");
        Json.write(f, List.of(2L));
        assertEquals("[\n  2\n]\n", Files.readString(f));
        assertNoTemporaryFiles(dir);
    }

    @Test
    void missingParentsAreCreated() throws IOException {
        Path f = dir.resolve("a/b/c.json");
        Json.write(f, List.of(1L));
        assertEquals("[\n  1\n]\n", Files.readString(f));
    }

    private static void assertNoTemporaryFiles(Path d) throws IOException {
        try (Stream<Path> s = Files.walk(d)) {
            List<Path> tmp = s.filter(p -> p.getFileName().toString().startsWith(".tmp.")).toList();
            assertTrue(tmp.isEmpty(), "temporary files left: " + tmp);
        }
    }
}

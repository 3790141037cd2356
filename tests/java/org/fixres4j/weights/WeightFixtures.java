package org.fixres4j.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.fixres4j.io.Npy;

/** Test helpers: fixture paths, expected tensors from the generator's {@code .expected.npz} files, Python probes. */
final class WeightFixtures {
    private WeightFixtures() {}

    /** {@code tests/data/weights}, resolved against Maven's basedir when set. */
    static Path dir() {
        String base = System.getProperty("basedir");
        Path d = (base != null ? Path.of(base) : Path.of("")).resolve("tests/data/weights").toAbsolutePath();
        assertTrue(Files.isDirectory(d), "fixture folder " + d);
        return d;
    }

    static Path file(String name) {
        Path p = dir().resolve(name);
        assertTrue(Files.isRegularFile(p), "fixture " + p + " (regenerate with make_fixtures.py)");
        return p;
    }

    /**
     * The expected tensors of fixture {@code name}, in order. The generator stores bfloat16 as raw {@code <u2} bits: those
     * become BF16 tensors (no supported fixture has real uint16 data).
     */
    static Map<String, TensorData> expected(String name) throws IOException {
        Map<String, TensorData> out = new LinkedHashMap<>();
        try (ZipFile zf = new ZipFile(file(name + ".expected.npz").toFile())) {
            List<ZipEntry> entries = new ArrayList<>();
            for (Enumeration<? extends ZipEntry> en = zf.entries(); en.hasMoreElements(); ) {
                entries.add(en.nextElement());
            }
            for (ZipEntry e : entries) {
                String key = e.getName().substring(0, e.getName().length() - ".npy".length());
                try (InputStream in = zf.getInputStream(e)) {
                    Npy.Array a = Npy.read(in);
                    out.put(key, TensorData.copyOf(dtypeOf(a.dtype()), a.shape(), a.data()));
                }
            }
        }
        return out;
    }

    static DType dtypeOf(String npy) {
        switch (Npy.canonicalDtype(npy)) {
            case "<f4": return DType.F32;
            case "<f2": return DType.F16;
            case "<u2": return DType.BF16;
            case "<f8": return DType.F64;
            case "<i8": return DType.I64;
            case "<i4": return DType.I32;
            case "<i2": return DType.I16;
            case "|i1": return DType.I8;
            case "|u1": return DType.U8;
            case "|b1": return DType.BOOL;
            default: throw new IllegalArgumentException(npy);
        }
    }

    /** Asserts same keys in the same order, and per tensor the same dtype, shape and bytes. */
    static void assertSameTensors(Map<String, TensorData> expected, StateDict actual) {
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(actual.keys()), "keys in order");
        for (Map.Entry<String, TensorData> e : expected.entrySet()) {
            TensorData a = actual.get(e.getKey());
            assertNotNull(a, e.getKey());
            assertEquals(e.getValue().dtype(), a.dtype(), e.getKey() + " dtype");
            assertArrayEquals(e.getValue().shape(), a.shape(), e.getKey() + " shape");
            assertArrayEquals(e.getValue().toByteArray(), a.toByteArray(), e.getKey() + " bytes");
        }
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static Boolean pythonOk;

    /** Whether {@code /usr/bin/python3} (or {@code python3}) runs and can import json and struct. */
    static synchronized boolean pythonAvailable() {
        if (pythonOk == null) {
            try {
                Process p = new ProcessBuilder(python(), "-c", "import json, struct, hashlib")
                        .redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                pythonOk = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (IOException | InterruptedException e) {
                pythonOk = false;
            }
        }
        return pythonOk;
    }

    static String python() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    /** Runs the generator script with arguments; returns {exit code as string, stdout, stderr}. */
    static String[] runScript(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(python());
        cmd.add(dir().resolve("make_fixtures.py").toString());
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile("fixres4j-py", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
            pb.environment().put("PYTHONIOENCODING", "utf-8");
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("python timed out");
            }
            return new String[] {String.valueOf(p.exitValue()), out, Files.readString(err)};
        } finally {
            Files.deleteIfExists(err);
        }
    }
}

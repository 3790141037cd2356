package org.fixres4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir
    Path dir;

    static final List<long[]> SHAPES = List.of(new long[] {}, new long[] {0}, new long[] {7}, new long[] {2, 3, 4},
            new long[] {3, 0, 2}, new long[] {1, 1, 1, 5});

    static ByteBuffer randomBytes(long n, long seed) {
        byte[] b = new byte[(int) n];
        new SplittableRandom(seed).nextBytes(b);
        return ByteBuffer.wrap(b);
    }

    @Test
    void roundTripsEveryDtypeAndShape() throws IOException {
        int k = 0;
        for (String dtype : Npy.dtypes()) {
            for (long[] shape : SHAPES) {
                for (String suffix : new String[] {".npy", ".npy.gz"}) {
                    long n = Npy.elementCount(shape) * Npy.itemSize(dtype);
                    ByteBuffer data = randomBytes(n, k);
                    Path f = dir.resolve("a" + k++ + suffix);
                    Npy.write(f, dtype, shape, data);
                    Npy.Array a = Npy.read(f);
                    assertEquals(dtype, a.dtype());
                    assertArrayEquals(shape, a.shape());
                    assertEquals(data.rewind(), a.data());
                    assertEquals(new Npy.Array(dtype, shape, data), a);
                    if (suffix.equals(".npy")) {
                        assertEquals(0, (Files.size(f) - n) % 64, "header padded to 64");
                    } else {
                        byte[] raw = Files.readAllBytes(f);
                        assertEquals(0x1f, raw[0] & 0xff);
                        assertEquals(0x8b, raw[1] & 0xff);
                    }
                }
            }
        }
    }

    @Test
    void floatAndByteHelpers() throws IOException {
        float[] v = {0f, -1.5f, 3.25f, Float.MAX_VALUE, Float.MIN_VALUE, Float.NaN, Float.NEGATIVE_INFINITY};
        Path f = dir.resolve("f.npy");
        Npy.write(f, new long[] {v.length}, v);
        Npy.Array a = Npy.read(f);
        assertEquals("<f4", a.dtype());
        assertArrayEquals(v, a.toFloatArray());
        assertEquals(-1.5, a.toDoubleArray()[1]);
        byte[] b = {0, 1, (byte) 200, (byte) 255, 7, 8};
        Path g = dir.resolve("b.npy.gz");
        Npy.write(g, new long[] {2, 3}, b);
        Npy.Array c = Npy.read(g);
        assertEquals("|u1", c.dtype());
        assertArrayEquals(b, c.toByteArray());
        assertArrayEquals(new long[] {0, 1, 200, 255, 7, 8}, c.toLongArray());
        assertEquals(200.0, c.toDoubleArray()[2]);
        assertEquals(2, c.ndim());
        assertEquals(6, c.elementCount());
        assertEquals("Npy.Array[|u1 (2, 3)]", c.toString());
        assertThrows(IllegalStateException.class, a::toLongArray);
        // values of the other dtypes
        ByteBuffer i8 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).putLong(1L << 40).flip();
        assertArrayEquals(new long[] {-5, 1L << 40}, new Npy.Array("<i8", new long[] {2}, i8).toLongArray());
        ByteBuffer u8 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).flip();
        assertEquals(18446744073709551615.0, new Npy.Array("<u8", new long[] {1}, u8).toDoubleArray()[0]);
        ByteBuffer f8 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).flip();
        assertEquals(0.1, new Npy.Array("<f8", new long[] {}, f8).toDoubleArray()[0]);
        assertEquals((float) 0.1, new Npy.Array("<f8", new long[] {}, f8).toFloatArray()[0]);
    }

    @Test
    void halfFloats() {
        assertEquals(1.0f, Npy.halfToFloat((short) 0x3c00));
        assertEquals(-2.0f, Npy.halfToFloat((short) 0xc000));
        assertEquals(65504f, Npy.halfToFloat((short) 0x7bff));
        assertEquals(0x1p-24f, Npy.halfToFloat((short) 0x0001));
        assertEquals(0x1p-14f, Npy.halfToFloat((short) 0x0400));
        assertEquals(-0.0f, Npy.halfToFloat((short) 0x8000));
        assertEquals(Float.POSITIVE_INFINITY, Npy.halfToFloat((short) 0x7c00));
        assertTrue(Float.isNaN(Npy.halfToFloat((short) 0x7e00)));
        ByteBuffer h = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3555).putShort(
                (short) 0xbc00).flip();
        assertArrayEquals(new float[] {0.333251953125f, -1f}, new Npy.Array("<f2", new long[] {2}, h).toFloatArray());
    }

    @Test
    void floatToHalfRoundsToNearestEven() throws IOException {
        for (int h = 0; h < 0x10000; h++) {
            float f = Npy.halfToFloat((short) h);
            if (!Float.isNaN(f)) {
                assertEquals(h, Npy.floatToHalf(f) & 0xffff, "half 0x" + Integer.toHexString(h));
            } else {
                assertTrue(Float.isNaN(Npy.halfToFloat(Npy.floatToHalf(f))));
            }
        }
        assertEquals(0x3c00, Npy.floatToHalf(1.0f + 0x1p-11f)); // tie, to even (down)
        assertEquals(0x3c02, Npy.floatToHalf(1.0f + 3 * 0x1p-11f)); // tie, to even (up)
        assertEquals(0x3c01, Npy.floatToHalf(1.0f + 0x1p-11f + 0x1p-20f)); // above the tie
        assertEquals(0x7bff, Npy.floatToHalf(65519.99f));
        assertEquals(0x7c00, Npy.floatToHalf(65520f));
        assertEquals((short) 0xfc00, Npy.floatToHalf(-1e10f));
        assertEquals(0x0000, Npy.floatToHalf(0x1p-26f)); // below half the smallest subnormal
        assertEquals(0x0001, Npy.floatToHalf(0x1.8p-25f));
        assertEquals(0x0400, Npy.floatToHalf(0x1.ffcp-15f)); // rounds up into the smallest normal
        Path f = dir.resolve("h.npy");
        Npy.write(f, "<f2", new long[] {3}, new float[] {0.1f, -2.5f, 70000f});
        assertArrayEquals(new float[] {Npy.halfToFloat((short) 0x2e66), -2.5f, Float.POSITIVE_INFINITY},
                Npy.read(f).toFloatArray());
        Npy.write(f, "<f8", new long[] {1}, new float[] {0.1f});
        assertEquals((double) 0.1f, Npy.read(f).toDoubleArray()[0]);
        assertThrows(IllegalArgumentException.class, () -> Npy.write(f, "<i4", new long[] {1}, new float[] {1}));
        Npy.write(f, "<i2", new long[] {2}, new byte[] {1, 0, (byte) 0xff, (byte) 0xff});
        assertArrayEquals(new long[] {1, -1}, Npy.read(f).toLongArray());
    }

    @Test
    void streamingWriterChecksTheByteCount() throws IOException {
        Path f = dir.resolve("s.npy");
        float[] all = new float[10_000_0];
        for (int i = 0; i < all.length; i++) {
            all[i] = i * 0.5f;
        }
        try (Npy.Writer w = Npy.writer(f, "<f4", new long[] {100, 1000})) {
            assertEquals(400_000, w.bytesExpected());
            for (int off = 0; off < all.length; off += 3333) {
                w.write(all, off, Math.min(3333, all.length - off));
            }
            assertEquals(400_000, w.bytesWritten());
        }
        assertArrayEquals(all, Npy.read(f).toFloatArray());

        // a direct buffer and a byte array, in chunks
        Path g = dir.resolve("s2.npy.gz");
        ByteBuffer direct = ByteBuffer.allocateDirect(6);
        direct.put(new byte[] {1, 2, 3, 4, 5, 6}).flip();
        try (Npy.Writer w = Npy.writer(g, "|u1", new long[] {2, 4})) {
            w.write(direct);
            w.write(new byte[] {9, 7, 8}, 1, 2);
        }
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, Npy.read(g).toByteArray());

        IOException e = assertThrows(IOException.class, () -> {
            try (Npy.Writer w = Npy.writer(dir.resolve("short.npy"), "<i4", new long[] {3})) {
                w.write(ByteBuffer.allocate(8));
            }
        });
        assertTrue(e.getMessage().contains("8 of 12"), e.getMessage());
        e = assertThrows(IOException.class, () -> {
            try (Npy.Writer w = Npy.writer(dir.resolve("long.npy"), "<i4", new long[] {3})) {
                w.write(ByteBuffer.allocate(16));
            }
        });
        assertTrue(e.getMessage().contains("more than"), e.getMessage());
        assertThrows(IOException.class, () -> {
            try (Npy.Writer w = Npy.writer(dir.resolve("x.npy"), "<i4", new long[] {3})) {
                w.write(new float[3], 0, 3);
            }
        });
        assertThrows(IllegalArgumentException.class,
                () -> Npy.write(dir.resolve("y.npy"), "<f4", new long[] {3}, ByteBuffer.allocate(8)));
    }

    @Test
    void dtypesAndShapesAreValidated() {
        assertEquals("|u1", Npy.canonicalDtype("<u1"));
        assertEquals("|u1", Npy.canonicalDtype("|u1"));
        assertEquals("<f2", Npy.canonicalDtype("<f2"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Npy.canonicalDtype(">f4"));
        assertTrue(e.getMessage().contains("big-endian"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Npy.canonicalDtype("<c8"));
        assertThrows(IllegalArgumentException.class, () -> Npy.canonicalDtype("float32"));
        assertThrows(IllegalArgumentException.class, () -> Npy.elementCount(new long[] {2, -1}));
        assertThrows(IllegalArgumentException.class, () -> Npy.elementCount(new long[] {1L << 40, 1L << 40}));
        assertEquals(1, Npy.elementCount(new long[] {}));
    }

    static byte[] npyBytes(int major, String dict, byte[] data) {
        byte[] h = dict.getBytes(StandardCharsets.UTF_8);
        int prefix = major == 1 ? 10 : 12;
        int len = ((prefix + h.length + 1 + 63) / 64) * 64 - prefix;
        ByteBuffer b = ByteBuffer.allocate(prefix + len + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            b.putShort((short) len);
        } else {
            b.putInt(len);
        }
        b.put(h);
        for (int i = h.length; i < len - 1; i++) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n').put(data);
        return b.array();
    }

    static Npy.Array parse(byte[] bytes) throws IOException {
        return Npy.read(new ByteArrayInputStream(bytes));
    }

    @Test
    void readsVersions2And3AndOldStyleHeaders() throws IOException {
        byte[] data = {1, 0, 0, 0, 2, 0, 0, 0};
        for (int major : new int[] {1, 2, 3}) {
            Npy.Array a = parse(npyBytes(major, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", data));
            assertArrayEquals(new long[] {1, 2}, a.toLongArray());
        }
        // Python 2 longs, double quotes, no trailing comma, a different key order
        Npy.Array a = parse(npyBytes(1, "{\"shape\": (1L, 2L), \"fortran_order\": False, \"descr\": \"<i4\"}", data));
        assertArrayEquals(new long[] {1, 2}, a.shape());
        // gzipped stream
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
            z.write(npyBytes(2, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 1), }", data));
        }
        assertArrayEquals(new long[] {2, 1}, parse(gz.toByteArray()).shape());
    }

    @Test
    void rejectsWhatItCannotRead() {
        byte[] data = new byte[8];
        IOException e = assertThrows(IOException.class,
                () -> parse(npyBytes(1, "{'descr': '<i4', 'fortran_order': True, 'shape': (2,), }", data)));
        assertTrue(e.getMessage().contains("fortran_order"), e.getMessage());
        e = assertThrows(IOException.class,
                () -> parse(npyBytes(1, "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", data)));
        assertTrue(e.getMessage().contains("big-endian"), e.getMessage());
        e = assertThrows(IOException.class, () -> parse(npyBytes(1,
                "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,), }", data)));
        assertTrue(e.getMessage().contains("structured"), e.getMessage());
        e = assertThrows(IOException.class,
                () -> parse(npyBytes(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", data)));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        e = assertThrows(IOException.class,
                () -> parse(npyBytes(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", data)));
        assertTrue(e.getMessage().contains("after"), e.getMessage());
        e = assertThrows(IOException.class, () -> parse(npyBytes(4, "{}", data)));
        assertTrue(e.getMessage().contains("version"), e.getMessage());
        e = assertThrows(IOException.class, () -> parse("PK\u0003\u0004 not npy".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("magic"), e.getMessage());
        e = assertThrows(IOException.class,
                () -> parse(npyBytes(1, "{'descr': '<i4', 'shape': (2,), }", data)));
        assertTrue(e.getMessage().contains("keys"), e.getMessage());
        e = assertThrows(IOException.class,
                () -> parse(npyBytes(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,, }", data)));
        assertTrue(e.getMessage().contains("malformed"), e.getMessage());
        e = assertThrows(IOException.class,
                () -> parse(npyBytes(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (-2,), }", data)));
        assertTrue(e.getMessage().contains("non-negative"), e.getMessage());
        assertThrows(IOException.class, () -> Npy.read(dir.resolve("missing.npy")));
    }

    // ---------------------------------------------------------------------------------------------------------
    // NumPy interoperability (skipped without /usr/bin/python3 + numpy)
    // ---------------------------------------------------------------------------------------------------------

    /** The values both sides agree on: arange(n) mapped into each dtype's range. */
    static final String PY_COMMON = String.join("\n",
            "import gzip, sys, numpy as np",
            "D = sys.argv[1]",
            "DTYPES = ['|u1', '<f4', '<f2', '<i8', '<i4', '<f8', '|i1', '<u2', '<i2', '<u4', '<u8', '|b1']",
            "SHAPES = [(), (0,), (7,), (2, 3, 4), (3, 0, 2), (1, 1, 1, 5)]",
            "def expected(dt, shape):",
            "    n = int(np.prod(shape))",
            "    x = np.arange(n, dtype=np.int64)",
            "    if dt == '|b1': return (x % 3 == 1).reshape(shape)",
            "    if dt[1] == 'f': return ((x - 5) * 0.75).astype(dt).reshape(shape)",
            "    if dt[1] == 'i': return (x * 37 - 50).astype(dt).reshape(shape)",
            "    return (x * 37 + 3).astype(dt).reshape(shape)",
            "def name(dt, shape): return 'a_%s_%s' % (dt[1:], '_'.join(map(str, shape)) or 'scalar')",
            "");

    /** Java's copy of {@code expected}, as doubles. */
    static double expected(String dt, long i) {
        char kind = dt.charAt(1);
        if (dt.equals("|b1")) {
            return i % 3 == 1 ? 1 : 0;
        }
        if (kind == 'f') {
            return (i - 5) * 0.75; // exactly representable in every float type for the test's small i
        }
        long v = kind == 'i' ? i * 37 - 50 : i * 37 + 3;
        int bits = 8 * Integer.parseInt(dt.substring(2));
        long mask = bits == 64 ? -1L : (1L << bits) - 1;
        v &= mask; // numpy's astype wraps
        if (kind == 'i' && bits < 64 && (v & (1L << (bits - 1))) != 0) {
            v -= 1L << bits;
        }
        return v;
    }

    @Test
    void readsWhatNumpyWrites() throws IOException {
        Assumptions.assumeTrue(PythonNumpy.available(), "/usr/bin/python3 with numpy not available");
        String script = PY_COMMON + String.join("\n",
                "for dt in DTYPES:",
                "    for shape in SHAPES:",
                "        np.save('%s/%s.npy' % (D, name(dt, shape)), expected(dt, shape))",
                "a = expected('<f4', (2, 3, 4))",
                "with gzip.open(D + '/gz.npy.gz', 'wb') as f: np.save(f, a)",
                "for v in [(2, 0), (3, 0)]:",
                "    with open(D + '/v%d.npy' % v[0], 'wb') as f: np.lib.format.write_array(f, a, version=v)",
                "np.save(D + '/fortran.npy', np.asfortranarray(a))",
                "np.save(D + '/big.npy', a.astype('>f4'))",
                "");
        PythonNumpy.run(script, List.of(dir.toString()));
        for (String dt : new String[] {"|u1", "<f4", "<f2", "<i8", "<i4", "<f8", "|i1", "<u2", "<i2", "<u4", "<u8",
            "|b1"}) {
            for (long[] shape : SHAPES) {
                String name = "a_" + dt.substring(1) + "_" + joinShape(shape);
                Npy.Array a = Npy.read(dir.resolve(name + ".npy"));
                assertEquals(dt, a.dtype(), name);
                assertArrayEquals(shape, a.shape(), name);
                double[] v = a.toDoubleArray();
                for (int i = 0; i < v.length; i++) {
                    assertEquals(expected(dt, i), v[i], name + "[" + i + "]");
                }
            }
        }
        Npy.Array gz = Npy.read(dir.resolve("gz.npy.gz"));
        Npy.Array v2 = Npy.read(dir.resolve("v2.npy"));
        Npy.Array v3 = Npy.read(dir.resolve("v3.npy"));
        Npy.Array plain = Npy.read(dir.resolve("a_f4_2_3_4.npy"));
        assertEquals(plain, gz);
        assertEquals(plain, v2);
        assertEquals(plain, v3);
        IOException e = assertThrows(IOException.class, () -> Npy.read(dir.resolve("fortran.npy")));
        assertTrue(e.getMessage().contains("fortran_order"), e.getMessage());
        e = assertThrows(IOException.class, () -> Npy.read(dir.resolve("big.npy")));
        assertTrue(e.getMessage().contains("big-endian"), e.getMessage());
    }

    static String joinShape(long[] shape) {
        if (shape.length == 0) {
            return "scalar";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            b.append(i > 0 ? "_" : "").append(shape[i]);
        }
        return b.toString();
    }

    static ByteBuffer encode(String dt, long n) {
        int size = Npy.itemSize(dt);
        ByteBuffer b = ByteBuffer.allocate((int) (n * size)).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            double v = expected(dt, i);
            switch (dt) {
                case "|u1", "|i1", "|b1" -> b.put((byte) (long) v);
                case "<u2", "<i2" -> b.putShort((short) (long) v);
                case "<f2" -> b.putShort(floatToHalfExact((float) v));
                case "<u4", "<i4" -> b.putInt((int) (long) v);
                case "<f4" -> b.putFloat((float) v);
                case "<u8", "<i8" -> b.putLong((long) v);
                case "<f8" -> b.putDouble(v);
                default -> throw new IllegalStateException(dt);
            }
        }
        return b.flip();
    }

    /** float to binary16 for values that are exactly representable (the test's multiples of 0.75). */
    static short floatToHalfExact(float f) {
        for (int h = 0; h < 0x10000; h++) {
            if (Npy.halfToFloat((short) h) == f && (Float.floatToIntBits(f) < 0) == ((h & 0x8000) != 0)) {
                return (short) h;
            }
        }
        throw new IllegalArgumentException("not a half: " + f);
    }

    @Test
    void numpyReadsWhatWeWrite() throws IOException {
        Assumptions.assumeTrue(PythonNumpy.available(), "/usr/bin/python3 with numpy not available");
        for (String dt : new String[] {"|u1", "<f4", "<f2", "<i8", "<i4", "<f8", "|i1", "<u2", "<i2", "<u4", "<u8",
            "|b1"}) {
            for (long[] shape : SHAPES) {
                String name = "a_" + dt.substring(1) + "_" + joinShape(shape);
                Npy.write(dir.resolve(name + ".npy"), dt, shape, encode(dt, Npy.elementCount(shape)));
            }
        }
        float[] big = new float[300_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = i * 0.25f;
        }
        try (Npy.Writer w = Npy.writer(dir.resolve("stream.npy.gz"), "<f4", new long[] {3, 100_000})) {
            for (int off = 0; off < big.length; off += 65_537) {
                w.write(big, off, Math.min(65_537, big.length - off));
            }
        }
        Npy.write(dir.resolve("bytes.npy"), new long[] {2, 2, 3}, new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, (byte) 255});
        // float16 rounding: random bit patterns (all exponents), as f4 and as Java's f2
        SplittableRandom r = new SplittableRandom(17);
        float[] floats = new float[100_000];
        for (int i = 0; i < floats.length; i++) {
            floats[i] = i % 2 == 0 ? Float.intBitsToFloat(r.nextInt()) : (float) (r.nextGaussian() * 1000);
        }
        Npy.write(dir.resolve("h32.npy"), new long[] {floats.length}, floats);
        Npy.write(dir.resolve("h16.npy"), "<f2", new long[] {floats.length}, floats);
        String script = PY_COMMON + String.join("\n",
                "n = 0",
                "for dt in DTYPES:",
                "    for shape in SHAPES:",
                "        a = np.load('%s/%s.npy' % (D, name(dt, shape)))",
                "        e = expected(dt, shape)",
                "        assert a.dtype == e.dtype and a.shape == e.shape, (dt, shape, a.dtype, a.shape)",
                "        assert np.array_equal(a, e), (dt, shape, a, e)",
                "        assert a.flags['C_CONTIGUOUS']",
                "        n += 1",
                "with gzip.open(D + '/stream.npy.gz') as f: s = np.load(f)",
                "assert s.dtype == np.float32 and s.shape == (3, 100000)",
                "assert np.array_equal(s.ravel(), np.arange(300000, dtype=np.float32) * 0.25)",
                "b = np.load(D + '/bytes.npy')",
                "assert b.dtype == np.uint8 and b.shape == (2, 2, 3) and b[1, 1, 2] == 255 and b[0, 1, 0] == 3",
                "x = np.load(D + '/h32.npy')",
                "with np.errstate(over='ignore'): want = x.astype(np.float16)",
                "got = np.load(D + '/h16.npy')",
                "assert got.dtype == np.float16",
                "nan = np.isnan(want)",
                "assert np.array_equal(np.isnan(got), nan)",
                "assert np.array_equal(got.view(np.uint16)[~nan], want.view(np.uint16)[~nan]), 'float16 rounding'",
                "print('ok', n)",
                "");
        String out = PythonNumpy.run(script, List.of(dir.toString()));
        assertEquals("ok 72", out.strip());
    }
}

package org.fixres4j.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path tmp;

    @Test
    void readsPythonWrittenFileExactly() throws IOException {
        StateDict sd = SafeTensors.read(WeightFixtures.file("python.safetensors"));
        WeightFixtures.assertSameTensors(WeightFixtures.expected("python"), sd);
        assertEquals(Map.of("format", "pt", "note", "written by make_fixtures.py"), sd.metadata());
        // spot values, independent of the npz
        assertArrayEquals(new float[] {0.5f, -1.25f, 3.0e-8f, 65504f}, sd.require("bn1.bias").toFloatArray());
        assertArrayEquals(new long[] {42}, sd.require("bn1.num_batches_tracked").toLongArray());
        assertArrayEquals(new long[0], sd.require("scalar").shape());
        assertEquals(2.5f, sd.require("scalar").toFloatArray()[0]);
        assertArrayEquals(new long[] {0, 3}, sd.require("empty").shape());
        assertEquals(DType.BF16, sd.require("blocks.0.0.bf16").dtype());
        assertEquals(DType.BOOL, sd.require("flags").dtype());
        assertArrayEquals(new long[] {1, 0, 1}, sd.require("flags").toLongArray());
        // the header order of the file (the writer's order: descending dtype, then name) is kept
        assertEquals(List.of("bn1.num_batches_tracked", "f64", "bn1.bias", "conv_stem.weight", "empty", "scalar",
                "i32", "blocks.0.0.bf16", "blocks.0.0.half", "u8", "flags"), new ArrayList<>(sd.keys()));
    }

    @Test
    void javaWriterIsByteIdenticalToThePythonLayout() throws IOException {
        Path py = WeightFixtures.file("python.safetensors");
        StateDict sd = SafeTensors.read(py);
        Map<String, TensorData> shuffled = new LinkedHashMap<>();
        List<String> keys = new ArrayList<>(sd.keys());
        java.util.Collections.shuffle(keys, new Random(3));
        for (String k : keys) {
            shuffled.put(k, sd.get(k));
        }
        Path out = tmp.resolve("java.safetensors");
        SafeTensors.write(out, shuffled, sd.metadata());
        assertArrayEquals(Files.readAllBytes(py), Files.readAllBytes(out));
        assertArrayEquals(Files.readAllBytes(py), SafeTensors.toBytes(shuffled, sd.metadata()));
    }

    @Test
    void roundTripJavaToJava() throws IOException {
        StateDict sd = sample();
        Path f = tmp.resolve("rt.safetensors");
        SafeTensors.write(f, sd);
        StateDict back = SafeTensors.read(f);
        assertEquals(sd.size(), back.size());
        for (String k : sd.keys()) {
            assertTrue(sd.get(k).contentEquals(back.get(k)), k);
        }
        assertEquals(sd.metadata(), back.metadata());
        byte[] raw = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header padded to 8");
        String header = new String(raw, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\""), header);
        assertTrue(header.endsWith("}") || header.stripTrailing().endsWith("}"));
    }

    @Test
    void emptyDictMatchesReferenceBytes() {
        // the Rust crate's test_empty: serialize({}, None) and serialize({}, {"framework": "pt"})
        byte[] none = SafeTensors.toBytes(Map.of(), null);
        assertArrayEquals(new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', 32, 32, 32, 32, 32, 32}, none);
        byte[] meta = SafeTensors.toBytes(Map.of(), Map.of("framework", "pt"));
        assertEquals(48, meta.length);
        assertEquals("{\"__metadata__\":{\"framework\":\"pt\"}}     ",
                new String(meta, 8, 40, StandardCharsets.UTF_8));
    }

    @Test
    void singleTensorMatchesReferenceBytes() {
        // the Rust crate's test_serialization: "attn.0" F32 [1,2,3] = 0..5
        byte[] b = SafeTensors.toBytes(Map.of("attn.0", TensorData.ofFloats(new long[] {1, 2, 3}, 0, 1, 2, 3, 4, 5)),
                null);
        String header = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
        assertEquals(64, header.length());
        assertEquals(64, ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong());
        assertEquals(header, new String(b, 8, 64, StandardCharsets.UTF_8));
        assertEquals(8 + 64 + 24, b.length);
    }

    @Test
    void javaWrittenFileReadsInPython() throws Exception {
        assumeTrue(WeightFixtures.pythonAvailable(), "python3 not available: Java->Python check skipped");
        StateDict sd = sample();
        Path f = tmp.resolve("for_python.safetensors");
        SafeTensors.write(f, sd);
        String[] r = WeightFixtures.runScript("check-safetensors", f.toString());
        assertEquals("0", r[0], "python rejected the file: " + r[2]);
        List<String> expected = new ArrayList<>();
        expected.add("__metadata__ {\"format\":\"pt\",\"source\":\"fixres4j \\\"test\\\" \\u00e9\"}");
        StateDict back = SafeTensors.read(f);
        for (Map.Entry<String, TensorData> e : back) {
            TensorData t = e.getValue();
            StringBuilder shape = new StringBuilder("[");
            for (int i = 0; i < t.rank(); i++) {
                shape.append(i > 0 ? "," : "").append(t.dim(i));
            }
            shape.append(']');
            expected.add(e.getKey() + " " + t.dtype().safetensorsName() + " " + shape + " " + sha256(t.toByteArray()));
        }
        assertEquals(expected, r[1].lines().toList());
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static StateDict sample() {
        StateDict sd = new StateDict();
        sd.put("conv_stem.weight", TensorData.ofFloats(new long[] {2, 1, 2, 2}, 1, -2, 3.5f, 1e-30f, 0, -0f, 7, 8));
        sd.put("bn1.num_batches_tracked", TensorData.ofLongs(new long[0], 123456789012L));
        sd.put("half", TensorData.ofFloats(DType.F16, new long[] {3}, 0.1f, -65504f, 6e-8f));
        sd.put("bf", TensorData.ofFloats(DType.BF16, new long[] {2}, 3.14159f, -1e38f));
        sd.put("d", TensorData.ofDoubles(new long[] {2}, Math.PI, -0.0));
        sd.put("i", TensorData.ofInts(new long[] {2}, Integer.MIN_VALUE, 9));
        sd.put("empty", TensorData.ofFloats(new long[] {0, 4}));
        sd.put("b", TensorData.wrap(DType.BOOL, new long[] {2}, ByteBuffer.wrap(new byte[] {1, 0})));
        sd.put("u", TensorData.wrap(DType.U8, new long[] {1}, ByteBuffer.wrap(new byte[] {(byte) 200})));
        sd.put("s", TensorData.wrap(DType.I16, new long[] {1}, ByteBuffer.wrap(new byte[] {1, (byte) 0x80})));
        sd.put("c", TensorData.wrap(DType.I8, new long[] {1}, ByteBuffer.wrap(new byte[] {-3})));
        sd.put("unicode.\u00e9", TensorData.ofFloats(new long[] {1}, 1));
        sd.metadata().put("format", "pt");
        sd.metadata().put("source", "fixres4j \"test\" \u00e9");
        return sd;
    }

    // ------------------------------------------------------------------------------------------------ corrupt files

    @Test
    void truncatedFilesFailCleanly() throws IOException {
        byte[] good = Files.readAllBytes(WeightFixtures.file("python.safetensors"));
        Random rnd = new Random(42);
        for (int i = 0; i < 60; i++) {
            int cut = i < 10 ? i : rnd.nextInt(good.length - 1);
            Path f = tmp.resolve("cut" + i + ".safetensors");
            Files.write(f, java.util.Arrays.copyOf(good, cut));
            WeightFormatException e = assertThrows(WeightFormatException.class, () -> SafeTensors.read(f),
                    "cut at " + cut);
            assertTrue(e.getMessage().contains(f.toString()) || cut < 8, e.getMessage());
        }
    }

    @Test
    void randomByteFlipsNeverEscapeAsUncheckedExceptions() throws IOException {
        byte[] good = Files.readAllBytes(WeightFixtures.file("python.safetensors"));
        Random rnd = new Random(7);
        for (int i = 0; i < 300; i++) {
            byte[] bad = good.clone();
            int at = rnd.nextInt(Math.min(good.length, 8 + 600));
            bad[at] = (byte) rnd.nextInt(256);
            Path f = tmp.resolve("flip.safetensors");
            Files.write(f, bad);
            try {
                SafeTensors.read(f);
            } catch (WeightFormatException expected) {
                // fine: a clear error
            }
        }
    }

    @Test
    void headerLengthBeyondFile() throws IOException {
        Path f = tmp.resolve("long.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).put("{}      ".getBytes());
        Files.write(f, b.array());
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("beyond the end of the file"), e.getMessage());

        ByteBuffer huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).putLong(0);
        Files.write(f, huge.array());
        e = assertThrows(WeightFormatException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("exceeds the limit"), e.getMessage());

        ByteBuffer big = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(200_000_000L).putLong(0);
        Files.write(f, big.array());
        assertThrows(WeightFormatException.class, () -> SafeTensors.read(f));
    }

    @Test
    void notSafetensorsAtAll() throws IOException {
        Path f = tmp.resolve("zip.safetensors");
        Files.copy(WeightFixtures.file("zip_basic.pth"), f);
        assertThrows(WeightFormatException.class, () -> SafeTensors.read(f));
        Files.write(f, new byte[3]);
        assertThrows(WeightFormatException.class, () -> SafeTensors.read(f));
    }

    @Test
    void invalidHeaders() throws IOException {
        String f32x2 = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":";
        assertHeaderError("{\"a\":" + f32x2 + "[0,8]}}", 8, null); // valid: sanity
        assertHeaderError("{\"a\":" + f32x2 + "[0,12]}}", 8, "outside the data region");
        assertHeaderError("{\"a\":" + f32x2 + "[0,4]}}", 8, "needs 8 bytes");
        assertHeaderError("{\"a\":" + f32x2 + "[8,0]}}", 8, "outside the data region");
        assertHeaderError("{\"a\":" + f32x2 + "[0,8]},\"b\":" + f32x2 + "[4,12]}}", 12, "overlap");
        assertHeaderError("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2,
                "'F8_E4M3', which is not supported");
        assertHeaderError("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0, "non-negative");
        assertHeaderError("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}",
                0, "overflows");
        assertHeaderError("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets is missing");
        assertHeaderError("{\"__metadata__\":{\"k\":1}}", 0, "not a string");
        assertHeaderError("{\"a\":", 0, "not valid JSON");
        assertHeaderError("[1,2]", 0, "does not start with '{'");
        assertHeaderError("{\"a\":1,\"a\":2}", 0, "not valid JSON");
    }

    private void assertHeaderError(String header, int dataBytes, String message) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = tmp.resolve("h.safetensors");
        Files.write(f, b.array());
        if (message == null) {
            StateDict sd = SafeTensors.read(f);
            assertEquals(1, sd.size());
            return;
        }
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> SafeTensors.read(f), header);
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void invalidUtf8Header() throws IOException {
        Path f = tmp.resolve("u.safetensors");
        ByteBuffer b = ByteBuffer.allocate(8 + 4).order(ByteOrder.LITTLE_ENDIAN).putLong(4)
                .put(new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'});
        Files.write(f, b.array());
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    }

    /** A sparse file whose data region exceeds 2 GiB: tensors are mapped one by one at long offsets. */
    @Test
    void dataRegionBeyondTwoGigabytes() throws IOException {
        assumeTrue(tmp.toFile().getUsableSpace() > (4L << 30), "not enough space for a sparse 2 GiB file");
        long far = (1L << 31) + 64; // beyond Integer.MAX_VALUE
        String header = "{\"head\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"tail\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[" + far + "," + (far + 8) + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        h = java.util.Arrays.copyOf(h, (h.length + 7) & ~7);
        for (int i = header.length(); i < h.length; i++) {
            h[i] = ' ';
        }
        Path f = tmp.resolve("sparse.safetensors");
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f,
                java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE,
                java.nio.file.StandardOpenOption.SPARSE)) {
            ByteBuffer start = ByteBuffer.allocate(8 + h.length + 8).order(ByteOrder.LITTLE_ENDIAN);
            start.putLong(h.length).put(h).putFloat(1.5f).putFloat(-2f).flip();
            ch.write(start, 0);
            ByteBuffer end = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1234567890123L);
            ch.write(end, 8 + h.length + far);
        }
        try {
            assertTrue(Files.size(f) > Integer.MAX_VALUE);
            StateDict sd = SafeTensors.read(f);
            assertArrayEquals(new float[] {1.5f, -2f}, sd.require("head").toFloatArray());
            assertArrayEquals(new long[] {1234567890123L}, sd.require("tail").toLongArray());
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @Test
    void headerOnlyReadDoesNotTouchData() throws IOException {
        SafeTensors.Header h = SafeTensors.readHeader(WeightFixtures.file("python.safetensors"));
        assertEquals(11, h.entries().size());
        assertEquals(0, h.dataStart() % 8);
        assertNull(h.metadata().get("missing"));
        assertEquals("pt", h.metadata().get("format"));
    }
}

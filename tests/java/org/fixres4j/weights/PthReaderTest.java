package org.fixres4j.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PthReaderTest {
    private static final Path PWNED = Path.of(System.getProperty("java.io.tmpdir"), "fixres4j-pwned-marker");

    @TempDir
    Path tmp;

    @BeforeEach
    void clearMarker() throws IOException {
        Files.deleteIfExists(PWNED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"zip_basic", "legacy_basic", "legacy_proto5", "zip_views", "legacy_views",
            "module_state", "module_state_legacy", "zip_proto4"})
    void fixtureLoadsExactly(String name) throws IOException {
        StateDict sd = PthReader.read(WeightFixtures.file(name + ".pth"));
        WeightFixtures.assertSameTensors(WeightFixtures.expected(name), sd);
        assertNull(sd.sourceKey());
        assertTrue(sd.notes().stream().noneMatch(n -> n.startsWith("skipped")), sd.notes().toString());
        assertTrue(sd.notes().stream().anyMatch(n -> n.startsWith("format: " + (name.startsWith("legacy")
                || name.endsWith("legacy") ? "legacy" : "zip"))), sd.notes().toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"zip_basic", "legacy_basic"})
    void dtypesAndSpotValues(String name) throws IOException {
        StateDict sd = PthReader.read(WeightFixtures.file(name + ".pth"));
        assertEquals(List.of("conv.weight", "conv.bias", "scalar", "empty", "half", "bf16", "f64", "i64", "i32", "i16",
                "i8", "u8", "flags", "bn.num_batches_tracked"), List.copyOf(sd.keys()));
        assertEquals(DType.F32, sd.require("conv.weight").dtype());
        assertArrayEquals(new long[] {4, 3, 3, 3}, sd.require("conv.weight").shape());
        assertArrayEquals(new float[] {0.5f, -1.25f, 3.0e-8f, 65504f}, sd.require("conv.bias").toFloatArray());
        assertArrayEquals(new long[0], sd.require("scalar").shape());
        assertArrayEquals(new float[] {2.5f}, sd.require("scalar").toFloatArray());
        assertArrayEquals(new long[] {0, 3}, sd.require("empty").shape());
        assertEquals(0, sd.require("empty").byteSize());
        assertEquals(DType.F16, sd.require("half").dtype());
        assertEquals(DType.BF16, sd.require("bf16").dtype());
        assertEquals(DType.F64, sd.require("f64").dtype());
        assertArrayEquals(new double[] {1.0 / 3.0, -2.0e-300, 1e300, 0.1}, sd.require("f64").toDoubleArray());
        assertArrayEquals(new long[] {0, -1, 1L << 62, Long.MIN_VALUE, 7}, sd.require("i64").toLongArray());
        assertArrayEquals(new long[] {Integer.MIN_VALUE, Integer.MAX_VALUE, 5}, sd.require("i32").toLongArray());
        assertArrayEquals(new long[] {-32768, 32767}, sd.require("i16").toLongArray());
        assertArrayEquals(new long[] {-128, 127, 0}, sd.require("i8").toLongArray());
        assertArrayEquals(new long[] {0, 255, 17, 3}, sd.require("u8").toLongArray());
        assertEquals(DType.BOOL, sd.require("flags").dtype());
        assertArrayEquals(new long[] {1, 0, 1}, sd.require("flags").toLongArray());
        assertEquals(DType.I64, sd.require("bn.num_batches_tracked").dtype());
        assertArrayEquals(new long[] {42}, sd.require("bn.num_batches_tracked").toLongArray());
    }

    @ParameterizedTest
    @ValueSource(strings = {"zip_views", "legacy_views"})
    void viewsAndSharedStoragesBecomeContiguousCopies(String name) throws IOException {
        StateDict sd = PthReader.read(WeightFixtures.file(name + ".pth"));
        float[] m = new float[12];
        for (int i = 0; i < 12; i++) {
            m[i] = 100 + i;
        }
        // transposed: m.t() of a 3x4 matrix
        TensorData t = sd.require("transposed");
        assertArrayEquals(new long[] {4, 3}, t.shape());
        float[] expectT = new float[12];
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 3; c++) {
                expectT[r * 3 + c] = m[c * 4 + r];
            }
        }
        assertArrayEquals(expectT, t.toFloatArray());
        assertArrayEquals(m, sd.require("matrix").toFloatArray());
        // base = arange(20) * 0.25 - 1
        assertArrayEquals(new float[] {-0.5f, -0.25f, 0f, 0.25f, 0.5f, 0.75f}, sd.require("slice").toFloatArray());
        assertArrayEquals(new long[] {2, 5}, sd.require("block").shape());
        assertEquals(1.5f, sd.require("block").toFloatArray()[0]);
        assertArrayEquals(new float[] {-1f, -0.25f, 0.5f, 1.25f, 2f, 2.75f, 3.5f}, sd.require("every_third").toFloatArray());
        assertArrayEquals(new float[] {101, 105, 109}, sd.require("column").toFloatArray());
        assertArrayEquals(new float[] {1.5f, -2.5f, 3.5f, 1.5f, -2.5f, 3.5f, 1.5f, -2.5f, 3.5f, 1.5f, -2.5f, 3.5f},
                sd.require("expanded").toFloatArray());
        long[] perm = sd.require("permuted").toLongArray();
        assertArrayEquals(new long[] {4, 2, 3}, sd.require("permuted").shape());
        // permuted[i][j][k] = orig[j][k][i] = j*12 + k*4 + i
        assertEquals(1 * 12 + 2 * 4 + 3, perm[3 * 6 + 1 * 3 + 2]);
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, sd.require("half_t").toFloatArray());
    }

    @Test
    void checkpointWrapperIsUnwrappedAndPrefixStripped() throws IOException {
        StateDict sd = PthReader.read(WeightFixtures.file("checkpoint.pth"));
        WeightFixtures.assertSameTensors(WeightFixtures.expected("checkpoint"), sd);
        assertEquals("state_dict", sd.sourceKey());
        String notes = String.join("\n", sd.notes());
        assertTrue(notes.contains("top-level key 'state_dict'"), notes);
        assertTrue(notes.contains("epoch") && notes.contains("optimizer") && notes.contains("state_dict_ema"), notes);
        assertTrue(notes.contains("stripped the 'module.' prefix"), notes);
        assertTrue(sd.contains("bn.num_batches_tracked"));
    }

    @Test
    void checkpointKeyCanBeChosenAndPrefixKept() throws IOException {
        StateDict ema = PthReader.read(WeightFixtures.file("checkpoint.pth"), new PthReader.Options().key("state_dict_ema"));
        assertEquals("state_dict_ema", ema.sourceKey());
        WeightFixtures.assertSameTensors(WeightFixtures.expected("checkpoint_ema"), ema);

        StateDict raw = PthReader.read(WeightFixtures.file("checkpoint.pth"),
                new PthReader.Options().stripModulePrefix(false));
        assertTrue(raw.keys().stream().allMatch(k -> k.startsWith("module.")), raw.keys().toString());

        WeightFormatException e = assertThrows(WeightFormatException.class, () -> PthReader.read(
                WeightFixtures.file("checkpoint.pth"), new PthReader.Options().key("epoch")));
        assertTrue(e.getMessage().contains("'epoch' holds int 3"), e.getMessage());
    }

    @Test
    void nonTensorTopLevelEntriesAreSkippedWithANote() throws IOException {
        StateDict sd = PthReader.read(WeightFixtures.file("mixed_top.pth"));
        WeightFixtures.assertSameTensors(WeightFixtures.expected("mixed_top"), sd);
        String notes = String.join("\n", sd.notes());
        assertTrue(notes.contains("skipped 2 non-tensor entries") && notes.contains("epoch (int 3)")
                && notes.contains("name (str 'x')"), notes);
    }

    @Test
    void moduleStateDictKeepsNumBatchesTracked() throws IOException {
        StateDict sd = PthReader.read(WeightFixtures.file("module_state.pth"));
        assertEquals(List.of("conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
                "bn.num_batches_tracked", "fc.weight", "fc.bias"), List.copyOf(sd.keys()));
        TensorData nbt = sd.require("bn.num_batches_tracked");
        assertEquals(DType.I64, nbt.dtype());
        assertArrayEquals(new long[0], nbt.shape());
        assertArrayEquals(new long[] {2}, nbt.toLongArray());
    }

    // ------------------------------------------------------------------------------------------------ safety

    @ParameterizedTest
    @ValueSource(strings = {"malicious_zip.pth", "malicious_legacy.pth", "malicious_eval.pth"})
    void maliciousFilesAreRefusedWithoutSideEffects(String name) throws IOException {
        UnsafeWeightFileException e = assertThrows(UnsafeWeightFileException.class,
                () -> PthReader.read(WeightFixtures.file(name)));
        // protocol 2 spells Python 3's builtins module "__builtin__"; the reader reports the name as written
        String expectedGlobal = name.equals("malicious_eval.pth") ? "__builtin__.eval" : "posix.system";
        assertEquals(expectedGlobal, e.global());
        assertTrue(e.getMessage().contains(expectedGlobal) && e.getMessage().contains("nothing was executed"),
                e.getMessage());
        assertFalse(Files.exists(PWNED), "the payload must never run");
    }

    @Test
    void inertGlobalsArePlaceholdersThatNeverRun() throws IOException {
        StateDict sd = PthReader.read(WeightFixtures.file("malicious_zip.pth"),
                new PthReader.Options().inertGlobals(Set.of("posix.system")));
        assertEquals(List.of("weight"), List.copyOf(sd.keys()));
        assertTrue(String.join("\n", sd.notes()).contains("payload (<posix.system object>)"), sd.notes().toString());
        assertFalse(Files.exists(PWNED), "the payload must never run");
    }

    @Test
    void wholePickledModuleIsRefusedNamingItsClass() {
        UnsafeWeightFileException e = assertThrows(UnsafeWeightFileException.class,
                () -> PthReader.read(WeightFixtures.file("whole_module.pth")));
        assertTrue(e.global().startsWith("torch.nn.modules."), e.global());
    }

    // ------------------------------------------------------------------------------------------------ damage

    @ParameterizedTest
    @ValueSource(strings = {"zip_basic.pth", "legacy_basic.pth", "checkpoint.pth", "legacy_views.pth",
            "module_state_legacy.pth"})
    void truncatedFilesFailCleanly(String name) throws IOException {
        byte[] good = Files.readAllBytes(WeightFixtures.file(name));
        Random rnd = new Random(name.hashCode());
        for (int i = 0; i < 80; i++) {
            int cut = i < 12 ? i : rnd.nextInt(good.length - 1) + 1;
            Path f = tmp.resolve("cut.pth");
            Files.write(f, Arrays.copyOf(good, cut));
            assertThrows(WeightFormatException.class, () -> PthReader.read(f), name + " cut at " + cut);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"legacy_basic.pth", "module_state_legacy.pth", "zip_basic.pth", "checkpoint.pth"})
    void randomByteDamageOnlyGivesCheckedErrors(String name) throws IOException {
        byte[] good = Files.readAllBytes(WeightFixtures.file(name));
        Random rnd = new Random(99);
        for (int i = 0; i < 400; i++) {
            byte[] bad = good.clone();
            for (int k = 0; k < 1 + rnd.nextInt(3); k++) {
                bad[rnd.nextInt(bad.length)] = (byte) rnd.nextInt(256);
            }
            Path f = tmp.resolve("flip.pth");
            Files.write(f, bad);
            try {
                PthReader.read(f);
            } catch (WeightFormatException expected) {
                // a clear, checked error is the contract
            }
        }
    }

    @Test
    void hugeStorageCountIsBoundedByTheFileSize() throws IOException {
        WeightFormatException e = assertThrows(WeightFormatException.class,
                () -> PthReader.read(WeightFixtures.file("legacy_huge_count.pth")));
        assertTrue(e.getMessage().contains("claims 1152921504606846976 elements"), e.getMessage());
    }

    @Test
    void hugeExpandedViewIsRefusedBeforeAllocating() {
        WeightFormatException e = assertThrows(WeightFormatException.class,
                () -> PthReader.read(WeightFixtures.file("expand_bomb.pth")));
        assertTrue(e.getMessage().contains("expands a storage of 2 elements to 80000000"), e.getMessage());
    }

    @Test
    void missingOrShortStorageRecords() {
        WeightFormatException e = assertThrows(WeightFormatException.class,
                () -> PthReader.read(WeightFixtures.file("zip_missing_record.pth")));
        assertTrue(e.getMessage().contains("'damaged/data/0' is missing"), e.getMessage());
        e = assertThrows(WeightFormatException.class, () -> PthReader.read(WeightFixtures.file("zip_short_record.pth")));
        assertTrue(e.getMessage().contains("truncated?"), e.getMessage());
    }

    @Test
    void wrongMagicAndForeignFiles() throws IOException {
        Path f = tmp.resolve("x.pth");
        // a protocol-2 pickle of the int 12345, where the legacy magic number should be
        Files.write(f, new byte[] {(byte) 0x80, 2, 'M', 0x39, 0x30, '.'});
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> PthReader.read(f));
        assertTrue(e.getMessage().contains("not a PyTorch file (magic number int 12345)"), e.getMessage());

        Files.write(f, "hello world, not a checkpoint".getBytes());
        e = assertThrows(WeightFormatException.class, () -> PthReader.read(f));
        assertTrue(e.getMessage().contains("not a PyTorch file"), e.getMessage());

        Files.write(f, new byte[0]);
        assertThrows(WeightFormatException.class, () -> PthReader.read(f));

        // a zip without */data.pkl
        try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(Files.newOutputStream(f))) {
            z.putNextEntry(new java.util.zip.ZipEntry("readme.txt"));
            z.write("hi".getBytes());
            z.closeEntry();
        }
        e = assertThrows(WeightFormatException.class, () -> PthReader.read(f));
        assertTrue(e.getMessage().contains("data.pkl"), e.getMessage());

        // safetensors given to the .pth reader
        assertThrows(WeightFormatException.class, () -> PthReader.read(WeightFixtures.file("python.safetensors")));
    }

    @Test
    void legacyFileWhoseMainObjectIsNotADict() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        // magic: PROTO 2, LONG1 of 10 bytes (0x1950a86a20f9469cfc6c little-endian), STOP
        b.put(new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10});
        byte[] magic = new java.math.BigInteger("1950a86a20f9469cfc6c", 16).toByteArray();
        for (int i = magic.length - 1; i >= 0; i--) {
            b.put(magic[i]);
        }
        b.put((byte) '.');
        b.put(new byte[] {(byte) 0x80, 2, 'M', (byte) 0xe9, 0x03, '.'}); // 1001
        b.put(new byte[] {(byte) 0x80, 2, '}', '.'}); // sys_info {}
        b.put(new byte[] {(byte) 0x80, 2, ']', 'K', 7, 'a', '.'}); // main: [7]
        b.put(new byte[] {(byte) 0x80, 2, ']', '.'}); // storage keys: []
        Path f = tmp.resolve("list.pth");
        Files.write(f, Arrays.copyOf(b.array(), b.position()));
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> PthReader.read(f));
        assertTrue(e.getMessage().contains("holds list of 1, not a dict of tensors"), e.getMessage());
    }

    @Test
    void contiguityTest() {
        assertTrue(PthReader.isContiguous(new long[] {2, 3}, new long[] {3, 1}));
        assertTrue(PthReader.isContiguous(new long[] {2, 1, 3}, new long[] {3, 99, 1}));
        assertTrue(PthReader.isContiguous(new long[0], new long[0]));
        assertFalse(PthReader.isContiguous(new long[] {3, 2}, new long[] {1, 3}));
        assertFalse(PthReader.isContiguous(new long[] {4, 3}, new long[] {0, 1}));
    }

    @Test
    void looksLikePth() throws IOException {
        assertTrue(PthReader.looksLikePth(WeightFixtures.file("zip_basic.pth")));
        assertTrue(PthReader.looksLikePth(WeightFixtures.file("legacy_basic.pth")));
        assertFalse(PthReader.looksLikePth(WeightFixtures.file("python.safetensors")));
    }
}

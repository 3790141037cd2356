package org.fixres4j.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.fixres4j.weights.TorchPickle.PyDict;
import org.fixres4j.weights.TorchPickle.PyTuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TorchPickleTest {

    /** The same value pickled by Python with protocols 0 to 5 (see make_fixtures.py) reads back identically. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 5})
    void plainValuesUnderEveryProtocol(int protocol) throws IOException {
        byte[] data = Files.readAllBytes(WeightFixtures.file("plain_p" + protocol + ".pkl"));
        Object o = TorchPickle.load(data, null, Set.of());
        PyDict d = assertInstanceOf(PyDict.class, o);
        assertTrue(d.isOrdered());
        assertEquals(List.of("int", "neg", "i2", "i4", "big", "bigneg", "float", "tiny", "inf", "str", "bytes", "tuple",
                "t1", "t2", "t4", "empty", "list", "none", "true", "false", "od", "set", "frozen", "nested", "s1", "s2"),
                List.copyOf(d.keySet()));
        assertEquals(1L, d.get("int"));
        assertEquals(-5L, d.get("neg"));
        assertEquals(40000L, d.get("i2"));
        assertEquals(-70000L, d.get("i4"));
        assertEquals(BigInteger.TWO.pow(70), d.get("big"));
        assertEquals(BigInteger.TWO.pow(65).negate(), d.get("bigneg"));
        assertEquals(1.5, d.get("float"));
        assertEquals(-2.5e-300, d.get("tiny"));
        assertEquals(Double.POSITIVE_INFINITY, d.get("inf"));
        assertEquals("h\u00e9llo \u2603 \"q\" \\ \n", d.get("str"));
        assertArrayEquals(new byte[] {0, (byte) 0xff, '\n'}, (byte[]) d.get("bytes"));
        assertEquals(List.of(1L, 2L, 3L), d.get("tuple"));
        assertInstanceOf(PyTuple.class, d.get("tuple"));
        assertEquals(List.of(1L), d.get("t1"));
        assertEquals(java.util.Arrays.asList("a", null), d.get("t2"));
        assertEquals(List.of(1L, 2L, 3L, 4L), d.get("t4"));
        assertEquals(List.of(), d.get("empty"));
        assertEquals(List.of(1L, List.of(2L, 3.25)), d.get("list"));
        assertNull(d.get("none"));
        assertEquals(Boolean.TRUE, d.get("true"));
        assertEquals(Boolean.FALSE, d.get("false"));
        PyDict od = assertInstanceOf(PyDict.class, d.get("od"));
        assertTrue(od.isOrdered());
        assertEquals(List.of("b", "a"), List.copyOf(od.keySet()));
        assertEquals(2L, od.get("a"));
        assertEquals(Set.of(7L), d.get("set"));
        assertEquals(Set.of(8L), d.get("frozen"));
        Map<?, ?> nested = (Map<?, ?>) d.get("nested");
        assertEquals(List.of(), ((Map<?, ?>) nested.get("k")).get("k2"));
        assertSame(d.get("s1"), d.get("s2"), "memoized shared references stay shared");
        assertEquals(List.of(9L, "x"), d.get("s1"));
    }

    private static byte[] pickle(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof String) {
                out.writeBytes(((String) p).getBytes(StandardCharsets.ISO_8859_1));
            } else if (p instanceof Integer) {
                out.write((Integer) p);
            } else {
                out.writeBytes((byte[]) p);
            }
        }
        return out.toByteArray();
    }

    @Test
    void forbiddenGlobalsAreRefusedByName() {
        for (String g : List.of("os\nsystem", "posix\nsystem", "builtins\neval", "__builtin__\nexec",
                "subprocess\nPopen", "torch\nload", "torch._utils\n_rebuild_qtensor", "collections\ndefaultdict",
                "copy_reg\n_reconstructor", "builtins\ngetattr", "torch\nComplexFloatStorage")) {
            byte[] p = pickle(0x80, 2, "c" + g + "\n", ")R.");
            UnsafeWeightFileException e = assertThrows(UnsafeWeightFileException.class,
                    () -> TorchPickle.load(p, null, Set.of()));
            assertEquals(g.replace('\n', '.'), e.global());
        }
        // STACK_GLOBAL (protocol 4) too
        byte[] p = pickle(0x80, 4, 0x8c, 5, "posix", 0x8c, 6, "system", 0x93, ")R.");
        UnsafeWeightFileException e = assertThrows(UnsafeWeightFileException.class,
                () -> TorchPickle.load(p, null, Set.of()));
        assertEquals("posix.system", e.global());
        // INST (protocol 0 class instantiation)
        byte[] inst = pickle("(S'echo'\nios\nsystem\n.");
        e = assertThrows(UnsafeWeightFileException.class, () -> TorchPickle.load(inst, null, Set.of()));
        assertEquals("os.system", e.global());
    }

    @Test
    void allowedGlobalsAreNotCallableOutsideTheirRole() {
        // torch.FloatStorage is a type tag, not something to call
        byte[] p = pickle(0x80, 2, "ctorch\nFloatStorage\n", ")R.");
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> TorchPickle.load(p, null, Set.of()));
        assertTrue(e.getMessage().contains("not callable"), e.getMessage());
        // _rebuild_tensor_v2 on something that is not a storage
        byte[] q = pickle(0x80, 2, "ctorch._utils\n_rebuild_tensor_v2\n", "(K\u0001K\u0000)))", 0x89, "}tR.");
        e = assertThrows(WeightFormatException.class, () -> TorchPickle.load(q, null, Set.of()));
        assertTrue(e.getMessage().contains("not a storage"), e.getMessage());
    }

    @Test
    void malformedPicklesGiveClearErrors() {
        assertError(pickle(0x80, 2, "K\u0001"), "no STOP");
        assertError(pickle(0x80, 2, "."), "stack underflow");
        assertError(pickle(0x80, 2, 0xff), "unknown pickle opcode 0xff");
        assertError(pickle(0x80, 2, "h\u0005."), "memo entry 5 missing");
        assertError(pickle(0x80, 2, "X", new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f}, "abc."),
                "asks for 2147483647 bytes");
        assertError(pickle(0x80, 2, 0x8d, new byte[] {0, 0, 0, 0, 0, 0, 0, 0x40}, "."), "asks for");
        assertError(pickle(0x80, 2, 0x8b, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x7f}, "."),
                "asks for");
        assertError(pickle(0x80, 2, 0x82, 1, "."), "extension registry");
        assertError(pickle(0x80, 5, 0x97, "."), "out-of-band");
        assertError(pickle(0x80, 9, "N."), "protocol 9");
        assertError(pickle(0x80, 2, "K\u0001K\u0002a."), "APPEND to int 1");
        assertError(pickle(0x80, 2, "]K\u0001K\u0002s."), "SETITEM on list");
        assertError(pickle(0x80, 2, "(K\u0001d."), "odd number");
        assertError(pickle(0x80, 2, "e."), "no MARK");
        assertError(pickle(0x80, 2, "Q."), "stack underflow");
        assertError(pickle(0x80, 2, "N", "Q."), "unexpected persistent id");
    }

    private static void assertError(byte[] p, String message) {
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> TorchPickle.load(p, null, Set.of()));
        assertTrue(e.getMessage().contains(message), "expected '" + message + "' in: " + e.getMessage());
    }

    @Test
    void deepNestingIsAnErrorNotACrash() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x80);
        out.write(2);
        out.write('}');
        out.write('N');
        for (int i = 0; i < 200_000; i++) {
            out.write(0x85); // TUPLE1: ((((None,),),)...)
        }
        out.write('N');
        out.write('s'); // use the deep tuple as a dict key: hashing recurses
        out.write('.');
        byte[] p = out.toByteArray();
        try {
            Object o = TorchPickle.load(p, null, Set.of());
            assertInstanceOf(PyDict.class, o);
        } catch (WeightFormatException e) {
            assertTrue(e.getMessage().contains("nested too deeply"), e.getMessage());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void persistentIdsGoToTheLoader() throws IOException {
        // BINPERSID with the tuple ('storage', 'k'), then PERSID text
        byte[] p = pickle(0x80, 2, "(X", new byte[] {7, 0, 0, 0}, "storageX", new byte[] {1, 0, 0, 0}, "ktQ.");
        Object o = TorchPickle.load(p, pid -> "loaded:" + pid, Set.of());
        assertEquals("loaded:[storage, k]", o);
        byte[] q = pickle("Pabc\n.");
        assertEquals("got abc", TorchPickle.load(q, pid -> "got " + pid, Set.of()));
    }

    @Test
    void textOpcodesOfProtocolZero() throws IOException {
        assertEquals(Boolean.TRUE, TorchPickle.load(pickle("I01\n."), null, Set.of()));
        assertEquals(-12L, TorchPickle.load(pickle("I-12\n."), null, Set.of()));
        assertEquals(new BigInteger("123456789012345678901234567890"),
                TorchPickle.load(pickle("L123456789012345678901234567890L\n."), null, Set.of()));
        assertEquals(Double.NEGATIVE_INFINITY, TorchPickle.load(pickle("F-inf\n."), null, Set.of()));
        assertEquals("a'b\n\u00e9", TorchPickle.load(pickle("S'a\\'b\\n\\xc3\\xa9'\n."), null, Set.of()));
        assertEquals("\u2603\\", TorchPickle.load(pickle("V\\u2603\\u005c\n."), null, Set.of()));
        assertEquals(List.of(1L), TorchPickle.load(pickle("(lp0\nI1\na."), null, Set.of()));
        assertEquals(List.of(1L), TorchPickle.load(pickle("(I1\ntp0\n0g0\n."), null, Set.of()));
    }
}

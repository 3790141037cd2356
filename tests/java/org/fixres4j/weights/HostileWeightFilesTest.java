package org.fixres4j.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.fixres4j.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Non-finite weights are refused by name; crafted pickles and damaged files give one-line errors naming the file. */
class HostileWeightFilesTest {
    @TempDir
    Path tmp;

    @Test
    void firstNonFiniteFindsNanAndInfinityInEveryFloatType() {
        assertEquals(-1, TensorData.ofFloats(new long[] {3}, 1, -2, Float.MAX_VALUE).firstNonFinite());
        assertEquals(2, TensorData.ofFloats(new long[] {3}, 1, 0, Float.NaN).firstNonFinite());
        assertEquals(0, TensorData.ofFloats(new long[] {2}, Float.NEGATIVE_INFINITY, 0).firstNonFinite());
        for (DType d : new DType[] {DType.F16, DType.BF16, DType.F64}) {
            assertEquals(-1, TensorData.ofFloats(d, new long[] {2}, 1, 65504).firstNonFinite(), d.name());
            assertEquals(1, TensorData.ofFloats(d, new long[] {2}, 1, Float.NaN).firstNonFinite(), d.name());
            assertEquals(0, TensorData.ofFloats(d, new long[] {2}, Float.POSITIVE_INFINITY, 1).firstNonFinite(),
                    d.name());
        }
        assertEquals(-1, TensorData.ofLongs(new long[] {2}, Long.MAX_VALUE, -1).firstNonFinite());
        assertEquals(Double.NaN, TensorData.ofFloats(new long[] {2}, 0, Float.NaN).valueAt(1));
    }

    @Test
    void weightFilesWithNanOrInfAreRefusedNamingTheTensor() throws IOException {
        Path f = tmp.resolve("nan.safetensors");
        SafeTensors.write(f, Map.of("a.weight", TensorData.ofFloats(new long[] {2}, 1, 2),
                "classifier.bias", TensorData.ofFloats(new long[] {3}, 0, Float.NaN, 0)), Map.of());
        NonFiniteWeightsException e = assertThrows(NonFiniteWeightsException.class, () -> WeightFiles.read(f));
        assertEquals(f + ": tensor 'classifier.bias' holds NaN at element 1; a model with non-finite weights gives "
                + "meaningless outputs, refusing to load it", e.getMessage());
        assertEquals("classifier.bias", e.tensor());
        // the raw reader still reads it (conversion tools, inspection)
        assertTrue(Float.isNaN(WeightFiles.readUnchecked(f).get("classifier.bias").toFloatArray()[1]));
    }

    /** A legacy torch.save file: magic, protocol, sys_info, then {@code main} and the storage key list. */
    private Path legacy(String name, byte[] main) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10});
        byte[] magic = new java.math.BigInteger("1950a86a20f9469cfc6c", 16).toByteArray();
        for (int i = magic.length - 1; i >= 0; i--) {
            b.write(magic[i]);
        }
        b.write('.');
        b.write(new byte[] {(byte) 0x80, 2, 'M', (byte) 0xe9, 0x03, '.'}); // protocol 1001
        b.write(new byte[] {(byte) 0x80, 2, '}', '.'}); // sys_info {}
        b.write(main);
        b.write(new byte[] {(byte) 0x80, 2, ']', '.'}); // storage keys: []
        Path f = tmp.resolve(name);
        Files.write(f, b.toByteArray());
        return f;
    }

    @Test
    void aCyclicKeyGivesOneLineNotAStackOverflow() throws IOException {
        // main = {d: 7} where d = {1: [d]}: a dict key that contains itself through a list
        byte[] main = {(byte) 0x80, 2,
            '}',                 // top
            '}', 'q', 0,         // d, memo 0
            'K', 1, ']', 'h', 0, 'a', 's', // d[1] = [d]
            'K', 7, 's',         // top[d] = 7
            '.'};
        Path f = legacy("cyclic.pth", main);
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> PthReader.read(f));
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("dict of 1"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().length() < 1000, e.getMessage());
        assertThrows(WeightFormatException.class, () -> WeightFiles.read(f));
    }

    @Test
    void pickleErrorsNameTheFile() throws IOException {
        // an opcode the unpickler does not know, inside the main object
        Path f = legacy("bad-opcode.pth", new byte[] {(byte) 0x80, 2, '}', (byte) 0xff, '.'});
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> PthReader.read(f));
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
        // truncated in the middle of the main object
        Path g = legacy("truncated.pth", new byte[] {(byte) 0x80, 2, '}', 'X', 5, 0, 0, 0, 'a'});
        e = assertThrows(WeightFormatException.class, () -> PthReader.read(g));
        assertTrue(e.getMessage().startsWith(g.toString() + ": "), e.getMessage());
        // a refused global names the file too
        Path h = legacy("global.pth", new byte[] {(byte) 0x80, 2, 'c', 'p', 'o', 's', 'i', 'x', '\n', 's', 'y', 's',
            't', 'e', 'm', '\n', '.'});
        UnsafeWeightFileException u = assertThrows(UnsafeWeightFileException.class, () -> PthReader.read(h));
        assertTrue(u.getMessage().startsWith(h.toString() + ": "), u.getMessage());
        assertEquals("posix.system", u.global());
    }

    @Test
    void keysAreRenderedBoundedAndOnOneLine() {
        assertEquals("'blocks.0.0.conv_dw.weight'", Keys.render("blocks.0.0.conv_dw.weight"));
        assertEquals("'a\\u000ab\\'c'", Keys.render("a\nb'c"));
        String longKey = "k".repeat(10_000);
        assertTrue(Keys.render(longKey).length() < 200);
        assertTrue(Keys.render(longKey).endsWith("... (10000 characters)"));
        java.util.List<Object> self = new java.util.ArrayList<>();
        self.add(self);
        assertEquals("list of 1", Keys.render(self));
        assertEquals("7", Keys.render(7L));
    }

    @Test
    void safetensorsKeysInErrorsAreEscaped() throws IOException {
        String header = "{\"bad\\nname\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}";
        byte[] h = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = tmp.resolve("bad.safetensors");
        Files.write(f, b.array());
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().startsWith(f + ": tensor 'bad\\u000aname' of shape [2]"), e.getMessage());
    }

    @Test
    void damagedJsonNamesItsFile() throws IOException {
        Path f = tmp.resolve("state.json");
        Files.writeString(f, "{\n  \"a\": \"unterminated");
        IOException e = assertThrows(IOException.class, () -> Json.read(f));
        assertTrue(e.getMessage().startsWith(f + ": not valid JSON"), e.getMessage());
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        assertTrue(e.getCause() instanceof Json.ParseException);
        Files.write(f, new byte[] {'"', (byte) 0xff, '"'});
        e = assertThrows(IOException.class, () -> Json.read(f));
        assertTrue(e.getMessage().startsWith(f + ": not valid UTF-8"), e.getMessage());
    }
}

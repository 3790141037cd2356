package org.fixres4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonTest {
    @TempDir
    Path dir;

    @Test
    void parsesEveryType() {
        Object v = Json.parse(" {\"a\": [1, -2, 3.5, -0.25e2, 1E3, 12345678901234, 99999999999999999999],"
                + " \"b\": {\"c\": true, \"d\": false, \"e\": null}, \"s\": \"x\\\"y\\\\z\\/\\b\\f\\n\\r\\t\\u00e9"
                + "\\ud83d\\ude00\", \"empty\": {}, \"none\": []}\n");
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) v;
        assertEquals(List.of("a", "b", "s", "empty", "none"), List.copyOf(m.keySet()));
        assertEquals(Arrays.asList(1L, -2L, 3.5, -25.0, 1000.0, 12345678901234L, 1e20), m.get("a"));
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("c", true);
        b.put("d", false);
        b.put("e", null);
        assertEquals(b, m.get("b"));
        assertEquals("x\"y\\z/\b\f\n\r\t\u00e9\ud83d\ude00", m.get("s"));
        assertEquals(Map.of(), m.get("empty"));
        assertEquals(List.of(), m.get("none"));
        assertNull(Json.parse("null"));
        assertEquals(0L, Json.parse("-0"));
        assertEquals("\u00e9", Json.parse("\"\u00e9\""));
    }

    @Test
    void reportsErrorsWithPositions() {
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse("{\"a\": 1,\n \"b\": }"));
        assertEquals(2, e.line());
        assertEquals(7, e.column());
        String[] bad = {"", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "1e", "\"abc", "\"a\u0001\"",
            "\"\\x\"", "\"\\u12g4\"", "tru", "nul", "[1 2]", "{\"a\" 1}", "{a: 1}", "1 2", "NaN", "[\"a\"]]",
            "{\"k\": 1, \"k\": 2}", "-", "'a'"};
        for (String s : bad) {
            assertThrows(Json.ParseException.class, () -> Json.parse(s), s);
        }
        assertTrue(assertThrows(Json.ParseException.class, () -> Json.parse("{\"k\": 1, \"k\": 2}")).getMessage()
                .contains("duplicate"));
        assertThrows(Json.ParseException.class, () -> Json.parse("[".repeat(5000)));
        assertThrows(IllegalArgumentException.class, () -> Json.parseObject("[1]"));
    }

    @Test
    void writesCompactAndPretty() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "a\"b\n\u0001");
        m.put("i", 3);
        m.put("l", 4L);
        m.put("d", 0.1);
        m.put("f", 0.485f);
        m.put("whole", 256.0);
        m.put("big", 1e-7);
        m.put("t", true);
        m.put("n", null);
        m.put("list", List.of(1, "x"));
        m.put("ints", new int[] {1, 2});
        m.put("floats", new float[] {0.5f});
        m.put("empty", List.of());
        m.put("obj", Map.of());
        m.put("enum", Thread.State.NEW);
        String compact = Json.write(m);
        assertEquals("{\"name\":\"a\\\"b\\n\\u0001\",\"i\":3,\"l\":4,\"d\":0.1,\"f\":0.485,\"whole\":256.0,"
                + "\"big\":1.0E-7,\"t\":true,\"n\":null,\"list\":[1,\"x\"],\"ints\":[1,2],\"floats\":[0.5],"
                + "\"empty\":[],\"obj\":{},\"enum\":\"NEW\"}", compact);
        Map<String, Object> back = Json.parseObject(compact);
        assertEquals(0.1, back.get("d"));
        assertEquals(0.485, back.get("f")); // Float.toString is the shortest text for the float
        assertEquals(1e-7, back.get("big"));
        assertEquals(256.0, back.get("whole"));
        assertEquals(3L, back.get("i"));
        String pretty = Json.writePretty(Map.of("a", List.of(1, 2)));
        assertEquals("{\n  \"a\": [\n    1,\n    2\n  ]\n}", pretty);
        assertEquals(Json.parse(pretty), Json.parse(Json.write(Map.of("a", List.of(1, 2)))));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Json.write(List.of(Float.POSITIVE_INFINITY)));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Map.of(1, 2)));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
    }

    /** A typed record, members in the annotated order. */
    @com.fasterxml.jackson.annotation.JsonPropertyOrder({"z", "a"})
    record Doc(String a, double z) {}

    @Test
    void keepsTheHandWrittenWritersConventions() {
        // lower-case hex for control characters, JavaScript's line separators escaped, no escape for '/' or non-ASCII
        assertEquals("\"\\u001f\\u2028\\u2029/\u00e9\"", Json.write("\u001f\u2028\u2029/\u00e9"));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("e", Map.of());
        m.put("l", List.of());
        m.put("n", null);
        m.put("nested", List.of(Map.of("x", 1.0E-5)));
        assertEquals("{\n  \"e\": {},\n  \"l\": [],\n  \"n\": null,\n  \"nested\": [\n    {\n      \"x\": 1.0E-5\n"
                + "    }\n  ]\n}", Json.writePretty(m));
        assertEquals("{\"z\":2.5,\"a\":\"b\"}", Json.write(new Doc("b", 2.5)));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Doc("b", Double.NaN)));
    }

    @Test
    void aDamagedFileIsNamed() throws IOException {
        Path f = dir.resolve("cut.json");
        Files.writeString(f, "{\"a\": [1,");
        IOException e = assertThrows(IOException.class, () -> Json.read(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getCause() instanceof Json.ParseException);
    }

    @Test
    void roundTripsThroughAFile() throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("unicode", "\u00e9\u4e2d\ud83d\ude00");
        m.put("nested", List.of(Map.of("x", -1L), List.of(List.of())));
        Path f = dir.resolve("x.json");
        Json.write(f, m);
        assertTrue(Files.readString(f).endsWith("}\n"));
        assertEquals(m, Json.read(f));
    }

    @Test
    void readsTheGoldenCases() throws IOException {
        Map<String, Object> doc = Json.parseObject(Files.readString(Path.of("tests/data/preprocess/cases.json")));
        assertEquals("9.4.0", doc.get("pillow"));
        assertTrue(((List<?>) doc.get("cases")).size() > 50);
    }
}

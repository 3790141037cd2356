package org.fixres4j.io;

import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal, strict JSON (RFC 8259) reader and writer, with no dependencies.
 *
 * <p>Reading maps JSON onto plain Java values: an object becomes a {@code LinkedHashMap<String, Object>} (members in
 * file order, duplicate names rejected), an array an {@code ArrayList<Object>}, a string a {@code String}, a number a
 * {@code Long} when it has no fraction or exponent and fits in a long, otherwise a {@code Double}, true/false a
 * {@code Boolean} and null {@code null}. Errors are {@link ParseException}s with the line and column.
 *
 * <p>Writing accepts those types plus any {@code Map} with string keys, {@code Iterable}, object and primitive arrays,
 * {@code CharSequence}, {@code Character}, any {@code Number} (non-finite floating-point values are rejected: JSON
 * has none) and enums (by {@code name()}). Doubles and floats are written with {@code Double.toString} /
 * {@code Float.toString}, the shortest text that reads back to the same value.
 */
public final class Json {
    private static final int MAX_DEPTH = 1000;

    private Json() {}

    /** A syntax error in JSON text, with its position. */
    public static final class ParseException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final int line;
        private final int column;

        ParseException(String message, int line, int column) {
            super(message + " at line " + line + ", column " + column);
            this.line = line;
            this.column = column;
        }

        /** 1-based line of the error. */
        public int line() {
            return line;
        }

        /** 1-based column of the error. */
        public int column() {
            return column;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Reading
    // ------------------------------------------------------------------------------------------------------------

    /** Parses one JSON value (surrounding whitespace allowed, nothing else). */
    public static Object parse(String text) {
        Parser p = new Parser(text);
        p.skipWhitespace();
        Object v = p.value(0);
        p.skipWhitespace();
        if (p.pos < text.length()) {
            throw p.error("unexpected text after the JSON value");
        }
        return v;
    }

    /**
     * Reads and parses a UTF-8 JSON file.
     *
     * @throws IOException naming the file if it cannot be read, is not UTF-8 or not JSON (the cause is the
     *     {@link ParseException} with its line and column)
     */
    public static Object read(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IOException(file + ": not valid UTF-8 text", e);
        }
        try {
            return parse(text);
        } catch (ParseException e) {
            throw new IOException(file + ": not valid JSON (truncated or damaged?): " + e.getMessage(), e);
        }
    }

    /** Parses text whose top level must be an object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object v = parse(text);
        if (!(v instanceof Map)) {
            throw new IllegalArgumentException("expected a JSON object at the top level, got " + typeName(v));
        }
        return (Map<String, Object>) v;
    }

    private static String typeName(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof List) {
            return "an array";
        }
        if (v instanceof String) {
            return "a string";
        }
        if (v instanceof Boolean) {
            return "a boolean";
        }
        return v instanceof Number ? "a number" : v.getClass().getSimpleName();
    }

    private static final class Parser {
        private final String s;
        private int pos;

        Parser(String s) {
            this.s = s;
        }

        ParseException error(String message) {
            int line = 1;
            int col = 1;
            for (int i = 0; i < pos && i < s.length(); i++) {
                if (s.charAt(i) == '\n') {
                    line++;
                    col = 1;
                } else {
                    col++;
                }
            }
            return new ParseException(message, line, col);
        }

        void skipWhitespace() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    pos++;
                } else {
                    break;
                }
            }
        }

        Object value(int depth) {
            if (depth > MAX_DEPTH) {
                throw error("nesting deeper than " + MAX_DEPTH);
            }
            if (pos >= s.length()) {
                throw error("unexpected end of input, expected a value");
            }
            char c = s.charAt(pos);
            switch (c) {
                case '{':
                    return object(depth);
                case '[':
                    return array(depth);
                case '"':
                    return string();
                case 't':
                    literal("true");
                    return Boolean.TRUE;
                case 'f':
                    literal("false");
                    return Boolean.FALSE;
                case 'n':
                    literal("null");
                    return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return number();
                    }
                    throw error("unexpected character '" + printable(c) + "', expected a value");
            }
        }

        private static String printable(char c) {
            return c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c);
        }

        void literal(String word) {
            if (!s.startsWith(word, pos)) {
                throw error("invalid literal, expected '" + word + "'");
            }
            pos += word.length();
        }

        void expect(char c) {
            if (pos >= s.length() || s.charAt(pos) != c) {
                throw error(pos >= s.length() ? "unexpected end of input, expected '" + c + "'"
                        : "expected '" + c + "' but found '" + printable(s.charAt(pos)) + "'");
            }
            pos++;
        }

        Map<String, Object> object(int depth) {
            expect('{');
            Map<String, Object> m = new LinkedHashMap<>();
            skipWhitespace();
            if (pos < s.length() && s.charAt(pos) == '}') {
                pos++;
                return m;
            }
            while (true) {
                skipWhitespace();
                if (pos >= s.length() || s.charAt(pos) != '"') {
                    throw error("expected a member name (a string)");
                }
                int keyPos = pos;
                String key = string();
                skipWhitespace();
                expect(':');
                skipWhitespace();
                Object v = value(depth + 1);
                if (m.containsKey(key)) {
                    pos = keyPos;
                    throw error("duplicate member name \"" + key + "\"");
                }
                m.put(key, v);
                skipWhitespace();
                if (pos < s.length() && s.charAt(pos) == ',') {
                    pos++;
                    continue;
                }
                expect('}');
                return m;
            }
        }

        List<Object> array(int depth) {
            expect('[');
            List<Object> list = new ArrayList<>();
            skipWhitespace();
            if (pos < s.length() && s.charAt(pos) == ']') {
                pos++;
                return list;
            }
            while (true) {
                skipWhitespace();
                list.add(value(depth + 1));
                skipWhitespace();
                if (pos < s.length() && s.charAt(pos) == ',') {
                    pos++;
                    continue;
                }
                expect(']');
                return list;
            }
        }

        String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                if (pos >= s.length()) {
                    throw error("unterminated string");
                }
                char c = s.charAt(pos);
                if (c == '"') {
                    pos++;
                    return b.toString();
                }
                if (c < 0x20) {
                    throw error("control character " + printable(c) + " in a string (must be escaped)");
                }
                if (c != '\\') {
                    b.append(c);
                    pos++;
                    continue;
                }
                if (pos + 1 >= s.length()) {
                    throw error("unterminated escape");
                }
                char e = s.charAt(pos + 1);
                pos += 2;
                switch (e) {
                    case '"' -> b.append('"');
                    case '\\' -> b.append('\\');
                    case '/' -> b.append('/');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (pos + 4 > s.length()) {
                            throw error("truncated \\u escape");
                        }
                        int v = 0;
                        for (int i = 0; i < 4; i++) {
                            int d = Character.digit(s.charAt(pos + i), 16);
                            if (d < 0) {
                                throw error("invalid hex digit in \\u escape");
                            }
                            v = v * 16 + d;
                        }
                        pos += 4;
                        b.append((char) v);
                    }
                    default -> {
                        pos -= 1;
                        throw error("invalid escape '\\" + printable(e) + "'");
                    }
                }
            }
        }

        Object number() {
            int start = pos;
            if (s.charAt(pos) == '-') {
                pos++;
            }
            if (pos >= s.length()) {
                throw error("truncated number");
            }
            if (s.charAt(pos) == '0') {
                pos++;
            } else if (s.charAt(pos) >= '1' && s.charAt(pos) <= '9') {
                while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
                    pos++;
                }
            } else {
                throw error("invalid number");
            }
            boolean integral = true;
            if (pos < s.length() && s.charAt(pos) == '.') {
                integral = false;
                pos++;
                digits();
            }
            if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
                integral = false;
                pos++;
                if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
                    pos++;
                }
                digits();
            }
            String t = s.substring(start, pos);
            if (integral) {
                try {
                    return Long.parseLong(t);
                } catch (NumberFormatException overflow) {
                    // falls through to a double
                }
            }
            return Double.parseDouble(t);
        }

        private void digits() {
            int start = pos;
            while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
                pos++;
            }
            if (pos == start) {
                throw error("invalid number: expected a digit");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Writing
    // ------------------------------------------------------------------------------------------------------------

    /** The compact JSON text of a value. */
    public static String write(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value, null, 0);
        return b.toString();
    }

    /** The JSON text of a value, indented by two spaces per level, one member or element per line. */
    public static String writePretty(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value, "  ", 0);
        return b.toString();
    }

    /** Writes a value to a UTF-8 file, pretty-printed, with a final newline, atomically ({@link AtomicFiles}). */
    public static void write(Path file, Object value) throws IOException {
        AtomicFiles.write(file, (writePretty(value) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static void newline(StringBuilder b, String indent, int depth) {
        if (indent != null) {
            b.append('\n');
            b.append(indent.repeat(depth));
        }
    }

    private static void write(StringBuilder b, Object v, String indent, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("value nested deeper than " + MAX_DEPTH + " (a cycle?)");
        }
        if (v == null) {
            b.append("null");
        } else if (v instanceof CharSequence || v instanceof Character) {
            quote(b, v.toString());
        } else if (v instanceof Boolean) {
            b.append(v);
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (!Double.isFinite(d)) {
                throw new IllegalArgumentException("JSON cannot represent " + v);
            }
            b.append(v);
        } else if (v instanceof Number) {
            b.append(v); // Long, Integer, Short, Byte, BigInteger, BigDecimal, ...
        } else if (v instanceof Enum<?> e) {
            quote(b, e.name());
        } else if (v instanceof Map<?, ?> m) {
            writeMap(b, m, indent, depth);
        } else if (v instanceof Iterable<?> it) {
            List<Object> items = new ArrayList<>();
            it.forEach(items::add);
            writeList(b, items, indent, depth);
        } else if (v.getClass().isArray()) {
            int n = Array.getLength(v);
            List<Object> items = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                items.add(Array.get(v, i));
            }
            writeList(b, items, indent, depth);
        } else {
            throw new IllegalArgumentException("cannot write a " + v.getClass().getName() + " as JSON");
        }
    }

    private static void writeMap(StringBuilder b, Map<?, ?> m, String indent, int depth) {
        if (m.isEmpty()) {
            b.append("{}");
            return;
        }
        b.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getKey() instanceof CharSequence)) {
                throw new IllegalArgumentException("JSON object keys must be strings, got " + e.getKey());
            }
            if (!first) {
                b.append(',');
            }
            first = false;
            newline(b, indent, depth + 1);
            quote(b, e.getKey().toString());
            b.append(indent != null ? ": " : ":");
            write(b, e.getValue(), indent, depth + 1);
        }
        newline(b, indent, depth);
        b.append('}');
    }

    private static void writeList(StringBuilder b, List<Object> items, String indent, int depth) {
        if (items.isEmpty()) {
            b.append("[]");
            return;
        }
        b.append('[');
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            newline(b, indent, depth + 1);
            write(b, items.get(i), indent, depth + 1);
        }
        newline(b, indent, depth);
        b.append(']');
    }

    /** Appends {@code s} as a JSON string literal (quotes, backslashes and control characters escaped). */
    public static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}

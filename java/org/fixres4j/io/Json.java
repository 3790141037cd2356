package org.fixres4j.io;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerationException;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.JsonGeneratorDelegate;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationConfig;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.module.SimpleSerializers;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;

/**
 * FixRes4J's JSON, read and written by Jackson with the conventions its files have always had.
 *
 * <p>Reading ({@link #parse}, {@link #read}) is strict RFC 8259 and maps JSON onto plain Java values: an object
 * becomes a {@code LinkedHashMap<String, Object>} (members in file order, duplicate names rejected), an array an
 * {@code ArrayList<Object>}, a string a {@code String}, a number a {@code Long} when it has no fraction or exponent
 * and fits in a long, otherwise a {@code Double}, true/false a {@code Boolean} and null {@code null}. Errors are
 * {@link ParseException}s with the line and column; {@link #read} names the file.
 *
 * <p>Writing accepts what Jackson serialises: maps with string keys (in their iteration order), iterables, arrays,
 * strings, numbers, booleans, enums (by {@code name()}) and records (typed reports, members in the order their
 * {@code @JsonPropertyOrder} gives). Doubles and floats are written with {@code Double.toString} /
 * {@code Float.toString} ({@code 1.0E-7}, {@code 256.0}); non-finite values are rejected (JSON has none); control
 * characters are escaped as a backslash, {@code u} and four lower-case hex digits. Pretty output indents two spaces
 * per level, one member or element per line, {@code "key": value}, and writes empty containers as {@code {}} and
 * {@code []}.
 */
public final class Json {
    private static final int MAX_DEPTH = 1000;
    private static final JsonFactory FACTORY = factory();
    private static final ObjectMapper MAPPER = mapper(FACTORY);
    private static final DefaultPrettyPrinter PRETTY = prettyPrinter();

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
        try (JsonParser p = FACTORY.createParser(text)) {
            try {
                JsonToken t = p.nextToken();
                if (t == null) {
                    throw error(p, null, "no JSON value (empty text)");
                }
                Object v = value(p, t, 0);
                if (p.nextToken() != null) {
                    throw error(p, null, "unexpected text after the JSON value");
                }
                return v;
            } catch (JsonProcessingException e) {
                throw error(p, e, e.getOriginalMessage());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a String: only Jackson's own exceptions, handled above
        }
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

    private static Object value(JsonParser p, JsonToken t, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw error(p, null, "nested deeper than " + MAX_DEPTH);
        }
        switch (t) {
            case START_OBJECT: {
                Map<String, Object> m = new LinkedHashMap<>();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String name = p.currentName();
                    if (m.containsKey(name)) {
                        throw error(p, null, "duplicate key \"" + name + "\"");
                    }
                    m.put(name, value(p, p.nextToken(), depth + 1));
                }
                return m;
            }
            case START_ARRAY: {
                List<Object> l = new ArrayList<>();
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                    l.add(value(p, e, depth + 1));
                }
                return l;
            }
            case VALUE_STRING:
                return p.getText();
            case VALUE_NUMBER_INT:
                return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? (Object) p.getDoubleValue()
                        : (Object) p.getLongValue();
            case VALUE_NUMBER_FLOAT:
                return p.getDoubleValue();
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            case VALUE_NULL:
                return null;
            default:
                throw error(p, null, "unexpected " + t);
        }
    }

    /** A {@link ParseException} at {@code cause}'s position (Jackson's, 1-based), or else at the parser's. */
    private static ParseException error(JsonParser p, JsonProcessingException cause, String message) {
        JsonLocation loc = cause != null && cause.getLocation() != null ? cause.getLocation() : p.currentLocation();
        int line = Math.max(1, loc.getLineNr());
        int column = Math.max(1, loc.getColumnNr());
        ParseException e = new ParseException(message, line, column);
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Writing
    // ------------------------------------------------------------------------------------------------------------

    /** The compact JSON text of a value. */
    public static String write(Object value) {
        return write(value, false);
    }

    /** The JSON text of a value, indented by two spaces per level, one member or element per line. */
    public static String writePretty(Object value) {
        return write(value, true);
    }

    /** Writes a value to a UTF-8 file, pretty-printed, with a final newline, atomically ({@link AtomicFiles}). */
    public static void write(Path file, Object value) throws IOException {
        AtomicFiles.write(file, (writePretty(value) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The mapper behind this class, for reading typed documents ({@code MAPPER.readValue(text, SomeRecord.class)});
     * writing goes through {@link #write(Object)} and {@link #writePretty(Object)}, which add the checks above.
     */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    private static String write(Object value, boolean pretty) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = new FiniteNumbers(MAPPER.getFactory().createGenerator(out))) {
            if (pretty) {
                g.setPrettyPrinter(PRETTY.createInstance());
            }
            MAPPER.writeValue(g, value);
        } catch (IOException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String why = root instanceof JsonProcessingException jp ? jp.getOriginalMessage() : root.getMessage();
            throw new IllegalArgumentException("cannot write " + describe(value) + " as JSON: " + why, e);
        }
        return out.toString();
    }

    private static String describe(Object v) {
        return v == null ? "null" : "a " + v.getClass().getName();
    }

    /** Rejects NaN and infinities: JSON has no text for them (Jackson would write them as strings). */
    private static final class FiniteNumbers extends JsonGeneratorDelegate {
        FiniteNumbers(JsonGenerator d) {
            super(d, false);
        }

        @Override
        public void writeNumber(double v) throws IOException {
            if (!Double.isFinite(v)) {
                throw new JsonGenerationException("JSON cannot represent " + v, this);
            }
            super.writeNumber(v);
        }

        @Override
        public void writeNumber(float v) throws IOException {
            if (!Float.isFinite(v)) {
                throw new JsonGenerationException("JSON cannot represent " + v, this);
            }
            super.writeNumber(v);
        }
    }

    /**
     * Control characters as a backslash, {@code u} and four lower-case hex digits (Jackson's default is upper
     * case), and U+2028/U+2029 escaped too (JavaScript line terminators), as FixRes4J's files always had them.
     */
    private static final class Escapes extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        private final int[] ascii;

        Escapes() {
            ascii = CharacterEscapes.standardAsciiEscapesForJSON();
            for (int c = 0; c < 0x20; c++) {
                if (c != '\n' && c != '\r' && c != '\t' && c != '\b' && c != '\f') {
                    ascii[c] = CharacterEscapes.ESCAPE_CUSTOM;
                }
            }
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            if (ch < 0x20 || ch == 0x2028 || ch == 0x2029) {
                return new SerializedString(String.format("\\u%04x", ch));
            }
            return null;
        }
    }

    /** Keys must be strings (or other text): a map with other keys is an error, not a key's {@code toString}. */
    private static final class StringKeysOnly extends SimpleSerializers {
        private static final long serialVersionUID = 1L;

        @Override
        public JsonSerializer<?> findSerializer(SerializationConfig config, JavaType type, BeanDescription bean) {
            Class<?> c = type.getRawClass();
            if (c == Object.class || CharSequence.class.isAssignableFrom(c)) {
                return null;
            }
            return new StdSerializer<Object>(Object.class) {
                private static final long serialVersionUID = 1L;

                @Override
                public void serialize(Object key, JsonGenerator g, SerializerProvider p) throws IOException {
                    throw new JsonGenerationException("JSON object keys must be strings, got " + key, g);
                }
            };
        }
    }

    private static JsonFactory factory() {
        JsonFactory f = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH + 1).build())
                .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
                .build();
        f.setCharacterEscapes(new Escapes());
        return f;
    }

    private static ObjectMapper mapper(JsonFactory f) {
        SimpleModule keys = new SimpleModule("fixres4j-string-keys");
        keys.setKeySerializers(new StringKeysOnly());
        return JsonMapper.builder(f)
                .addModule(keys)
                .build();
    }

    private static DefaultPrettyPrinter prettyPrinter() {
        DefaultIndenter indent = new DefaultIndenter("  ", "\n");
        Separators separators = Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                .withObjectEmptySeparator("")
                .withArrayEmptySeparator("");
        return new DefaultPrettyPrinter(separators).withObjectIndenter(indent).withArrayIndenter(indent);
    }
}

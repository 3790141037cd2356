package org.fixres4j.io;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * NumPy {@code .npy} files (format versions 1.0, 2.0 and 3.0) of little-endian, C-order arrays, optionally gzipped.
 *
 * <p>Supported dtypes are {@code |b1 |u1 |i1 <u2 <i2 <f2 <u4 <i4 <f4 <u8 <i8 <f8}, any shape, including 0-d and
 * empty arrays. Big-endian data, Fortran order and structured or object dtypes are rejected with a clear
 * {@link IOException}. Arrays hold at most 2^31 - 9 bytes, the limit of one ByteBuffer. Files are read whole; large
 * outputs can be written in chunks with {@link Writer}. Written files are version 1.0 (2.0 only for headers over
 * 64 KiB), with the header padded so that the data starts at a multiple of 64 bytes, as NumPy does. A path ending in
 * {@code .gz} is written gzipped. Reading detects gzip by its magic bytes. The one-call {@code write} methods replace
 * the file atomically ({@link AtomicFiles}); a {@link Writer} writes the path it is given (wrap it in
 * {@link AtomicFiles#write(Path, AtomicFiles.TempWriter)} for a streamed output).
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ALIGN = 64;
    private static final long MAX_BYTES = Integer.MAX_VALUE - 8;
    private static final List<String> DTYPES =
            List.of("|b1", "|u1", "|i1", "<u2", "<i2", "<f2", "<u4", "<i4", "<f4", "<u8", "<i8", "<f8");

    private Npy() {}

    /** The supported dtype descriptors, in NumPy's spelling. */
    public static List<String> dtypes() {
        return DTYPES;
    }

    /** Bytes per element of a supported dtype. */
    public static int itemSize(String dtype) {
        return Integer.parseInt(canonicalDtype(dtype).substring(2));
    }

    /** NumPy's spelling of a supported dtype ({@code "<u1"} becomes {@code "|u1"}); IllegalArgumentException if unsupported. */
    public static String canonicalDtype(String dtype) {
        if (dtype != null && dtype.length() == 3) {
            String kindSize = dtype.substring(1);
            char order = dtype.charAt(0);
            if (kindSize.endsWith("1") && (order == '<' || order == '|' || order == '>')) {
                String d = "|" + kindSize;
                if (DTYPES.contains(d)) {
                    return d;
                }
            }
            if (DTYPES.contains(dtype)) {
                return dtype;
            }
            if (order == '>' && DTYPES.contains("<" + kindSize)) {
                throw new IllegalArgumentException("big-endian dtype '" + dtype + "' is not supported (only little-endian)");
            }
        }
        throw new IllegalArgumentException("unsupported dtype '" + dtype + "', expected one of " + DTYPES);
    }

    /** Number of elements of a shape (1 for a 0-d array); IllegalArgumentException for negative dims or overflow. */
    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has too many elements");
            }
        }
        return n;
    }

    private static long byteCount(String dtype, long[] shape) {
        long n = elementCount(shape);
        long bytes;
        try {
            bytes = Math.multiplyExact(n, itemSize(dtype));
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large");
        }
        return bytes;
    }

    // ------------------------------------------------------------------------------------------------------------
    // The array
    // ------------------------------------------------------------------------------------------------------------

    /**
     * An array read from or to be written to a {@code .npy} file: a dtype, a shape and the raw little-endian,
     * C-order bytes. The array views the buffer's remaining bytes (no copy) through a read-only buffer.
     *
     * @param dtype the NumPy dtype descriptor, e.g. {@code "<f4"} or {@code "|u1"}
     * @param shape the dimensions, outermost first (empty for a 0-d array)
     * @param data exactly elementCount * itemSize bytes, little-endian
     */
    public record Array(String dtype, long[] shape, ByteBuffer data) {

        /** Validates the dtype, the shape and the byte count. */
        public Array {
            dtype = canonicalDtype(dtype);
            shape = shape.clone();
            long bytes = byteCount(dtype, shape);
            if (data.remaining() != bytes) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype + " needs "
                        + bytes + " bytes, the buffer has " + data.remaining());
            }
            data = data.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        }

        /** A copy of the shape. */
        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** A fresh read-only little-endian view of the data (position 0). */
        @Override
        public ByteBuffer data() {
            return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        }

        /** Number of dimensions. */
        public int ndim() {
            return shape.length;
        }

        /** Number of elements. */
        public long elementCount() {
            return Npy.elementCount(shape);
        }

        /** Bytes per element. */
        public int itemSize() {
            return Npy.itemSize(dtype);
        }

        /** A copy of the raw bytes. */
        public byte[] toByteArray() {
            byte[] b = new byte[data.remaining()];
            data().get(b);
            return b;
        }

        private int count() {
            long n = elementCount();
            if (n > Integer.MAX_VALUE - 8) {
                throw new IllegalStateException("too many elements for a Java array: " + n);
            }
            return (int) n;
        }

        /** The values as doubles (exact for every dtype but u8/i8 beyond 2^53; u8 read as unsigned). */
        public double[] toDoubleArray() {
            int n = count();
            double[] out = new double[n];
            ByteBuffer b = data();
            for (int i = 0; i < n; i++) {
                out[i] = switch (dtype) {
                    case "|b1", "|u1" -> b.get(i) & 0xff;
                    case "|i1" -> b.get(i);
                    case "<u2" -> b.getShort(2 * i) & 0xffff;
                    case "<i2" -> b.getShort(2 * i);
                    case "<f2" -> halfToFloat(b.getShort(2 * i));
                    case "<u4" -> b.getInt(4 * i) & 0xffffffffL;
                    case "<i4" -> b.getInt(4 * i);
                    case "<f4" -> b.getFloat(4 * i);
                    case "<u8" -> unsignedToDouble(b.getLong(8 * i));
                    case "<i8" -> b.getLong(8 * i);
                    case "<f8" -> b.getDouble(8 * i);
                    default -> throw new IllegalStateException(dtype);
                };
            }
            return out;
        }

        /** The values as floats (f4 exactly, f2 widened exactly, others rounded to float). */
        public float[] toFloatArray() {
            if (dtype.equals("<f4")) {
                float[] out = new float[count()];
                data().asFloatBuffer().get(out);
                return out;
            }
            double[] d = toDoubleArray();
            float[] out = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                out[i] = (float) d[i];
            }
            return out;
        }

        /** The values of an integer or bool dtype as longs (u8 values above 2^63 wrap, as in Java). */
        public long[] toLongArray() {
            if (dtype.charAt(1) == 'f') {
                throw new IllegalStateException("toLongArray of a floating-point array (" + dtype + ")");
            }
            int n = count();
            long[] out = new long[n];
            ByteBuffer b = data();
            for (int i = 0; i < n; i++) {
                out[i] = switch (dtype) {
                    case "|b1", "|u1" -> b.get(i) & 0xff;
                    case "|i1" -> b.get(i);
                    case "<u2" -> b.getShort(2 * i) & 0xffff;
                    case "<i2" -> b.getShort(2 * i);
                    case "<u4" -> b.getInt(4 * i) & 0xffffffffL;
                    case "<i4" -> b.getInt(4 * i);
                    default -> b.getLong(8 * i);
                };
            }
            return out;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Array a && dtype.equals(a.dtype) && Arrays.equals(shape, a.shape)
                    && data.equals(a.data);
        }

        @Override
        public int hashCode() {
            return (dtype.hashCode() * 31 + Arrays.hashCode(shape)) * 31 + data.hashCode();
        }

        /** For example {@code Npy.Array[<f4 (2, 3)]}. */
        @Override
        public String toString() {
            return "Npy.Array[" + dtype + " " + shapeTuple(shape) + "]";
        }
    }

    private static double unsignedToDouble(long v) {
        double d = (double) (v >>> 1) * 2.0;
        return v >= 0 ? (double) v : d + (v & 1);
    }

    /** IEEE 754 binary16 to float (exact). */
    public static float halfToFloat(short half) {
        int bits = half & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float f = mant * 0x1p-24f; // zero or subnormal
            return sign != 0 ? -f : f;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /**
     * float to IEEE 754 binary16, rounding to nearest-even (NumPy's {@code astype(float16)}): overflow gives
     * infinity, NaN stays NaN (quiet, sign kept).
     */
    public static short floatToHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs >= 0x7f800000) { // infinity or NaN
            return (short) (sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 | ((abs >>> 13) & 0x3ff) : 0));
        }
        if (abs >= 0x477ff000) { // >= 65520: rounds to infinity
            return (short) (sign | 0x7c00);
        }
        if (abs < 0x38800000) { // below 2^-14: subnormal or zero (exact scaling, then one rounding)
            return (short) (sign | (int) Math.rint(Float.intBitsToFloat(abs) * 0x1p24));
        }
        int h = ((((abs >>> 23) - 127 + 15)) << 10) | ((abs & 0x7fffff) >>> 13);
        int rest = abs & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (h & 1) != 0)) {
            h++; // a carry into the exponent is the right result
        }
        return (short) (sign | h);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Reading
    // ------------------------------------------------------------------------------------------------------------

    /** Reads a {@code .npy} file, gzipped or not. */
    public static Array read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in);
        } catch (FileSystemException e) {
            throw e; // already names the file
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Reads one array from a stream ({@code .npy} bytes, or gzipped ones), up to its end; does not close it. */
    public static Array read(InputStream stream) throws IOException {
        BufferedInputStream in = new BufferedInputStream(stream, 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        InputStream src = in;
        if (b0 == 0x1f && b1 == 0x8b) {
            src = new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
        }
        Header h = readHeader(src);
        long bytes = byteCount(h.dtype, h.shape);
        if (bytes > MAX_BYTES) {
            throw new IOException("array of " + bytes + " bytes is too large to read into one buffer");
        }
        byte[] data = src.readNBytes((int) bytes);
        if (data.length != bytes) {
            throw new EOFException("truncated .npy data: expected " + bytes + " bytes for " + h.dtype + " "
                    + shapeTuple(h.shape) + ", got " + data.length);
        }
        if (src.read() != -1) {
            throw new IOException("unexpected bytes after the .npy data (" + h.dtype + " " + shapeTuple(h.shape) + ")");
        }
        return new Array(h.dtype, h.shape, ByteBuffer.wrap(data));
    }

    private record Header(String dtype, long[] shape) {}

    private static Header readHeader(InputStream in) throws IOException {
        byte[] pre = in.readNBytes(8);
        if (pre.length < 8 || !Arrays.equals(Arrays.copyOf(pre, 6), MAGIC)) {
            throw new IOException("not a .npy file (bad magic)");
        }
        int major = pre[6] & 0xff;
        int minor = pre[7] & 0xff;
        long headerLen;
        if (major == 1) {
            byte[] l = readFully(in, 2, "header length");
            headerLen = (l[0] & 0xff) | (l[1] & 0xff) << 8;
        } else if (major == 2 || major == 3) {
            byte[] l = readFully(in, 4, "header length");
            headerLen = ByteBuffer.wrap(l).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
        } else {
            throw new IOException("unsupported .npy format version " + major + "." + minor + " (1.0, 2.0, 3.0 are)");
        }
        if (headerLen > (1 << 24)) {
            throw new IOException(".npy header of " + headerLen + " bytes is implausibly large");
        }
        byte[] hb = readFully(in, (int) headerLen, "header");
        String text = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict;
        try {
            Object v = new PyLiteral(text).parseTop();
            if (!(v instanceof Map)) {
                throw new IOException(".npy header is not a dict: " + text.strip());
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) v;
            dict = m;
        } catch (IllegalArgumentException e) {
            throw new IOException("malformed .npy header (" + e.getMessage() + "): " + text.strip());
        }
        if (!dict.keySet().equals(Set.of("descr", "fortran_order", "shape"))) {
            throw new IOException(".npy header must have exactly the keys descr, fortran_order, shape: " + text.strip());
        }
        Object descr = dict.get("descr");
        if (!(descr instanceof String d)) {
            throw new IOException("structured or non-string dtype " + descr + " is not supported");
        }
        String dtype;
        try {
            dtype = canonicalDtype(d);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
        }
        Object fortran = dict.get("fortran_order");
        if (!(fortran instanceof Boolean)) {
            throw new IOException("fortran_order must be True or False, got " + fortran);
        }
        if ((Boolean) fortran) {
            throw new IOException("fortran_order=True arrays are not supported: save a C-order array "
                    + "(numpy.ascontiguousarray) instead");
        }
        Object shapeObj = dict.get("shape");
        if (!(shapeObj instanceof List<?> dims)) {
            throw new IOException("shape must be a tuple, got " + shapeObj);
        }
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long n) || n < 0) {
                throw new IOException("shape must hold non-negative ints, got " + shapeObj);
            }
            shape[i] = n;
        }
        return new Header(dtype, shape);
    }

    private static byte[] readFully(InputStream in, int n, String what) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new EOFException("truncated .npy " + what);
        }
        return b;
    }

    /** The Python literals of a .npy header: dict, tuple/list, str, int, True/False/None. */
    private static final class PyLiteral {
        private final String s;
        private int pos;

        PyLiteral(String s) {
            this.s = s;
        }

        Object parseTop() {
            Object v = value();
            ws();
            if (pos != s.length()) {
                throw new IllegalArgumentException("unexpected text at " + pos);
            }
            return v;
        }

        private void ws() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        private boolean peek(char c) {
            ws();
            return pos < s.length() && s.charAt(pos) == c;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw new IllegalArgumentException("expected '" + c + "' at " + pos);
            }
            pos++;
        }

        private Object value() {
            ws();
            if (pos >= s.length()) {
                throw new IllegalArgumentException("unexpected end");
            }
            char c = s.charAt(pos);
            if (c == '{') {
                pos++;
                Map<String, Object> m = new LinkedHashMap<>();
                while (!peek('}')) {
                    Object k = value();
                    if (!(k instanceof String key)) {
                        throw new IllegalArgumentException("dict key must be a string at " + pos);
                    }
                    expect(':');
                    m.put(key, value());
                    if (!peek('}')) {
                        expect(',');
                    }
                }
                pos++;
                return m;
            }
            if (c == '(' || c == '[') {
                char close = c == '(' ? ')' : ']';
                pos++;
                List<Object> l = new ArrayList<>();
                while (!peek(close)) {
                    l.add(value());
                    if (!peek(close)) {
                        expect(',');
                    }
                }
                pos++;
                return l;
            }
            if (c == '\'' || c == '"') {
                int end = s.indexOf(c, pos + 1);
                if (end < 0) {
                    throw new IllegalArgumentException("unterminated string at " + pos);
                }
                String str = s.substring(pos + 1, end);
                pos = end + 1;
                return str;
            }
            if (c == '-' || Character.isDigit(c)) {
                int start = pos++;
                while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                    pos++;
                }
                long v = Long.parseLong(s.substring(start, pos));
                if (pos < s.length() && (s.charAt(pos) == 'L' || s.charAt(pos) == 'l')) {
                    pos++; // Python 2 longs
                }
                return v;
            }
            for (String word : new String[] {"True", "False", "None"}) {
                if (s.startsWith(word, pos)) {
                    pos += word.length();
                    return word.equals("None") ? null : Boolean.valueOf(word.equals("True"));
                }
            }
            throw new IllegalArgumentException("unexpected '" + c + "' at " + pos);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Writing
    // ------------------------------------------------------------------------------------------------------------

    /** Python's repr of a shape tuple: {@code ()}, {@code (3,)}, {@code (2, 3)}. */
    static String shapeTuple(long[] shape) {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                b.append(", ");
            }
            b.append(shape[i]);
        }
        if (shape.length == 1) {
            b.append(',');
        }
        return b.append(')').toString();
    }

    /** The preamble of a file (magic, version, length, padded header dict) for this dtype and shape. */
    public static byte[] header(String dtype, long[] shape) {
        String d = canonicalDtype(dtype);
        byteCount(d, shape); // validates
        String dict = "{'descr': '" + d + "', 'fortran_order': False, 'shape': " + shapeTuple(shape) + ", }";
        int major = 1;
        int prefix = 10;
        int total = prefix + dict.length() + 1;
        int padded = (total + ALIGN - 1) / ALIGN * ALIGN;
        if (padded - prefix > 0xffff) {
            major = 2;
            prefix = 12;
            total = prefix + dict.length() + 1;
            padded = (total + ALIGN - 1) / ALIGN * ALIGN;
        }
        int headerLen = padded - prefix;
        ByteBuffer b = ByteBuffer.allocate(padded).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) major).put((byte) 0);
        if (major == 1) {
            b.putShort((short) headerLen);
        } else {
            b.putInt(headerLen);
        }
        b.put(dict.getBytes(StandardCharsets.ISO_8859_1));
        while (b.position() < padded - 1) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n');
        return b.array();
    }

    /** Writes an array. */
    public static void write(Path file, Array array) throws IOException {
        write(file, array.dtype(), array.shape(), array.data());
    }

    /**
     * Writes raw little-endian C-order bytes: the buffer's remaining bytes, which must be exactly the shape's
     * (IllegalArgumentException otherwise, before the file is created).
     */
    public static void write(Path file, String dtype, long[] shape, ByteBuffer data) throws IOException {
        checkLength(dtype, shape, data.remaining());
        AtomicFiles.write(file, tmp -> {
            try (Writer w = writer(tmp, dtype, shape)) {
                w.write(data.duplicate());
            }
        });
    }

    /** Writes float32 values ({@code <f4}); their number must match the shape. */
    public static void write(Path file, long[] shape, float[] data) throws IOException {
        checkLength("<f4", shape, 4L * data.length);
        AtomicFiles.write(file, tmp -> {
            try (Writer w = writer(tmp, "<f4", shape)) {
                w.write(data, 0, data.length);
            }
        });
    }

    /**
     * Writes float values as {@code <f4}, {@code <f2} (rounded to nearest-even) or {@code <f8} (widened); their
     * number must match the shape.
     */
    public static void write(Path file, String dtype, long[] shape, float[] data) throws IOException {
        String d = canonicalDtype(dtype);
        if (d.equals("<f4")) {
            write(file, shape, data);
            return;
        }
        if (!d.equals("<f2") && !d.equals("<f8")) {
            throw new IllegalArgumentException("floats can be written as <f4, <f2 or <f8, not " + d);
        }
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(data.length, itemSize(d))).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) {
            if (d.equals("<f2")) {
                b.putShort(floatToHalf(f));
            } else {
                b.putDouble(f);
            }
        }
        write(file, d, shape, b.flip());
    }

    /** Writes raw little-endian bytes of any supported dtype; their number must match the shape. */
    public static void write(Path file, String dtype, long[] shape, byte[] data) throws IOException {
        write(file, dtype, shape, ByteBuffer.wrap(data));
    }

    /** Writes uint8 values ({@code |u1}); their number must match the shape. */
    public static void write(Path file, long[] shape, byte[] data) throws IOException {
        checkLength("|u1", shape, data.length);
        AtomicFiles.write(file, tmp -> {
            try (Writer w = writer(tmp, "|u1", shape)) {
                w.write(data, 0, data.length);
            }
        });
    }

    private static void checkLength(String dtype, long[] shape, long bytes) {
        long expected = byteCount(canonicalDtype(dtype), shape);
        if (bytes != expected) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype + " needs "
                    + expected + " bytes, got " + bytes);
        }
    }

    /** Opens a streaming writer: the header now, the data in chunks, the byte count checked on close. */
    public static Writer writer(Path file, String dtype, long[] shape) throws IOException {
        return new Writer(file, dtype, shape);
    }

    /**
     * Writes one {@code .npy} file in chunks: the header for a known dtype and shape first, then the data as it
     * comes (raw little-endian bytes, or floats for {@code <f4}). {@link #close()} fails if the bytes written do not
     * add up to the shape; writing past the shape fails at once. Not thread-safe.
     */
    public static final class Writer implements Closeable {
        private final Path file;
        private final String dtype;
        private final long expected;
        private final OutputStream out;
        private final byte[] chunk = new byte[1 << 16];
        private long written;
        private boolean closed;

        private Writer(Path file, String dtype, long[] shape) throws IOException {
            this.file = file;
            this.dtype = canonicalDtype(dtype);
            this.expected = byteCount(this.dtype, shape);
            byte[] header = header(this.dtype, shape);
            OutputStream o = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
            if (file.getFileName() != null && file.getFileName().toString().endsWith(".gz")) {
                o = new GZIPOutputStream(o, 1 << 16);
            }
            this.out = o;
            out.write(header);
        }

        private void reserve(long n) throws IOException {
            if (closed) {
                throw new IOException(file + ": writer is closed");
            }
            if (n > expected - written) {
                throw new IOException(file + ": " + (written + n) + " bytes is more than the " + expected
                        + " the shape holds");
            }
            written += n;
        }

        /** Writes the buffer's remaining bytes (raw little-endian data) and advances its position. */
        public Writer write(ByteBuffer data) throws IOException {
            reserve(data.remaining());
            if (data.hasArray()) {
                out.write(data.array(), data.arrayOffset() + data.position(), data.remaining());
                data.position(data.limit());
                return this;
            }
            while (data.hasRemaining()) {
                int n = Math.min(chunk.length, data.remaining());
                data.get(chunk, 0, n);
                out.write(chunk, 0, n);
            }
            return this;
        }

        /** Writes raw bytes (for {@code |u1} the values themselves). */
        public Writer write(byte[] data, int offset, int length) throws IOException {
            reserve(length);
            out.write(data, offset, length);
            return this;
        }

        /** Writes float values; the dtype must be {@code <f4}. */
        public Writer write(float[] data, int offset, int length) throws IOException {
            if (!dtype.equals("<f4")) {
                throw new IOException(file + ": writing floats to a " + dtype + " array");
            }
            if (offset < 0 || length < 0 || offset + length > data.length) {
                throw new IndexOutOfBoundsException("offset " + offset + ", length " + length + " of " + data.length);
            }
            reserve(4L * length);
            ByteBuffer b = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
            int i = offset;
            int end = offset + length;
            while (i < end) {
                int n = Math.min(chunk.length / 4, end - i);
                b.clear();
                b.asFloatBuffer().put(data, i, n);
                out.write(chunk, 0, 4 * n);
                i += n;
            }
            return this;
        }

        /** Data bytes written so far. */
        public long bytesWritten() {
            return written;
        }

        /** Data bytes the shape holds. */
        public long bytesExpected() {
            return expected;
        }

        /** Flushes and closes the file; throws if fewer bytes were written than the shape holds. */
        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            out.close();
            if (written != expected) {
                throw new IOException(file + ": incomplete .npy, " + written + " of " + expected
                        + " data bytes written");
            }
        }
    }
}

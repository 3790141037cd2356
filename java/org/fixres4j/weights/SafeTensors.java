package org.fixres4j.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.fixres4j.io.AtomicFiles;
import org.fixres4j.io.FaultPoints;
import org.fixres4j.io.Json;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping
 * each tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end)}} (offsets relative to the end of the
 * header) plus an optional {@code "__metadata__"} string map, then the raw little-endian C-order data.
 *
 * <p>Reading memory-maps the file ({@link FileChannel#map}): the data region once when it is under 2 GiB, otherwise
 * one mapping per tensor, so files of any size work (each tensor is limited to 2 GiB, the limit of one ByteBuffer).
 * All offsets are longs. The header is validated before anything is mapped: its length is bounded by the file size and
 * by {@link #MAX_HEADER_SIZE}, it must be valid UTF-8 JSON, each dtype must be supported, each shape's element count
 * times the dtype size must equal the tensor's byte length, and every tensor must lie inside the file without
 * overlapping another. Tensors keep the header's order.
 *
 * <p>Writing produces the layout of the reference implementation ({@code safetensors.torch.save_file}): tensors sorted
 * by descending dtype alignment then by name, compact JSON with {@code __metadata__} first, the header padded with
 * spaces to a multiple of 8 bytes, and the data packed in header order.
 */
public final class SafeTensors {

    /** The largest header accepted, as in the reference implementation (100 MB). */
    public static final long MAX_HEADER_SIZE = 100_000_000L;

    private static final String METADATA_KEY = "__metadata__";

    /** One tensor's header entry. {@code begin} and {@code end} are byte offsets relative to the data region. */
    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {
        /** The byte length. */
        public long byteLength() {
            return end - begin;
        }
    }

    /** A parsed and validated header: entries in header order, the metadata, and where the data region starts. */
    public record Header(List<Entry> entries, Map<String, String> metadata, long dataStart, long fileSize) {}

    private SafeTensors() {}

    /**
     * Reads every tensor of a safetensors file as read-only memory-mapped views.
     *
     * @throws WeightFormatException if the file is truncated, its header invalid, or a dtype unsupported
     */
    public static StateDict read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Header h = readHeader(ch, file);
            StateDict sd = new StateDict();
            sd.metadata().putAll(h.metadata());
            long dataLen = h.fileSize() - h.dataStart();
            ByteBuffer region = null;
            if (dataLen <= Integer.MAX_VALUE) {
                region = dataLen == 0 ? ByteBuffer.allocate(0)
                        : ch.map(FileChannel.MapMode.READ_ONLY, h.dataStart(), dataLen);
            }
            for (Entry e : h.entries()) {
                long len = e.byteLength();
                if (len > Integer.MAX_VALUE) {
                    throw new WeightFormatException(file + ": tensor " + Keys.quote(e.name()) + " has " + len
                            + " bytes, over the 2 GiB limit of one buffer");
                }
                ByteBuffer b;
                if (len == 0) {
                    b = ByteBuffer.allocate(0);
                } else if (region != null) {
                    b = region.slice((int) e.begin(), (int) len);
                } else {
                    b = ch.map(FileChannel.MapMode.READ_ONLY, h.dataStart() + e.begin(), len);
                }
                sd.put(e.name(), TensorData.wrap(e.dtype(), e.shape(), b.order(ByteOrder.LITTLE_ENDIAN)));
            }
            return sd;
        }
    }

    /** Reads and validates only the header of a safetensors file. */
    public static Header readHeader(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(ch, file);
        }
    }

    private static Header readHeader(FileChannel ch, Path file) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new WeightFormatException(file + ": " + size + " bytes is too small for a safetensors file");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0, file);
        long n = lenBuf.getLong(0);
        if (n < 0 || n > MAX_HEADER_SIZE) {
            throw new WeightFormatException(file + ": header length " + Long.toUnsignedString(n)
                    + " exceeds the limit of " + MAX_HEADER_SIZE + " bytes (not a safetensors file?)");
        }
        if (n > size - 8) {
            throw new WeightFormatException(file + ": header length " + n + " goes beyond the end of the file ("
                    + size + " bytes; truncated or not a safetensors file)");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(ch, hb, 8, file);
        hb.flip();
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(hb).toString();
        } catch (CharacterCodingException e) {
            throw new WeightFormatException(file + ": the safetensors header is not valid UTF-8");
        }
        if (!text.startsWith("{")) {
            throw new WeightFormatException(file + ": the safetensors header does not start with '{'");
        }
        Map<String, Object> json;
        try {
            json = Json.parseObject(text);
        } catch (IllegalArgumentException e) {
            throw new WeightFormatException(file + ": the safetensors header is not valid JSON: " + e.getMessage(), e);
        }
        long dataStart = 8 + n;
        return parseHeader(json, dataStart, size, file);
    }

    static Header parseHeader(Map<String, Object> json, long dataStart, long fileSize, Path file)
            throws WeightFormatException {
        long dataLen = fileSize - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, Object> me : json.entrySet()) {
            String name = me.getKey();
            Object v = me.getValue();
            if (name.equals(METADATA_KEY)) {
                if (!(v instanceof Map)) {
                    throw new WeightFormatException(file + ": __metadata__ is not an object");
                }
                for (Map.Entry<?, ?> m : ((Map<?, ?>) v).entrySet()) {
                    if (!(m.getValue() instanceof String)) {
                        throw new WeightFormatException(file + ": __metadata__ value of " + Keys.render(m.getKey())
                                + " is not a string");
                    }
                    metadata.put((String) m.getKey(), (String) m.getValue());
                }
                continue;
            }
            String where = file + ": tensor " + Keys.quote(name) + " ";
            if (!(v instanceof Map)) {
                throw new WeightFormatException(where + "has no {dtype, shape, data_offsets} object");
            }
            Map<?, ?> info = (Map<?, ?>) v;
            Object dt = info.get("dtype");
            if (!(dt instanceof String)) {
                throw new WeightFormatException(where + "has no dtype string");
            }
            DType dtype = DType.fromSafetensorsName((String) dt);
            if (dtype == null) {
                throw new WeightFormatException(where + "has dtype '" + dt + "', which is not supported"
                        + " (supported: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)");
            }
            long[] shape = longs(info.get("shape"), where + "shape", -1);
            long[] offsets = longs(info.get("data_offsets"), where + "data_offsets", 2);
            long begin = offsets[0];
            long end = offsets[1];
            if (begin > end || end > dataLen) {
                throw new WeightFormatException(where + "has data_offsets [" + begin + ", " + end
                        + ") outside the data region of " + dataLen + " bytes (truncated or corrupt file)");
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(TensorData.numel(shape), (long) dtype.size());
            } catch (ArithmeticException e) {
                throw new WeightFormatException(where + "has a shape whose size overflows: " + Arrays.toString(shape));
            }
            if (bytes != end - begin) {
                throw new WeightFormatException(where + "of shape " + Arrays.toString(shape) + " and dtype " + dt
                        + " needs " + bytes + " bytes but data_offsets span " + (end - begin));
            }
            entries.add(new Entry(name, dtype, shape, begin, end));
        }
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        for (int i = 1; i < byOffset.size(); i++) {
            Entry prev = byOffset.get(i - 1);
            Entry cur = byOffset.get(i);
            if (cur.begin() < prev.end()) {
                throw new WeightFormatException(file + ": tensors " + Keys.quote(prev.name()) + " and "
                        + Keys.quote(cur.name()) + " overlap in the data region");
            }
        }
        return new Header(List.copyOf(entries), metadata, dataStart, fileSize);
    }

    private static long[] longs(Object o, String what, int expectedLength) throws WeightFormatException {
        if (!(o instanceof List)) {
            throw new WeightFormatException(what + " is missing or not an array");
        }
        List<?> l = (List<?>) o;
        if (expectedLength >= 0 && l.size() != expectedLength) {
            throw new WeightFormatException(what + " must have " + expectedLength + " elements");
        }
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) {
            Object x = l.get(i);
            if (!(x instanceof Long) || (Long) x < 0) {
                throw new WeightFormatException(what + " holds " + (x instanceof List ? "an array"
                        : x instanceof Map ? "an object" : x instanceof String str ? Keys.quote(str) : x)
                        + ", not a non-negative integer");
            }
            out[i] = (Long) x;
        }
        return out;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos, Path file) throws IOException {
        long p = pos;
        while (b.hasRemaining()) {
            int r = ch.read(b, p);
            if (r < 0) {
                throw new WeightFormatException(file + ": unexpected end of file at byte " + p);
            }
            p += r;
        }
    }

    // ------------------------------------------------------------------------------------------------ writing

    /** Writes a state dict, with its {@link StateDict#metadata()} as {@code __metadata__} when not empty. */
    public static void write(Path file, StateDict stateDict) throws IOException {
        write(file, stateDict.tensors(), stateDict.metadata());
    }

    /**
     * Writes tensors (and {@code metadata}, omitted when null or empty) in the reference layout, atomically
     * ({@link AtomicFiles}: temporary sibling, fsync, rename, directory fsync; the mode of a replaced file is kept).
     */
    public static void write(Path file, Map<String, TensorData> tensors, Map<String, String> metadata)
            throws IOException {
        List<Map.Entry<String, TensorData>> items = new ArrayList<>(tensors.entrySet());
        items.sort(ORDER);
        byte[] header = header(items, metadata);
        AtomicFiles.write(file, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                writeFully(ch, len);
                writeFully(ch, ByteBuffer.wrap(header));
                int half = items.size() / 2;
                for (int i = 0; i < items.size(); i++) {
                    if (i == half) {
                        FaultPoints.reached("safetensors:partial", file);
                    }
                    writeFully(ch, items.get(i).getValue().data());
                }
            }
        });
    }

    /** The complete file contents that {@link #write(Path, Map, Map)} would produce (for small dicts and tests). */
    public static byte[] toBytes(Map<String, TensorData> tensors, Map<String, String> metadata) {
        List<Map.Entry<String, TensorData>> items = new ArrayList<>(tensors.entrySet());
        items.sort(ORDER);
        byte[] header = header(items, metadata);
        long total = 8L + header.length;
        for (Map.Entry<String, TensorData> e : items) {
            total += e.getValue().byteSize();
        }
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(total)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(header.length).put(header);
        for (Map.Entry<String, TensorData> e : items) {
            out.put(e.getValue().data());
        }
        return out.array();
    }

    /** Descending dtype (safetensors enum order), then name compared as UTF-8 bytes, as the Rust writer sorts. */
    private static final Comparator<Map.Entry<String, TensorData>> ORDER = (a, b) -> {
        int c = Integer.compare(b.getValue().dtype().safetensorsRank(), a.getValue().dtype().safetensorsRank());
        return c != 0 ? c : Arrays.compareUnsigned(a.getKey().getBytes(StandardCharsets.UTF_8),
                b.getKey().getBytes(StandardCharsets.UTF_8));
    };

    private static byte[] header(List<Map.Entry<String, TensorData>> items, Map<String, String> metadata) {
        Map<String, Object> h = new LinkedHashMap<>(); // dynamic: the format's keys are the tensors' names
        if (metadata != null && !metadata.isEmpty()) {
            h.put(METADATA_KEY, new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (Map.Entry<String, TensorData> e : items) {
            if (e.getKey().equals(METADATA_KEY)) {
                throw new IllegalArgumentException("a tensor cannot be named " + METADATA_KEY);
            }
            TensorData t = e.getValue();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", t.dtype().safetensorsName());
            info.put("shape", t.shape());
            info.put("data_offsets", new long[] {offset, offset + t.byteSize()});
            offset += t.byteSize();
            h.put(e.getKey(), info);
        }
        byte[] json = Json.write(h).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}

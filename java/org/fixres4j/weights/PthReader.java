package org.fixres4j.weights;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

import org.fixres4j.weights.TorchPickle.StorageRef;
import org.fixres4j.weights.TorchPickle.TensorRef;

/**
 * Reads the state dict of a PyTorch {@code .pth} / {@code .bin} / {@code .pth.tar} file written by
 * {@code torch.save}, without executing any code (see {@link TorchPickle} for the allow-list).
 *
 * <p>Formats: the zip container of PyTorch 1.6 and later ({@code <name>/data.pkl} plus stored records
 * {@code <name>/data/<key>}; the top folder name varies) and the legacy stream of earlier versions (magic-number,
 * protocol-version and sys-info pickles, the main pickle, the pickled list of storage keys, then each storage as an
 * 8-byte little-endian element count followed by its bytes). The very old tar format (PyTorch 0.1-0.3) is not
 * supported.
 *
 * <p>Every tensor is returned as a contiguous C-order copy (or a zero-copy view when it spans its whole storage
 * contiguously), whatever its strides, offset or storage sharing. The state dict is found as: the top-level dict if
 * all its values are tensors; else the first of {@code state_dict}, {@code model}, {@code state_dict_ema},
 * {@code model_ema} holding a dict of tensors (or the key given in {@link Options#key(String)}); else the top-level
 * dict with its non-tensor entries skipped. A {@code module.} prefix shared by every key is stripped. All choices and
 * skipped entries are recorded in {@link StateDict#notes()} and {@link StateDict#sourceKey()}.
 */
public final class PthReader {

    /** Keys tried in order when a checkpoint wraps the state dict. */
    public static final List<String> WRAPPER_KEYS = List.of("state_dict", "model", "state_dict_ema", "model_ema");

    /** Tensors larger than this that read overlapping storage elements (zero strides) are refused. */
    static final long MAX_EXPANDED_BYTES = 256L << 20;

    /**
     * The most bytes read from storage records, and the most tensor bytes produced, for a file of {@code fileSize}
     * bytes: 4x the file plus 256 MiB (legitimate files need at most 1x, plus shared or expanded views). Bounds the
     * memory a crafted file can make the reader allocate.
     */
    static long budget(long fileSize) {
        return 4 * fileSize + MAX_EXPANDED_BYTES;
    }

    /** Reading options. */
    public static final class Options {
        private String key;
        private boolean stripModulePrefix = true;
        private Set<String> inertGlobals = Set.of();

        /** The defaults: automatic wrapper key, strip {@code module.}, no inert globals. */
        public Options() {}

        /** Take the state dict from this top-level key instead of guessing (e.g. {@code "state_dict_ema"}). */
        public Options key(String key) {
            this.key = key;
            return this;
        }

        /** Whether to strip a {@code module.} prefix carried by every key (default true). */
        public Options stripModulePrefix(boolean strip) {
            this.stripModulePrefix = strip;
            return this;
        }

        /**
         * Globals ({@code module.name}) to accept as opaque placeholders that are never called, e.g.
         * {@code argparse.Namespace} in the {@code args} entry of timm training checkpoints. Default none: any global
         * outside the allow-list refuses the file.
         */
        public Options inertGlobals(Set<String> globals) {
            this.inertGlobals = Set.copyOf(globals);
            return this;
        }
    }

    private PthReader() {}

    /** Reads the state dict of a {@code torch.save} file with default {@link Options}. */
    public static StateDict read(Path file) throws IOException {
        return read(file, new Options());
    }

    /**
     * Reads the state dict of a {@code torch.save} file.
     *
     * @throws UnsafeWeightFileException if a pickle names a global outside the allow-list
     * @throws WeightFormatException if the file is truncated, corrupt or not a supported PyTorch file
     */
    public static StateDict read(Path file, Options options) throws IOException {
        Objects.requireNonNull(options, "options");
        try {
            return readFile(file, options);
        } catch (UnsafeWeightFileException e) {
            throw e.getMessage().startsWith(file.toString()) ? e : e.in(file);
        } catch (WeightFormatException e) {
            throw e.getMessage() != null && e.getMessage().startsWith(file.toString()) ? e
                    : new WeightFormatException(file + ": " + e.getMessage(), e);
        } catch (StackOverflowError e) {
            throw new WeightFormatException(file + ": the pickle is nested too deeply or holds a cycle");
        } catch (RuntimeException e) {
            throw new WeightFormatException(file + ": malformed PyTorch file (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + Keys.quote(e.getMessage())) + ")", e);
        }
    }

    private static StateDict readFile(Path file, Options options) throws IOException {
        long size = Files.size(file);
        byte[] head = new byte[Math.toIntExact(Math.min(size, 512))];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, head.length);
            head = Arrays.copyOf(head, n);
        }
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return readZip(file, size, options);
        }
        if (head.length >= 2 && (head[0] & 0xFF) == 0x80) {
            return readLegacy(file, size, options);
        }
        if (head.length >= 262 && new String(head, 257, 5, StandardCharsets.ISO_8859_1).equals("ustar")) {
            throw new WeightFormatException(file + ": tar-based PyTorch files (PyTorch < 0.4) are not supported");
        }
        throw new WeightFormatException(file + ": not a PyTorch file (neither a zip container nor a legacy pickle"
                + " stream; " + size + " bytes)");
    }

    // ------------------------------------------------------------------------------------------------ zip format

    private static StateDict readZip(Path file, long fileSize, Options options) throws IOException {
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new WeightFormatException(file + ": corrupt or truncated zip container: " + e.getMessage(), e);
        }
        try (ZipFile zf = zip) {
            String prefix = null;
            for (Enumeration<? extends ZipEntry> en = zf.entries(); en.hasMoreElements(); ) {
                String name = en.nextElement().getName();
                if (name.endsWith("/data.pkl") && name.indexOf('/') == name.length() - "/data.pkl".length()) {
                    if (prefix != null) {
                        throw new WeightFormatException(file + ": several */data.pkl records in the zip");
                    }
                    prefix = name.substring(0, name.length() - "data.pkl".length());
                }
            }
            if (prefix == null) {
                throw new WeightFormatException(file + ": zip without a <folder>/data.pkl record: not a torch.save file");
            }
            ZipEntry byteorder = zf.getEntry(prefix + "byteorder");
            if (byteorder != null) {
                String order = new String(readEntry(zf, byteorder, 16, file), StandardCharsets.US_ASCII).trim();
                if (!order.equals("little")) {
                    throw new WeightFormatException(file + ": byte order " + Keys.quote(String.valueOf(order)) + " is not supported");
                }
            }
            byte[] pickle = readEntry(zf, zf.getEntry(prefix + "data.pkl"), fileSize, file);
            final String pre = prefix;
            TorchPickle.PersistentLoader loader = pid -> zipStorage(pid, file);
            Object root = TorchPickle.load(pickle, loader, options.inertGlobals);
            Map<String, ByteBuffer> cache = new HashMap<>();
            long[] readBudget = {budget(fileSize)};
            StorageBytes bytes = ref -> {
                ByteBuffer b = cache.get(ref.key());
                if (b == null) {
                    ZipEntry e = zf.getEntry(pre + "data/" + ref.key());
                    if (e == null) {
                        throw new WeightFormatException(file + ": storage record " + Keys.quote(pre + "data/" + ref.key())
                                + " is missing");
                    }
                    if (e.getSize() > readBudget[0]) {
                        throw new WeightFormatException(file + ": the storage records add up to more than "
                                + budget(fileSize) + " bytes for a file of " + fileSize + " (corrupt zip?)");
                    }
                    b = ByteBuffer.wrap(readEntry(zf, e, fileSize, file)).order(ByteOrder.LITTLE_ENDIAN);
                    readBudget[0] -= b.capacity();
                    cache.put(ref.key(), b);
                }
                return b;
            };
            StateDict sd = select(root, bytes, options, file, fileSize);
            sd.addNote("format: zip container (" + pre + "data.pkl)");
            return sd;
        }
    }

    private static StorageRef zipStorage(Object pid, Path file) throws IOException {
        List<?> t = pidTuple(pid, 5, file);
        DType dtype = storageDtype(t.get(1), file);
        String key = asText(t.get(2), "storage key", file);
        long numel = asLong(t.get(4), "storage size", file);
        return new StorageRef(key, dtype, numel, 0);
    }

    private static byte[] readEntry(ZipFile zf, ZipEntry e, long bound, Path file) throws IOException {
        long size = e.getSize();
        if (size < 0 || size > bound || size > Integer.MAX_VALUE - 16) {
            throw new WeightFormatException(file + ": zip record " + Keys.quote(e.getName()) + " has an impossible size " + size);
        }
        try (InputStream in = zf.getInputStream(e)) {
            byte[] b = in.readNBytes((int) size);
            if (b.length != size) {
                throw new WeightFormatException(file + ": zip record " + Keys.quote(e.getName()) + " is truncated");
            }
            return b;
        } catch (ZipException | EOFException ex) {
            throw new WeightFormatException(file + ": corrupt zip record " + Keys.quote(e.getName()) + ": " + ex, ex);
        }
    }

    // ------------------------------------------------------------------------------------------------ legacy format

    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);

    private static StateDict readLegacy(Path file, long fileSize, Options options) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            TorchPickle.Source src = new TorchPickle.Source(
                    new BufferedInputStream(Channels.newInputStream(ch), 1 << 16), fileSize);
            Object magic = TorchPickle.load(src, null, Set.of());
            if (!(magic instanceof BigInteger) || !magic.equals(LEGACY_MAGIC)) {
                throw new WeightFormatException(file + ": a pickle, but not a PyTorch file (magic number "
                        + TorchPickle.describe(magic) + ")");
            }
            Object protocol = TorchPickle.load(src, null, Set.of());
            if (!Long.valueOf(1001).equals(protocol)) {
                throw new WeightFormatException(file + ": unsupported legacy protocol version "
                        + TorchPickle.describe(protocol));
            }
            Object sysInfo = TorchPickle.load(src, null, Set.of());
            if (sysInfo instanceof Map && Boolean.FALSE.equals(((Map<?, ?>) sysInfo).get("little_endian"))) {
                throw new WeightFormatException(file + ": big-endian legacy files are not supported");
            }
            Map<String, StorageRef> roots = new LinkedHashMap<>();
            TorchPickle.PersistentLoader loader = pid -> legacyStorage(pid, roots, file);
            Object root = TorchPickle.load(src, loader, options.inertGlobals);
            Object keysObj = TorchPickle.load(src, null, Set.of());
            if (!(keysObj instanceof List)) {
                throw new WeightFormatException(file + ": the storage key list is " + TorchPickle.describe(keysObj));
            }
            // Locate each storage: an 8-byte LE element count, then the bytes. Only the positions are recorded.
            long pos = src.position();
            Map<String, long[]> located = new HashMap<>(); // key -> {byte position, element count}
            ByteBuffer count = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            for (Object k : (List<?>) keysObj) {
                String key = asText(k, "storage key", file);
                StorageRef ref = roots.get(key);
                if (ref == null) {
                    throw new WeightFormatException(file + ": storage " + Keys.quote(key) + " is listed but never referenced");
                }
                count.clear();
                readFully(ch, count, pos, file);
                long n = count.getLong(0);
                long nbytes = n < 0 || n > fileSize ? -1 : n * ref.dtype().size();
                if (nbytes < 0 || nbytes > fileSize - pos - 8) {
                    throw new WeightFormatException(file + ": storage " + Keys.quote(key) + " claims " + n + " elements at byte "
                            + pos + " but the file has " + (fileSize - pos - 8) + " bytes left (truncated?)");
                }
                located.put(key, new long[] {pos + 8, n});
                pos += 8 + nbytes;
            }
            Map<String, ByteBuffer> cache = new HashMap<>();
            StorageBytes bytes = ref -> {
                ByteBuffer b = cache.get(ref.key());
                if (b == null) {
                    long[] loc = located.get(ref.key());
                    if (loc == null) {
                        throw new WeightFormatException(file + ": storage " + Keys.quote(ref.key()) + " has no data");
                    }
                    long nbytes = loc[1] * ref.dtype().size();
                    if (nbytes > Integer.MAX_VALUE) {
                        throw new WeightFormatException(file + ": storage " + Keys.quote(ref.key()) + " of " + nbytes
                                + " bytes exceeds 2 GiB");
                    }
                    b = ByteBuffer.allocate((int) nbytes).order(ByteOrder.LITTLE_ENDIAN);
                    readFully(ch, b, loc[0], file);
                    b.clear();
                    cache.put(ref.key(), b);
                }
                return b;
            };
            StateDict sd = select(root, bytes, options, file, fileSize);
            sd.addNote("format: legacy (pre-1.6) pickle stream");
            return sd;
        }
    }

    private static StorageRef legacyStorage(Object pid, Map<String, StorageRef> roots, Path file) throws IOException {
        List<?> t = pidTuple(pid, 6, file);
        DType dtype = storageDtype(t.get(1), file);
        String rootKey = asText(t.get(2), "storage key", file);
        long numel = asLong(t.get(4), "storage size", file);
        StorageRef root = roots.get(rootKey);
        if (root == null) {
            root = new StorageRef(rootKey, dtype, numel, 0);
            roots.put(rootKey, root);
        } else if (root.dtype() != dtype) {
            throw new WeightFormatException(file + ": storage " + Keys.quote(rootKey) + " is used as " + root.dtype() + " and "
                    + dtype);
        }
        Object view = t.get(5);
        if (view == null) {
            return root;
        }
        if (!(view instanceof List) || ((List<?>) view).size() != 3) {
            throw new WeightFormatException(file + ": bad storage view metadata " + TorchPickle.describe(view));
        }
        List<?> v = (List<?>) view;
        long offset = asLong(v.get(1), "view offset", file);
        long viewSize = asLong(v.get(2), "view size", file);
        return new StorageRef(rootKey, dtype, viewSize, offset);
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos, Path file) throws IOException {
        long p = pos;
        while (b.hasRemaining()) {
            int n = ch.read(b, p);
            if (n < 0) {
                throw new WeightFormatException(file + ": truncated storage data at byte " + p);
            }
            p += n;
        }
    }

    // ------------------------------------------------------------------------------------------------ shared

    /** The bytes of a storage's root record (the whole record, little-endian, position 0). */
    @FunctionalInterface
    interface StorageBytes {
        ByteBuffer get(StorageRef ref) throws IOException;
    }

    private static List<?> pidTuple(Object pid, int size, Path file) throws WeightFormatException {
        if (!(pid instanceof List) || ((List<?>) pid).size() != size
                || !"storage".equals(textOrNull(((List<?>) pid).get(0)))) {
            throw new WeightFormatException(file + ": unsupported persistent id " + TorchPickle.describe(pid)
                    + (pid instanceof List && !((List<?>) pid).isEmpty()
                    ? " (" + TorchPickle.describe(((List<?>) pid).get(0)) + ")" : ""));
        }
        return (List<?>) pid;
    }

    private static DType storageDtype(Object type, Path file) throws WeightFormatException {
        if (type instanceof TorchPickle.PyGlobal && ((TorchPickle.PyGlobal) type).isStorageType()) {
            return ((TorchPickle.PyGlobal) type).storageDtype();
        }
        throw new WeightFormatException(file + ": persistent id with storage type " + TorchPickle.describe(type));
    }

    private static String textOrNull(Object o) {
        if (o instanceof String) {
            return (String) o;
        }
        if (o instanceof byte[]) {
            return new String((byte[]) o, StandardCharsets.US_ASCII);
        }
        return null;
    }

    private static String asText(Object o, String what, Path file) throws WeightFormatException {
        String s = textOrNull(o);
        if (s == null) {
            throw new WeightFormatException(file + ": " + what + " is " + TorchPickle.describe(o));
        }
        return s;
    }

    private static long asLong(Object o, String what, Path file) throws WeightFormatException {
        if (o instanceof Long && (Long) o >= 0) {
            return (Long) o;
        }
        throw new WeightFormatException(file + ": " + what + " is " + TorchPickle.describe(o));
    }

    /** Finds the state dict in the unpickled object and materializes its tensors. */
    private static StateDict select(Object root, StorageBytes bytes, Options options, Path file, long fileSize)
            throws IOException {
        if (!(root instanceof Map)) {
            throw new WeightFormatException(file + ": the file holds " + TorchPickle.describe(root)
                    + ", not a dict of tensors");
        }
        Map<?, ?> top = (Map<?, ?>) root;
        Map<?, ?> dict = null;
        String usedKey = null;
        if (options.key != null) {
            Object v = top.get(options.key);
            if (!(v instanceof Map)) {
                throw new WeightFormatException(file + ": key " + Keys.quote(options.key) + " holds " + TorchPickle.describe(v)
                        + ", not a dict; top-level keys: " + keyList(top));
            }
            dict = (Map<?, ?>) v;
            usedKey = options.key;
        } else if (!top.isEmpty() && top.values().stream().allMatch(v -> v instanceof TensorRef)) {
            dict = top;
        } else {
            for (String k : WRAPPER_KEYS) {
                Object v = top.get(k);
                if (v instanceof Map && ((Map<?, ?>) v).values().stream().anyMatch(x -> x instanceof TensorRef)) {
                    dict = (Map<?, ?>) v;
                    usedKey = k;
                    break;
                }
            }
            if (dict == null) {
                if (top.values().stream().noneMatch(x -> x instanceof TensorRef) && !top.isEmpty()) {
                    throw new WeightFormatException(file + ": no state dict found (no tensors at the top level nor"
                            + " under " + WRAPPER_KEYS + "); top-level keys: " + keyList(top));
                }
                dict = top;
            }
        }
        StateDict sd = new StateDict();
        if (usedKey != null) {
            sd.setSourceKey(usedKey);
            List<String> others = new ArrayList<>();
            for (Object k : top.keySet()) {
                if (!usedKey.equals(k)) {
                    if (others.size() == 20) {
                        others.add("... (" + (top.size() - 1) + " in all)");
                        break;
                    }
                    others.add(Keys.plain(k));
                }
            }
            sd.addNote("state dict taken from top-level key " + Keys.quote(usedKey)
                    + (others.isEmpty() ? "" : "; other top-level keys ignored: " + others));
        }
        List<String> skipped = new ArrayList<>();
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        long produced = 0;
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            String name = e.getKey() instanceof String ? (String) e.getKey() : null;
            if (name != null && e.getValue() instanceof TensorRef) {
                TensorData t = materialize((TensorRef) e.getValue(), bytes, name, file);
                produced += t.byteSize();
                if (produced > budget(fileSize)) {
                    throw new WeightFormatException(file + ": the tensors expand to more than " + budget(fileSize)
                            + " bytes from a file of " + fileSize + " bytes (overlapping views?); refused");
                }
                tensors.put(name, t);
            } else {
                skipped.add(Keys.plain(e.getKey()) + " (" + TorchPickle.describe(e.getValue()) + ")");
            }
        }
        if (!skipped.isEmpty()) {
            sd.addNote("skipped " + skipped.size() + " non-tensor entries: " + skipped);
        }
        boolean strip = options.stripModulePrefix && !tensors.isEmpty()
                && tensors.keySet().stream().allMatch(k -> k.startsWith("module."));
        if (strip) {
            sd.addNote("stripped the 'module.' prefix from all " + tensors.size() + " keys");
        }
        for (Map.Entry<String, TensorData> e : tensors.entrySet()) {
            String k = strip ? e.getKey().substring("module.".length()) : e.getKey();
            if (sd.contains(k)) {
                throw new WeightFormatException(file + ": duplicate key " + Keys.quote(k) + " after stripping 'module.'");
            }
            sd.put(k, e.getValue());
        }
        return sd;
    }

    private static String keyList(Map<?, ?> m) {
        List<String> keys = new ArrayList<>();
        for (Object k : m.keySet()) {
            if (keys.size() == 20) {
                keys.add("...");
                break;
            }
            keys.add(Keys.plain(k));
        }
        return keys.toString();
    }

    /** Copies a strided view of a storage into a contiguous C-order tensor (or wraps the whole storage). */
    static TensorData materialize(TensorRef t, StorageBytes bytes, String name, Path file) throws IOException {
        StorageRef s = t.storage();
        DType dtype = s.dtype();
        int es = dtype.size();
        long[] size = t.size();
        long[] stride = t.stride();
        String where = file + ": tensor " + Keys.quote(name) + " ";
        long numel;
        long maxIndex = t.offset();
        try {
            numel = TensorData.numel(size);
            if (t.offset() < 0) {
                throw new WeightFormatException(where + "has a negative storage offset");
            }
            for (int i = 0; i < size.length; i++) {
                if (stride[i] < 0) {
                    throw new WeightFormatException(where + "has a negative stride " + Arrays.toString(stride));
                }
                if (size[i] > 0) {
                    maxIndex = Math.addExact(maxIndex, Math.multiplyExact(size[i] - 1, stride[i]));
                }
            }
            Math.multiplyExact(numel, (long) es);
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw new WeightFormatException(where + "has an impossible shape " + Arrays.toString(size) + " / stride "
                    + Arrays.toString(stride));
        }
        long nbytes = numel * es;
        if (nbytes > Integer.MAX_VALUE) {
            throw new WeightFormatException(where + "of " + nbytes + " bytes exceeds the 2 GiB limit of one buffer");
        }
        if (numel == 0) {
            return TensorData.wrap(dtype, size, ByteBuffer.allocate(0));
        }
        if (maxIndex >= s.numel()) {
            throw new WeightFormatException(where + "reads element " + maxIndex + " of a storage of " + s.numel()
                    + " elements (corrupt file)");
        }
        if (nbytes > MAX_EXPANDED_BYTES && numel > s.numel()) {
            throw new WeightFormatException(where + "expands a storage of " + s.numel() + " elements to " + numel
                    + "; refused");
        }
        ByteBuffer root = bytes.get(s);
        long storageStart = s.elementOffset() * es;
        long storageBytes = s.numel() * es;
        if (storageStart + storageBytes > root.capacity()) {
            throw new WeightFormatException(where + "needs storage " + Keys.quote(s.key()) + " of " + (storageStart + storageBytes)
                    + " bytes but its record has " + root.capacity() + " (truncated?)");
        }
        int base = Math.toIntExact(storageStart + t.offset() * es);
        if (isContiguous(size, stride)) {
            ByteBuffer region = root.duplicate().position(base).limit(base + (int) nbytes);
            if (base == 0 && nbytes == root.capacity()) {
                return TensorData.wrap(dtype, size, region);
            }
            return TensorData.copyOf(dtype, size, region);
        }
        return TensorData.wrap(dtype, size, gather(root, base, size, stride, es, (int) nbytes));
    }

    static boolean isContiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= size[i];
        }
        return true;
    }

    private static ByteBuffer gather(ByteBuffer src, int base, long[] size, long[] stride, int es, int nbytes) {
        byte[] out = new byte[nbytes];
        int rank = size.length;
        int last = rank - 1;
        boolean innerRun = stride[last] == 1;
        int runElems = innerRun ? (int) size[last] : 1;
        int outerRank = innerRun ? last : rank;
        long[] idx = new long[rank];
        ByteBuffer s = src.duplicate();
        int o = 0;
        while (o < nbytes) {
            long off = 0;
            for (int d = 0; d < outerRank; d++) {
                off += idx[d] * stride[d];
            }
            int p = (int) (base + off * es);
            if (innerRun) {
                s.get(p, out, o, runElems * es);
                o += runElems * es;
            } else {
                s.get(p, out, o, es);
                o += es;
            }
            for (int d = outerRank - 1; d >= 0; d--) {
                if (++idx[d] < size[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return ByteBuffer.wrap(out);
    }

    /** Quick test whether a file looks like a {@code torch.save} file (zip or legacy magic), by its first bytes. */
    public static boolean looksLikePth(Path file) throws IOException {
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, 4);
            return n >= 2 && ((head[0] == 'P' && head[1] == 'K') || (head[0] & 0xFF) == 0x80);
        }
    }
}

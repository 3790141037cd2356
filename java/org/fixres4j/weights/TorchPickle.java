package org.fixres4j.weights;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A restricted unpickler for the pickles inside PyTorch weight files: it builds plain Java values and never executes
 * anything. Python globals are resolved against a fixed allow-list of the names {@code torch.save} emits for state
 * dicts of dense tensors; any other global (for example {@code posix.system}, {@code builtins.eval}, a model class)
 * raises {@link UnsafeWeightFileException} at the opcode that names it.
 *
 * <p>Opcodes: all of pickle protocols 0 to 5 except the extension registry (EXT1/2/4) and out-of-band buffers
 * (NEXT_BUFFER, READONLY_BUFFER), which are refused. FRAME is accepted and ignored (framing does not change the
 * opcode stream).
 *
 * <p>Values: None is {@code null}; bool {@link Boolean}; int {@link Long} (or {@link BigInteger} beyond 64 bits);
 * float {@link Double}; str {@link String}; bytes {@code byte[]}; tuple {@link PyTuple}; list {@link ArrayList};
 * dict and OrderedDict {@link PyDict}; set and frozenset {@link LinkedHashSet}; persistent ids are passed to a
 * {@link PersistentLoader}; {@code _rebuild_tensor_v2} / {@code _rebuild_parameter} yield {@link TensorRef}s.
 *
 * <p>Allow-list: {@code collections.OrderedDict}; {@code torch._utils._rebuild_tensor_v2}, {@code _rebuild_tensor},
 * {@code _rebuild_parameter}, {@code _rebuild_parameter_with_state}; {@code torch._tensor._rebuild_from_type_v2} (only
 * with {@code torch.Tensor} / {@code torch.nn.parameter.Parameter} as the type); the typed storage classes
 * {@code torch.FloatStorage}, {@code HalfStorage}, {@code BFloat16Storage}, {@code DoubleStorage},
 * {@code LongStorage}, {@code IntStorage}, {@code ShortStorage}, {@code CharStorage}, {@code ByteStorage},
 * {@code BoolStorage} and {@code torch.UntypedStorage}; {@code builtins.set}, {@code frozenset}, {@code tuple}
 * (also under protocol 2's name {@code __builtin__}); and {@code _codecs.encode}, which protocol 2 uses for
 * {@code bytes} values and which is evaluated here only for the latin-1 codec. Callers may name further globals as
 * <em>inert</em>: those become opaque {@link PyObject} placeholders that are never called (for example
 * {@code argparse.Namespace} in training checkpoints).
 */
public final class TorchPickle {

    /** Resolves a persistent id (the value of a PERSID or BINPERSID opcode), typically to a {@link StorageRef}. */
    @FunctionalInterface
    public interface PersistentLoader {
        /** The object for the persistent id {@code pid}; throw {@link WeightFormatException} to reject it. */
        Object load(Object pid) throws IOException;
    }

    /** An immutable Python tuple. */
    public static final class PyTuple extends AbstractList<Object> {
        private final Object[] items;

        /** A tuple of the given items (copied). */
        public PyTuple(Object... items) {
            this.items = items.clone();
        }

        PyTuple(Collection<?> items) {
            this.items = items.toArray();
        }

        @Override
        public Object get(int index) {
            return items[index];
        }

        @Override
        public int size() {
            return items.length;
        }
    }

    /** A Python dict or {@code collections.OrderedDict}; attributes set by BUILD (OrderedDict's {@code _metadata}) are kept apart. */
    public static final class PyDict extends LinkedHashMap<Object, Object> {
        private static final long serialVersionUID = 1L;
        private final boolean ordered;
        private final Map<String, Object> attributes = new LinkedHashMap<>();

        /** A dict; {@code ordered} for an OrderedDict. */
        public PyDict(boolean ordered) {
            this.ordered = ordered;
        }

        /** Whether it was a {@code collections.OrderedDict}. */
        public boolean isOrdered() {
            return ordered;
        }

        /** The instance attributes set by the pickle (for state dicts: {@code _metadata}). */
        public Map<String, Object> attributes() {
            return attributes;
        }

        @Override
        public boolean equals(Object o) {
            return this == o;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(this);
        }
    }

    /** A resolved global reference {@code module.name}. */
    public static final class PyGlobal {
        private final String module;
        private final String name;
        private final Kind kind;
        private final DType storageDtype;

        PyGlobal(String module, String name, Kind kind, DType storageDtype) {
            this.module = module;
            this.name = name;
            this.kind = kind;
            this.storageDtype = storageDtype;
        }

        /** The module, e.g. {@code torch._utils}. */
        public String module() {
            return module;
        }

        /** The attribute name, e.g. {@code _rebuild_tensor_v2}. */
        public String name() {
            return name;
        }

        /** {@code module.name}. */
        public String qualifiedName() {
            return module + "." + name;
        }

        /** For a storage class: its element type (U8 for {@code UntypedStorage}); else null. */
        public DType storageDtype() {
            return storageDtype;
        }

        boolean isStorageType() {
            return kind == Kind.STORAGE_TYPE;
        }

        @Override
        public String toString() {
            return qualifiedName();
        }
    }

    /** An opaque instance of an inert global: its constructor arguments and BUILD state, never interpreted. */
    public static final class PyObject {
        private final PyGlobal type;
        private final List<Object> args;
        private Object state;

        PyObject(PyGlobal type, List<Object> args) {
            this.type = type;
            this.args = args;
        }

        /** The class (or callable) that would have made it. */
        public PyGlobal type() {
            return type;
        }

        /** The constructor arguments. */
        public List<Object> args() {
            return args;
        }

        /** The state given by BUILD, or null. */
        public Object state() {
            return state;
        }

        @Override
        public String toString() {
            return "<" + type.qualifiedName() + " object>";
        }
    }

    /**
     * A storage named by a persistent id: the file-level storage {@code key}, its element type and element count; for
     * legacy view storages, {@code elementOffset} elements into the root storage {@code key}.
     */
    public record StorageRef(String key, DType dtype, long numel, long elementOffset) {
        /** Validates the fields. */
        public StorageRef {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(dtype, "dtype");
            if (numel < 0 || elementOffset < 0) {
                throw new IllegalArgumentException("negative storage size or offset");
            }
        }
    }

    /** A tensor as pickled: a view ({@code offset}, {@code size}, {@code stride}, in elements) of a storage. */
    public record TensorRef(StorageRef storage, long offset, long[] size, long[] stride, boolean requiresGrad) {
        /** The element type. */
        public DType dtype() {
            return storage.dtype();
        }

        @Override
        public String toString() {
            return "TensorRef[" + storage.dtype() + " " + Arrays.toString(size) + " stride " + Arrays.toString(stride)
                    + " +" + offset + " of storage '" + storage.key() + "']";
        }
    }

    enum Kind {
        ORDERED_DICT, REBUILD_TENSOR_V2, REBUILD_TENSOR, REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE,
        REBUILD_FROM_TYPE_V2, TENSOR_TYPE, STORAGE_TYPE, SET, FROZENSET, TUPLE, CODECS_ENCODE, INERT
    }

    private static final Map<String, Kind> ALLOWED = new HashMap<>();

    static {
        ALLOWED.put("collections.OrderedDict", Kind.ORDERED_DICT);
        ALLOWED.put("torch._utils._rebuild_tensor_v2", Kind.REBUILD_TENSOR_V2);
        ALLOWED.put("torch._utils._rebuild_tensor", Kind.REBUILD_TENSOR);
        ALLOWED.put("torch._utils._rebuild_parameter", Kind.REBUILD_PARAMETER);
        ALLOWED.put("torch._utils._rebuild_parameter_with_state", Kind.REBUILD_PARAMETER_WITH_STATE);
        ALLOWED.put("torch._tensor._rebuild_from_type_v2", Kind.REBUILD_FROM_TYPE_V2);
        ALLOWED.put("torch.Tensor", Kind.TENSOR_TYPE);
        ALLOWED.put("torch._tensor.Tensor", Kind.TENSOR_TYPE);
        ALLOWED.put("torch.nn.parameter.Parameter", Kind.TENSOR_TYPE);
        for (String b : new String[] {"builtins", "__builtin__"}) {
            ALLOWED.put(b + ".set", Kind.SET);
            ALLOWED.put(b + ".frozenset", Kind.FROZENSET);
            ALLOWED.put(b + ".tuple", Kind.TUPLE);
        }
        ALLOWED.put("_codecs.encode", Kind.CODECS_ENCODE);
    }

    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    private final Source in;
    private final PersistentLoader persistentLoader;
    private final Set<String> inertGlobals;
    private final ArrayList<Object> stack = new ArrayList<>();
    private int[] marks = new int[16];
    private int markCount;
    private final HashMap<Long, Object> memo = new HashMap<>();

    private TorchPickle(Source in, PersistentLoader persistentLoader, Set<String> inertGlobals) {
        this.in = in;
        this.persistentLoader = persistentLoader;
        this.inertGlobals = inertGlobals == null ? Set.of() : inertGlobals;
    }

    /**
     * Unpickles one pickle from {@code data}.
     *
     * @param persistentLoader resolves persistent ids; null to reject them
     * @param inertGlobals further {@code module.name} globals to accept as opaque placeholders (usually empty)
     * @throws UnsafeWeightFileException at the first global outside the allow-list
     * @throws WeightFormatException if the pickle is truncated or malformed
     */
    public static Object load(byte[] data, PersistentLoader persistentLoader, Set<String> inertGlobals)
            throws IOException {
        return load(new Source(new java.io.ByteArrayInputStream(data), data.length), persistentLoader, inertGlobals);
    }

    /**
     * Unpickles one pickle from a stream of which at most {@code limit} bytes may be read (every length read from the
     * pickle is bounded by what remains of it); the stream is left just after the STOP opcode when read through
     * {@link Source}.
     */
    static Object load(Source source, PersistentLoader persistentLoader, Set<String> inertGlobals)
            throws IOException {
        TorchPickle p = new TorchPickle(source, persistentLoader, inertGlobals);
        try {
            return p.run();
        } catch (StackOverflowError e) {
            throw new WeightFormatException("pickle nested too deeply (at byte " + source.position() + ")");
        } catch (ClassCastException | IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new WeightFormatException("malformed pickle at byte " + source.position() + ": " + e.getMessage(), e);
        }
    }

    /** A byte source that counts what was consumed and bounds every read by a limit. */
    static final class Source {
        private static final int MAX_LINE = 1 << 24;
        private final InputStream in;
        private final long limit;
        private long position;

        Source(InputStream in, long limit) {
            this.in = in;
            this.limit = limit;
        }

        long position() {
            return position;
        }

        long remaining() {
            return limit - position;
        }

        int read() throws IOException {
            if (position >= limit) {
                throw new EOFException();
            }
            int b = in.read();
            if (b < 0) {
                throw new EOFException();
            }
            position++;
            return b;
        }

        byte[] read(long n) throws IOException {
            if (n < 0 || n > remaining()) {
                throw new WeightFormatException("pickle asks for " + n + " bytes at byte " + position + " but only "
                        + Math.max(0, remaining()) + " remain (truncated or corrupt file)");
            }
            byte[] b = in.readNBytes((int) n);
            if (b.length != n) {
                throw new EOFException();
            }
            position += n;
            return b;
        }

        long readLE(int n) throws IOException {
            byte[] b = read(n);
            long v = 0;
            for (int i = n - 1; i >= 0; i--) {
                v = (v << 8) | (b[i] & 0xFF);
            }
            return v;
        }

        String readLine() throws IOException {
            StringBuilder sb = new StringBuilder();
            while (true) {
                int c = read();
                if (c == '\n') {
                    return sb.toString();
                }
                if (sb.length() >= MAX_LINE) {
                    throw new WeightFormatException("pickle text line longer than " + MAX_LINE + " bytes at byte "
                            + position + " (corrupt file?)");
                }
                sb.append((char) c);
            }
        }
    }

    private Object run() throws IOException {
        while (true) {
            long at = in.position();
            int op;
            try {
                op = in.read();
            } catch (EOFException e) {
                throw new WeightFormatException("truncated pickle: no STOP opcode before byte " + at);
            }
            try {
                if (op == '.') {
                    return pop();
                }
                step(op, at);
            } catch (EOFException e) {
                throw new WeightFormatException("truncated pickle: ended inside opcode 0x"
                        + Integer.toHexString(op) + " at byte " + at);
            }
        }
    }

    private void step(int op, long at) throws IOException {
        switch (op) {
            // ---- framing and protocol
            case 0x80: { // PROTO
                int proto = in.read();
                if (proto > 5) {
                    throw new WeightFormatException("unsupported pickle protocol " + proto);
                }
                break;
            }
            case 0x95: { // FRAME
                long n = in.readLE(8);
                if (n < 0 || n > in.remaining()) {
                    throw new WeightFormatException("pickle frame of " + n + " bytes exceeds the data (byte " + at + ")");
                }
                break;
            }
            // ---- stack manipulation
            case '(': // MARK
                if (markCount == marks.length) {
                    marks = Arrays.copyOf(marks, marks.length * 2);
                }
                marks[markCount++] = stack.size();
                break;
            case '0': // POP
                if (stack.size() > (markCount > 0 ? marks[markCount - 1] : 0)) {
                    pop();
                } else {
                    popMark();
                }
                break;
            case '1': // POP_MARK
                popMarkItems();
                break;
            case '2': // DUP
                push(peek());
                break;
            // ---- constants and numbers
            case 'N': push(null); break;
            case 0x88: push(Boolean.TRUE); break;
            case 0x89: push(Boolean.FALSE); break;
            case 'J': push((long) (int) in.readLE(4)); break; // BININT
            case 'K': push((long) in.read()); break; // BININT1
            case 'M': push(in.readLE(2)); break; // BININT2
            case 'I': { // INT
                String s = in.readLine();
                if (s.equals("00")) {
                    push(Boolean.FALSE);
                } else if (s.equals("01")) {
                    push(Boolean.TRUE);
                } else {
                    push(parseInt(s));
                }
                break;
            }
            case 'L': { // LONG
                String s = in.readLine();
                push(parseInt(s.endsWith("L") ? s.substring(0, s.length() - 1) : s));
                break;
            }
            case 0x8a: push(littleEndianInt(in.read(in.read()))); break; // LONG1
            case 0x8b: { // LONG4
                long n = (int) in.readLE(4);
                if (n < 0) {
                    throw new WeightFormatException("negative LONG4 length at byte " + at);
                }
                push(littleEndianInt(in.read(n)));
                break;
            }
            case 'G': push(Double.longBitsToDouble(bigEndianLong(in.read(8)))); break; // BINFLOAT
            case 'F': push(parseFloat(in.readLine())); break; // FLOAT
            // ---- strings and bytes
            case 'X': push(utf8(in.read(in.readLE(4)))); break; // BINUNICODE
            case 0x8c: push(utf8(in.read(in.read()))); break; // SHORT_BINUNICODE
            case 0x8d: push(utf8(in.read(in.readLE(8)))); break; // BINUNICODE8
            case 'V': push(rawUnicodeEscape(in.readLine())); break; // UNICODE
            case 'T': push(pyStr(in.read((int) in.readLE(4)))); break; // BINSTRING (signed length)
            case 'U': push(pyStr(in.read(in.read()))); break; // SHORT_BINSTRING
            case 'S': push(pyStr(unquote(in.readLine()))); break; // STRING
            case 'B': push(in.read(in.readLE(4))); break; // BINBYTES
            case 'C': push(in.read(in.read())); break; // SHORT_BINBYTES
            case 0x8e: push(in.read(in.readLE(8))); break; // BINBYTES8
            case 0x96: push(in.read(in.readLE(8))); break; // BYTEARRAY8 (as bytes)
            case 0x97: case 0x98:
                throw new WeightFormatException("pickle uses out-of-band buffers (protocol 5), not supported");
            // ---- containers
            case ')': push(new PyTuple()); break; // EMPTY_TUPLE
            case 't': push(new PyTuple(popMarkItems())); break; // TUPLE
            case 0x85: { Object a = pop(); push(new PyTuple(a)); break; } // TUPLE1
            case 0x86: { Object b = pop(); Object a = pop(); push(new PyTuple(a, b)); break; } // TUPLE2
            case 0x87: { Object c = pop(); Object b = pop(); Object a = pop(); push(new PyTuple(a, b, c)); break; }
            case ']': push(new ArrayList<>()); break; // EMPTY_LIST
            case 'l': push(new ArrayList<>(popMarkItems())); break; // LIST
            case 'a': { Object v = pop(); asList(peek(), at).add(v); break; } // APPEND
            case 'e': { List<Object> items = popMarkItems(); asList(peek(), at).addAll(items); break; } // APPENDS
            case '}': push(new PyDict(false)); break; // EMPTY_DICT
            case 'd': { // DICT
                List<Object> items = popMarkItems();
                PyDict d = new PyDict(false);
                putPairs(d, items, at);
                push(d);
                break;
            }
            case 's': { Object v = pop(); Object k = pop(); asDict(peek(), at).put(key(k), v); break; } // SETITEM
            case 'u': { List<Object> items = popMarkItems(); putPairs(asDict(peek(), at), items, at); break; }
            case 0x8f: push(new LinkedHashSet<>()); break; // EMPTY_SET
            case 0x90: { // ADDITEMS
                List<Object> items = popMarkItems();
                Object s = peek();
                if (!(s instanceof Set)) {
                    throw new WeightFormatException("ADDITEMS on " + describe(s) + " at byte " + at);
                }
                @SuppressWarnings("unchecked")
                Set<Object> set = (Set<Object>) s;
                for (Object o : items) {
                    set.add(key(o));
                }
                break;
            }
            case 0x91: push(new LinkedHashSet<>(keys(popMarkItems()))); break; // FROZENSET
            // ---- memo
            case 'p': memoPut(parseMemoIndex(in.readLine(), at)); break; // PUT
            case 'q': memoPut(in.read()); break; // BINPUT
            case 'r': memoPut(in.readLE(4)); break; // LONG_BINPUT
            case 0x94: memoPut(memo.size()); break; // MEMOIZE
            case 'g': push(memoGet(parseMemoIndex(in.readLine(), at), at)); break; // GET
            case 'h': push(memoGet(in.read(), at)); break; // BINGET
            case 'j': push(memoGet(in.readLE(4), at)); break; // LONG_BINGET
            // ---- globals and objects
            case 'c': { // GLOBAL
                String module = in.readLine();
                String name = in.readLine();
                push(resolve(module, name));
                break;
            }
            case 0x93: { // STACK_GLOBAL
                Object name = pop();
                Object module = pop();
                if (!(module instanceof String) || !(name instanceof String)) {
                    throw new WeightFormatException("STACK_GLOBAL with non-string operands at byte " + at);
                }
                push(resolve((String) module, (String) name));
                break;
            }
            case 'R': { // REDUCE
                Object args = pop();
                Object callable = pop();
                push(call(callable, asTuple(args, at), at));
                break;
            }
            case 0x81: { // NEWOBJ
                Object args = pop();
                Object cls = pop();
                push(construct(cls, asTuple(args, at), at));
                break;
            }
            case 0x92: { // NEWOBJ_EX
                pop(); // kwargs
                Object args = pop();
                Object cls = pop();
                push(construct(cls, asTuple(args, at), at));
                break;
            }
            case 'i': { // INST
                String module = in.readLine();
                String name = in.readLine();
                PyGlobal cls = resolve(module, name);
                push(construct(cls, popMarkItems(), at));
                break;
            }
            case 'o': { // OBJ
                List<Object> items = popMarkItems();
                if (items.isEmpty()) {
                    throw new WeightFormatException("OBJ without a class at byte " + at);
                }
                push(construct(items.get(0), items.subList(1, items.size()), at));
                break;
            }
            case 'b': { // BUILD
                Object state = pop();
                build(peek(), state, at);
                break;
            }
            case 'P': push(persistent(in.readLine(), at)); break; // PERSID
            case 'Q': push(persistent(pop(), at)); break; // BINPERSID
            case 0x82: case 0x83: case 0x84:
                throw new WeightFormatException("pickle uses the copyreg extension registry (EXT opcodes), which is"
                        + " not allowed in weight files (byte " + at + ")");
            default:
                throw new WeightFormatException(String.format("unknown pickle opcode 0x%02x at byte %d (corrupt file?)",
                        op, at));
        }
    }

    // ------------------------------------------------------------------------------------------------ globals

    private PyGlobal resolve(String module, String name) throws UnsafeWeightFileException {
        String q = module + "." + name;
        Kind kind = ALLOWED.get(q);
        if (kind != null) {
            return new PyGlobal(module, name, kind, null);
        }
        if (module.equals("torch") || module.equals("torch.storage")) {
            if (name.equals("UntypedStorage") || name.equals("_UntypedStorage")) {
                return new PyGlobal(module, name, Kind.STORAGE_TYPE, DType.U8);
            }
            DType t = module.equals("torch") ? DType.fromStorageName(name) : null;
            if (t != null) {
                return new PyGlobal(module, name, Kind.STORAGE_TYPE, t);
            }
        }
        if (inertGlobals.contains(q)) {
            return new PyGlobal(module, name, Kind.INERT, null);
        }
        String hint = module.equals("torch") && name.endsWith("Storage")
                ? "storage type " + name + " (complex or quantized tensors) is not supported"
                : null;
        throw new UnsafeWeightFileException(q, hint);
    }

    private Object call(Object callable, List<Object> args, long at) throws IOException {
        if (!(callable instanceof PyGlobal)) {
            throw new WeightFormatException("REDUCE on a non-callable " + describe(callable) + " at byte " + at);
        }
        PyGlobal g = (PyGlobal) callable;
        switch (g.kind) {
            case ORDERED_DICT: {
                PyDict d = new PyDict(true);
                if (!args.isEmpty()) {
                    Object init = args.get(0);
                    if (init instanceof Map) {
                        for (Map.Entry<?, ?> e : ((Map<?, ?>) init).entrySet()) {
                            d.put(e.getKey(), e.getValue());
                        }
                    } else if (init instanceof List) {
                        for (Object pair : (List<?>) init) {
                            List<?> kv = (List<?>) pair;
                            d.put(key(kv.get(0)), kv.get(1));
                        }
                    } else if (init != null) {
                        throw new WeightFormatException("OrderedDict(" + describe(init) + ") at byte " + at);
                    }
                }
                return d;
            }
            case REBUILD_TENSOR_V2:
            case REBUILD_TENSOR: {
                int min = g.kind == Kind.REBUILD_TENSOR ? 4 : 6;
                if (args.size() < min) {
                    throw new WeightFormatException(g + " with " + args.size() + " arguments at byte " + at);
                }
                if (!(args.get(0) instanceof StorageRef)) {
                    throw new WeightFormatException(g + " on " + describe(args.get(0)) + ", not a storage, at byte "
                            + at);
                }
                StorageRef storage = (StorageRef) args.get(0);
                long offset = toLong(args.get(1), "storage_offset", at);
                long[] size = toLongs(args.get(2), "size", at);
                long[] stride = toLongs(args.get(3), "stride", at);
                if (size.length != stride.length) {
                    throw new WeightFormatException("tensor size " + Arrays.toString(size) + " and stride "
                            + Arrays.toString(stride) + " differ in rank at byte " + at);
                }
                boolean requiresGrad = args.size() > 4 && Boolean.TRUE.equals(args.get(4));
                return new TensorRef(storage, offset, size, stride, requiresGrad);
            }
            case REBUILD_PARAMETER:
            case REBUILD_PARAMETER_WITH_STATE: {
                if (args.isEmpty() || !(args.get(0) instanceof TensorRef)) {
                    throw new WeightFormatException(g + " on " + (args.isEmpty() ? "nothing" : describe(args.get(0)))
                            + " at byte " + at);
                }
                TensorRef t = (TensorRef) args.get(0);
                boolean requiresGrad = args.size() > 1 && Boolean.TRUE.equals(args.get(1));
                return new TensorRef(t.storage(), t.offset(), t.size(), t.stride(), requiresGrad);
            }
            case REBUILD_FROM_TYPE_V2: {
                if (args.size() < 3 || !(args.get(1) instanceof PyGlobal)
                        || ((PyGlobal) args.get(1)).kind != Kind.TENSOR_TYPE) {
                    throw new WeightFormatException(g + " is only supported for torch.Tensor and Parameter (byte "
                            + at + ")");
                }
                return call(args.get(0), asTuple(args.get(2), at), at);
            }
            case SET:
            case FROZENSET:
                return new LinkedHashSet<>(args.isEmpty() ? List.of() : keys(iterable(args.get(0), at)));
            case TUPLE:
                return new PyTuple(args.isEmpty() ? List.of() : iterable(args.get(0), at));
            case CODECS_ENCODE: {
                if (args.isEmpty() || !(args.get(0) instanceof String)) {
                    throw new WeightFormatException("_codecs.encode on a non-string at byte " + at);
                }
                String enc = args.size() > 1 ? String.valueOf(args.get(1)).toLowerCase(java.util.Locale.ROOT) : "utf-8";
                if (enc.equals("latin1") || enc.equals("latin-1") || enc.equals("iso-8859-1")) {
                    return ((String) args.get(0)).getBytes(StandardCharsets.ISO_8859_1);
                }
                if (enc.equals("utf-8") || enc.equals("utf8")) {
                    return ((String) args.get(0)).getBytes(StandardCharsets.UTF_8);
                }
                throw new WeightFormatException("_codecs.encode with codec '" + enc + "' is not supported");
            }
            case INERT:
                return new PyObject(g, new ArrayList<>(args));
            default:
                throw new WeightFormatException(g + " is not callable here (byte " + at + ")");
        }
    }

    private Object construct(Object cls, List<Object> args, long at) throws IOException {
        if (!(cls instanceof PyGlobal)) {
            throw new WeightFormatException("NEWOBJ on a non-class " + describe(cls) + " at byte " + at);
        }
        PyGlobal g = (PyGlobal) cls;
        switch (g.kind) {
            case ORDERED_DICT: return new PyDict(true);
            case SET: case FROZENSET: case TUPLE: case INERT: return call(g, args, at);
            default: throw new WeightFormatException("cannot instantiate " + g + " (byte " + at + ")");
        }
    }

    private void build(Object target, Object state, long at) throws IOException {
        if (target instanceof PyObject) {
            ((PyObject) target).state = state;
            return;
        }
        if (target instanceof PyDict) {
            Object dictState = state;
            if (state instanceof PyTuple && ((PyTuple) state).size() == 2) {
                dictState = ((PyTuple) state).get(0); // (state, slotstate)
            }
            if (dictState instanceof Map) {
                for (Map.Entry<?, ?> e : ((Map<?, ?>) dictState).entrySet()) {
                    ((PyDict) target).attributes().put(String.valueOf(e.getKey()), e.getValue());
                }
                return;
            }
            if (dictState == null) {
                return;
            }
        }
        if (target instanceof TensorRef && (state == null || (state instanceof Map && ((Map<?, ?>) state).isEmpty()))) {
            return;
        }
        throw new WeightFormatException("BUILD of " + describe(target) + " with " + describe(state) + " at byte " + at);
    }

    private Object persistent(Object pid, long at) throws IOException {
        if (persistentLoader == null) {
            throw new WeightFormatException("unexpected persistent id in this pickle (byte " + at + ")");
        }
        return persistentLoader.load(pid);
    }

    // ------------------------------------------------------------------------------------------------ stack helpers

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop() throws WeightFormatException {
        int base = markCount > 0 ? marks[markCount - 1] : 0;
        if (stack.size() <= base) {
            throw new WeightFormatException("corrupt pickle: stack underflow at byte " + in.position());
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() throws WeightFormatException {
        int base = markCount > 0 ? marks[markCount - 1] : 0;
        if (stack.size() <= base) {
            throw new WeightFormatException("corrupt pickle: empty stack at byte " + in.position());
        }
        return stack.get(stack.size() - 1);
    }

    private int popMark() throws WeightFormatException {
        if (markCount == 0) {
            throw new WeightFormatException("corrupt pickle: no MARK at byte " + in.position());
        }
        return marks[--markCount];
    }

    private List<Object> popMarkItems() throws WeightFormatException {
        int m = popMark();
        List<Object> tail = stack.subList(m, stack.size());
        List<Object> items = new ArrayList<>(tail);
        tail.clear();
        return items;
    }

    private void memoPut(long index) throws WeightFormatException {
        if (index < 0) {
            throw new WeightFormatException("negative memo index");
        }
        memo.put(index, peek());
    }

    private Object memoGet(long index, long at) throws WeightFormatException {
        if (!memo.containsKey(index)) {
            throw new WeightFormatException("corrupt pickle: memo entry " + index + " missing at byte " + at);
        }
        return memo.get(index);
    }

    private static long parseMemoIndex(String s, long at) throws WeightFormatException {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new WeightFormatException("bad memo index '" + s + "' at byte " + at);
        }
    }

    private static void putPairs(Map<Object, Object> d, List<Object> items, long at) throws WeightFormatException {
        if (items.size() % 2 != 0) {
            throw new WeightFormatException("odd number of dict items at byte " + at);
        }
        for (int i = 0; i < items.size(); i += 2) {
            d.put(key(items.get(i)), items.get(i + 1));
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Object> asList(Object o, long at) throws WeightFormatException {
        if (o instanceof ArrayList) {
            return (List<Object>) o;
        }
        throw new WeightFormatException("APPEND to " + describe(o) + " at byte " + at);
    }

    private static Map<Object, Object> asDict(Object o, long at) throws WeightFormatException {
        if (o instanceof PyDict) {
            return (PyDict) o;
        }
        throw new WeightFormatException("SETITEM on " + describe(o) + " at byte " + at);
    }

    private static List<Object> asTuple(Object o, long at) throws WeightFormatException {
        if (o instanceof PyTuple) {
            return (PyTuple) o;
        }
        if (o instanceof ArrayList) {
            @SuppressWarnings("unchecked")
            List<Object> l = (List<Object>) o;
            return l;
        }
        throw new WeightFormatException("expected an argument tuple, got " + describe(o) + " at byte " + at);
    }

    private static Collection<?> iterable(Object o, long at) throws WeightFormatException {
        if (o instanceof Collection) {
            return (Collection<?>) o;
        }
        if (o instanceof Map) {
            return ((Map<?, ?>) o).keySet();
        }
        throw new WeightFormatException("expected an iterable, got " + describe(o) + " at byte " + at);
    }

    /** Dict keys and set items: byte strings get value semantics. */
    private static Object key(Object k) {
        return k instanceof byte[] ? new String((byte[]) k, StandardCharsets.ISO_8859_1) : k;
    }

    private static List<Object> keys(Collection<?> items) {
        List<Object> out = new ArrayList<>(items.size());
        for (Object o : items) {
            out.add(key(o));
        }
        return out;
    }

    private static long toLong(Object o, String what, long at) throws WeightFormatException {
        if (o instanceof Long) {
            return (Long) o;
        }
        throw new WeightFormatException("tensor " + what + " is " + describe(o) + ", not an int, at byte " + at);
    }

    private static long[] toLongs(Object o, String what, long at) throws WeightFormatException {
        if (!(o instanceof List)) {
            throw new WeightFormatException("tensor " + what + " is " + describe(o) + ", not a tuple, at byte " + at);
        }
        List<?> l = (List<?>) o;
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = toLong(l.get(i), what, at);
        }
        return out;
    }

    /** A short description of a value for error messages (never recursive). */
    static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof String) {
            return "str " + Keys.quote((String) o);
        }
        if (o instanceof Long || o instanceof BigInteger) {
            return "int " + o;
        }
        if (o instanceof Double) {
            return "float " + o;
        }
        if (o instanceof Boolean) {
            return "bool " + o;
        }
        if (o instanceof byte[]) {
            return "bytes of length " + ((byte[]) o).length;
        }
        if (o instanceof PyTuple) {
            return "tuple of " + ((PyTuple) o).size();
        }
        if (o instanceof List) {
            return "list of " + ((List<?>) o).size();
        }
        if (o instanceof PyDict) {
            return (((PyDict) o).isOrdered() ? "OrderedDict" : "dict") + " of " + ((PyDict) o).size();
        }
        if (o instanceof Set) {
            return "set of " + ((Set<?>) o).size();
        }
        if (o instanceof PyGlobal) {
            return "global " + ((PyGlobal) o).qualifiedName();
        }
        if (o instanceof PyObject) {
            return o.toString();
        }
        if (o instanceof TensorRef) {
            TensorRef t = (TensorRef) o;
            return "tensor " + t.dtype() + Arrays.toString(t.size());
        }
        if (o instanceof StorageRef) {
            return "storage '" + ((StorageRef) o).key() + "'";
        }
        return o.getClass().getSimpleName();
    }

    // ------------------------------------------------------------------------------------------------ scalars

    private static Object parseInt(String s) throws WeightFormatException {
        try {
            BigInteger b = new BigInteger(s.trim());
            return normalize(b);
        } catch (NumberFormatException e) {
            throw new WeightFormatException("bad integer literal '" + s + "' in pickle");
        }
    }

    private static Object normalize(BigInteger b) {
        return b.compareTo(LONG_MIN) >= 0 && b.compareTo(LONG_MAX) <= 0 ? (Object) b.longValue() : b;
    }

    private static Object littleEndianInt(byte[] le) {
        if (le.length == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        return normalize(new BigInteger(be));
    }

    private static long bigEndianLong(byte[] b) {
        long v = 0;
        for (byte x : b) {
            v = (v << 8) | (x & 0xFF);
        }
        return v;
    }

    private static Double parseFloat(String s) throws WeightFormatException {
        String t = s.trim();
        switch (t) {
            case "inf": return Double.POSITIVE_INFINITY;
            case "-inf": return Double.NEGATIVE_INFINITY;
            case "nan": return Double.NaN;
            default:
                try {
                    return Double.parseDouble(t);
                } catch (NumberFormatException e) {
                    throw new WeightFormatException("bad float literal '" + s + "' in pickle");
                }
        }
    }

    private static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** A Python 2 {@code str}: decoded as UTF-8 when it is valid UTF-8 (what torch.load's default encoding does), else latin-1. */
    private static String pyStr(byte[] b) {
        java.nio.charset.CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder();
        try {
            return dec.decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return new String(b, StandardCharsets.ISO_8859_1);
        }
    }

    private static byte[] unquote(String line) throws WeightFormatException {
        String s = line.trim();
        if (s.length() < 2 || (s.charAt(0) != '\'' && s.charAt(0) != '"') || s.charAt(s.length() - 1) != s.charAt(0)) {
            throw new WeightFormatException("bad STRING literal in pickle");
        }
        s = s.substring(1, s.length() - 1);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                out.write(c);
                continue;
            }
            char n = s.charAt(++i);
            switch (n) {
                case 'n': out.write('\n'); break;
                case 't': out.write('\t'); break;
                case 'r': out.write('\r'); break;
                case '0': out.write(0); break;
                case '\\': out.write('\\'); break;
                case '\'': out.write('\''); break;
                case '"': out.write('"'); break;
                case 'x':
                    if (i + 2 >= s.length()) {
                        throw new WeightFormatException("bad \\x escape in pickle STRING");
                    }
                    try {
                        out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                    } catch (RuntimeException e) {
                        throw new WeightFormatException("bad \\x escape in pickle STRING");
                    }
                    i += 2;
                    break;
                default: out.write('\\'); out.write(n);
            }
        }
        return out.toByteArray();
    }

    private static String rawUnicodeEscape(String latin1) throws WeightFormatException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < latin1.length(); i++) {
            char c = latin1.charAt(i);
            if (c == '\\' && i + 1 < latin1.length() && (latin1.charAt(i + 1) == 'u' || latin1.charAt(i + 1) == 'U')) {
                int len = latin1.charAt(i + 1) == 'u' ? 4 : 8;
                if (i + 2 + len > latin1.length()) {
                    throw new WeightFormatException("bad \\u escape in pickle UNICODE");
                }
                try {
                    sb.appendCodePoint(Integer.parseInt(latin1.substring(i + 2, i + 2 + len), 16));
                } catch (RuntimeException e) {
                    throw new WeightFormatException("bad \\u escape in pickle UNICODE");
                }
                i += 1 + len;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}

package org.fixres4j.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable dense tensor: a {@link DType}, a shape and exactly the C-order (row-major) contiguous little-endian
 * bytes of its elements, held in a {@link ByteBuffer} (a heap array or a read-only memory-mapped region of a file).
 *
 * <p>A tensor of shape {@code []} is a scalar with one element; a dimension of size 0 gives an empty tensor. The byte
 * size is limited to {@link Integer#MAX_VALUE} (the limit of one ByteBuffer).
 */
public final class TensorData {
    private final DType dtype;
    private final long[] shape;
    private final long numel;
    private final ByteBuffer data;

    private TensorData(DType dtype, long[] shape, long numel, ByteBuffer data) {
        this.dtype = dtype;
        this.shape = shape;
        this.numel = numel;
        this.data = data;
    }

    /**
     * Wraps bytes (from their position to their limit, which must be exactly numel * dtype size) without copying; the
     * caller must not change them afterwards.
     *
     * @throws IllegalArgumentException if a dimension is negative, the element count overflows or the byte count is wrong
     */
    public static TensorData wrap(DType dtype, long[] shape, ByteBuffer bytes) {
        Objects.requireNonNull(dtype, "dtype");
        long[] s = shape.clone();
        long n = numel(s);
        long nbytes = byteSize(n, dtype);
        if (bytes.remaining() != nbytes) {
            throw new IllegalArgumentException("shape " + Arrays.toString(s) + " of " + dtype + " needs " + nbytes
                    + " bytes, got " + bytes.remaining());
        }
        ByteBuffer view = bytes.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return new TensorData(dtype, s, n, view);
    }

    /** Copies little-endian bytes (from position to limit) into a new tensor. */
    public static TensorData copyOf(DType dtype, long[] shape, ByteBuffer bytes) {
        ByteBuffer copy = ByteBuffer.allocate(bytes.remaining());
        copy.put(bytes.duplicate()).flip();
        return wrap(dtype, shape, copy);
    }

    /** A float32 tensor holding a copy of {@code values} (whose length must match the shape). */
    public static TensorData ofFloats(long[] shape, float... values) {
        ByteBuffer b = allocateFor(DType.F32, shape, values.length);
        b.asFloatBuffer().put(values);
        return wrap(DType.F32, shape, b);
    }

    /** A float64 tensor holding a copy of {@code values}. */
    public static TensorData ofDoubles(long[] shape, double... values) {
        ByteBuffer b = allocateFor(DType.F64, shape, values.length);
        b.asDoubleBuffer().put(values);
        return wrap(DType.F64, shape, b);
    }

    /** An int64 tensor holding a copy of {@code values}. */
    public static TensorData ofLongs(long[] shape, long... values) {
        ByteBuffer b = allocateFor(DType.I64, shape, values.length);
        b.asLongBuffer().put(values);
        return wrap(DType.I64, shape, b);
    }

    /** An int32 tensor holding a copy of {@code values}. */
    public static TensorData ofInts(long[] shape, int... values) {
        ByteBuffer b = allocateFor(DType.I32, shape, values.length);
        b.asIntBuffer().put(values);
        return wrap(DType.I32, shape, b);
    }

    /**
     * A float tensor of type {@code dtype} (F16, BF16, F32 or F64) holding {@code values} rounded to that type
     * (round-to-nearest-even, as PyTorch's {@code .half()} / {@code .bfloat16()} do).
     */
    public static TensorData ofFloats(DType dtype, long[] shape, float... values) {
        ByteBuffer b = allocateFor(dtype, shape, values.length);
        switch (dtype) {
            case F32: b.asFloatBuffer().put(values); break;
            case F64: for (float v : values) { b.putDouble(v); } b.flip(); break;
            case F16: for (float v : values) { b.putShort(floatToHalf(v)); } b.flip(); break;
            case BF16: for (float v : values) { b.putShort(floatToBFloat16(v)); } b.flip(); break;
            default: throw new IllegalArgumentException("not a floating-point dtype: " + dtype);
        }
        return wrap(dtype, shape, b);
    }

    private static ByteBuffer allocateFor(DType dtype, long[] shape, int count) {
        long n = numel(shape);
        if (n != count) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + n + " elements, got "
                    + count + " values");
        }
        return ByteBuffer.allocate(Math.toIntExact(byteSize(n, dtype))).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The number of elements of a shape (1 for {@code []}), checking for negative sizes and overflow. */
    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private static long byteSize(long numel, DType dtype) {
        long nbytes = Math.multiplyExact(numel, (long) dtype.size());
        if (nbytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor of " + nbytes + " bytes exceeds the 2 GiB limit of one buffer");
        }
        return nbytes;
    }

    /** The element type. */
    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape. */
    public long[] shape() {
        return shape.clone();
    }

    /** The number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** The size of dimension {@code i}. */
    public long dim(int i) {
        return shape[i];
    }

    /** The number of elements. */
    public long numel() {
        return numel;
    }

    /** The number of bytes ({@code numel * dtype.size()}). */
    public int byteSize() {
        return data.capacity();
    }

    /** A fresh read-only little-endian view of all the bytes (position 0, limit {@link #byteSize()}). */
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A copy of the raw bytes. */
    public byte[] toByteArray() {
        byte[] out = new byte[data.capacity()];
        data.duplicate().get(out);
        return out;
    }

    /**
     * The index of the first NaN or infinite element, or -1 when every element is finite (always -1 for integer and
     * bool tensors). Reads the bytes in place: nothing is copied.
     */
    public long firstNonFinite() {
        ByteBuffer b = data();
        int n = Math.toIntExact(numel);
        switch (dtype) {
            case F32:
                for (int i = 0; i < n; i++) {
                    // exponent bits all ones: Inf or NaN
                    if ((b.getInt(4 * i) & 0x7F800000) == 0x7F800000) {
                        return i;
                    }
                }
                return -1;
            case F64:
                for (int i = 0; i < n; i++) {
                    if ((b.getLong(8 * i) & 0x7FF0000000000000L) == 0x7FF0000000000000L) {
                        return i;
                    }
                }
                return -1;
            case F16:
                for (int i = 0; i < n; i++) {
                    if ((b.getShort(2 * i) & 0x7C00) == 0x7C00) {
                        return i;
                    }
                }
                return -1;
            case BF16:
                for (int i = 0; i < n; i++) {
                    if ((b.getShort(2 * i) & 0x7F80) == 0x7F80) {
                        return i;
                    }
                }
                return -1;
            default:
                return -1;
        }
    }

    /** The element at flat index {@code i} as a double (for messages; any dtype). */
    public double valueAt(long i) {
        if (i < 0 || i >= numel) {
            throw new IndexOutOfBoundsException("index " + i + " of " + numel + " elements");
        }
        ByteBuffer b = data();
        int k = (int) i;
        return switch (dtype) {
            case F32 -> b.getFloat(4 * k);
            case F64 -> b.getDouble(8 * k);
            case F16 -> halfToFloat(b.getShort(2 * k));
            case BF16 -> bfloat16ToFloat(b.getShort(2 * k));
            case I64 -> b.getLong(8 * k);
            case I32 -> b.getInt(4 * k);
            case I16 -> b.getShort(2 * k);
            case I8 -> b.get(k);
            case U8, BOOL -> b.get(k) & 0xFF;
        };
    }

    /** The elements converted to float (exact for F16, BF16, F32 and small integers; F64 and I64 are rounded). */
    public float[] toFloatArray() {
        int n = Math.toIntExact(numel);
        float[] out = new float[n];
        ByteBuffer b = data();
        switch (dtype) {
            case F32: b.asFloatBuffer().get(out); break;
            case F64: for (int i = 0; i < n; i++) { out[i] = (float) b.getDouble(8 * i); } break;
            case F16: for (int i = 0; i < n; i++) { out[i] = halfToFloat(b.getShort(2 * i)); } break;
            case BF16: for (int i = 0; i < n; i++) { out[i] = bfloat16ToFloat(b.getShort(2 * i)); } break;
            case I64: for (int i = 0; i < n; i++) { out[i] = b.getLong(8 * i); } break;
            case I32: for (int i = 0; i < n; i++) { out[i] = b.getInt(4 * i); } break;
            case I16: for (int i = 0; i < n; i++) { out[i] = b.getShort(2 * i); } break;
            case I8: for (int i = 0; i < n; i++) { out[i] = b.get(i); } break;
            case U8: case BOOL: for (int i = 0; i < n; i++) { out[i] = b.get(i) & 0xFF; } break;
            default: throw new AssertionError(dtype);
        }
        return out;
    }

    /** The elements converted to double (exact for every type but I64 beyond 2^53). */
    public double[] toDoubleArray() {
        int n = Math.toIntExact(numel);
        double[] out = new double[n];
        ByteBuffer b = data();
        if (dtype == DType.F64) {
            b.asDoubleBuffer().get(out);
        } else if (dtype == DType.I64) {
            for (int i = 0; i < n; i++) { out[i] = b.getLong(8 * i); }
        } else {
            float[] f = toFloatArray();
            for (int i = 0; i < n; i++) { out[i] = f[i]; }
        }
        return out;
    }

    /**
     * The elements of an integer or bool tensor as longs.
     *
     * @throws IllegalStateException for floating-point tensors
     */
    public long[] toLongArray() {
        int n = Math.toIntExact(numel);
        long[] out = new long[n];
        ByteBuffer b = data();
        switch (dtype) {
            case I64: b.asLongBuffer().get(out); break;
            case I32: for (int i = 0; i < n; i++) { out[i] = b.getInt(4 * i); } break;
            case I16: for (int i = 0; i < n; i++) { out[i] = b.getShort(2 * i); } break;
            case I8: for (int i = 0; i < n; i++) { out[i] = b.get(i); } break;
            case U8: case BOOL: for (int i = 0; i < n; i++) { out[i] = b.get(i) & 0xFF; } break;
            default: throw new IllegalStateException("toLongArray on a floating-point tensor (" + dtype + ")");
        }
        return out;
    }

    /** A tensor with the same bytes and a new shape of the same element count. */
    public TensorData reshape(long... newShape) {
        if (numel(newShape) != numel) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to "
                    + Arrays.toString(newShape));
        }
        return new TensorData(dtype, newShape.clone(), numel, data);
    }

    /** Whether the other tensor has the same dtype, shape and bytes. */
    public boolean contentEquals(TensorData other) {
        return other != null && dtype == other.dtype && Arrays.equals(shape, other.shape)
                && data.duplicate().rewind().equals(other.data.duplicate().rewind());
    }

    @Override
    public String toString() {
        return "TensorData[" + dtype + " " + Arrays.toString(shape) + "]";
    }

    /** Converts IEEE 754 half-precision bits to float (exact). */
    public static float halfToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal (or zero): exact in float
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** Converts bfloat16 bits to float (exact). */
    public static float bfloat16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Rounds a float to bfloat16 bits, round-to-nearest-even (NaN stays NaN). */
    public static short floatToBFloat16(float v) {
        int x = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) {
            return (short) ((x >>> 16) | 0x40);
        }
        int rounding = 0x7FFF + ((x >>> 16) & 1);
        return (short) ((x + rounding) >>> 16);
    }

    /** Rounds a float to IEEE half-precision bits, round-to-nearest-even, with overflow to infinity. */
    public static short floatToHalf(float v) {
        int x = Float.floatToRawIntBits(v);
        int sign = (x >>> 16) & 0x8000;
        int exp = (x >>> 23) & 0xFF;
        int mant = x & 0x7FFFFF;
        if (exp == 0xFF) {
            return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1F) {
            return (short) (sign | 0x7C00);
        }
        if (e <= 0) {
            if (e < -10) {
                return (short) sign;
            }
            int m = mant | 0x800000;
            int shift = 14 - e;
            int half = m >>> shift;
            int rem = m & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) {
            half++; // may carry into the exponent, which is right (up to infinity)
        }
        return (short) (sign | half);
    }
}

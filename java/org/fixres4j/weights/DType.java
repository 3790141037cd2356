package org.fixres4j.weights;

import java.util.Locale;

/**
 * Element types of {@link TensorData}, with their size in bytes and their names in safetensors headers and in
 * PyTorch's pickled storage classes.
 *
 * <p>The declaration order is the ascending alignment order that the safetensors writer sorts by (descending dtype,
 * then name); {@link #safetensorsRank()} exposes it.
 */
public enum DType {
    /** Boolean, one byte, 0 or 1. */
    BOOL(1, "BOOL", "BoolStorage", 0),
    /** Unsigned 8-bit integer. */
    U8(1, "U8", "ByteStorage", 1),
    /** Signed 8-bit integer. */
    I8(1, "I8", "CharStorage", 2),
    /** Signed 16-bit integer. */
    I16(2, "I16", "ShortStorage", 5),
    /** IEEE 754 half precision. */
    F16(2, "F16", "HalfStorage", 7),
    /** bfloat16 (the upper half of a float32). */
    BF16(2, "BF16", "BFloat16Storage", 8),
    /** Signed 32-bit integer. */
    I32(4, "I32", "IntStorage", 9),
    /** IEEE 754 single precision. */
    F32(4, "F32", "FloatStorage", 11),
    /** IEEE 754 double precision. */
    F64(8, "F64", "DoubleStorage", 12),
    /** Signed 64-bit integer. */
    I64(8, "I64", "LongStorage", 13);

    private final int size;
    private final String safetensorsName;
    private final String storageName;
    private final int safetensorsRank;

    DType(int size, String safetensorsName, String storageName, int safetensorsRank) {
        this.size = size;
        this.safetensorsName = safetensorsName;
        this.storageName = storageName;
        this.safetensorsRank = safetensorsRank;
    }

    /** Size of one element in bytes. */
    public int size() {
        return size;
    }

    /** The dtype string of a safetensors header ("F32", "BF16", ...). */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** The simple name of the legacy typed storage class in the {@code torch} module ("FloatStorage", ...). */
    public String storageName() {
        return storageName;
    }

    /**
     * Position in the safetensors {@code Dtype} enum (which also holds types this library does not support); the
     * safetensors writer orders tensors by descending rank, then by name.
     */
    public int safetensorsRank() {
        return safetensorsRank;
    }

    /** Whether the type is a floating-point type (F16, BF16, F32, F64). */
    public boolean isFloatingPoint() {
        return this == F16 || this == BF16 || this == F32 || this == F64;
    }

    /** The type with the given safetensors dtype string, or null if unsupported. */
    public static DType fromSafetensorsName(String name) {
        for (DType t : values()) {
            if (t.safetensorsName.equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** The type of the legacy storage class {@code torch.<simpleName>} ("FloatStorage", ...), or null if unsupported. */
    public static DType fromStorageName(String simpleName) {
        for (DType t : values()) {
            if (t.storageName.equals(simpleName)) {
                return t;
            }
        }
        return null;
    }

    /**
     * The type of a {@code torch.dtype} attribute name ("float32", "float", "half", "bfloat16", "int64", "long",
     * "uint8", "bool", ...), or null if unsupported.
     */
    public static DType fromTorchDtypeName(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "float32": case "float": return F32;
            case "float16": case "half": return F16;
            case "bfloat16": return BF16;
            case "float64": case "double": return F64;
            case "int64": case "long": return I64;
            case "int32": case "int": return I32;
            case "int16": case "short": return I16;
            case "int8": return I8;
            case "uint8": return U8;
            case "bool": return BOOL;
            default: return null;
        }
    }
}

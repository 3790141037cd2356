package org.fixres4j.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.LayoutOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.fixres4j.torch.Torch;

/**
 * Converts between {@link TensorData} and libtorch {@link Tensor}s (the JavaCPP PyTorch preset). This is the only
 * class of this package that needs the natives; it loads them through {@link Torch#ensureLoaded()}.
 */
public final class TorchTensors {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    private TorchTensors() {}

    /**
     * A new CPU tensor (owning its memory) with the dtype, shape and values of {@code data}: allocated with
     * {@code torch::empty} and filled by one bulk copy through its data pointer.
     */
    public static Tensor toTorch(TensorData data) {
        Torch.ensureLoaded();
        Tensor t = torch.empty(data.shape(), new ScalarTypeOptional(scalarType(data.dtype())), new LayoutOptional(),
                new DeviceOptional(), new BoolOptional(), new MemoryFormatOptional());
        int n = data.byteSize();
        if (n > 0) {
            try (BytePointer p = new BytePointer(t.data_ptr())) {
                p.capacity(n).limit(n);
                p.asByteBuffer().put(data.data());
            }
        }
        return t;
    }

    /**
     * A contiguous CPU copy of any tensor (moved to the CPU and made contiguous first when needed).
     *
     * @throws IllegalArgumentException for dtypes {@link DType} lacks (complex, quantized, float8, ...)
     */
    public static TensorData fromTorch(Tensor tensor) {
        Torch.ensureLoaded();
        DType dtype = dtype(tensor.scalar_type()); // dtype() interns the JNI-made enum value
        Tensor t = tensor;
        try {
            if (!t.is_cpu()) {
                t = t.cpu();
            }
            if (!t.is_contiguous()) {
                Tensor c = t.contiguous();
                if (t != tensor) {
                    t.close();
                }
                t = c;
            }
            int rank = (int) t.dim();
            long[] shape = new long[rank];
            for (int i = 0; i < rank; i++) {
                shape[i] = t.size(i);
            }
            long nbytes = t.numel() * dtype.size();
            if (nbytes > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("tensor of " + nbytes
                        + " bytes exceeds the 2 GiB limit of TensorData");
            }
            ByteBuffer out = ByteBuffer.allocate((int) nbytes).order(ByteOrder.LITTLE_ENDIAN);
            if (nbytes > 0) {
                try (BytePointer p = new BytePointer(t.data_ptr())) {
                    p.capacity(nbytes).limit(nbytes);
                    out.put(p.asByteBuffer());
                }
                out.flip();
            }
            return TensorData.wrap(dtype, shape, out);
        } finally {
            if (t != tensor) {
                t.close();
            }
        }
    }

    /** The libtorch scalar type of a {@link DType}. */
    public static ScalarType scalarType(DType dtype) {
        switch (dtype) {
            case F32: return ScalarType.Float;
            case F16: return ScalarType.Half;
            case BF16: return ScalarType.BFloat16;
            case F64: return ScalarType.Double;
            case I64: return ScalarType.Long;
            case I32: return ScalarType.Int;
            case I16: return ScalarType.Short;
            case I8: return ScalarType.Char;
            case U8: return ScalarType.Byte;
            case BOOL: return ScalarType.Bool;
            default: throw new AssertionError(dtype);
        }
    }

    /**
     * The {@link DType} of a libtorch scalar type; IllegalArgumentException if there is none. Enum values returned by
     * native calls are not the canonical constants (JavaCPP allocates them; their ordinal is meaningless), so the
     * value is {@code intern()}ed first.
     */
    public static DType dtype(ScalarType type) {
        switch (type.intern()) {
            case Float: return DType.F32;
            case Half: return DType.F16;
            case BFloat16: return DType.BF16;
            case Double: return DType.F64;
            case Long: return DType.I64;
            case Int: return DType.I32;
            case Short: return DType.I16;
            case Char: return DType.I8;
            case Byte: return DType.U8;
            case Bool: return DType.BOOL;
            default: throw new IllegalArgumentException("unsupported libtorch scalar type " + type);
        }
    }
}

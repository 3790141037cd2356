package org.fixres4j.kernels;

import java.util.Arrays;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.fixres4j.torch.Torch;

/**
 * Depthwise 2-D convolution (one k x k filter per channel, groups = channels) on libtorch CPU tensors through the
 * native kernels: the fused inference form {@code SiLU(conv(x, w') + b')} with BatchNorm folded into {@code w'},
 * {@code b'}, optionally also the per-(n, c) spatial sums of the output that the next squeeze-excitation needs; and
 * the plain convolution's backward (input, weight and bias gradients) for training.
 *
 * <p>Inputs are float32 CPU tensors {@code [N, C, H, W]}, contiguous in NCHW or in channels-last; the output keeps
 * the input's memory format. The forward also takes bfloat16 ({@code x}, {@code w} and {@code b} all bfloat16, the
 * SE sums float32): float32 arithmetic inside, each output rounded once to bfloat16 by the rule of the C ABI
 * ({@code fx_depthwise_forward_cpu_dtype}: round to nearest even, float32 subnormals to signed zero), so within half a
 * bfloat16 ulp (2^-8 relative) of the float32 result on the same inputs. The weight is PyTorch's depthwise layout {@code [C, 1, k, k]}, contiguous. Every shape,
 * dtype, device and layout is checked here and again natively; a mismatch is an {@link IllegalArgumentException}.
 */
public final class Depthwise {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    private Depthwise() {}

    /** Explicit padding of the four borders, each in [0, k - 1]. */
    public record Pad(int top, int left, int bottom, int right) {
        /** Symmetric padding p on every side (timm's native EfficientNets: p = k / 2 for stride 1 and 2). */
        public static Pad symmetric(int p) {
            return new Pad(p, p, p, p);
        }

        /** TensorFlow 'same' padding for an input of {@code h x w} (asymmetric for stride 2: the extra row at the end). */
        public static Pad same(long h, long w, int k, int stride) {
            long ph = Math.max(((h + stride - 1) / stride - 1) * stride + k - h, 0);
            long pw = Math.max(((w + stride - 1) / stride - 1) * stride + k - w, 0);
            return new Pad((int) (ph / 2), (int) (pw / 2), (int) (ph - ph / 2), (int) (pw - pw / 2));
        }
    }

    /** The activation fused after the convolution. */
    public enum Activation {
        NONE(0),
        SILU(1);

        final int code;

        Activation(int code) {
            this.code = code;
        }
    }

    /** Gradients of the plain depthwise convolution; a field is null when it was not asked for. */
    public record Grads(Tensor input, Tensor weight, Tensor bias) {}

    /**
     * {@code act(conv(x, w) + b)}; {@code b} may be null. When {@code seSums} is non-null it must be a contiguous
     * float32 {@code [N, C]} tensor and receives the spatial sums of the output.
     *
     * @param threads threads to spread over (libtorch's {@code get_num_threads()} is the natural choice)
     */
    public static Tensor forward(Tensor x, Tensor w, Tensor b, int stride, Pad pad, Activation act, Tensor seSums,
                                 int threads) {
        boolean bf16 = x != null && !x.isNull() && x.defined()
                && x.scalar_type().value == ScalarType.BFloat16.value;
        ScalarType type = bf16 ? ScalarType.BFloat16 : ScalarType.Float;
        Geometry g = Geometry.of(x, w, stride, pad, type);
        if (b != null) {
            check(b, "bias", new long[] {g.c}, type);
            requireContiguous(b, "bias");
        }
        if (seSums != null) {
            check(seSums, "seSums", new long[] {g.n, g.c});
            requireContiguous(seSums, "seSums");
        }
        long[] outShape = {g.n, g.c, g.outH, g.outW};
        Tensor y = alloc(outShape, g.nhwc, type);
        int status = bf16
                ? FxNative.fxj_depthwise_forward_cpu_dtype(g.n, g.c, g.h, g.w, g.k, stride, pad.top(), pad.left(),
                        pad.bottom(), pad.right(), g.layout(), DTYPE_BFLOAT16, address(x), address(w),
                        b == null ? 0 : address(b), act.code, address(y), seSums == null ? 0 : address(seSums), threads)
                : FxNative.fxj_depthwise_forward_cpu(g.n, g.c, g.h, g.w, g.k, stride, pad.top(), pad.left(),
                        pad.bottom(), pad.right(), g.layout(), address(x), address(w), b == null ? 0 : address(b),
                        act.code, address(y), seSums == null ? 0 : address(seSums), threads);
        Kernels.check(status, "depthwise forward");
        return y;
    }

    /** FX_DTYPE_BFLOAT16 of the C ABI (kernels.h). */
    private static final int DTYPE_BFLOAT16 = 2;

    /**
     * Gradients of the plain convolution {@code conv(x, w) (+ b)} given {@code dy}, the gradient of its output;
     * each of input, weight and bias only if asked for (at least one).
     */
    public static Grads backward(Tensor x, Tensor w, Tensor dy, int stride, Pad pad, boolean input, boolean weight,
                                 boolean bias, int threads) {
        if (!input && !weight && !bias) {
            throw new IllegalArgumentException("depthwise backward: ask for at least one gradient");
        }
        Geometry g = Geometry.of(x, w, stride, pad, ScalarType.Float);
        check(dy, "dy", new long[] {g.n, g.c, g.outH, g.outW});
        requireLayout(dy, "dy", g.nhwc);
        Tensor dx = input ? alloc(new long[] {g.n, g.c, g.h, g.w}, g.nhwc) : null;
        Tensor dw = weight ? alloc(new long[] {g.c, 1, g.k, g.k}, false) : null;
        Tensor db = bias ? alloc(new long[] {g.c}, false) : null;
        int status = FxNative.fxj_depthwise_backward_cpu(g.n, g.c, g.h, g.w, g.k, stride, pad.top(), pad.left(),
                pad.bottom(), pad.right(), g.layout(), address(x), address(w), address(dy),
                dx == null ? 0 : address(dx), dw == null ? 0 : address(dw), db == null ? 0 : address(db), threads);
        Kernels.check(status, "depthwise backward");
        return new Grads(dx, dw, db);
    }

    /** The output size {@code {outH, outW}} of an input of {@code h x w}. */
    public static int[] outputSize(long h, long w, int k, int stride, Pad pad) {
        Kernels.ensureLoaded();
        long packed = FxNative.fxj_depthwise_out_size(1, 1, h, w, k, stride, pad.top(), pad.left(), pad.bottom(),
                pad.right(), 0);
        Kernels.check(packed < 0 ? (int) -packed : 0, "depthwise shape");
        return new int[] {(int) (packed >>> 32), (int) (packed & 0xFFFFFFFFL)};
    }

    private record Geometry(long n, long c, long h, long w, int k, boolean nhwc, int outH, int outW) {
        int layout() {
            return nhwc ? 1 : 0;
        }

        static Geometry of(Tensor x, Tensor w, int stride, Pad pad, ScalarType type) {
            Torch.ensureLoaded();
            Kernels.ensureLoaded();
            if (x == null || w == null || pad == null) {
                throw new IllegalArgumentException("depthwise: x, w and pad must not be null");
            }
            long[] xs = sizes(x, "x");
            if (xs.length != 4) {
                throw new IllegalArgumentException("depthwise: x must be [N, C, H, W], got " + Arrays.toString(xs));
            }
            long[] ws = sizes(w, "w");
            if (ws.length != 4 || ws[0] != xs[1] || ws[1] != 1 || ws[2] != ws[3]) {
                throw new IllegalArgumentException("depthwise: w must be [C, 1, k, k] with C = " + xs[1] + ", got "
                        + Arrays.toString(ws));
            }
            requireTypeCpu(x, "x", type);
            requireTypeCpu(w, "w", type);
            requireContiguous(w, "w");
            boolean nhwc = !x.is_contiguous() && x.is_contiguous(MemoryFormat.ChannelsLast);
            requireLayout(x, "x", nhwc);
            int k = (int) ws[2];
            int[] out = outputSize(xs[2], xs[3], k, stride, pad);
            return new Geometry(xs[0], xs[1], xs[2], xs[3], k, nhwc, out[0], out[1]);
        }
    }

    private static long[] sizes(Tensor t, String name) {
        if (t.isNull() || !t.defined()) {
            throw new IllegalArgumentException("depthwise: " + name + " is undefined");
        }
        return t.sizes().vec().get();
    }

    private static void check(Tensor t, String name, long[] shape) {
        check(t, name, shape, ScalarType.Float);
    }

    private static void check(Tensor t, String name, long[] shape, ScalarType type) {
        long[] s = sizes(t, name);
        if (!Arrays.equals(s, shape)) {
            throw new IllegalArgumentException("depthwise: " + name + " must be " + Arrays.toString(shape) + ", got "
                    + Arrays.toString(s));
        }
        requireTypeCpu(t, name, type);
    }

    private static void requireTypeCpu(Tensor t, String name, ScalarType type) {
        if (t.scalar_type().value != type.value) {
            String want = type.value == ScalarType.BFloat16.value ? "bfloat16 (like x)" : "float32";
            throw new IllegalArgumentException("depthwise: " + name + " must be " + want + ", got " + t.scalar_type());
        }
        if (!t.is_cpu()) {
            throw new IllegalArgumentException("depthwise: " + name + " must be a CPU tensor (CUDA goes through the "
                    + "CUDA kernels)");
        }
    }

    private static void requireContiguous(Tensor t, String name) {
        if (!t.is_contiguous()) {
            throw new IllegalArgumentException("depthwise: " + name + " must be contiguous");
        }
    }

    private static void requireLayout(Tensor t, String name, boolean nhwc) {
        boolean ok = nhwc ? t.is_contiguous(MemoryFormat.ChannelsLast) : t.is_contiguous();
        if (!ok) {
            throw new IllegalArgumentException("depthwise: " + name + " must be contiguous in " + (nhwc
                    ? "channels-last" : "NCHW") + " (like x); call contiguous(...) first");
        }
    }

    /** An uninitialised float32 CPU tensor, NCHW-contiguous or channels-last. */
    private static Tensor alloc(long[] shape, boolean channelsLast) {
        return alloc(shape, channelsLast, ScalarType.Float);
    }

    private static Tensor alloc(long[] shape, boolean channelsLast, ScalarType type) {
        return torch.empty(shape, new TensorOptions(type), new org.bytedeco.pytorch.MemoryFormatOptional(
                channelsLast && shape.length == 4 ? MemoryFormat.ChannelsLast : MemoryFormat.Contiguous));
    }

    private static long address(Tensor t) {
        return t.data_ptr().address();
    }
}

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
 * the input's memory format. On the CPU the forward also takes bfloat16 ({@code x}, {@code w} and {@code b} all
 * bfloat16, the SE sums float32): float32 arithmetic inside, each output rounded once to bfloat16 by the rule of the C
 * ABI ({@code fx_depthwise_forward_cpu_dtype}: round to nearest even, float32 subnormals to signed zero), so within
 * half a bfloat16 ulp (2^-8 relative) of the float32 result on the same inputs. The weight is PyTorch's depthwise
 * layout {@code [C, 1, k, k]}, contiguous. Every shape,
 * dtype, device and layout is checked here and again natively; a mismatch is an {@link IllegalArgumentException}.
 *
 * <p><b>CUDA.</b> When {@code x} is a CUDA tensor the CUDA kernels run ({@link CudaDepthwise}): float32, float16 or
 * bfloat16 (every tensor of the call has x's dtype and device, the SE sums are float32), NCHW or channels-last, on
 * libtorch's current stream of x's device, without waiting; the backward's workspace is a CUDA tensor from libtorch's
 * allocator on that stream. {@code threads} is ignored there. A build without the CUDA kernels throws
 * {@link UnsupportedBackendException}. Only the CUDA path touches the preset's {@code torch_cuda}.
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

    /**
     * Where the CPU kernels run their parallel loops (process-wide). {@link #AUTO}, the default: on the OpenMP threads
     * of libtorch (its libgomp, already loaded with the preset), the same threads that run libtorch's own operators, so
     * that the two take turns on one team instead of two sets of threads competing for the cores; on the kernels' own
     * pool when no OpenMP runtime is loaded. Results are bitwise the same either way.
     */
    public enum Threading {
        /** libtorch's OpenMP team when loaded, else the pool. */
        AUTO(0),
        /** The kernel library's own persistent worker pool. */
        POOL(1),
        /** libtorch's OpenMP team (GNU OpenMP); refused when no OpenMP runtime is loaded. */
        OPENMP(2);

        final int code;

        Threading(int code) {
            this.code = code;
        }
    }

    /**
     * Chooses where the CPU depthwise kernels run their parallel loops; {@link UnsupportedBackendException} for
     * {@link Threading#OPENMP} when no OpenMP runtime is loaded.
     */
    public static void setThreading(Threading threading) {
        Kernels.ensureLoaded();
        Kernels.check(FxNative.fx_depthwise_set_threading(threading.code), "Depthwise.setThreading(" + threading + ")");
    }

    /** What the CPU depthwise kernels use now: {@link Threading#OPENMP} or {@link Threading#POOL}. */
    public static Threading threading() {
        Kernels.ensureLoaded();
        return FxNative.fx_depthwise_threading() == Threading.OPENMP.code ? Threading.OPENMP : Threading.POOL;
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
        return forward(x, w, b, stride, pad, act, false, seSums, threads);
    }

    /**
     * {@link #forward(Tensor, Tensor, Tensor, int, Pad, Activation, Tensor, int)} that, with {@code inputSilu},
     * convolves {@code silu(x)} instead of {@code x}: the SiLU of the layer before, applied by the kernel as it reads
     * {@code x} (in float32 from the widened value, not rounded; C ABI {@code FX_ACT_IN_SILU}), so that it needs no
     * pass of its own. {@code inputSilu} needs a channels-last CPU tensor ({@link IllegalArgumentException}
     * otherwise).
     */
    public static Tensor forward(Tensor x, Tensor w, Tensor b, int stride, Pad pad, Activation act, boolean inputSilu,
                                 Tensor seSums, int threads) {
        Geometry g = Geometry.of(x, w, stride, pad);
        if (inputSilu && (g.cuda || !g.nhwc)) {
            throw new IllegalArgumentException("depthwise forward: the input SiLU needs a channels-last CPU tensor");
        }
        int actCode = act.code | (inputSilu ? ACT_IN_SILU : 0);
        if (b != null) {
            check(b, "bias", new long[] {g.c}, g);
            requireContiguous(b, "bias");
        }
        if (seSums != null) {
            check(seSums, "seSums", new long[] {g.n, g.c}, g.withDtype(CudaDepthwise.DType.FLOAT32));
            requireContiguous(seSums, "seSums");
        }
        long[] outShape = {g.n, g.c, g.outH, g.outW};
        Tensor y = alloc(outShape, g.nhwc, x);
        if (g.cuda) {
            CudaDepthwise.forward(g.device, g.shape(stride, pad), g.dtype, address(x), address(w),
                    b == null ? 0 : address(b), act == Activation.SILU, address(y),
                    seSums == null ? 0 : address(seSums), CudaStreams.current(g.device));
            return y;
        }
        int status = g.dtype == CudaDepthwise.DType.BFLOAT16
                ? FxNative.fxj_depthwise_forward_cpu_dtype(g.n, g.c, g.h, g.w, g.k, stride, pad.top(), pad.left(),
                        pad.bottom(), pad.right(), g.layout(), DTYPE_BFLOAT16, address(x), address(w),
                        b == null ? 0 : address(b), actCode, address(y), seSums == null ? 0 : address(seSums), threads)
                : FxNative.fxj_depthwise_forward_cpu(g.n, g.c, g.h, g.w, g.k, stride, pad.top(), pad.left(),
                        pad.bottom(), pad.right(), g.layout(), address(x), address(w), b == null ? 0 : address(b),
                        actCode, address(y), seSums == null ? 0 : address(seSums), threads);
        Kernels.check(status, "depthwise forward");
        return y;
    }

    /** FX_ACT_IN_SILU of the C ABI (depthwise.h). */
    private static final int ACT_IN_SILU = 0x100;

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
        Geometry g = Geometry.of(x, w, stride, pad);
        if (!g.cuda && g.dtype != CudaDepthwise.DType.FLOAT32) {
            throw new IllegalArgumentException("depthwise backward on the CPU takes float32, got " + x.scalar_type());
        }
        check(dy, "dy", new long[] {g.n, g.c, g.outH, g.outW}, g);
        requireLayout(dy, "dy", g.nhwc);
        Tensor dx = input ? alloc(new long[] {g.n, g.c, g.h, g.w}, g.nhwc, x) : null;
        Tensor dw = weight ? alloc(new long[] {g.c, 1, g.k, g.k}, false, x) : null;
        Tensor db = bias ? alloc(new long[] {g.c}, false, x) : null;
        if (g.cuda) {
            CudaDepthwise.Shape shape = g.shape(stride, pad);
            long wsBytes = weight || bias ? CudaDepthwise.workspaceBytes(shape, g.dtype) : 0;
            Tensor ws = wsBytes > 0 ? torch.empty(new long[] {wsBytes}, x.options().dtype(
                    new org.bytedeco.pytorch.ScalarTypeOptional(ScalarType.Byte)),
                    new org.bytedeco.pytorch.MemoryFormatOptional(MemoryFormat.Contiguous)) : null;
            CudaDepthwise.backward(g.device, shape, g.dtype, address(x), address(w), address(dy),
                    dx == null ? 0 : address(dx), dw == null ? 0 : address(dw), db == null ? 0 : address(db),
                    ws == null ? 0 : address(ws), wsBytes, CudaStreams.current(g.device));
            return new Grads(dx, dw, db);
        }
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

    /**
     * The call's geometry; {@code cuda}: x is a CUDA tensor on {@code device} and every tensor must be there with
     * {@code dtype} (SE sums: float32); otherwise everything is float32 on the CPU.
     */
    private record Geometry(long n, long c, long h, long w, int k, boolean nhwc, int outH, int outW, boolean cuda,
                            int device, CudaDepthwise.DType dtype) {
        int layout() {
            return nhwc ? 1 : 0;
        }

        Geometry withDtype(CudaDepthwise.DType d) {
            return new Geometry(n, c, h, w, k, nhwc, outH, outW, cuda, device, d);
        }

        CudaDepthwise.Shape shape(int stride, Pad pad) {
            return new CudaDepthwise.Shape(n, c, h, w, k, stride, pad.top(), pad.left(), pad.bottom(), pad.right(),
                    nhwc, outH, outW);
        }

        static Geometry of(Tensor x, Tensor w, int stride, Pad pad) {
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
            boolean cuda = x.is_cuda();
            Geometry probe = cuda ? new Geometry(0, 0, 0, 0, 0, false, 0, 0, true, x.device().index(), cudaDtype(x))
                    : new Geometry(0, 0, 0, 0, 0, false, 0, 0, false, -1,
                            x.scalar_type().value == ScalarType.BFloat16.value
                                    ? CudaDepthwise.DType.BFLOAT16 : CudaDepthwise.DType.FLOAT32);
            requireKind(x, "x", probe);
            requireKind(w, "w", probe);
            requireContiguous(w, "w");
            boolean nhwc = !x.is_contiguous() && x.is_contiguous(MemoryFormat.ChannelsLast);
            requireLayout(x, "x", nhwc);
            int k = (int) ws[2];
            int[] out = outputSize(xs[2], xs[3], k, stride, pad);
            return new Geometry(xs[0], xs[1], xs[2], xs[3], k, nhwc, out[0], out[1], cuda, probe.device,
                    probe.dtype);
        }
    }

    private static long[] sizes(Tensor t, String name) {
        if (t.isNull() || !t.defined()) {
            throw new IllegalArgumentException("depthwise: " + name + " is undefined");
        }
        return t.sizes().vec().get();
    }

    private static void check(Tensor t, String name, long[] shape, Geometry g) {
        long[] s = sizes(t, name);
        if (!Arrays.equals(s, shape)) {
            throw new IllegalArgumentException("depthwise: " + name + " must be " + Arrays.toString(shape) + ", got "
                    + Arrays.toString(s));
        }
        requireKind(t, name, g);
    }

    /** The CUDA kernels' dtype of a CUDA tensor x; anything else is refused by name. */
    private static CudaDepthwise.DType cudaDtype(Tensor x) {
        int v = x.scalar_type().value;
        if (v == ScalarType.Float.value) {
            return CudaDepthwise.DType.FLOAT32;
        }
        if (v == ScalarType.Half.value) {
            return CudaDepthwise.DType.FLOAT16;
        }
        if (v == ScalarType.BFloat16.value) {
            return CudaDepthwise.DType.BFLOAT16;
        }
        throw new IllegalArgumentException("depthwise: x on CUDA must be float32, float16 or bfloat16, got "
                + x.scalar_type());
    }

    /** CPU: float32 (forward also bfloat16, like x) on the CPU. CUDA: g's dtype on g's device. */
    private static void requireKind(Tensor t, String name, Geometry g) {
        if (!g.cuda) {
            requireTypeCpu(t, name, g.dtype == CudaDepthwise.DType.BFLOAT16 ? ScalarType.BFloat16 : ScalarType.Float);
            return;
        }
        if (!t.is_cuda() || t.device().index() != g.device) {
            throw new IllegalArgumentException("depthwise: " + name + " must be on cuda:" + g.device + " like x, got "
                    + t.device().str().getString());
        }
        ScalarType want = switch (g.dtype) {
            case FLOAT32 -> ScalarType.Float;
            case FLOAT16 -> ScalarType.Half;
            case BFLOAT16 -> ScalarType.BFloat16;
        };
        if (t.scalar_type().value != want.value) {
            throw new IllegalArgumentException("depthwise: " + name + " must be " + want + (name.equals("seSums")
                    ? "" : " like x") + ", got " + t.scalar_type());
        }
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

    /** An uninitialised tensor of {@code like}'s dtype (and CUDA device), NCHW or channels-last. */
    private static Tensor alloc(long[] shape, boolean channelsLast, Tensor like) {
        TensorOptions options = like.is_cuda() ? like.options() : new TensorOptions(like.scalar_type());
        return torch.empty(shape, options, new org.bytedeco.pytorch.MemoryFormatOptional(
                channelsLast && shape.length == 4 ? MemoryFormat.ChannelsLast : MemoryFormat.Contiguous));
    }

    private static long address(Tensor t) {
        return t.data_ptr().address();
    }
}

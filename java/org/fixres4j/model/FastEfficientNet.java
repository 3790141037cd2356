package org.fixres4j.model;

import java.util.ArrayList;
import java.util.List;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.fixres4j.kernels.Depthwise;
import org.fixres4j.kernels.CudaDepthwise;
import org.fixres4j.kernels.CudaDepthwiseSwitch;
import org.fixres4j.torch.Amp;
import org.fixres4j.torch.AmpScope;

/**
 * The fast inference path of an {@link EfficientNet}: made once from a loaded model by {@link #fuse(EfficientNet)},
 * it folds every BatchNorm (running statistics, eval semantics) into the convolution before it, in float64, then keeps
 * the folded weights as float32 channels-last tensors; forward passes run under libtorch's {@code InferenceMode} (no
 * autograd bookkeeping, no version counters), on channels-last activations, with in-place SiLU, sigmoid, SE scaling
 * and residual adds, and with the SE's 1x1 convolutions on {@code [N, C, 1, 1]} done as matrix products. On the CPU
 * in float32 each depthwise convolution, its folded BN, SiLU and the SE's spatial sums are one pass of FixRes4J's fused
 * kernel ({@link Depthwise}); {@link #fuse(EfficientNet, boolean)} can select libtorch's conv2d(groups=C) instead.
 *
 * <p>Folding: for a conv weight {@code W} and a BN ({@code gamma, beta, mean, var, eps}),
 * {@code s = gamma / sqrt(var + eps)}, {@code W' = W * s} per output channel and {@code b' = beta - mean * s}.
 * Results equal the plain path within float32 rounding (the tests require 1e-4 of the largest logit).
 *
 * <p><b>Reduced precision</b> ({@link #fuse(EfficientNet, Amp)}): the same path with the folded convolution weights and
 * biases rounded once (from the float64 fold) to bfloat16 (or float16 on CUDA), the input cast to that type, and the
 * activations kept in it; the depthwise layers on the CPU stay on the fused kernel (bfloat16: float32 arithmetic,
 * each output rounded once). What needs the range or the sums stays float32: the SE's spatial sums, its two small
 * matrix products and gates (cast to the activation type for the scaling), the global pooling (accumulated in
 * float32) and the classifier, so the logits are float32. On the CPU in bfloat16 the SiLU after the stem (before a
 * block without skip) and after each expansion conv runs inside the next depthwise kernel as it reads its input
 * (float32, not rounded to bfloat16 in between), and where a map has more pixels than the projection has outputs the
 * SE gates scale the projection's weights per image (one batched matrix product) instead of the activations.
 *
 * <p>The folded weights are copies: later changes to the model do not reach this object (fuse again). Thread-safe:
 * forward passes only read the weights. Outputs follow the same PointerScope rules as {@link EfficientNet}'s.
 */
public final class FastEfficientNet implements AutoCloseable {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    private final EfficientNetSpec spec;
    private final FusedConv stem;
    private final List<FusedBlock> blocks = new ArrayList<>();
    private final FusedConv head;
    private final Tensor classifierWeight;
    private final Tensor classifierBias;
    private final List<Pointer> kept = new ArrayList<>();
    private final boolean nativeDepthwise;
    private final Amp amp;
    private final ScalarType dtype; // of the activations and the folded conv weights
    /**
     * The CPU bfloat16 path on the fused kernel: the SiLU after the stem (before a DS block without skip) and after
     * each expansion conv runs inside the next depthwise kernel as it reads its input, and SE blocks at large
     * resolutions scale the projection's weights per image instead of the activations (see FusedBlock#forward).
     */
    private final boolean cpuBf16;
    /** Pixels per row of the projection's bias in the scaled projection (FusedBlock#scaledProjection). */
    private static final int BIAS_TILE = 64;
    /** On CUDA with {@link #fuse(EfficientNet)}: which layer kinds run on our kernels; null: all or none. */
    private final CudaDepthwiseSwitch cudaSwitch;

    private FastEfficientNet(EfficientNet model, boolean nativeDepthwise) {
        this(model, nativeDepthwise, Amp.NONE, null);
    }

    private FastEfficientNet(EfficientNet model, boolean nativeDepthwise, Amp amp, CudaDepthwiseSwitch cudaSwitch) {
        this.spec = model.spec();
        this.nativeDepthwise = nativeDepthwise;
        this.amp = amp;
        this.dtype = AmpScope.scalarType(amp);
        this.cudaSwitch = cudaSwitch;
        this.cpuBf16 = nativeDepthwise && amp == Amp.BF16 && cudaSwitch == null;
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            stem = fold(model.convStem(), model.bn1());
            for (EfficientNet.Block b : model.blocks()) {
                blocks.add(new FusedBlock(b));
            }
            head = fold(model.convHead(), model.bn2());
            if (model.classifier() != null) {
                classifierWeight = keep(model.classifier().weight().detach().clone());
                classifierBias = keep(model.classifier().bias().detach().clone());
            } else {
                classifierWeight = null;
                classifierBias = null;
            }
        }
    }

    /**
     * Folds a model (its current weights and BN running statistics) into the fast path. The depthwise layers run on
     * FixRes4J's fused kernel when the model is float32 on the CPU (EfficientNet-B0 at batch 8: 1.28x the same path
     * with libtorch's depthwise, 2.9x the plain module; docs/PERFORMANCE.md). On CUDA the layer kinds that
     * {@link CudaDepthwiseSwitch#current()} selects (none by default: cuDNN until the device check has measured ours)
     * run on FixRes4J's CUDA kernels, the others on libtorch's (cuDNN). Elsewhere libtorch's.
     */
    public static FastEfficientNet fuse(EfficientNet model) {
        model.checkOpen();
        Tensor w = model.convStem().weight();
        if (w.is_cuda()) {
            return new FastEfficientNet(model, true, Amp.NONE, CudaDepthwiseSwitch.current());
        }
        boolean cpuFloat = w.is_cpu() && w.scalar_type().value == ScalarType.Float.value;
        return new FastEfficientNet(model, cpuFloat);
    }

    /**
     * Folds a model; {@code nativeDepthwise} selects FixRes4J's fused depthwise kernel (conv + folded BN + SiLU + the
     * SE's spatial sums in one pass, {@link org.fixres4j.kernels.Depthwise}) or libtorch's conv2d(groups=C) + SiLU +
     * mean (for comparisons).
     */
    public static FastEfficientNet fuse(EfficientNet model, boolean nativeDepthwise) {
        model.checkOpen();
        return new FastEfficientNet(model, nativeDepthwise);
    }

    /**
     * Folds a model into the fast path in a reduced precision ({@link Amp#NONE}: {@link #fuse(EfficientNet)}). On the
     * CPU: {@link Amp#BF16} with the fused depthwise kernel's bfloat16 instance; {@link Amp#FP16} is refused. On CUDA
     * both, with libtorch's depthwise convolution.
     *
     * @throws IllegalArgumentException for float16 on the CPU
     */
    public static FastEfficientNet fuse(EfficientNet model, Amp amp) {
        if (!amp.enabled()) {
            return fuse(model);
        }
        model.checkOpen();
        Tensor w = model.convStem().weight();
        boolean cpu = w.is_cpu();
        amp.checkDevice(cpu ? "cpu" : "cuda");
        return new FastEfficientNet(model, cpu && amp == Amp.BF16, amp, null);
    }

    /** The precision the path runs in ({@link Amp#NONE}: float32). */
    public Amp amp() {
        return amp;
    }

    /** Whether the depthwise layers run on FixRes4J's fused kernel (on CUDA with a switch: at least one of them). */
    public boolean usesNativeDepthwise() {
        return blocks.stream().anyMatch(b -> b.nativeDw);
    }

    /** The architecture. */
    public EfficientNetSpec spec() {
        return spec;
    }

    /** Logits {@code [N, num_classes]} (pooled features when the model has no classifier). */
    public Tensor forward(Tensor input) {
        checkOpen();
        try (InferenceMode guard = new InferenceMode()) {
            return Scopes.run(() -> head(features(input, true), false));
        }
    }

    /** The pre-pool feature map {@code [N, F, h, w]}, channels-last. */
    public Tensor forwardFeatures(Tensor input) {
        checkOpen();
        try (InferenceMode guard = new InferenceMode()) {
            return amp.enabled() ? Scopes.run(() -> AmpScope.toFloat(features(input, true))) : features(input, false);
        }
    }

    /** The feature map, pooled features and logits of one pass. */
    public Features features(Tensor input) {
        checkOpen();
        try (InferenceMode guard = new InferenceMode()) {
            Tensor map = amp.enabled() ? Scopes.run(() -> AmpScope.toFloat(features(input, true)))
                    : features(input, false);
            Tensor pooled = Scopes.run(() -> head(map, true));
            Tensor logits = classifierWeight == null ? null
                    : Scopes.run(() -> torch.linear(pooled, classifierWeight, new TensorOptional(classifierBias)));
            return new Features(map, pooled, logits);
        }
    }

    private Tensor features(Tensor input, boolean nested) {
        return Scopes.run(() -> {
            Tensor x = amp.enabled() ? input.to(dtype).contiguous(MemoryFormat.ChannelsLast)
                    : input.contiguous(MemoryFormat.ChannelsLast);
            boolean deferSilu = cpuBf16 && !blocks.isEmpty() && blocks.get(0).siluInKernel();
            Tensor y = Scopes.run(() -> deferSilu ? stem.apply(x) : silu(stem.apply(x)));
            boolean pending = deferSilu;
            for (FusedBlock b : blocks) {
                Tensor next = b.forward(y, pending);
                pending = false;
                y.close();
                y = next;
            }
            Tensor z = y;
            return Scopes.run(() -> silu(head.apply(z)));
        });
    }

    private Tensor head(Tensor map, boolean preLogits) {
        // reduced precision: the pooling accumulates (and returns) float32
        Tensor pooled = map.mean(new long[] {2, 3}, false, amp.enabled() ? new ScalarTypeOptional(ScalarType.Float)
                : new ScalarTypeOptional());
        if (preLogits || classifierWeight == null) {
            return pooled;
        }
        return torch.linear(pooled, classifierWeight, new TensorOptional(classifierBias));
    }

    /**
     * In-place SiLU returning its argument. (In-place ops of the preset return a non-owning view of the argument's
     * handle: using that return value after the argument's scope closed would crash, so it is never used.)
     */
    private static Tensor silu(Tensor t) {
        torch.silu_(t);
        return t;
    }

    private static Tensor sigmoid(Tensor t) {
        torch.sigmoid_(t);
        return t;
    }

    private volatile boolean closed;

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this FastEfficientNet was closed");
        }
    }

    /** Frees the fused weights (not the module it was fused from); idempotent. Forwards after it throw. */
    @Override
    public synchronized void close() {
        closed = true;
        for (Pointer p : kept) {
            p.releaseReference();
        }
        kept.clear();
    }

    private Tensor keep(Tensor t) {
        kept.add(Scopes.keep(t));
        return t;
    }

    /** A convolution with its BN folded in (weight channels-last float32, bias float32). */
    private final class FusedConv {
        static { org.fixres4j.torch.Torch.ensureLoaded(); }
        final Tensor weight;
        final Tensor bias;
        final long[] stride;
        final long[] padding;
        final long[] dilation = {1, 1};
        final long groups;
        final int kernel;
        final boolean dynamicSame;

        FusedConv(EfficientNet.ConvLayer conv, Tensor weight, Tensor bias) {
            this.weight = keep(weight);
            this.bias = keep(bias);
            this.stride = new long[] {conv.stride, conv.stride};
            this.padding = new long[] {conv.padding, conv.padding};
            this.groups = conv.groups;
            this.kernel = conv.kernel;
            this.dynamicSame = conv.dynamicSame;
        }

        Tensor apply(Tensor x) {
            Tensor in = x;
            if (dynamicSame) {
                long[] p = Padding.same((int) x.size(2), (int) x.size(3), kernel, (int) stride[0], 1);
                if (p[0] != 0 || p[1] != 0 || p[2] != 0 || p[3] != 0) {
                    in = torch.constant_pad_nd(x, p);
                }
            }
            return torch.conv2d(in, weight, new TensorOptional(bias), stride, padding, dilation, groups);
        }
    }

    private FusedConv fold(EfficientNet.ConvLayer conv, BatchNorm2dImpl bn) {
        double eps = bn.options().eps().get();
        Tensor w = conv.weight().detach().to(ScalarType.Double);
        Tensor gamma = bn.weight().detach().to(ScalarType.Double);
        Tensor beta = bn.bias().detach().to(ScalarType.Double);
        Tensor mean = bn.running_mean().detach().to(ScalarType.Double);
        Tensor var = bn.running_var().detach().to(ScalarType.Double);
        Tensor scale = gamma.mul(var.add(new org.bytedeco.pytorch.Scalar(eps)).rsqrt());
        Tensor wf = w.mul(scale.reshape(-1, 1, 1, 1)).to(dtype).contiguous(MemoryFormat.ChannelsLast);
        Tensor bf = beta.sub(mean.mul(scale)).to(dtype).contiguous();
        return new FusedConv(conv, wf, bf);
    }

    /** One block of the fast path. */
    private final class FusedBlock {
        static { org.fixres4j.torch.Torch.ensureLoaded(); }
        final boolean ir;
        final boolean skip;
        final FusedConv expand; // IR conv_pw + bn1
        final FusedConv dw;     // conv_dw + bn (bn1 for DS, bn2 for IR)
        final FusedConv project; // DS conv_pw + bn2, IR conv_pwl + bn3
        final Tensor seReduceW;
        final Tensor seReduceB;
        final Tensor seExpandW;
        final Tensor seExpandB;
        final Tensor dwWeight; // [C, 1, k, k] contiguous, for the native kernel
        final boolean nativeDw; // this block's depthwise runs on FixRes4J's kernel
        /** cpuBf16 with an SE: the projection's weight as float32 {@code [C, O]} (the bfloat16 values, widened). */
        final Tensor projectWT;
        /** cpuBf16 with an SE: the projection's bias repeated BIAS_TILE times, {@code [BIAS_TILE * O]}. */
        final Tensor projectBiasTile;

        FusedBlock(EfficientNet.Block b) {
            skip = b.cfg.hasSkip();
            if (b instanceof EfficientNet.InvertedResidual r) {
                ir = true;
                expand = fold(r.convPw, r.bn1);
                dw = fold(r.convDw, r.bn2);
                project = fold(r.convPwl, r.bn3);
            } else {
                EfficientNet.DepthwiseSeparable d = (EfficientNet.DepthwiseSeparable) b;
                ir = false;
                expand = null;
                dw = fold(d.convDw, d.bn1);
                project = fold(d.convPw, d.bn2);
            }
            nativeDw = nativeDepthwise && (cudaSwitch == null || cudaSwitch.useOurs(cudaDtype(dw.weight), true,
                    dw.kernel, (int) dw.stride[0]));
            dwWeight = nativeDw ? keep(dw.weight.contiguous()) : null;
            if (b.se != null) {
                seReduceW = keep(b.se.convReduce.weight().detach().flatten(1, 3).contiguous());
                seReduceB = keep(b.se.convReduce.bias().detach().clone());
                seExpandW = keep(b.se.convExpand.weight().detach().flatten(1, 3).contiguous());
                seExpandB = keep(b.se.convExpand.bias().detach().clone());
                projectWT = cpuBf16
                        ? keep(project.weight.flatten(1, 3).transpose(0, 1).to(ScalarType.Float).contiguous()) : null;
                projectBiasTile = cpuBf16 ? keep(project.bias.repeat(BIAS_TILE).contiguous()) : null;
            } else {
                projectWT = null;
                projectBiasTile = null;
                seReduceW = null;
                seReduceB = null;
                seExpandW = null;
                seExpandB = null;
            }
        }

        /** Whether this block can take its input before the SiLU (cpuBf16: its depthwise kernel then applies it). */
        boolean siluInKernel() {
            return cpuBf16 && nativeDw && !ir && !skip;
        }

        /**
         * @param x the block's input
         * @param xSiluPending x still lacks the SiLU of the layer before (only when {@link #siluInKernel()})
         */
        Tensor forward(Tensor x, boolean xSiluPending) {
            return Scopes.run(() -> {
                // cpuBf16: the expansion's SiLU runs inside the depthwise kernel, as it reads its input
                boolean inSilu = ir ? cpuBf16 && nativeDw : xSiluPending;
                Tensor y = ir ? (inSilu ? expand.apply(x) : silu(expand.apply(x))) : x;
                Tensor sums = null;
                if (nativeDw) {
                    sums = seReduceW == null ? null : torch.empty(new long[] {y.size(0), y.size(1)},
                            y.options().dtype(new ScalarTypeOptional(ScalarType.Float)),
                            new org.bytedeco.pytorch.MemoryFormatOptional(MemoryFormat.Contiguous));
                    y = depthwise(y, sums, inSilu);
                } else {
                    y = silu(dw.apply(y));
                }
                if (seReduceW != null) {
                    // the SE runs in float32 under --amp (its sums are float32); otherwise in the activations' type
                    Tensor s = sums != null ? sums.div_(new org.bytedeco.pytorch.Scalar((double) (y.size(2) * y.size(3))))
                            .to(amp.enabled() ? ScalarType.Float : y.scalar_type())
                            : y.mean(new long[] {2, 3}, false, amp.enabled()
                                    ? new ScalarTypeOptional(ScalarType.Float) : new ScalarTypeOptional());
                    s = silu(torch.linear(s, seReduceW, new TensorOptional(seReduceB)));
                    s = sigmoid(torch.linear(s, seExpandW, new TensorOptional(seExpandB)));
                    if (projectWT != null && y.size(2) * y.size(3) > projectWT.size(1)) {
                        return scaledProjection(y, s, skip ? x : null);
                    }
                    if (amp.enabled()) {
                        s = s.to(dtype);
                    }
                    y.mul_(s.reshape(s.size(0), s.size(1), 1, 1));
                }
                y = project.apply(y);
                if (skip) {
                    y.add_(x);
                }
                return y;
            });
        }

        /** The CUDA kernels' dtype of a weight (float32 for any other type: the switch then never matches it). */
        private static CudaDepthwise.DType cudaDtype(Tensor w) {
            int v = w.scalar_type().value;
            return v == ScalarType.Half.value ? CudaDepthwise.DType.FLOAT16
                    : v == ScalarType.BFloat16.value ? CudaDepthwise.DType.BFLOAT16 : CudaDepthwise.DType.FLOAT32;
        }

        /**
         * cpuBf16, where a map has more pixels than the projection has outputs (so scaling the weights is cheaper
         * than scaling the activations): {@code project(y * gates) (+ residual)} as one batched matrix product per
         * image with the projection's weight scaled by that image's gates, {@code [HW, C] x [C, O]} on the
         * channels-last memory (weights scaled in float32 and rounded once to bfloat16; bias and residual added
         * first, the product accumulated onto them). Saves the pass of the gates' multiply over the activations.
         */
        private Tensor scaledProjection(Tensor y, Tensor gates, Tensor residual) {
            long n = y.size(0);
            long c = y.size(1);
            long h = y.size(2);
            long w = y.size(3);
            long o = projectWT.size(1);
            Tensor ws = gates.unsqueeze(2).mul(projectWT).to(dtype); // [N, C, O]
            Tensor yv = y.permute(0, 2, 3, 1).reshape(n, h * w, c); // a view of the channels-last memory
            // the bias over rows of t pixels (t the largest power of two up to BIAS_TILE dividing n * h * w), so that
            // libtorch's broadcast add or copy runs over long rows instead of one short row of o values per pixel
            long t = Math.min(BIAS_TILE, Long.lowestOneBit(n * h * w));
            Tensor tile = projectBiasTile.narrow(0, 0, t * o);
            long rows = n * h * w / t;
            Tensor out = residual == null ? tile.expand(rows, t * o).contiguous()
                    : residual.permute(0, 2, 3, 1).reshape(rows, t * o).add(tile);
            out = out.view(n, h * w, o);
            out.baddbmm_(yv, ws);
            return out.view(n, h, w, o).permute(0, 3, 1, 2);
        }

        /** SiLU(depthwise(x, w') + b') on the native kernel, channels-last, writing the SE sums when asked. */
        private Tensor depthwise(Tensor x, Tensor sums, boolean inSilu) {
            Tensor in = x.contiguous(MemoryFormat.ChannelsLast);
            int stride = (int) dw.stride[0];
            Depthwise.Pad pad = dw.dynamicSame ? Depthwise.Pad.same(in.size(2), in.size(3), dw.kernel, stride)
                    : Depthwise.Pad.symmetric((int) dw.padding[0]);
            return Depthwise.forward(in, dwWeight, dw.bias, stride, pad, Depthwise.Activation.SILU, inSilu, sums,
                    torch.get_num_threads());
        }
    }
}

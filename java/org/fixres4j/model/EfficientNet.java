package org.fixres4j.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.LinearOptions;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.fixres4j.kernels.Depthwise;
import org.fixres4j.kernels.DepthwiseAutograd;
import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.TorchTensors;

/**
 * timm's EfficientNet as a libtorch {@link Module} (the plain path): the submodules carry timm's registered names, so
 * {@link #namedTensors()} and {@link #stateDict()} have exactly timm's keys ({@code conv_stem.weight}, {@code bn1.*},
 * {@code blocks.<stage>.<block>.conv_dw.weight}, {@code ...se.conv_reduce.*}, {@code conv_pwl}, {@code conv_head},
 * {@code bn2.*}, {@code classifier.*}, with {@code num_batches_tracked}), and libtorch autograd trains it.
 *
 * <p>Layout: stem (3x3 stride-2 conv, BN, SiLU), the blocks of {@link EfficientNetSpec#blocks()}, head (1x1 conv, BN,
 * SiLU), global average pool, dropout (training only), Linear. TF variants pad each dynamically padded convolution per
 * input size with {@code constant_pad_nd} before convolving (see {@link Padding}); native ones pad symmetrically.
 * {@link #train(boolean)} switches BatchNorm to batch statistics (updating the running ones with momentum 0.1) and
 * enables dropout and drop path; {@link #eval()} switches back. {@link #toChannelsLast()} keeps the convolution
 * weights, and converts inputs, to channels-last. {@link FastEfficientNet} is the folded inference path.
 * {@link #nativeDepthwise(boolean)} (off by default) makes training forwards run the depthwise convolutions through
 * the native kernels with their native backward ({@link DepthwiseAutograd}).
 *
 * <p>Models are made by the factories of {@link ModelRegistry} ({@code create(spec)}, ...), which load libtorch
 * through {@link org.fixres4j.torch.Torch#ensureLoaded()} first: the constructor is not public, since the JVM
 * initialises the {@code Module} superclass, and with it the preset, before any code of this class could. The
 * modules are kept alive whatever {@code PointerScope} the model is
 * built in; each forward call runs its steps in scopes of its own and returns tensors that belong to the caller's
 * innermost scope (or, without one, to the GC). Not thread-safe for training; eval forwards on several threads are
 * what libtorch allows.
 */
public class EfficientNet extends Module implements AutoCloseable {
    private final EfficientNetSpec spec;
    private final ConvLayer convStem;
    private final BatchNorm2dImpl bn1;
    private final List<Block> blocks = new ArrayList<>();
    private final ConvLayer convHead;
    private final BatchNorm2dImpl bn2;
    private final LinearImpl classifier;
    private final List<Pointer> kept = new ArrayList<>();
    private volatile boolean channelsLast;
    private volatile boolean nativeDepthwise;

    /**
     * The scope around the outermost forward call of this thread: the native depthwise layers lease their autograd
     * state to it, not to the per-step scopes the forward runs in (those close before backward).
     */
    private static final ThreadLocal<PointerScope[]> CALLER_SCOPE = new ThreadLocal<>();

    /** Builds the model with libtorch's default initialisation (load weights, or call {@link #initTimm()}). */
    EfficientNet(EfficientNetSpec spec) {
        super("EfficientNet");
        this.spec = spec;
        keep(this);
        boolean tf = spec.tfSamePadding();
        int stem = spec.stemChannels();
        convStem = new ConvLayer(this, "conv_stem", spec.inChannels(), stem, 3, 2, 1, false, tf);
        bn1 = batchNorm(this, "bn1", stem);
        Module blocksModule = keep(register_module("blocks", new Module("Sequential")));
        for (List<EfficientNetSpec.Block> stage : spec.blocks()) {
            Module stageModule = keep(blocksModule.register_module(Integer.toString(stage.get(0).stage()),
                    new Module("Sequential")));
            for (EfficientNetSpec.Block b : stage) {
                Block block = b.type() == BlockSpec.Type.DS ? new DepthwiseSeparable(b, spec) : new InvertedResidual(b, spec);
                keep(stageModule.register_module(Integer.toString(b.index()), block));
                blocks.add(block);
            }
        }
        int f = spec.numFeatures();
        convHead = new ConvLayer(this, "conv_head", spec.lastBlockChannels(), f, 1, 1, 1, false, tf);
        bn2 = batchNorm(this, "bn2", f);
        classifier = spec.numClasses() > 0
                ? keep(register_module("classifier", new LinearImpl(new LinearOptions(f, spec.numClasses()))))
                : null;
    }

    /** The architecture. */
    public EfficientNetSpec spec() {
        return spec;
    }

    // ---------------------------------------------------------------------------------------------------- forward

    /** Logits {@code [N, num_classes]} (the pooled features {@code [N, F]} when the model has no classifier). */
    public Tensor forward(Tensor input) {
        checkOpen();
        return withCallerScope(() -> Scopes.run(() -> forwardHead(forwardFeatures(input), false)));
    }

    /** The pre-pool feature map {@code [N, F, h, w]} (timm's {@code forward_features}). */
    public Tensor forwardFeatures(Tensor input) {
        checkOpen();
        BatchNormForward f = batchNormForward;
        if (f != null) {
            BatchNormForward before = ACTIVE_BN.get();
            ACTIVE_BN.set(f);
            try {
                return forwardFeaturesBody(input);
            } finally {
                ACTIVE_BN.set(before);
            }
        }
        return forwardFeaturesBody(input);
    }

    private Tensor forwardFeaturesBody(Tensor input) {
        return withCallerScope(() -> Scopes.run(() -> {
            Tensor x = channelsLast ? input.contiguous(MemoryFormat.ChannelsLast) : input;
            Tensor y = Scopes.run(() -> torch.silu(bn(bn1, convStem.forward(x))));
            for (Block b : blocks) {
                Tensor next = b.forward(y);
                y.close(); // the block output of the step before: autograd keeps what it needs on its own
                y = next;
            }
            Tensor z = y;
            return Scopes.run(() -> torch.silu(bn(bn2, convHead.forward(z))));
        }));
    }

    /** A replacement for the forward of the BatchNorms that are in train mode ({@link #batchNormForward}). */
    public interface BatchNormForward {
        /** {@code bn}'s train-mode output for {@code x} (and its running-statistics update). */
        Tensor apply(BatchNorm2dImpl bn, Tensor x);
    }

    private volatile BatchNormForward batchNormForward;
    /** The replacement of the forward pass running on this thread (blocks have no reference to their model). */
    private static final ThreadLocal<BatchNormForward> ACTIVE_BN = new ThreadLocal<>();

    /**
     * Replaces the forward of every BatchNorm while it is in train mode (null: libtorch's own), e.g. a synchronised
     * BatchNorm that normalises with the statistics of every data-parallel rank's batch. Layers in eval mode are
     * unaffected.
     */
    public void batchNormForward(BatchNormForward f) {
        this.batchNormForward = f;
    }

    static Tensor bn(BatchNorm2dImpl bn, Tensor x) {
        BatchNormForward f = ACTIVE_BN.get();
        return f != null && bn.is_training() ? f.apply(bn, x) : bn.forward(x);
    }

    private static Tensor withCallerScope(Supplier<Tensor> body) {
        if (CALLER_SCOPE.get() != null) {
            return body.get();
        }
        CALLER_SCOPE.set(new PointerScope[] {PointerScope.getInnerScope()});
        try {
            return body.get();
        } finally {
            CALLER_SCOPE.remove();
        }
    }

    /** timm's {@code forward_head}: average pool, dropout (training), classifier unless {@code preLogits}. */
    public Tensor forwardHead(Tensor featureMap, boolean preLogits) {
        checkOpen();
        return Scopes.run(() -> {
            Tensor x = featureMap.mean(new long[] {2, 3}, false, new ScalarTypeOptional());
            if (spec.dropRate() > 0 && is_training()) {
                x = torch.dropout(x, spec.dropRate(), true);
            }
            return preLogits || classifier == null ? x : classifier.forward(x);
        });
    }

    /** The feature map, the pooled features and the logits of one pass. */
    public Features features(Tensor input) {
        Tensor map = forwardFeatures(input);
        Tensor pooled = forwardHead(map, true);
        Tensor logits = classifier == null ? null : Scopes.run(() -> classifier.forward(pooled));
        return new Features(map, pooled, logits);
    }

    // ---------------------------------------------------------------------------------------------------- state

    /**
     * Every parameter and buffer by timm's key, in timm's state-dict order (live tensors of the model: writing into
     * them under a {@link NoGradGuard} changes the model).
     */
    public Map<String, Tensor> namedTensors() {
        checkOpen();
        Map<String, Tensor> all = new LinkedHashMap<>();
        put(all, named_parameters(true));
        put(all, named_buffers(true));
        Map<String, Tensor> ordered = new LinkedHashMap<>();
        for (EfficientNetSpec.Entry e : spec.stateDictEntries()) {
            Tensor t = all.remove(e.key());
            if (t == null) {
                throw new IllegalStateException("module lacks " + e.key());
            }
            ordered.put(e.key(), t);
        }
        if (!all.isEmpty()) {
            throw new IllegalStateException("module has tensors the spec does not list: " + all.keySet());
        }
        return ordered;
    }

    private static void put(Map<String, Tensor> into, StringTensorDict dict) {
        StringVector keys = dict.keys();
        for (long i = 0; i < keys.size(); i++) {
            String k = keys.get(i).getString();
            into.put(k, dict.get(k));
        }
    }

    /** A copy of the weights in timm's key order (contiguous, whatever the memory format). */
    public StateDict stateDict() {
        StateDict sd = new StateDict();
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            for (Map.Entry<String, Tensor> e : namedTensors().entrySet()) {
                sd.put(e.getKey(), TorchTensors.fromTorch(e.getValue()));
            }
        }
        return sd;
    }

    /** The number of parameters (timm's {@code sum(p.numel() for p in model.parameters())}). */
    public long parameterCount() {
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            TensorVector ps = parameters(true);
            long n = 0;
            for (long i = 0; i < ps.size(); i++) {
                n += ps.get(i).numel();
            }
            return n;
        }
    }

    /**
     * Re-initialises like timm's {@code efficientnet_init_weights}: conv weights normal(0, sqrt(2 / fan_out)) with
     * fan_out = k*k*out/groups, conv biases 0, BN weight 1 and bias 0, Linear uniform(+-1/sqrt(out)) and bias 0.
     * Uses libtorch's global generator ({@code torch.manual_seed}).
     */
    public void initTimm() {
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope();
             NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : namedTensors().entrySet()) {
                String k = e.getKey();
                Tensor t = e.getValue();
                if (k.endsWith("num_batches_tracked") || k.endsWith("running_mean")) {
                    t.zero_();
                } else if (k.endsWith("running_var")) {
                    t.fill_(new Scalar(1.0));
                } else if (isBnKey(k)) {
                    t.fill_(new Scalar(k.endsWith(".weight") ? 1.0 : 0.0));
                } else if (k.startsWith("classifier.")) {
                    if (k.endsWith(".weight")) {
                        double r = 1.0 / Math.sqrt(t.size(0));
                        t.uniform_(-r, r, new GeneratorOptional());
                    } else {
                        t.zero_();
                    }
                } else if (k.endsWith(".bias")) {
                    t.zero_();
                } else {
                    long groups = t.size(1) == 1 && k.endsWith("conv_dw.weight") ? t.size(0) : 1;
                    double fanOut = (double) t.size(2) * t.size(3) * t.size(0) / groups;
                    t.normal_(0.0, Math.sqrt(2.0 / fanOut), new GeneratorOptional());
                }
            }
        }
    }

    static boolean isBnKey(String key) {
        String module = key.substring(0, key.lastIndexOf('.'));
        String last = module.substring(module.lastIndexOf('.') + 1);
        return last.startsWith("bn");
    }

    // ---------------------------------------------------------------------------------------------------- formats

    /** Converts the convolution weights to channels-last; inputs are converted on entry from then on. Returns this. */
    public EfficientNet toChannelsLast() {
        checkOpen();
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            TensorVector ps = parameters(true);
            for (long i = 0; i < ps.size(); i++) {
                Tensor p = ps.get(i);
                if (p.dim() == 4) {
                    p.set_data(p.contiguous(MemoryFormat.ChannelsLast));
                }
            }
        }
        channelsLast = true;
        return this;
    }

    /**
     * Whether training forwards (train mode, grad mode on, float32 CPU input) run every depthwise convolution
     * ({@code conv_dw}) through {@link DepthwiseAutograd}: the native forward, and the native kernel as its backward,
     * with the explicit padding of the layer ({@link Depthwise.Pad#same} for TF 'same', symmetric otherwise) and the
     * module's own weight, so the optimizer sees its gradient. Eval and inference keep libtorch's convolution.
     * Backward must run inside the {@link PointerScope} that was open around {@link #forward} (or, without one, at
     * most once per forward); see {@link DepthwiseAutograd}. Off by default. Returns this.
     */
    public EfficientNet nativeDepthwise(boolean on) {
        nativeDepthwise = on;
        for (Block b : blocks) {
            ConvLayer dw = b instanceof InvertedResidual r ? r.convDw : ((DepthwiseSeparable) b).convDw;
            dw.nativeDepthwise = on;
        }
        return this;
    }

    /** Whether {@link #nativeDepthwise(boolean)} is on. */
    public boolean nativeDepthwise() {
        return nativeDepthwise;
    }

    /** Whether {@link #toChannelsLast()} was called. */
    public boolean isChannelsLast() {
        return channelsLast;
    }

    /** The blocks in order (for the fused path and for inspection). */
    List<Block> blocks() {
        return Collections.unmodifiableList(blocks);
    }

    ConvLayer convStem() {
        return convStem;
    }

    BatchNorm2dImpl bn1() {
        return bn1;
    }

    ConvLayer convHead() {
        return convHead;
    }

    BatchNorm2dImpl bn2() {
        return bn2;
    }

    LinearImpl classifier() {
        return classifier;
    }

    private volatile boolean closed;

    /** @throws IllegalStateException after {@link #close()} */
    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this EfficientNet (" + spec.name() + ") was closed");
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Drops this object's hold on its modules (they are freed once nothing else holds them); idempotent. Forwards
     * after it throw {@link IllegalStateException}.
     */
    @Override
    public void close() {
        synchronized (kept) {
            if (closed) {
                return;
            }
            closed = true;
        }
        List<Pointer> ps;
        synchronized (kept) {
            ps = new ArrayList<>(kept);
            kept.clear();
        }
        for (Pointer p : ps) {
            if (p != this) {
                p.releaseReference();
            }
        }
        convStem.release();
        convHead.release();
        for (Block b : blocks) {
            b.release();
        }
        releaseReference();
    }

    private <P extends Pointer> P keep(P p) {
        synchronized (kept) {
            kept.add(Scopes.keep(p));
        }
        return p;
    }

    // ---------------------------------------------------------------------------------------------------- layers

    static BatchNorm2dImpl batchNorm(Module owner, String name, int channels, EfficientNetSpec spec,
                                     List<Pointer> kept) {
        BatchNormOptions o = new BatchNormOptions(channels);
        o.eps().put(spec.bnEps());
        o.momentum().put(spec.bnMomentum());
        BatchNorm2dImpl bn = owner.register_module(name, new BatchNorm2dImpl(o));
        kept.add(Scopes.keep(bn));
        return bn;
    }

    private BatchNorm2dImpl batchNorm(Module owner, String name, int channels) {
        synchronized (kept) {
            return batchNorm(owner, name, channels, spec, kept);
        }
    }

    /** A convolution registered under {@code name}, with the padding rule of its model. */
    static final class ConvLayer {
        static { org.fixres4j.torch.Torch.ensureLoaded(); }
        final Conv2dImpl conv;
        final int kernel;
        final int stride;
        final int groups;
        final int padding;
        final boolean dynamicSame;
        /** Train through {@link DepthwiseAutograd} (depthwise layers only; see {@link #nativeDepthwise(boolean)}). */
        volatile boolean nativeDepthwise;

        ConvLayer(Module owner, String name, int in, int out, int kernel, int stride, int groups, boolean bias,
                  boolean tf) {
            this.kernel = kernel;
            this.stride = stride;
            this.groups = groups;
            this.dynamicSame = tf && !Padding.isStaticSame(kernel, stride, 1);
            this.padding = tf ? (dynamicSame ? 0 : (kernel - 1) / 2) : Padding.symmetric(kernel, stride, 1);
            Conv2dOptions o = new Conv2dOptions(in, out, new LongPointer(kernel, kernel));
            o.stride().put(new long[] {stride, stride});
            o.padding().put(new LongPointer((long) padding, padding));
            o.groups().put(groups);
            o.bias().put(bias);
            conv = Scopes.keep(owner.register_module(name, new Conv2dImpl(o)));
        }

        /** Pads the input when the TF rule needs it for this size. */
        Tensor pad(Tensor x) {
            if (!dynamicSame) {
                return x;
            }
            long[] p = Padding.same((int) x.size(2), (int) x.size(3), kernel, stride, 1);
            if (p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 0) {
                return x;
            }
            return torch.constant_pad_nd(x, p);
        }

        Tensor forward(Tensor x) {
            if (nativeDepthwise && nativeTraining(x)) {
                Depthwise.Pad p = dynamicSame ? Depthwise.Pad.same(x.size(2), x.size(3), kernel, stride)
                        : Depthwise.Pad.symmetric(padding);
                PointerScope[] caller = CALLER_SCOPE.get();
                return DepthwiseAutograd.conv(x, conv.weight(), stride, p,
                        caller != null ? caller[0] : PointerScope.getInnerScope());
            }
            return conv.forward(pad(x));
        }

        /** A depthwise layer in a training forward on float32 CPU tensors (what the native kernels serve). */
        private boolean nativeTraining(Tensor x) {
            if (groups <= 1 || !conv.is_training() || !GradMode.is_enabled() || x.dim() != 4 || x.size(1) != groups) {
                return false;
            }
            Tensor w = conv.weight();
            return x.is_cpu() && w.is_cpu() && x.scalar_type().value == ScalarType.Float.value
                    && w.scalar_type().value == ScalarType.Float.value;
        }

        Tensor weight() {
            return conv.weight();
        }

        void release() {
            conv.releaseReference();
        }
    }

    /** timm's SqueezeExcite: mean over H, W, conv_reduce (bias), SiLU, conv_expand (bias), sigmoid, scale. */
    static final class SqueezeExcite extends Module {
        final Conv2dImpl convReduce;
        final Conv2dImpl convExpand;

        SqueezeExcite(int channels, int reduced) {
            super("SqueezeExcite");
            Scopes.keep(this);
            convReduce = Scopes.keep(register_module("conv_reduce", conv1x1(channels, reduced)));
            convExpand = Scopes.keep(register_module("conv_expand", conv1x1(reduced, channels)));
        }

        private static Conv2dImpl conv1x1(int in, int out) {
            Conv2dOptions o = new Conv2dOptions(in, out, new LongPointer(1L, 1L));
            o.bias().put(true);
            return new Conv2dImpl(o);
        }

        Tensor forward(Tensor x) {
            Tensor s = x.mean(new long[] {2, 3}, true, new ScalarTypeOptional());
            s = torch.silu(convReduce.forward(s));
            s = torch.sigmoid(convExpand.forward(s));
            return x.mul(s);
        }

        void release() {
            convReduce.releaseReference();
            convExpand.releaseReference();
            releaseReference();
        }
    }

    /** A block: its body, then (with a skip) drop path and the residual add. */
    abstract static class Block extends Module {
        final EfficientNetSpec.Block cfg;
        final List<Pointer> kept = new ArrayList<>();
        SqueezeExcite se;

        Block(String name, EfficientNetSpec.Block cfg) {
            super(name);
            this.cfg = cfg;
            Scopes.keep(this);
        }

        abstract Tensor body(Tensor x);

        Tensor forward(Tensor x) {
            return Scopes.run(() -> {
                Tensor y = body(x);
                if (cfg.hasSkip()) {
                    y = dropPath(y).add(x);
                }
                return y;
            });
        }

        /** timm's drop_path: per sample, keep with 1 - p and scale by 1 / (1 - p); training only. */
        Tensor dropPath(Tensor y) {
            double p = cfg.dropPathRate();
            if (p <= 0 || !is_training()) {
                return y;
            }
            double keep = 1.0 - p;
            Tensor mask = torch.empty(y.size(0), 1, 1, 1);
            mask.bernoulli_(keep, new GeneratorOptional()); // in-place ops: their returned handles are not used
            mask.div_(new Scalar(keep));
            return y.mul(mask);
        }

        SqueezeExcite se(int channels) {
            if (cfg.seChannels() <= 0) {
                return null;
            }
            se = register_module("se", new SqueezeExcite(channels, cfg.seChannels()));
            return se;
        }

        Tensor applySe(Tensor x) {
            return se == null ? x : se.forward(x);
        }

        void release() {
            for (Pointer p : kept) {
                p.releaseReference();
            }
            kept.clear();
            if (se != null) {
                se.release();
            }
            releaseReference();
        }
    }

    /** timm's DepthwiseSeparableConv: conv_dw, bn1 + SiLU, se, conv_pw, bn2 (no activation). */
    static final class DepthwiseSeparable extends Block {
        final ConvLayer convDw;
        final BatchNorm2dImpl bn1;
        final ConvLayer convPw;
        final BatchNorm2dImpl bn2;

        DepthwiseSeparable(EfficientNetSpec.Block b, EfficientNetSpec spec) {
            super("DepthwiseSeparableConv", b);
            boolean tf = spec.tfSamePadding();
            convDw = new ConvLayer(this, "conv_dw", b.in(), b.in(), b.kernel(), b.stride(), b.in(), false, tf);
            kept.add(convDw.conv);
            bn1 = batchNorm(this, "bn1", b.in(), spec, kept);
            se(b.in());
            convPw = new ConvLayer(this, "conv_pw", b.in(), b.out(), 1, 1, 1, false, tf);
            kept.add(convPw.conv);
            bn2 = batchNorm(this, "bn2", b.out(), spec, kept);
        }

        @Override
        Tensor body(Tensor x) {
            Tensor y = torch.silu(bn(bn1, convDw.forward(x)));
            y = applySe(y);
            return bn(bn2, convPw.forward(y));
        }
    }

    /** timm's InvertedResidual: conv_pw, bn1 + SiLU, conv_dw, bn2 + SiLU, se, conv_pwl, bn3 (no activation). */
    static final class InvertedResidual extends Block {
        final ConvLayer convPw;
        final BatchNorm2dImpl bn1;
        final ConvLayer convDw;
        final BatchNorm2dImpl bn2;
        final ConvLayer convPwl;
        final BatchNorm2dImpl bn3;

        InvertedResidual(EfficientNetSpec.Block b, EfficientNetSpec spec) {
            super("InvertedResidual", b);
            boolean tf = spec.tfSamePadding();
            convPw = new ConvLayer(this, "conv_pw", b.in(), b.mid(), 1, 1, 1, false, tf);
            kept.add(convPw.conv);
            bn1 = batchNorm(this, "bn1", b.mid(), spec, kept);
            convDw = new ConvLayer(this, "conv_dw", b.mid(), b.mid(), b.kernel(), b.stride(), b.mid(), false, tf);
            kept.add(convDw.conv);
            bn2 = batchNorm(this, "bn2", b.mid(), spec, kept);
            se(b.mid());
            convPwl = new ConvLayer(this, "conv_pwl", b.mid(), b.out(), 1, 1, 1, false, tf);
            kept.add(convPwl.conv);
            bn3 = batchNorm(this, "bn3", b.out(), spec, kept);
        }

        @Override
        Tensor body(Tensor x) {
            Tensor y = torch.silu(bn(bn1, convPw.forward(x)));
            y = torch.silu(bn(bn2, convDw.forward(y)));
            y = applySe(y);
            return bn(bn3, convPwl.forward(y));
        }
    }
}

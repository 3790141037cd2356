package org.fixres4j.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything that defines an EfficientNet's architecture, derived the way timm derives it from one base description
 * (the B0 block strings of {@link #BASE_ARCH}) and two multipliers: channels by {@link #roundChannels} (timm's
 * {@code round_channels} / {@code make_divisible}, divisor 8, round limit 0.9), repeats by {@code ceil(r * depth)}
 * (timm's {@code _scale_stage_depth}, depth_trunc 'ceil'), expanded channels by {@code make_divisible(in * e)}, SE
 * channels by {@code round(mid * se / e)} (Python rounding) and drop-path rates by timm's linear schedule over the
 * global block index. Immutable; the {@code with*} methods return modified copies.
 *
 * @param name the timm architecture name (e.g. {@code tf_efficientnet_b0}) or a free name for custom specs
 * @param arch the base block description, one per stage
 * @param width channel multiplier
 * @param depth depth multiplier
 * @param tfSamePadding TF 'same' padding (computed per input size, asymmetric at stride 2) instead of symmetric k//2
 * @param bnEps BatchNorm epsilon (1e-3 for the TF ports, 1e-5 native)
 * @param bnMomentum BatchNorm momentum in PyTorch's convention (0.1 for both, as in timm)
 * @param numClasses classifier outputs; 0 for no classifier (the forward pass returns the pooled features)
 * @param inChannels input channels (3)
 * @param dropRate dropout before the classifier, training only (timm's default 0)
 * @param dropPathRate stochastic-depth rate of the last block, training only (timm's default 0)
 */
public record EfficientNetSpec(String name, List<BlockSpec> arch, double width, double depth, boolean tfSamePadding,
                               double bnEps, double bnMomentum, int numClasses, int inChannels, double dropRate,
                               double dropPathRate) {

    /** timm's EfficientNet base architecture ({@code _gen_efficientnet}'s arch_def), one string per stage. */
    public static final List<String> BASE_ARCH = List.of(
            "ds_r1_k3_s1_e1_c16_se0.25",
            "ir_r2_k3_s2_e6_c24_se0.25",
            "ir_r2_k5_s2_e6_c40_se0.25",
            "ir_r3_k3_s2_e6_c80_se0.25",
            "ir_r3_k5_s1_e6_c112_se0.25",
            "ir_r4_k5_s2_e6_c192_se0.25",
            "ir_r1_k3_s1_e6_c320_se0.25");

    /** Base stem channels (rounded with the width multiplier). */
    public static final int BASE_STEM = 32;
    /** Base head channels {@code num_features} (rounded with the width multiplier). */
    public static final int BASE_FEATURES = 1280;
    /** Channel divisor of timm's EfficientNets. */
    public static final int DIVISOR = 8;
    /** timm's {@code BN_EPS_TF_DEFAULT}. */
    public static final double BN_EPS_TF = 1e-3;
    /** PyTorch's default BN epsilon. */
    public static final double BN_EPS_NATIVE = 1e-5;

    /** Validates and copies. */
    public EfficientNetSpec {
        Objects.requireNonNull(name, "name");
        arch = List.copyOf(arch);
        if (arch.isEmpty()) {
            throw new IllegalArgumentException("no stages");
        }
        if (!(width > 0) || !(depth > 0) || !Double.isFinite(width) || !Double.isFinite(depth)) {
            throw new IllegalArgumentException("multipliers must be positive, got width " + width + ", depth " + depth);
        }
        if (!(bnEps > 0) || !(bnMomentum >= 0 && bnMomentum <= 1)) {
            throw new IllegalArgumentException("bad BN eps " + bnEps + " or momentum " + bnMomentum);
        }
        if (numClasses < 0 || inChannels < 1) {
            throw new IllegalArgumentException("num_classes must be >= 0 and in_chans >= 1");
        }
        if (!(dropRate >= 0 && dropRate < 1) || !(dropPathRate >= 0 && dropPathRate < 1)) {
            throw new IllegalArgumentException("drop rates must be in [0, 1), got " + dropRate + ", " + dropPathRate);
        }
    }

    /** The base architecture as parsed block specs. */
    public static List<BlockSpec> baseArch() {
        List<BlockSpec> a = new ArrayList<>();
        for (String s : BASE_ARCH) {
            a.add(BlockSpec.parse(s));
        }
        return a;
    }

    /** timm's {@code tf_efficientnet_<variant>}: TF 'same' padding, BN eps 1e-3. */
    public static EfficientNetSpec tf(Variant v) {
        return new EfficientNetSpec("tf_efficientnet_" + v.suffix(), baseArch(), v.width(), v.depth(), true,
                BN_EPS_TF, 0.1, 1000, 3, 0, 0);
    }

    /** timm's {@code efficientnet_<variant>}: symmetric padding, BN eps 1e-5. */
    public static EfficientNetSpec nativeVariant(Variant v) {
        return new EfficientNetSpec("efficientnet_" + v.suffix(), baseArch(), v.width(), v.depth(), false,
                BN_EPS_NATIVE, 0.1, 1000, 3, 0, 0);
    }

    /** An EfficientNet with any multipliers (e.g. a tiny one for tests), TF style or native. */
    public static EfficientNetSpec custom(String name, double width, double depth, boolean tf, int numClasses) {
        return new EfficientNetSpec(name, baseArch(), width, depth, tf, tf ? BN_EPS_TF : BN_EPS_NATIVE, 0.1,
                numClasses, 3, 0, 0);
    }

    /**
     * The spec of a timm architecture name: {@code tf_efficientnet_b0} ... {@code tf_efficientnet_b8},
     * {@code tf_efficientnet_l2}, {@code efficientnet_b0} ... {@code efficientnet_b8}, {@code efficientnet_l2}.
     * Pretrained tags and legacy names are resolved by {@link ModelRegistry}.
     */
    public static EfficientNetSpec of(String architecture) {
        String a = architecture.trim();
        if (a.startsWith("tf_efficientnet_")) {
            return tf(Variant.parse(a.substring("tf_efficientnet_".length())));
        }
        if (a.startsWith("efficientnet_")) {
            return nativeVariant(Variant.parse(a.substring("efficientnet_".length())));
        }
        throw new IllegalArgumentException("not an EfficientNet architecture: '" + architecture + "'");
    }

    public EfficientNetSpec withNumClasses(int n) {
        return new EfficientNetSpec(name, arch, width, depth, tfSamePadding, bnEps, bnMomentum, n, inChannels,
                dropRate, dropPathRate);
    }

    public EfficientNetSpec withDropRate(double p) {
        return new EfficientNetSpec(name, arch, width, depth, tfSamePadding, bnEps, bnMomentum, numClasses,
                inChannels, p, dropPathRate);
    }

    public EfficientNetSpec withDropPathRate(double p) {
        return new EfficientNetSpec(name, arch, width, depth, tfSamePadding, bnEps, bnMomentum, numClasses,
                inChannels, dropRate, p);
    }

    public EfficientNetSpec withInChannels(int c) {
        return new EfficientNetSpec(name, arch, width, depth, tfSamePadding, bnEps, bnMomentum, numClasses, c,
                dropRate, dropPathRate);
    }

    /**
     * timm's {@code make_divisible}: {@code max(minValue, int(v + divisor / 2) // divisor * divisor)}, plus one
     * divisor if that went down by more than {@code 1 - roundLimit}. {@code minValue <= 0} means {@code divisor}.
     */
    public static int makeDivisible(double v, int divisor, int minValue, double roundLimit) {
        int min = minValue > 0 ? minValue : divisor;
        long floorTo = (long) (v + divisor / 2.0) / divisor * divisor; // int() truncates, operands are positive
        int newV = (int) Math.max(min, floorTo);
        if (newV < roundLimit * v) {
            newV += divisor;
        }
        return newV;
    }

    /** {@code make_divisible(v)} with timm's defaults (divisor 8, round limit 0.9). */
    public static int makeDivisible(double v) {
        return makeDivisible(v, DIVISOR, 0, 0.9);
    }

    /** timm's {@code round_channels(channels, width, divisor 8)}. */
    public int roundChannels(int channels) {
        return makeDivisible(channels * width, DIVISOR, 0, 0.9);
    }

    /** Stem (conv_stem / bn1) channels. */
    public int stemChannels() {
        return roundChannels(BASE_STEM);
    }

    /** Head channels {@code num_features} (conv_head / bn2, the pooled feature size). */
    public int numFeatures() {
        return roundChannels(BASE_FEATURES);
    }

    /** Repeats of a stage after depth scaling ({@code ceil(r * depth)}). */
    public int scaledRepeats(int stage) {
        return (int) Math.ceil(arch.get(stage).repeats() * depth);
    }

    /**
     * One block after scaling.
     *
     * @param stage stage index (0-based), the first index of its key {@code blocks.<stage>.<index>}
     * @param index index within the stage
     * @param globalIndex index over all blocks (drives the drop-path schedule)
     * @param type DS or IR
     * @param in input channels
     * @param mid channels of the depthwise conv (expanded for IR, = in for DS)
     * @param out output channels
     * @param kernel depthwise kernel
     * @param stride depthwise stride (only a stage's first block strides)
     * @param seChannels SE reduce channels, 0 for no SE
     * @param hasSkip whether the block adds its input (stride 1, in == out, not noskip)
     * @param dropPathRate this block's drop-path rate: {@code dropPathRate * globalIndex / blockCount}
     */
    public record Block(int stage, int index, int globalIndex, BlockSpec.Type type, int in, int mid, int out,
                        int kernel, int stride, int seChannels, boolean hasSkip, double dropPathRate) {
        /** {@code blocks.<stage>.<index>}. */
        public String key() {
            return "blocks." + stage + "." + index;
        }
    }

    /** All blocks, stage by stage. */
    public List<List<Block>> blocks() {
        int total = 0;
        for (int s = 0; s < arch.size(); s++) {
            total += scaledRepeats(s);
        }
        List<List<Block>> stages = new ArrayList<>();
        int in = stemChannels();
        int g = 0;
        for (int s = 0; s < arch.size(); s++) {
            BlockSpec bs = arch.get(s);
            int out = roundChannels(bs.outChannels());
            List<Block> stage = new ArrayList<>();
            for (int i = 0; i < scaledRepeats(s); i++) {
                int stride = i == 0 ? bs.stride() : 1;
                int mid = bs.type() == BlockSpec.Type.IR ? makeDivisible(in * bs.expansion()) : in;
                int se = 0;
                if (bs.seRatio() > 0) {
                    double rdRatio = bs.seRatio() / bs.expansion(); // se_from_exp=False: relative to block input
                    se = (int) Math.rint(mid * rdRatio); // Python round(): half to even
                }
                boolean skip = stride == 1 && in == out && !bs.noskip();
                stage.add(new Block(s, i, g, bs.type(), in, mid, out, bs.kernel(), stride, se, skip,
                        dropPathRate * g / total));
                in = out;
                g++;
            }
            stages.add(Collections.unmodifiableList(stage));
        }
        return Collections.unmodifiableList(stages);
    }

    /** The number of blocks. */
    public int blockCount() {
        int n = 0;
        for (List<Block> s : blocks()) {
            n += s.size();
        }
        return n;
    }

    /** Channels of the last block (the input of conv_head). */
    public int lastBlockChannels() {
        List<List<Block>> b = blocks();
        List<Block> last = b.get(b.size() - 1);
        return last.get(last.size() - 1).out();
    }

    /**
     * One state-dict entry.
     *
     * @param key timm's key
     * @param shape its shape
     * @param buffer whether it is a buffer (BN running statistics, num_batches_tracked) rather than a parameter
     */
    public record Entry(String key, long[] shape, boolean buffer) {
        /** The element count. */
        public long numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        /** Whether this is a BN {@code num_batches_tracked} counter (an int64 scalar). */
        public boolean isCounter() {
            return key.endsWith(".num_batches_tracked");
        }
    }

    /**
     * Every entry of the model's state dict, in timm's (PyTorch's) order: per module its parameters, then its
     * buffers, then its children. Computed from the spec alone (nothing is allocated), so it also serves the
     * largest variants.
     */
    public List<Entry> stateDictEntries() {
        List<Entry> e = new ArrayList<>();
        int stem = stemChannels();
        e.add(new Entry("conv_stem.weight", new long[] {stem, inChannels, 3, 3}, false));
        bn(e, "bn1", stem);
        for (List<Block> stage : blocks()) {
            for (Block b : stage) {
                String p = b.key() + ".";
                if (b.type() == BlockSpec.Type.DS) {
                    e.add(new Entry(p + "conv_dw.weight", new long[] {b.in(), 1, b.kernel(), b.kernel()}, false));
                    bn(e, p + "bn1", b.in());
                    se(e, p, b.in(), b.seChannels());
                    e.add(new Entry(p + "conv_pw.weight", new long[] {b.out(), b.in(), 1, 1}, false));
                    bn(e, p + "bn2", b.out());
                } else {
                    e.add(new Entry(p + "conv_pw.weight", new long[] {b.mid(), b.in(), 1, 1}, false));
                    bn(e, p + "bn1", b.mid());
                    e.add(new Entry(p + "conv_dw.weight", new long[] {b.mid(), 1, b.kernel(), b.kernel()}, false));
                    bn(e, p + "bn2", b.mid());
                    se(e, p, b.mid(), b.seChannels());
                    e.add(new Entry(p + "conv_pwl.weight", new long[] {b.out(), b.mid(), 1, 1}, false));
                    bn(e, p + "bn3", b.out());
                }
            }
        }
        int f = numFeatures();
        e.add(new Entry("conv_head.weight", new long[] {f, lastBlockChannels(), 1, 1}, false));
        bn(e, "bn2", f);
        if (numClasses > 0) {
            e.add(new Entry("classifier.weight", new long[] {numClasses, f}, false));
            e.add(new Entry("classifier.bias", new long[] {numClasses}, false));
        }
        return e;
    }

    private static void bn(List<Entry> e, String p, int c) {
        e.add(new Entry(p + ".weight", new long[] {c}, false));
        e.add(new Entry(p + ".bias", new long[] {c}, false));
        e.add(new Entry(p + ".running_mean", new long[] {c}, true));
        e.add(new Entry(p + ".running_var", new long[] {c}, true));
        e.add(new Entry(p + ".num_batches_tracked", new long[0], true));
    }

    private static void se(List<Entry> e, String p, int c, int rd) {
        if (rd <= 0) {
            return;
        }
        e.add(new Entry(p + "se.conv_reduce.weight", new long[] {rd, c, 1, 1}, false));
        e.add(new Entry(p + "se.conv_reduce.bias", new long[] {rd}, false));
        e.add(new Entry(p + "se.conv_expand.weight", new long[] {c, rd, 1, 1}, false));
        e.add(new Entry(p + "se.conv_expand.bias", new long[] {c}, false));
    }

    /** The entries as a map from key to shape, in order. */
    public Map<String, long[]> stateDictShapes() {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (Entry x : stateDictEntries()) {
            m.put(x.key(), x.shape());
        }
        return m;
    }

    /** The number of trainable parameters (timm's {@code sum(p.numel() for p in model.parameters())}). */
    public long parameterCount() {
        long n = 0;
        for (Entry x : stateDictEntries()) {
            if (!x.buffer()) {
                n += x.numel();
            }
        }
        return n;
    }

    /** The spatial output size of the feature map for an input size (every stride-2 layer gives ceil(x / 2)). */
    public int featureSize(int inputSize) {
        int x = (inputSize + 1) / 2; // stem
        for (BlockSpec b : arch) {
            if (b.stride() == 2) {
                x = (x + 1) / 2;
            }
        }
        return x;
    }
}

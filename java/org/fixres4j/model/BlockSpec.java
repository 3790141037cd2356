package org.fixres4j.model;

import java.util.Locale;
import java.util.Objects;

/**
 * One stage's block description in timm's string notation ({@code _decode_block_str}), e.g.
 * {@code ir_r2_k3_s2_e6_c24_se0.25}: block type ({@code ds} depthwise-separable or {@code ir} inverted residual),
 * {@code r} repeats, {@code k} depthwise kernel, {@code s} stride, {@code e} expansion ratio (IR only), {@code c}
 * output channels, {@code se} squeeze-excite ratio (of the block input channels), and the optional {@code noskip}.
 * These are the base (B0) values; {@link EfficientNetSpec} scales channels and repeats.
 *
 * @param type the block type
 * @param repeats base repeat count (before depth scaling), at least 1
 * @param kernel depthwise kernel size (odd, at least 1)
 * @param stride stride of the stage's first block (1 or 2)
 * @param expansion expansion ratio (1 for DS blocks)
 * @param outChannels base output channels (before width scaling)
 * @param seRatio squeeze-excite ratio relative to the block input channels, 0 for none
 * @param noskip whether the residual connection is disabled
 */
public record BlockSpec(Type type, int repeats, int kernel, int stride, double expansion, int outChannels,
                        double seRatio, boolean noskip) {

    /** Block types of EfficientNet. */
    public enum Type {
        /** DepthwiseSeparableConv: conv_dw, bn1 + act, se, conv_pw, bn2 (no act). */
        DS("ds"),
        /** InvertedResidual: conv_pw (expand), bn1 + act, conv_dw, bn2 + act, se, conv_pwl, bn3 (no act). */
        IR("ir");

        private final String code;

        Type(String code) {
            this.code = code;
        }

        /** The leading code of the string notation. */
        public String code() {
            return code;
        }
    }

    /** Validates. */
    public BlockSpec {
        Objects.requireNonNull(type, "type");
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be >= 1, got " + repeats);
        }
        if (kernel < 1 || kernel % 2 == 0) {
            throw new IllegalArgumentException("kernel must be odd and >= 1, got " + kernel);
        }
        if (stride != 1 && stride != 2) {
            throw new IllegalArgumentException("stride must be 1 or 2, got " + stride);
        }
        if (!(expansion >= 1.0) || !Double.isFinite(expansion)) {
            throw new IllegalArgumentException("expansion must be >= 1, got " + expansion);
        }
        if (type == Type.DS && expansion != 1.0) {
            throw new IllegalArgumentException("ds blocks have no expansion, got e" + expansion);
        }
        if (outChannels < 1) {
            throw new IllegalArgumentException("output channels must be >= 1, got " + outChannels);
        }
        if (!(seRatio >= 0.0 && seRatio <= 1.0)) {
            throw new IllegalArgumentException("se ratio must be in [0, 1], got " + seRatio);
        }
    }

    /**
     * Decodes timm's notation: the type first, then options in any order separated by {@code _}. {@code r}, {@code k},
     * {@code s} and {@code c} are required; {@code e} is required for {@code ir} blocks.
     *
     * @throws IllegalArgumentException naming the problem for unknown types or options, missing or malformed values
     */
    public static BlockSpec parse(String text) {
        Objects.requireNonNull(text, "text");
        String[] ops = text.trim().split("_");
        Type type = null;
        for (Type t : Type.values()) {
            if (t.code.equals(ops[0])) {
                type = t;
            }
        }
        if (type == null) {
            throw new IllegalArgumentException("'" + text + "': unknown block type '" + ops[0]
                    + "' (supported: ds, ir)");
        }
        Integer r = null;
        Integer k = null;
        Integer s = null;
        Integer c = null;
        Double e = null;
        double se = 0;
        boolean noskip = false;
        for (int i = 1; i < ops.length; i++) {
            String op = ops[i];
            try {
                if (op.equals("noskip")) {
                    noskip = true;
                } else if (op.startsWith("se")) {
                    se = Double.parseDouble(op.substring(2));
                } else if (op.startsWith("r")) {
                    r = Integer.parseInt(op.substring(1));
                } else if (op.startsWith("k")) {
                    k = Integer.parseInt(op.substring(1));
                } else if (op.startsWith("s")) {
                    s = Integer.parseInt(op.substring(1));
                } else if (op.startsWith("c")) {
                    c = Integer.parseInt(op.substring(1));
                } else if (op.startsWith("e")) {
                    e = Double.parseDouble(op.substring(1));
                } else {
                    throw new IllegalArgumentException("'" + text + "': unsupported option '" + op + "'");
                }
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException("'" + text + "': malformed number in option '" + op + "'", ex);
            }
        }
        if (r == null || k == null || s == null || c == null) {
            throw new IllegalArgumentException("'" + text + "': options r, k, s and c are required");
        }
        if (type == Type.IR && e == null) {
            throw new IllegalArgumentException("'" + text + "': ir blocks need an expansion ratio e");
        }
        if (type == Type.DS && e != null && e != 1.0) {
            throw new IllegalArgumentException("'" + text + "': ds blocks take no expansion ratio");
        }
        return new BlockSpec(type, r, k, s, type == Type.IR ? e : 1.0, c, se, noskip);
    }

    /** The string notation ({@link #parse} of it gives an equal spec). */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(type.code).append("_r").append(repeats).append("_k").append(kernel)
                .append("_s").append(stride);
        if (type == Type.IR) {
            b.append("_e").append(num(expansion));
        }
        b.append("_c").append(outChannels);
        if (seRatio > 0) {
            b.append("_se").append(num(seRatio));
        }
        if (noskip) {
            b.append("_noskip");
        }
        return b.toString();
    }

    private static String num(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", v);
    }
}

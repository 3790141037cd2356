package org.fixres4j.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.fixres4j.torch.Torch;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;

/**
 * The model names timm users type, resolved to an architecture ({@link EfficientNetSpec}) and a pretrained
 * configuration ({@link PretrainedConfig}), with timm 0.9.16's tables for every EfficientNet B0-B8 / L2, TF-ported and
 * native:
 * <ul>
 *   <li>{@code tf_efficientnet_b0}: the architecture with its default (first listed) tag, {@code ns_jft_in1k};</li>
 *   <li>{@code tf_efficientnet_b0.ap_in1k}: a tagged name;</li>
 *   <li>{@code tf_efficientnet_b0_ap}, {@code tf_efficientnet_b7_ns}, {@code tf_efficientnet_l2_ns_475},
 *       {@code efficientnet_b2a}, ...: timm's deprecated names ({@code register_model_deprecations}).</li>
 * </ul>
 * Names are case-insensitive and may carry timm's {@code timm/} hub prefix. Architectures without published
 * weights (native B6-B8, L2) resolve to their {@code untrained} config.
 */
public final class ModelRegistry {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    private static final String R = "https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-weights/";
    private static final String H = "https://github.com/huggingface/pytorch-image-models/releases/download/v0.1-weights/";
    private static final Normalization IN = Normalization.IMAGENET;
    private static final Normalization INC = Normalization.INCEPTION;

    private static final Map<String, List<PretrainedConfig>> BY_ARCH = new LinkedHashMap<>();
    private static final Map<String, String> DEPRECATED = new LinkedHashMap<>();

    static {
        add("tf_efficientnet_b0", "ns_jft_in1k", 224, 0, 0.875, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b0_ns-c0e6a31c.pth", true);
        add("tf_efficientnet_b0", "ap_in1k", 224, 0, 0.875, Interpolation.BICUBIC, INC, 1000, "center", R + "tf_efficientnet_b0_ap-f262efe1.pth", true);
        add("tf_efficientnet_b0", "aa_in1k", 224, 0, 0.875, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b0_aa-827b6e33.pth", true);
        add("tf_efficientnet_b0", "in1k", 224, 0, 0.875, Interpolation.BICUBIC, IN, 1000, "center", H + "tf_efficientnet_b0-0af12548.pth", true);
        add("tf_efficientnet_b1", "ns_jft_in1k", 240, 0, 0.882, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b1_ns-99dd0c41.pth", true);
        add("tf_efficientnet_b1", "ap_in1k", 240, 0, 0.882, Interpolation.BICUBIC, INC, 1000, "center", R + "tf_efficientnet_b1_ap-44ef0a3d.pth", true);
        add("tf_efficientnet_b1", "aa_in1k", 240, 0, 0.882, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b1_aa-ea7a6ee0.pth", true);
        add("tf_efficientnet_b1", "in1k", 240, 0, 0.882, Interpolation.BICUBIC, IN, 1000, "center", H + "tf_efficientnet_b1-5c1377c4.pth", true);
        add("tf_efficientnet_b2", "ns_jft_in1k", 260, 0, 0.89, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b2_ns-00306e48.pth", true);
        add("tf_efficientnet_b2", "ap_in1k", 260, 0, 0.89, Interpolation.BICUBIC, INC, 1000, "center", R + "tf_efficientnet_b2_ap-2f8e7636.pth", true);
        add("tf_efficientnet_b2", "aa_in1k", 260, 0, 0.89, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b2_aa-60c94f97.pth", true);
        add("tf_efficientnet_b2", "in1k", 260, 0, 0.89, Interpolation.BICUBIC, IN, 1000, "center", H + "tf_efficientnet_b2-e393ef04.pth", true);
        add("tf_efficientnet_b3", "ns_jft_in1k", 300, 0, 0.904, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b3_ns-9d44bf68.pth", true);
        add("tf_efficientnet_b3", "ap_in1k", 300, 0, 0.904, Interpolation.BICUBIC, INC, 1000, "center", R + "tf_efficientnet_b3_ap-aad25bdd.pth", true);
        add("tf_efficientnet_b3", "aa_in1k", 300, 0, 0.904, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b3_aa-84b4657e.pth", true);
        add("tf_efficientnet_b3", "in1k", 300, 0, 0.904, Interpolation.BICUBIC, IN, 1000, "center", H + "tf_efficientnet_b3-e3bd6955.pth", true);
        add("tf_efficientnet_b4", "ns_jft_in1k", 380, 0, 0.922, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b4_ns-d6313a46.pth", true);
        add("tf_efficientnet_b4", "ap_in1k", 380, 0, 0.922, Interpolation.BICUBIC, INC, 1000, "center", R + "tf_efficientnet_b4_ap-dedb23e6.pth", true);
        add("tf_efficientnet_b4", "aa_in1k", 380, 0, 0.922, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b4_aa-818f208c.pth", true);
        add("tf_efficientnet_b4", "in1k", 380, 0, 0.922, Interpolation.BICUBIC, IN, 1000, "center", H + "tf_efficientnet_b4-74ee3bed.pth", true);
        add("tf_efficientnet_b5", "ns_jft_in1k", 456, 0, 0.934, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b5_ns-6f26d0cf.pth", true);
        add("tf_efficientnet_b5", "ap_in1k", 456, 0, 0.934, Interpolation.BICUBIC, INC, 1000, "center", R + "tf_efficientnet_b5_ap-9e82fae8.pth", true);
        add("tf_efficientnet_b5", "ra_in1k", 456, 0, 0.934, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b5_ra-9a3e5369.pth", true);
        add("tf_efficientnet_b5", "aa_in1k", 456, 0, 0.934, Interpolation.BICUBIC, IN, 1000, "center", H + "tf_efficientnet_b5_aa-99018a74.pth", true);
        add("tf_efficientnet_b5", "in1k", 456, 0, 0.934, Interpolation.BICUBIC, IN, 1000, "center", H + "tf_efficientnet_b5-c6949ce9.pth", true);
        add("tf_efficientnet_b6", "ns_jft_in1k", 528, 0, 0.942, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b6_ns-51548356.pth", true);
        add("tf_efficientnet_b6", "ap_in1k", 528, 0, 0.942, Interpolation.BICUBIC, INC, 1000, "center", R + "tf_efficientnet_b6_ap-4ffb161f.pth", true);
        add("tf_efficientnet_b6", "aa_in1k", 528, 0, 0.942, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b6_aa-80ba17e4.pth", true);
        add("tf_efficientnet_b7", "ns_jft_in1k", 600, 0, 0.949, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b7_ns-1dbc32de.pth", true);
        add("tf_efficientnet_b7", "ap_in1k", 600, 0, 0.949, Interpolation.BICUBIC, INC, 1000, "center", R + "tf_efficientnet_b7_ap-ddb28fec.pth", true);
        add("tf_efficientnet_b7", "ra_in1k", 600, 0, 0.949, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b7_ra-6c08e654.pth", true);
        add("tf_efficientnet_b7", "aa_in1k", 600, 0, 0.949, Interpolation.BICUBIC, IN, 1000, "center", H + "tf_efficientnet_b7_aa-076e3472.pth", true);
        add("tf_efficientnet_b8", "ap_in1k", 672, 0, 0.954, Interpolation.BICUBIC, INC, 1000, "center", R + "tf_efficientnet_b8_ap-00e169fa.pth", true);
        add("tf_efficientnet_b8", "ra_in1k", 672, 0, 0.954, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_b8_ra-572d5dd9.pth", true);
        add("tf_efficientnet_l2", "ns_jft_in1k_475", 475, 0, 0.936, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_l2_ns_475-bebbd00a.pth", true);
        add("tf_efficientnet_l2", "ns_jft_in1k", 800, 0, 0.96, Interpolation.BICUBIC, IN, 1000, "center", R + "tf_efficientnet_l2_ns-df73bb44.pth", true);
        add("efficientnet_b0", "ra_in1k", 224, 0, 0.875, Interpolation.BICUBIC, IN, 1000, "center", R + "efficientnet_b0_ra-3dd342df.pth", true);
        add("efficientnet_b1", "ft_in1k", 224, 256, 1.0, Interpolation.BICUBIC, IN, 1000, "center", R + "efficientnet_b1-533bc792.pth", true);
        add("efficientnet_b2", "ra_in1k", 256, 288, 1.0, Interpolation.BICUBIC, IN, 1000, "center", R + "efficientnet_b2_ra-bcdf34b7.pth", true);
        add("efficientnet_b3", "ra2_in1k", 288, 320, 1.0, Interpolation.BICUBIC, IN, 1000, "center", R + "efficientnet_b3_ra2-cf984f9c.pth", true);
        add("efficientnet_b4", "ra2_in1k", 320, 384, 1.0, Interpolation.BICUBIC, IN, 1000, "center", R + "efficientnet_b4_ra2_320-7eb33cd5.pth", true);
        add("efficientnet_b5", "sw_in12k_ft_in1k", 448, 0, 1.0, Interpolation.BICUBIC, IN, 1000, "squash", "", true);
        add("efficientnet_b5", "sw_in12k", 416, 0, 0.95, Interpolation.BICUBIC, IN, 11821, "center", "", true);
        add("efficientnet_b6", "untrained", 528, 0, 0.942, Interpolation.BICUBIC, IN, 1000, "center", "", false);
        add("efficientnet_b7", "untrained", 600, 0, 0.949, Interpolation.BICUBIC, IN, 1000, "center", "", false);
        add("efficientnet_b8", "untrained", 672, 0, 0.954, Interpolation.BICUBIC, IN, 1000, "center", "", false);
        add("efficientnet_l2", "untrained", 800, 0, 0.961, Interpolation.BICUBIC, IN, 1000, "center", "", false);
        for (String v : new String[] {"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8"}) {
            DEPRECATED.put("tf_efficientnet_" + v + "_ap", "tf_efficientnet_" + v + ".ap_in1k");
            if (!v.equals("b8")) {
                DEPRECATED.put("tf_efficientnet_" + v + "_ns", "tf_efficientnet_" + v + ".ns_jft_in1k");
            }
        }
        DEPRECATED.put("tf_efficientnet_l2_ns_475", "tf_efficientnet_l2.ns_jft_in1k_475");
        DEPRECATED.put("tf_efficientnet_l2_ns", "tf_efficientnet_l2.ns_jft_in1k");
        DEPRECATED.put("efficientnet_b2a", "efficientnet_b2");
        DEPRECATED.put("efficientnet_b3a", "efficientnet_b3");
    }

    private ModelRegistry() {}

    private static void add(String arch, String tag, int input, int testInput, double cropPct, Interpolation interp,
                            Normalization norm, int numClasses, String cropMode, String url, boolean hub) {
        BY_ARCH.computeIfAbsent(arch, a -> new ArrayList<>()).add(new PretrainedConfig(arch, tag, input, testInput,
                cropPct, interp, norm, numClasses, cropMode, url, hub));
    }

    /** A resolved name: the architecture, its pretrained config, and how the name was spelled. */
    public record Resolved(String requested, EfficientNetSpec spec, PretrainedConfig config, String deprecatedAlias) {
        /** The canonical {@code architecture.tag}. */
        public String name() {
            return config.name();
        }
    }

    /** The architectures, in timm's order. */
    public static List<String> architectures() {
        return List.copyOf(BY_ARCH.keySet());
    }

    /** Every {@code architecture.tag}. */
    public static List<String> pretrainedNames() {
        List<String> out = new ArrayList<>();
        for (List<PretrainedConfig> l : BY_ARCH.values()) {
            for (PretrainedConfig c : l) {
                out.add(c.name());
            }
        }
        return out;
    }

    /** The deprecated names and what they map to. */
    public static Map<String, String> deprecatedNames() {
        return Collections.unmodifiableMap(DEPRECATED);
    }

    /** The configs of an architecture, default first. */
    public static List<PretrainedConfig> configs(String architecture) {
        List<PretrainedConfig> l = BY_ARCH.get(architecture.toLowerCase(Locale.ROOT));
        if (l == null) {
            throw unknown(architecture);
        }
        return Collections.unmodifiableList(l);
    }

    /**
     * Resolves a model name ({@code arch}, {@code arch.tag} or a deprecated alias).
     *
     * @throws IllegalArgumentException naming the known architectures / tags if the name is unknown
     */
    public static Resolved resolve(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.startsWith("timm/")) {
            n = n.substring(5);
        }
        String alias = null;
        if (DEPRECATED.containsKey(n)) {
            alias = n;
            n = DEPRECATED.get(n);
        }
        String arch = n;
        String tag = null;
        int dot = n.indexOf('.');
        if (dot >= 0) {
            arch = n.substring(0, dot);
            tag = n.substring(dot + 1);
        }
        List<PretrainedConfig> l = BY_ARCH.get(arch);
        if (l == null) {
            throw unknown(name);
        }
        PretrainedConfig cfg = null;
        if (tag == null) {
            cfg = l.get(0);
        } else {
            for (PretrainedConfig c : l) {
                if (c.tag().equals(tag)) {
                    cfg = c;
                }
            }
            if (cfg == null) {
                List<String> tags = new ArrayList<>();
                l.forEach(c -> tags.add(c.tag()));
                throw new IllegalArgumentException("unknown tag '" + tag + "' for " + arch + " (known: "
                        + String.join(", ", tags) + ")");
            }
        }
        return new Resolved(name, cfg.spec(), cfg, alias);
    }

    /** The pretrained config of a name. */
    public static PretrainedConfig config(String name) {
        return resolve(name).config();
    }

    /** A model of a name, with its weights' class count (libtorch natives are loaded first). */
    public static EfficientNet create(String name) {
        return create(resolve(name).spec());
    }

    /** A model of a name with another class count (for fine-tuning; load weights non-strictly). */
    public static EfficientNet create(String name, int numClasses) {
        return create(resolve(name).spec().withNumClasses(numClasses));
    }

    /** A model of a spec (libtorch natives are loaded first). */
    public static EfficientNet create(EfficientNetSpec spec) {
        Torch.ensureLoaded();
        return new EfficientNet(spec);
    }

    private static IllegalArgumentException unknown(String name) {
        return new IllegalArgumentException("unknown model '" + name + "'; known architectures: "
                + String.join(", ", BY_ARCH.keySet()) + " (optionally .<tag>), and the legacy names "
                + String.join(", ", DEPRECATED.keySet()));
    }
}

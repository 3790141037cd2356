package org.fixres4j.kernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import org.fixres4j.io.Json;

/**
 * Where {@code FastEfficientNet} runs its depthwise layers on CUDA: FixRes4J's fused kernels or libtorch's
 * conv2d(groups=C) (cuDNN). Off by default: the kernels have not been measured against cuDNN on a GPU yet. The
 * system property {@code fixres.cuda.depthwise} selects:
 * <ul>
 *   <li>{@code off} (default): cuDNN everywhere;</li>
 *   <li>{@code on}: our kernels everywhere;</li>
 *   <li>a path to the switch table the device check writes ({@code tests/device/abi_harness.py --switch FILE}: JSON
 *       with {@code "kinds": {"bfloat16/NHWC/k3/s1": true, ...}}): our kernels for the kinds marked true (the dtype,
 *       layout, kernel size and stride where our fused forward beat cuDNN + bias + SiLU on every timed layer), cuDNN
 *       for every other kind. An unreadable or malformed table is an {@link IllegalArgumentException} naming it.</li>
 * </ul>
 * Read once per {@link #current()} call (FastEfficientNet reads it when it fuses).
 */
public final class CudaDepthwiseSwitch {
    /** The system property. */
    public static final String PROPERTY = "fixres.cuda.depthwise";

    private final boolean all;
    private final Map<String, Boolean> kinds;
    private final String source;

    private CudaDepthwiseSwitch(boolean all, Map<String, Boolean> kinds, String source) {
        this.all = all;
        this.kinds = kinds;
        this.source = source;
    }

    /** cuDNN everywhere. */
    public static CudaDepthwiseSwitch off() {
        return new CudaDepthwiseSwitch(false, Map.of(), "off");
    }

    /** Our kernels everywhere. */
    public static CudaDepthwiseSwitch on() {
        return new CudaDepthwiseSwitch(true, Map.of(), "on");
    }

    /** The switch the system property selects (default off). */
    public static CudaDepthwiseSwitch current() {
        String v = System.getProperty(PROPERTY, "off").trim();
        if (v.isEmpty() || v.equalsIgnoreCase("off")) {
            return off();
        }
        if (v.equalsIgnoreCase("on")) {
            return on();
        }
        return fromTable(Path.of(v));
    }

    /** The switch table written by the device check. */
    public static CudaDepthwiseSwitch fromTable(Path table) {
        String text;
        try {
            text = Files.readString(table);
        } catch (IOException e) {
            throw new IllegalArgumentException(PROPERTY + ": cannot read the switch table " + table + ": " + e);
        }
        Map<String, Object> root = Json.parseObject(text);
        Object k = root.get("kinds");
        if (!(k instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(PROPERTY + ": " + table + " has no \"kinds\" object");
        }
        Map<String, Boolean> kinds = new TreeMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof Boolean b)) {
                throw new IllegalArgumentException(PROPERTY + ": " + table + ": kind " + e.getKey()
                        + " must be true or false, got " + e.getValue());
            }
            kinds.put(String.valueOf(e.getKey()), b);
        }
        return new CudaDepthwiseSwitch(false, Map.copyOf(kinds), table.toString());
    }

    /** The table's key of a layer kind, e.g. {@code bfloat16/NHWC/k3/s1}. */
    public static String key(CudaDepthwise.DType dtype, boolean nhwc, int k, int stride) {
        String d = switch (dtype) {
            case FLOAT32 -> "float32";
            case FLOAT16 -> "float16";
            case BFLOAT16 -> "bfloat16";
        };
        return d + "/" + (nhwc ? "NHWC" : "NCHW") + "/k" + k + "/s" + stride;
    }

    /** Whether our kernels run layers of this kind. */
    public boolean useOurs(CudaDepthwise.DType dtype, boolean nhwc, int k, int stride) {
        return all || kinds.getOrDefault(key(dtype, nhwc, k, stride), false);
    }

    @Override
    public String toString() {
        return "CUDA depthwise switch: " + source + (kinds.isEmpty() ? "" : " " + kinds);
    }
}

package org.fixres4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.fixres4j.kernels.Depthwise;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.torch.Torch;

/**
 * {@code fixres bench depthwise}: every depthwise layer of an EfficientNet (default tf_efficientnet_b0 at 224, TF
 * 'same' padding), FixRes4J's fused kernel ({@link Depthwise#forward}: NHWC, folded-BN bias + SiLU + the SE's spatial
 * sums in one pass) against libtorch's sequence doing the same work (conv2d(groups = C) with the bias, in-place SiLU,
 * the spatial mean for the SE), in NCHW and in channels-last; the three are timed interleaved in the same run
 * ({@link ModelBench#interleaved}: medians of rounds) so that load from other processes hits them alike. Reports ms per
 * layer, totals, the speed-up over the better libtorch layout per layer, and the fused kernel's achieved bandwidth
 * (bytes of x read + y written) against this machine's copy bandwidth ({@link MemoryBandwidth}).
 */
public final class DepthwiseBench {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    public static final String DEFAULT_MODEL = "tf_efficientnet_b0";
    public static final int DEFAULT_RES = 224;
    public static final int DEFAULT_BATCH = 8;
    public static final int[] DEFAULT_THREADS = {1, 2};
    public static final double DEFAULT_SECONDS = 0.6;

    private DepthwiseBench() {}

    /** One depthwise layer: channels, input size, kernel, stride, TF 'same' padding. */
    public record Layer(String block, int c, int h, int w, int k, int stride, Depthwise.Pad pad) {
        int outH() {
            return (h + pad.top() + pad.bottom() - k) / stride + 1;
        }

        int outW() {
            return (w + pad.left() + pad.right() - k) / stride + 1;
        }
    }

    /** The depthwise layers of a model at a resolution (the stem halves it; each block's stride then applies). */
    public static List<Layer> layers(String model, int res) {
        EfficientNetSpec spec = EfficientNetSpec.of(model);
        List<Layer> out = new ArrayList<>();
        int h = (res + 1) / 2; // stem: stride 2, TF same
        for (List<EfficientNetSpec.Block> stage : spec.blocks()) {
            for (EfficientNetSpec.Block b : stage) {
                out.add(new Layer(b.key(), b.mid(), h, h, b.kernel(), b.stride(),
                        Depthwise.Pad.same(h, h, b.kernel(), b.stride())));
                h = (h + b.stride() - 1) / b.stride();
            }
        }
        return out;
    }

    /** The default run: tf_efficientnet_b0 at 224, batch 8, 1 and 2 threads. */
    public static Map<String, Object> run() {
        return run(DEFAULT_MODEL, DEFAULT_RES, DEFAULT_BATCH, DEFAULT_THREADS, DEFAULT_SECONDS);
    }

    /**
     * Times every layer for every thread count (libtorch's {@code set_num_threads}, restored afterwards; the fused
     * kernel gets the same count) and returns the report as a JSON-ready map: {@code rows} (per thread count and
     * layer: fused_ms, torch_nchw_ms, torch_cl_ms, speedup, fused_gb_s, fraction_of_copy) and {@code totals}.
     */
    @SuppressWarnings("try")
    public static Map<String, Object> run(String model, int res, int batch, int[] threads, double secondsPerLayer) {
        Torch.ensureLoaded();
        if (batch < 1 || threads.length == 0 || !(secondsPerLayer > 0)) {
            throw new IllegalArgumentException("need batch >= 1, thread counts and a positive time");
        }
        double bandwidth = MemoryBandwidth.copyBytesPerSecond(256);
        List<Layer> layers = layers(model, res);
        int saved = torch.get_num_threads();
        List<Map<String, Object>> rows = new ArrayList<>();
        List<Map<String, Object>> totals = new ArrayList<>();
        torch.manual_seed(0);
        try {
            for (int t : threads) {
                org.fixres4j.kernels.ComputeThreads.set(t);
                double fusedTot = 0, nchwTot = 0, clTot = 0, bestTot = 0, bytesTot = 0;
                for (Layer l : layers) {
                    try (PointerScope scope = new PointerScope()) {
                        Tensor x = torch.randn(batch, l.c, l.h, l.w);
                        Tensor xcl = x.contiguous(MemoryFormat.ChannelsLast);
                        Tensor wt = torch.randn(l.c, 1, l.k, l.k).mul_(new Scalar(0.2));
                        Tensor wcl = wt.contiguous(MemoryFormat.ChannelsLast);
                        Tensor b = torch.randn(l.c).mul_(new Scalar(0.1));
                        int threadsNow = t;
                        Supplier<Tensor> fused = () -> {
                            Tensor sums = torch.empty(batch, l.c);
                            Tensor y = Depthwise.forward(xcl, wt, b, l.stride, l.pad, Depthwise.Activation.SILU,
                                    sums, threadsNow);
                            sums.div_(new Scalar((double) (l.outH() * l.outW())));
                            return y;
                        };
                        Supplier<Tensor> nchw = () -> torchSequence(x, wt, b, l);
                        Supplier<Tensor> cl = () -> torchSequence(xcl, wcl, b, l);
                        double[] ms = ModelBench.interleaved(3 * secondsPerLayer, 1, List.of(fused, nchw, cl));
                        double bytes = 4.0 * batch * l.c * ((double) l.h * l.w + (double) l.outH() * l.outW());
                        double best = Math.min(ms[1], ms[2]);
                        Map<String, Object> r = new LinkedHashMap<>();
                        r.put("threads", t);
                        r.put("block", l.block);
                        r.put("c", l.c);
                        r.put("h", l.h);
                        r.put("k", l.k);
                        r.put("stride", l.stride);
                        r.put("fused_ms", ms[0]);
                        r.put("torch_nchw_ms", ms[1]);
                        r.put("torch_cl_ms", ms[2]);
                        r.put("speedup", best / ms[0]);
                        r.put("fused_gb_s", bytes / (ms[0] * 1e-3) / 1e9);
                        r.put("fraction_of_copy", bytes / (ms[0] * 1e-3) / bandwidth);
                        rows.add(r);
                        fusedTot += ms[0];
                        nchwTot += ms[1];
                        clTot += ms[2];
                        bestTot += best;
                        bytesTot += bytes;
                    }
                }
                Map<String, Object> tot = new LinkedHashMap<>();
                tot.put("threads", t);
                tot.put("fused_ms", fusedTot);
                tot.put("torch_nchw_ms", nchwTot);
                tot.put("torch_cl_ms", clTot);
                tot.put("torch_best_per_layer_ms", bestTot);
                tot.put("speedup", bestTot / fusedTot);
                tot.put("fused_gb_s", bytesTot / (fusedTot * 1e-3) / 1e9);
                tot.put("fraction_of_copy", bytesTot / (fusedTot * 1e-3) / bandwidth);
                totals.add(tot);
            }
        } finally {
            torch.set_num_threads(saved);
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("benchmark", "depthwise");
        report.put("model", model);
        report.put("res", res);
        report.put("batch", batch);
        report.put("work", "conv (groups = C) + bias + SiLU + SE spatial mean, float32");
        report.put("machine", Machine.describe());
        report.put("copy_bandwidth_gb_s", bandwidth / 1e9);
        report.put("seconds_per_layer", secondsPerLayer);
        report.put("rows", rows);
        report.put("totals", totals);
        return report;
    }

    /** libtorch: conv2d(groups = C) + bias (explicit zero padding first when TF same is asymmetric), SiLU, mean. */
    static Tensor torchSequence(Tensor x, Tensor w, Tensor b, Layer l) {
        Depthwise.Pad p = l.pad;
        Tensor in = x;
        long[] padding;
        if (p.top() == p.bottom() && p.left() == p.right()) {
            padding = new long[] {p.top(), p.left()};
        } else {
            in = torch.constant_pad_nd(x, new long[] {p.left(), p.right(), p.top(), p.bottom()});
            padding = new long[] {0, 0};
        }
        Tensor y = torch.conv2d(in, w, new TensorOptional(b), new long[] {l.stride, l.stride}, padding,
                new long[] {1, 1}, l.c);
        torch.silu_(y);
        y.mean(new long[] {2, 3}, false, new ScalarTypeOptional());
        return y;
    }

    /** Formats the report as Markdown tables (one per thread count). */
    @SuppressWarnings("unchecked")
    public static String table(Map<String, Object> report) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "Depthwise layers of %s at %d px, batch %d: %s%n", report.get("model"),
                ((Number) report.get("res")).intValue(), ((Number) report.get("batch")).intValue(),
                report.get("work")));
        s.append("Machine: ").append(report.get("machine")).append(String.format(Locale.ROOT,
                "; copy bandwidth %.1f GB/s (read + write)%n",
                ((Number) report.get("copy_bandwidth_gb_s")).doubleValue()));
        List<Map<String, Object>> rows = (List<Map<String, Object>>) report.get("rows");
        for (Map<String, Object> tot : (List<Map<String, Object>>) report.get("totals")) {
            int t = ((Number) tot.get("threads")).intValue();
            s.append(String.format(Locale.ROOT, "%n%d thread(s)%n", t));
            s.append("| block | c | h | k | s | fused NHWC ms | torch NCHW ms | torch CL ms | speed-up | fused GB/s |"
                    + " of copy |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for (Map<String, Object> r : rows) {
                if (((Number) r.get("threads")).intValue() != t) {
                    continue;
                }
                s.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %d | %.3f | %.3f | %.3f | %.2fx | %.1f |"
                                + " %.0f%% |%n", r.get("block"), r.get("c"), r.get("h"), r.get("k"), r.get("stride"),
                        d(r, "fused_ms"), d(r, "torch_nchw_ms"), d(r, "torch_cl_ms"), d(r, "speedup"),
                        d(r, "fused_gb_s"), 100 * d(r, "fraction_of_copy")));
            }
            s.append(String.format(Locale.ROOT, "| total | | | | | %.3f | %.3f | %.3f | %.2fx | %.1f | %.0f%% |%n",
                    d(tot, "fused_ms"), d(tot, "torch_nchw_ms"), d(tot, "torch_cl_ms"), d(tot, "speedup"),
                    d(tot, "fused_gb_s"), 100 * d(tot, "fraction_of_copy")));
            s.append(String.format(Locale.ROOT, "(speed-up: the better libtorch layout per layer, %.3f ms in total)%n",
                    d(tot, "torch_best_per_layer_ms")));
        }
        return s.toString();
    }

    private static double d(Map<String, Object> m, String k) {
        return ((Number) m.get(k)).doubleValue();
    }
}

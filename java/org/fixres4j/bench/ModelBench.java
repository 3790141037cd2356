package org.fixres4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.torch.Torch;

/**
 * {@code fixres bench model}: EfficientNet inference throughput on libtorch (float32, CPU), in one run, for every
 * batch size and intra-op thread count asked:
 * <ul>
 *   <li><b>plain</b>: {@link EfficientNet#forward} in eval mode under a {@code NoGradGuard}, NCHW (the module path a
 *       user gets from the model as built);</li>
 *   <li><b>plain, channels-last</b>: the same after {@link EfficientNet#toChannelsLast()} (isolates what the memory
 *       format alone gives);</li>
 *   <li><b>fast</b>: {@link FastEfficientNet} (BN folded, channels-last, InferenceMode, in-place ops).</li>
 * </ul>
 * Weights are libtorch's random initialisation (speed does not depend on their values; BN folding costs nothing at
 * run time either way). Each figure is the median of timed blocks after a warm-up ({@link Timer}); images/s counts
 * images, so a batch of 8 is 8 images. The three paths are timed interleaved (see {@link #interleaved}) so that
 * load from other processes hits them alike. Thread counts are libtorch's {@code set_num_threads} (restored afterwards).
 */
public final class ModelBench {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    /** The default model, resolution, batches and thread counts of {@code fixres bench model}. */
    public static final String DEFAULT_MODEL = "tf_efficientnet_b0";
    public static final int DEFAULT_RES = 224;
    public static final int[] DEFAULT_BATCHES = {1, 8};
    public static final int[] DEFAULT_THREADS = {1, 2};
    public static final double DEFAULT_SECONDS = 3.0;

    private ModelBench() {}

    /** The default run: tf_efficientnet_b0 at 224, batch 1 and 8, 1 and 2 threads, ~3 s a row. */
    public static Map<String, Object> run() {
        return run(DEFAULT_MODEL, DEFAULT_RES, DEFAULT_BATCHES, DEFAULT_THREADS, DEFAULT_SECONDS);
    }

    /**
     * Times every row and returns the report as a JSON-ready map: {@code benchmark}, {@code model}, {@code res},
     * {@code machine}, {@code seconds_per_row}, {@code rows} (each: path, batch, threads, ms_per_batch, images_per_s,
     * speedup_vs_plain) and {@code fast_speedup} (fast / plain images/s per batch and thread count).
     *
     * @param model a timm model name ({@link ModelRegistry#resolve})
     * @param res the (square) input size
     * @param batches batch sizes
     * @param threads libtorch intra-op thread counts
     * @param secondsPerRow measuring time per row (the three rows of a batch and thread count share 3x this)
     */
    @SuppressWarnings("try")
    public static Map<String, Object> run(String model, int res, int[] batches, int[] threads, double secondsPerRow) {
        Torch.ensureLoaded();
        if (res < 32 || batches.length == 0 || threads.length == 0 || !(secondsPerRow > 0)) {
            throw new IllegalArgumentException("need res >= 32, batches, threads and a positive time");
        }
        int savedThreads = torch.get_num_threads();
        List<Map<String, Object>> rows = new ArrayList<>();
        Map<String, Object> speedups = new LinkedHashMap<>();
        torch.manual_seed(0);
        try (EfficientNet plain = ModelRegistry.create(model);
             EfficientNet channelsLast = ModelRegistry.create(model)) {
            plain.eval();
            channelsLast.eval();
            channelsLast.toChannelsLast();
            try (FastEfficientNet fastTorchDw = FastEfficientNet.fuse(plain, false);
                 FastEfficientNet fast = FastEfficientNet.fuse(plain, true)) {
                for (int t : threads) {
                    torch.set_num_threads(t);
                    for (int b : batches) {
                        try (PointerScope scope = new PointerScope()) {
                            Tensor x = torch.randn(b, 3, res, res);
                            double[] ms = interleaved(4 * secondsPerRow, b, List.of(() -> plain.forward(x),
                                    () -> channelsLast.forward(x), () -> fastTorchDw.forward(x),
                                    () -> fast.forward(x)));
                            double plainMs = ms[0];
                            double clMs = ms[1];
                            double fastTorchMs = ms[2];
                            double fastMs = ms[3];
                            rows.add(row("plain", b, t, plainMs, plainMs));
                            rows.add(row("plain, channels-last", b, t, clMs, plainMs));
                            rows.add(row("fast, libtorch depthwise (BN folded, channels-last, InferenceMode)", b, t,
                                    fastTorchMs, plainMs));
                            rows.add(row("fast, FixRes4J fused depthwise kernel", b, t, fastMs, plainMs));
                            speedups.put("batch " + b + ", " + t + (t == 1 ? " thread" : " threads"),
                                    plainMs / fastMs);
                        }
                    }
                }
            }
        } finally {
            torch.set_num_threads(savedThreads);
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("benchmark", "model");
        report.put("model", ModelRegistry.resolve(model).name());
        report.put("res", res);
        report.put("dtype", "float32, CPU");
        report.put("machine", Machine.describe());
        report.put("seconds_per_row", secondsPerRow);
        report.put("rows", rows);
        report.put("fast_speedup", speedups);
        return report;
    }

    /**
     * Milliseconds per image of each path, measured interleaved so that a busy machine slows them alike: after a
     * warm-up, rounds of one timed block per path (each block about a fifteenth of the time over the paths); the median
     * over rounds per path. Every call runs in its own PointerScope under a NoGradGuard.
     */
    @SuppressWarnings("try")
    static double[] interleaved(double seconds, int batch, List<java.util.function.Supplier<Tensor>> paths) {
        int n = paths.size();
        long[] once = new long[n];
        for (int p = 0; p < n; p++) {
            call(paths.get(p)); // warm-up: first calls allocate and pick kernels
            call(paths.get(p));
            long t0 = System.nanoTime();
            call(paths.get(p));
            once[p] = Math.max(1, System.nanoTime() - t0);
        }
        int rounds = 15;
        double[][] ms = new double[n][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int p = 0; p < n; p++) {
                int calls = (int) Math.max(1, Math.min(1000, seconds / n / rounds / (once[p] * 1e-9)));
                long t0 = System.nanoTime();
                for (int i = 0; i < calls; i++) {
                    call(paths.get(p));
                }
                ms[p][r] = (System.nanoTime() - t0) * 1e-6 / ((double) calls * batch);
            }
        }
        double[] med = new double[n];
        for (int p = 0; p < n; p++) {
            java.util.Arrays.sort(ms[p]);
            med[p] = ms[p][rounds / 2];
        }
        return med;
    }

    @SuppressWarnings("try")
    private static void call(java.util.function.Supplier<Tensor> forward) {
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            forward.get();
        }
    }

    private static Map<String, Object> row(String path, int batch, int threads, double msPerImage,
                                           double plainMsPerImage) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", path);
        m.put("batch", batch);
        m.put("threads", threads);
        m.put("ms_per_batch", msPerImage * batch);
        m.put("images_per_s", 1000.0 / msPerImage);
        m.put("speedup_vs_plain", plainMsPerImage / msPerImage);
        return m;
    }

    /** Formats the report as a Markdown table. */
    @SuppressWarnings("unchecked")
    public static String table(Map<String, Object> report) {
        StringBuilder b = new StringBuilder();
        b.append("Model: ").append(report.get("model")).append(" at ").append(report.get("res")).append(" px, ")
                .append(report.get("dtype")).append('\n');
        b.append("Machine: ").append(report.get("machine")).append("\n\n");
        b.append("| path | batch | threads | ms/batch | images/s | vs plain |\n");
        b.append("|---|---:|---:|---:|---:|---:|\n");
        for (Map<String, Object> r : (List<Map<String, Object>>) report.get("rows")) {
            b.append(String.format(Locale.ROOT, "| %s | %d | %d | %.1f | %.1f | %.2fx |%n", r.get("path"),
                    ((Number) r.get("batch")).intValue(), ((Number) r.get("threads")).intValue(),
                    ((Number) r.get("ms_per_batch")).doubleValue(), ((Number) r.get("images_per_s")).doubleValue(),
                    ((Number) r.get("speedup_vs_plain")).doubleValue()));
        }
        return b.toString();
    }

    /** Runs the default benchmark and prints the table (for use without the CLI). */
    public static void main(String[] args) {
        Map<String, Object> r = args.length == 0 ? run()
                : run(args[0], args.length > 1 ? Integer.parseInt(args[1]) : DEFAULT_RES, DEFAULT_BATCHES,
                        DEFAULT_THREADS, args.length > 2 ? Double.parseDouble(args[2]) : DEFAULT_SECONDS);
        System.out.print(table(r));
    }
}

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
import org.fixres4j.model.BatchStreams;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.torch.Amp;
import org.fixres4j.torch.AmpScope;
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
 * load from other processes hits them alike. Thread counts are libtorch's {@code set_num_threads}, with OpenBLAS on one
 * thread ({@link org.fixres4j.kernels.ComputeThreads#set}; both restored afterwards).
 * Each row also has the latency percentiles of one forward call (p50 / p90 / p99 over every timed call, as djl-bench
 * reports them), and the report the process's peak resident memory ({@code VmHWM} of {@code /proc/self/status}).
 * {@link #run(String, java.util.function.Supplier, int, int[], int[], double)} times a model of real weights instead.
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
    public static Map<String, Object> run(String model, int res, int[] batches, int[] threads, double secondsPerRow) {
        Torch.ensureLoaded();
        torch.manual_seed(0);
        return run(ModelRegistry.resolve(model).name(), () -> ModelRegistry.create(model), res, batches, threads,
                secondsPerRow);
    }

    /**
     * {@link #run(String, int, int[], int[], double)} for any model: {@code factory} is called twice (the plain and
     * the channels-last copy) and must give the same network each time, e.g. one loaded from a weight file.
     *
     * @param name the model's name in the report
     */
    public static Map<String, Object> run(String name, java.util.function.Supplier<EfficientNet> factory, int res,
                                          int[] batches, int[] threads, double secondsPerRow) {
        return run(name, factory, res, batches, threads, secondsPerRow, Amp.NONE);
    }

    /** {@link #run(String, int, int[], int[], double)} with the timm model's seeded weights, in a precision too. */
    public static Map<String, Object> run(String model, int res, int[] batches, int[] threads, double secondsPerRow,
                                          Amp amp) {
        Torch.ensureLoaded();
        torch.manual_seed(0);
        return run(ModelRegistry.resolve(model).name(), () -> ModelRegistry.create(model), res, batches, threads,
                secondsPerRow, amp);
    }

    /**
     * {@link #run(String, java.util.function.Supplier, int, int[], int[], double)}; with {@code amp} enabled (CPU:
     * bf16) two more paths are timed interleaved with the float32 ones: the plain module under libtorch's autocast
     * and the fast path in that precision ({@link FastEfficientNet#fuse(EfficientNet, Amp)}), and the report gains
     * {@code amp}, {@code amp_speedup} (float32 / reduced ms per image, plain and fast) and
     * {@code amp_max_logit_deviation} (the largest |logit difference| from the float32 path on the timed input,
     * relative to the largest |float32 logit|).
     */
    @SuppressWarnings("try")
    public static Map<String, Object> run(String name, java.util.function.Supplier<EfficientNet> factory, int res,
                                          int[] batches, int[] threads, double secondsPerRow, Amp amp) {
        Torch.ensureLoaded();
        amp.checkDevice("cpu");
        Map<String, Object> ampSpeedups = new LinkedHashMap<>();
        Map<String, Object> ampDeviation = new LinkedHashMap<>();
        if (res < 32 || batches.length == 0 || threads.length == 0 || !(secondsPerRow > 0)) {
            throw new IllegalArgumentException("need res >= 32, batches, threads and a positive time");
        }
        int savedThreads = torch.get_num_threads();
        int savedBlas = org.fixres4j.kernels.ComputeThreads.blasThreads();
        List<Map<String, Object>> rows = new ArrayList<>();
        Map<String, Object> speedups = new LinkedHashMap<>();
        try (EfficientNet plain = factory.get();
             EfficientNet channelsLast = factory.get()) {
            int inChannels = plain.spec().inChannels();
            plain.eval();
            channelsLast.eval();
            channelsLast.toChannelsLast();
            try (FastEfficientNet fastTorchDw = FastEfficientNet.fuse(plain, false);
                 FastEfficientNet fast = FastEfficientNet.fuse(plain, true);
                 FastEfficientNet fastAmp = amp.enabled() ? FastEfficientNet.fuse(plain, amp) : null) {
                for (int t : threads) {
                    org.fixres4j.kernels.ComputeThreads.set(t); // libtorch's threads, OpenBLAS on one
                    try (BatchStreams streams = t >= 2 ? BatchStreams.of(t, t) : null) {
                        for (int b : batches) {
                            try (PointerScope scope = new PointerScope()) {
                                Tensor x = torch.randn(b, inChannels, res, res);
                                List<java.util.function.Supplier<Tensor>> paths = new ArrayList<>(List.of(
                                        () -> plain.forward(x), () -> channelsLast.forward(x),
                                        () -> fastTorchDw.forward(x), () -> fast.forward(x)));
                                if (fastAmp != null) {
                                    paths.add(() -> AmpScope.forward(amp, "cpu", plain::forward, x));
                                    paths.add(() -> fastAmp.forward(x));
                                }
                                // one stream per thread (BatchStreams): rows only where each stream gets 2+ images
                                boolean streamed = streams != null && b >= 2 * t;
                                int streamsAt = paths.size();
                                if (streamed) {
                                    paths.add(() -> streams.forward(fast::forward, x));
                                    if (fastAmp != null) {
                                        paths.add(() -> streams.forward(fastAmp::forward, x));
                                    }
                                }
                                Timing[] ms = interleavedTimings(paths.size() * secondsPerRow, b, paths);
                                double plainMs = ms[0].msPerItem();
                                double fastMs = ms[3].msPerItem();
                                rows.add(row("plain", b, t, ms[0], plainMs));
                                rows.add(row("plain, channels-last", b, t, ms[1], plainMs));
                                rows.add(row("fast, libtorch depthwise (BN folded, channels-last, InferenceMode)", b, t,
                                        ms[2], plainMs));
                                rows.add(row("fast, FixRes4J fused depthwise kernel", b, t, ms[3], plainMs));
                                String key = "batch " + b + ", " + t + (t == 1 ? " thread" : " threads");
                                speedups.put(key, plainMs / fastMs);
                                if (fastAmp != null) {
                                    rows.add(row("plain, " + amp.label() + " autocast", b, t, ms[4], plainMs));
                                    rows.add(row("fast, " + amp.label() + ", FixRes4J fused depthwise kernel", b, t,
                                            ms[5], plainMs));
                                    Map<String, Object> sp = new LinkedHashMap<>();
                                    sp.put("plain", plainMs / ms[4].msPerItem());
                                    sp.put("fast", fastMs / ms[5].msPerItem());
                                    if (streamed) {
                                        double fp32Best = Math.min(fastMs, ms[streamsAt].msPerItem());
                                        double ampBest = Math.min(ms[5].msPerItem(), ms[streamsAt + 1].msPerItem());
                                        sp.put("fast_" + t + "_streams", ms[streamsAt].msPerItem()
                                                / ms[streamsAt + 1].msPerItem());
                                        sp.put("fast_best", fp32Best / ampBest);
                                    }
                                    ampSpeedups.put(key, sp);
                                    Map<String, Object> dev = new LinkedHashMap<>();
                                    try (NoGradGuard g = new NoGradGuard()) {
                                        dev.put("plain", deviation(plain.forward(x),
                                                AmpScope.forward(amp, "cpu", plain::forward, x)));
                                        dev.put("fast", deviation(fast.forward(x), fastAmp.forward(x)));
                                    }
                                    ampDeviation.put(key, dev);
                                }
                                if (streamed) {
                                    rows.add(row("fast, FixRes4J fused depthwise kernel, " + t
                                            + " streams of 1 thread", b, t, ms[streamsAt], plainMs));
                                    if (fastAmp != null) {
                                        rows.add(row("fast, " + amp.label() + ", FixRes4J fused depthwise kernel, " + t
                                                + " streams of 1 thread", b, t, ms[streamsAt + 1], plainMs));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        } finally {
            torch.set_num_threads(savedThreads);
            if (savedBlas > 0) {
                org.fixres4j.kernels.ComputeThreads.setBlasThreads(savedBlas);
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("benchmark", "model");
        report.put("model", name);
        report.put("res", res);
        report.put("dtype", amp.enabled() ? "float32 and " + amp.label() + ", CPU" : "float32, CPU");
        report.put("machine", Machine.describe());
        report.put("seconds_per_row", secondsPerRow);
        report.put("rows", rows);
        report.put("fast_speedup", speedups);
        report.put("scaling", scaling(rows));
        report.put("depthwise_threading", org.fixres4j.kernels.Depthwise.threading().name());
        report.put("blas_threads_while_timed", savedBlas > 0 ? 1 : null);
        if (amp.enabled()) {
            report.put("amp", amp.label());
            report.put("amp_speedup", ampSpeedups);
            report.put("amp_max_logit_deviation", ampDeviation);
        }
        Long peak = peakRssBytes();
        report.put("peak_rss_mb", peak == null ? null : peak / 1e6);
        report.put("peak_rss_source", peak == null ? "not available (no /proc/self/status)"
                : "VmHWM of /proc/self/status: the whole Java process, model and benchmark included");
        return report;
    }

    /**
     * Milliseconds per image of each path, measured interleaved so that a busy machine slows them alike: after a
     * warm-up, rounds of one timed block per path (each block about a fifteenth of the time over the paths); the median
     * over rounds per path. Every call runs in its own PointerScope under a NoGradGuard.
     */
    static double[] interleaved(double seconds, int batch, List<java.util.function.Supplier<Tensor>> paths) {
        Timing[] t = interleavedTimings(seconds, batch, paths);
        double[] med = new double[t.length];
        for (int p = 0; p < t.length; p++) {
            med[p] = t[p].msPerItem();
        }
        return med;
    }

    /**
     * One path's timing.
     *
     * @param msPerItem the median over rounds of milliseconds per item (image)
     * @param p50 50th percentile of one call's latency, ms (a call is one batch)
     * @param p90 90th percentile, ms
     * @param p99 99th percentile, ms
     * @param calls timed calls the percentiles are over
     */
    public record Timing(double msPerItem, double p50, double p90, double p99, int calls) {}

    /** {@link #interleaved}, with each call's latency recorded for percentiles. */
    @SuppressWarnings("try")
    static Timing[] interleavedTimings(double seconds, int batch, List<java.util.function.Supplier<Tensor>> paths) {
        int n = paths.size();
        List<List<Double>> latencies = new ArrayList<>();
        for (int p = 0; p < n; p++) {
            latencies.add(new ArrayList<>());
        }
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
                long last = t0;
                for (int i = 0; i < calls; i++) {
                    call(paths.get(p));
                    long now = System.nanoTime();
                    latencies.get(p).add((now - last) * 1e-6);
                    last = now;
                }
                ms[p][r] = (last - t0) * 1e-6 / ((double) calls * batch);
            }
        }
        Timing[] out = new Timing[n];
        for (int p = 0; p < n; p++) {
            java.util.Arrays.sort(ms[p]);
            double[] l = latencies.get(p).stream().mapToDouble(Double::doubleValue).sorted().toArray();
            out[p] = new Timing(ms[p][rounds / 2], percentile(l, 50), percentile(l, 90), percentile(l, 99), l.length);
        }
        return out;
    }

    /** The nearest-rank percentile of sorted values (the smallest value with at least q% of them at or below it). */
    public static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q / 100.0 * sorted.length);
        return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
    }

    /** The process's peak resident set ({@code VmHWM}) in bytes, or null where /proc is not there. */
    public static Long peakRssBytes() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String[] f = line.substring(6).trim().split("\\s+");
                    long v = Long.parseLong(f[0]);
                    return f.length > 1 && f[1].equalsIgnoreCase("kB") ? v * 1024 : v;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux
        }
        return null;
    }

    @SuppressWarnings("try")
    /** max |b - a| / max |a| over two logit tensors. */
    private static double deviation(Tensor a, Tensor b) {
        try (PointerScope scope = new PointerScope()) {
            Tensor fa = AmpScope.toFloat(a).contiguous();
            double scale = fa.abs().max().item_double();
            double diff = AmpScope.toFloat(b).sub(fa).abs().max().item_double();
            return scale > 0 ? diff / scale : diff;
        }
    }

    private static void call(java.util.function.Supplier<Tensor> forward) {
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            forward.get();
        }
    }

    /** One report row: a path's timing, throughput and speed-up over the plain module (CudaModelBench's too). */
    static Map<String, Object> row(String path, int batch, int threads, Timing t, double plainMsPerImage) {
        double msPerImage = t.msPerItem();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", path);
        m.put("batch", batch);
        m.put("threads", threads);
        m.put("ms_per_batch", msPerImage * batch);
        m.put("images_per_s", 1000.0 / msPerImage);
        m.put("speedup_vs_plain", plainMsPerImage / msPerImage);
        m.put("latency_ms_p50", t.p50());
        m.put("latency_ms_p90", t.p90());
        m.put("latency_ms_p99", t.p99());
        m.put("latency_calls", t.calls());
        return m;
    }

    /** The paths of the scaling table: the plain module and the default fast path. */
    static final List<String> SCALING_PATHS = List.of("plain", "fast, FixRes4J fused depthwise kernel");

    /**
     * Thread scaling of the plain module and the fast path: per path and batch, for each thread count, images/s and
     * the speed-up over the row with the fewest threads (1 thread when it was measured).
     */
    static List<Map<String, Object>> scaling(List<Map<String, Object>> rows) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String path : SCALING_PATHS) {
            Map<Integer, List<Map<String, Object>>> byBatch = new java.util.TreeMap<>();
            for (Map<String, Object> r : rows) {
                if (path.equals(r.get("path"))) {
                    byBatch.computeIfAbsent((Integer) r.get("batch"), k -> new ArrayList<>()).add(r);
                }
            }
            for (Map.Entry<Integer, List<Map<String, Object>>> e : byBatch.entrySet()) {
                List<Map<String, Object>> rs = new ArrayList<>(e.getValue());
                rs.sort(java.util.Comparator.comparingInt(r -> (Integer) r.get("threads")));
                Map<String, Object> base = rs.get(0);
                double baseRate = ((Number) base.get("images_per_s")).doubleValue();
                for (Map<String, Object> r : rs) {
                    double rate = ((Number) r.get("images_per_s")).doubleValue();
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("path", path);
                    m.put("batch", e.getKey());
                    m.put("threads", r.get("threads"));
                    m.put("images_per_s", rate);
                    m.put("base_threads", base.get("threads"));
                    m.put("speedup_vs_base", rate / baseRate);
                    out.add(m);
                }
            }
        }
        return out;
    }

    /** Formats the report as a Markdown table. */
    @SuppressWarnings("unchecked")
    public static String table(Map<String, Object> report) {
        StringBuilder b = new StringBuilder();
        b.append("Model: ").append(report.get("model")).append(" at ").append(report.get("res")).append(" px, ")
                .append(report.get("dtype")).append('\n');
        b.append("Machine: ").append(report.get("machine")).append("\n\n");
        b.append("| path | batch | threads | ms/batch | images/s | vs plain | p50 ms | p90 ms | p99 ms |\n");
        b.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Map<String, Object> r : (List<Map<String, Object>>) report.get("rows")) {
            b.append(String.format(Locale.ROOT, "| %s | %d | %d | %.1f | %.1f | %.2fx | %.1f | %.1f | %.1f |%n",
                    r.get("path"), ((Number) r.get("batch")).intValue(), ((Number) r.get("threads")).intValue(),
                    ((Number) r.get("ms_per_batch")).doubleValue(), ((Number) r.get("images_per_s")).doubleValue(),
                    ((Number) r.get("speedup_vs_plain")).doubleValue(), ((Number) r.get("latency_ms_p50")).doubleValue(),
                    ((Number) r.get("latency_ms_p90")).doubleValue(), ((Number) r.get("latency_ms_p99")).doubleValue()));
        }
        List<Map<String, Object>> scaling = (List<Map<String, Object>>) report.get("scaling");
        if (scaling != null && !scaling.isEmpty()) {
            b.append("\nScaling (speed-up over the fewest threads measured; the fused depthwise kernel runs on ")
                    .append("OPENMP".equals(report.get("depthwise_threading")) ? "libtorch's OpenMP threads"
                            : "its own thread pool")
                    .append("):\n\n| path | batch | threads | images/s | speed-up |\n|---|---:|---:|---:|---:|\n");
            for (Map<String, Object> r : scaling) {
                b.append(String.format(Locale.ROOT, "| %s | %d | %d | %.1f | %.2fx vs %d |%n", r.get("path"),
                        ((Number) r.get("batch")).intValue(), ((Number) r.get("threads")).intValue(),
                        ((Number) r.get("images_per_s")).doubleValue(),
                        ((Number) r.get("speedup_vs_base")).doubleValue(), ((Number) r.get("base_threads")).intValue()));
            }
        }
        b.append("\nLatency: one forward call (one batch), percentiles over every timed call. ");
        Object peak = report.get("peak_rss_mb");
        b.append(peak == null ? "Peak memory: not available." : String.format(Locale.ROOT,
                "Peak memory: %.0f MB resident (VmHWM, the whole process).", ((Number) peak).doubleValue()));
        b.append('\n');
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

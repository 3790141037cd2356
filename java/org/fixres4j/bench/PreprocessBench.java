package org.fixres4j.bench;

import static org.bytedeco.opencv.global.opencv_imgproc.INTER_AREA;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_CUBIC;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.bytedeco.javacpp.FloatPointer;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;
import org.fixres4j.io.Json;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.preprocess.Sample;
import org.fixres4j.transform.ResamplePlan;
import org.fixres4j.transform.TimmEvalTransform;

/**
 * {@code fixres bench preprocess}: the fused kernel against an OpenCV chain and Pillow 9.4, in one run, on the
 * bundled 500x375 photograph, for timm's eval transform at several resolutions, single thread and all threads.
 *
 * <p>The ratios the goals are about are measured in interleaved rounds: Pillow (a python3 child process that times
 * one block per request), the fused kernel on one image, and the fused kernel on a batch with one thread and with
 * all threads take turns, {@value #ROUNDS} rounds a resolution, each block the same number of calls, after a
 * warm-up of each. A row's time is the median over the rounds; the ratios (Pillow / fused, 1 thread / all threads)
 * are the medians of the per-round ratios, reported with their spread (lowest and highest round), so that a change
 * of the machine's speed during the run moves both sides of a ratio alike. The OpenCV rows are timed after them
 * (median of 15 blocks). Also reports the memory-traffic floor (bytes the kernel must read and write at this
 * machine's measured copy bandwidth).
 */
public final class PreprocessBench {
    /** Interleaved rounds per resolution. */
    static final int ROUNDS = 9;

    private final int[] resolutions;
    private final double secondsPerRow;
    private final int threads;

    public PreprocessBench(int[] resolutions, double secondsPerRow, int threads) {
        this.resolutions = resolutions.clone();
        this.secondsPerRow = secondsPerRow;
        this.threads = threads;
    }

    /** Runs every row and returns the report (rows, machine, floor) as a JSON-ready map. */
    public Map<String, Object> run() throws IOException, InterruptedException {
        Path photo = Samples.extract("coffee-500x375.jpg");
        double bandwidth = MemoryBandwidth.copyBytesPerSecond(256);
        List<Map<String, Object>> rows = new ArrayList<>();
        List<Map<String, Object>> rounds = new ArrayList<>();
        double blockSeconds = Math.max(0.02, secondsPerRow / ROUNDS);
        try (Pillow pillow = Pillow.start(photo); DecodedImage image = ImageDecoder.decode(photo)) {
            for (int res : resolutions) {
                TimmEvalTransform t = TimmEvalTransform.of(res);
                OutputSpec spec = OutputSpec.nchwFloat(res, res, t.normalization());
                double floorMs = floorMs(image, t, spec, bandwidth);
                int batch = batchFor(threads);
                try (Fused one = new Fused(image, t, spec, 1, 1);
                     Fused batch1 = threads > 1 ? new Fused(image, t, spec, 1, batch) : null;
                     Fused batchN = threads > 1 ? new Fused(image, t, spec, threads, batch) : null) {
                    Timer.Blocks oneBlocks = new Timer.Blocks(blockSeconds, 1, one);
                    Timer.Blocks batch1Blocks = batch1 == null ? null : new Timer.Blocks(blockSeconds, batch, batch1);
                    Timer.Blocks batchNBlocks = batchN == null ? null : new Timer.Blocks(blockSeconds, batch, batchN);
                    if (pillow.usable()) {
                        pillow.block(res, blockSeconds); // warm-up
                    }
                    double[] pil = new double[ROUNDS];
                    double[] f1 = new double[ROUNDS];
                    double[] b1 = new double[ROUNDS];
                    double[] bN = new double[ROUNDS];
                    for (int r = 0; r < ROUNDS; r++) {
                        pil[r] = pillow.usable() ? pillow.block(res, blockSeconds) : Double.NaN;
                        f1[r] = oneBlocks.next();
                        if (batch1Blocks != null) {
                            b1[r] = batch1Blocks.next();
                            bN[r] = batchNBlocks.next();
                        }
                    }
                    double fused1 = Timer.median(f1);
                    Map<String, Object> comparison = new LinkedHashMap<>();
                    comparison.put("res", res);
                    comparison.put("rounds", ROUNDS);
                    comparison.put("fused_ms", spread(f1, fused1));
                    comparison.put("fused_x_floor", spread(scaled(f1, 1 / floorMs), fused1 / floorMs));
                    rows.add(row(res, "fixres4j fused kernel", 1, fused1, 1.0, floorMs));
                    if (threads > 1) {
                        double[] scaling = new double[ROUNDS];
                        for (int r = 0; r < ROUNDS; r++) {
                            scaling[r] = b1[r] / bN[r];
                        }
                        double ms1 = Timer.median(b1);
                        double msN = Timer.median(bN);
                        rows.add(row(res, "fixres4j fused kernel, batch " + batch, 1, ms1, ms1 / fused1, floorMs));
                        rows.add(row(res, "fixres4j fused kernel, batch " + batch, threads, msN, msN / fused1,
                                floorMs));
                        comparison.put("batch", batch);
                        comparison.put("threads", threads);
                        comparison.put("batch_1_thread_ms", spread(b1, ms1));
                        comparison.put("batch_threads_ms", spread(bN, msN));
                        comparison.put("thread_scaling", spread(scaling, Timer.median(scaling)));
                    }
                    if (pillow.usable()) {
                        double[] ratio = new double[ROUNDS];
                        for (int r = 0; r < ROUNDS; r++) {
                            ratio[r] = pil[r] / f1[r];
                        }
                        double pilMs = Timer.median(pil);
                        double medianRatio = Timer.median(ratio);
                        comparison.put("pillow_ms", spread(pil, pilMs));
                        comparison.put("pillow_over_fused", spread(ratio, medianRatio));
                        rows.add(row(res, pillow.describe(), 1, pilMs, medianRatio, floorMs));
                    }
                    rounds.add(comparison);
                    double fusedN = batchN == null ? fused1 : Timer.median(bN);
                    double cvArea = timeOpenCv(image, t, INTER_AREA, 1);
                    double cvCubic = timeOpenCv(image, t, INTER_CUBIC, 1);
                    double cvAreaN = threads > 1 ? timeOpenCv(image, t, INTER_AREA, threads) : cvArea;
                    rows.add(row(res, "OpenCV chain, INTER_AREA", 1, cvArea, cvArea / fused1, floorMs));
                    rows.add(row(res, "OpenCV chain, INTER_CUBIC", 1, cvCubic, cvCubic / fused1, floorMs));
                    rows.add(row(res, "OpenCV chain, INTER_AREA", threads, cvAreaN, cvAreaN / fusedN, floorMs));
                }
                Map<String, Object> floor = new LinkedHashMap<>();
                floor.put("res", res);
                floor.put("pipeline", "memory-traffic floor (bytes read + written at copy bandwidth)");
                floor.put("threads", 1);
                floor.put("ms_per_image", floorMs);
                rows.add(floor);
            }
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("benchmark", "preprocess");
            report.put("image", "coffee-500x375.jpg (500x375 RGB JPEG, decoded once)");
            report.put("transform", "timm eval: resize shorter side to floor(res/0.875) bicubic + centre crop res, "
                    + "float32 NCHW normalised (ImageNet mean/std)");
            report.put("machine", Machine.describe());
            report.put("copy_bandwidth_gb_s", bandwidth / 1e9);
            report.put("seconds_per_row", secondsPerRow);
            report.put("pillow", pillow.usable() ? pillow.version() : pillow.error());
            report.put("rows", rows);
            report.put("interleaved", rounds);
            return report;
        }
    }

    /** {"median", "min", "max", "rounds": [...]} of per-round values. */
    private static Map<String, Object> spread(double[] values, double median) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("median", median);
        m.put("min", Arrays.stream(values).min().orElse(Double.NaN));
        m.put("max", Arrays.stream(values).max().orElse(Double.NaN));
        m.put("rounds", Arrays.stream(values).boxed().toList());
        return m;
    }

    private static double[] scaled(double[] values, double factor) {
        return Arrays.stream(values).map(v -> v * factor).toArray();
    }

    private static Map<String, Object> row(int res, String pipeline, int threads, double ms, double speedup,
                                           double floorMs) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("res", res);
        m.put("pipeline", pipeline);
        m.put("threads", threads);
        m.put("ms_per_image", ms);
        m.put("images_per_s", 1000.0 / ms);
        m.put("fused_speedup", speedup);
        m.put("x_floor", ms / floorMs);
        return m;
    }

    /** Bytes the kernel cannot avoid: the source pixels under the kept window, and the float32 output. */
    private static double floorMs(DecodedImage image, TimmEvalTransform t, OutputSpec spec, double bandwidth) {
        ResamplePlan p = t.plan(image.width(), image.height(), null);
        double fx = Math.min(1.0, (double) p.outW() / p.resizeW());
        double fy = Math.min(1.0, (double) p.outH() / p.resizeH());
        double read = fx * fy * image.width() * image.height() * image.channels();
        double written = spec.sampleBytes();
        return 1000.0 * (read + written) / bandwidth;
    }

    /** Images per call of the multi-thread rows. */
    private static int batchFor(int nThreads) {
        return 8 * nThreads;
    }

    /**
     * One call of the fused kernel as a data loader makes it: the batch's samples (image + plan) are built, then the
     * kernel fills the batch.
     */
    private static final class Fused implements Runnable, AutoCloseable {
        private final DecodedImage image;
        private final TimmEvalTransform t;
        private final OutputSpec spec;
        private final int batch;
        private final CpuPreprocessor kernel;
        private final FloatPointer out;
        private final List<Sample> samples = new ArrayList<>();

        Fused(DecodedImage image, TimmEvalTransform t, OutputSpec spec, int nThreads, int batch) {
            this.image = image;
            this.t = t;
            this.spec = spec;
            this.batch = batch;
            this.kernel = new CpuPreprocessor(nThreads);
            this.out = new FloatPointer(batch * spec.sampleElements());
        }

        @Override
        public void run() {
            samples.clear();
            for (int i = 0; i < batch; i++) {
                samples.add(new Sample(image, t.plan(image.width(), image.height(), null), i));
            }
            kernel.run(samples, spec, out);
        }

        @Override
        public void close() {
            out.close();
        }
    }

    private double timeOpenCv(DecodedImage image, TimmEvalTransform t, int interpolation, int nThreads)
            throws InterruptedException {
        org.bytedeco.opencv.global.opencv_core.setNumThreads(1);
        int res = t.res();
        if (nThreads == 1) {
            try (OpenCvChain chain = new OpenCvChain(res, interpolation, t.normalization().mean(),
                    t.normalization().std()); FloatPointer out = new FloatPointer(3L * res * res)) {
                return Timer.msPerItem(secondsPerRow, 1, () -> chain.run(image.mat(), out, t.cropPct()));
            }
        }
        // one chain per thread, images split evenly: throughput of the whole machine
        double[] perThread = new double[nThreads];
        CountDownLatch done = new CountDownLatch(nThreads);
        for (int k = 0; k < nThreads; k++) {
            int id = k;
            Thread th = new Thread(() -> {
                try (OpenCvChain chain = new OpenCvChain(res, interpolation, t.normalization().mean(),
                        t.normalization().std()); FloatPointer out = new FloatPointer(3L * res * res)) {
                    perThread[id] = Timer.msPerItem(secondsPerRow, 1, () -> chain.run(image.mat(), out, t.cropPct()));
                } finally {
                    done.countDown();
                }
            });
            th.start();
        }
        done.await(10L + (long) (20 * secondsPerRow), TimeUnit.SECONDS);
        double rate = 0;
        for (double ms : perThread) {
            rate += ms > 0 ? 1000.0 / ms : 0;
        }
        return 1000.0 / rate;
    }

    /** Formats the report as a Markdown table. */
    @SuppressWarnings("unchecked")
    public static String table(Map<String, Object> report) {
        StringBuilder b = new StringBuilder();
        b.append("Preprocessing: ").append(report.get("image")).append('\n');
        b.append("Transform: ").append(report.get("transform")).append('\n');
        b.append("Machine: ").append(report.get("machine")).append(String.format(
                "; copy bandwidth %.1f GB/s (read + write)%n%n", (Double) report.get("copy_bandwidth_gb_s")));
        b.append("| res | pipeline | threads | ms/image | images/s | fused kernel speed-up | x floor |\n");
        b.append("|---:|---|---:|---:|---:|---:|---:|\n");
        for (Map<String, Object> r : (List<Map<String, Object>>) report.get("rows")) {
            double ms = (Double) r.get("ms_per_image");
            b.append(String.format("| %d | %s | %d | %.3f | %s | %s | %s |%n", (Integer) r.get("res"),
                    r.get("pipeline"), (Integer) r.get("threads"), ms,
                    r.containsKey("images_per_s") ? String.format("%.0f", (Double) r.get("images_per_s")) : "",
                    r.containsKey("fused_speedup") ? String.format("%.1fx", (Double) r.get("fused_speedup")) : "",
                    r.containsKey("x_floor") ? String.format("%.1f", (Double) r.get("x_floor")) : ""));
        }
        if (report.get("pillow") instanceof String s && s.startsWith("skipped")) {
            b.append('\n').append("Pillow: ").append(s).append('\n');
        }
        List<Map<String, Object>> rounds = (List<Map<String, Object>>) report.get("interleaved");
        if (rounds != null && !rounds.isEmpty()) {
            b.append("\nInterleaved rounds, median [lowest round - highest round]:\n");
            for (Map<String, Object> c : rounds) {
                b.append(String.format("- %d, %d rounds: fused 1 thread %s ms, %s x floor", (Integer) c.get("res"),
                        (Integer) c.get("rounds"), spreadText(c.get("fused_ms"), "%.3f"),
                        spreadText(c.get("fused_x_floor"), "%.2f")));
                if (c.containsKey("pillow_over_fused")) {
                    b.append(String.format("; Pillow %s ms, Pillow / fused %sx", spreadText(c.get("pillow_ms"), "%.3f"),
                            spreadText(c.get("pillow_over_fused"), "%.1f")));
                }
                if (c.containsKey("thread_scaling")) {
                    b.append(String.format("; batch %d: 1 thread %s ms, %d threads %s ms, %d threads / 1 thread %sx",
                            (Integer) c.get("batch"), spreadText(c.get("batch_1_thread_ms"), "%.3f"),
                            (Integer) c.get("threads"), spreadText(c.get("batch_threads_ms"), "%.3f"),
                            (Integer) c.get("threads"), spreadText(c.get("thread_scaling"), "%.2f")));
                }
                b.append('\n');
            }
        }
        return b.toString();
    }

    @SuppressWarnings("unchecked")
    private static String spreadText(Object spread, String format) {
        Map<String, Object> m = (Map<String, Object>) spread;
        return String.format(format + " [" + format + "-" + format + "]", (Double) m.get("median"),
                (Double) m.get("min"), (Double) m.get("max"));
    }

    /**
     * Pillow's side of the comparison: a python3 child process running {@code pillow_preprocess.py --serve} (a
     * resource of this jar) that times one block per request. Not usable (and every row without it) when python3,
     * Pillow or numpy is missing; the reason is kept for the report.
     */
    static final class Pillow implements AutoCloseable {
        private final Process process;
        private final BufferedReader in;
        private final Writer out;
        private final Path errors;
        private Map<String, Object> versions;
        private String error;

        private Pillow(Process process, Path errors) {
            this.process = process;
            this.errors = errors;
            this.in = process == null ? null
                    : new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.out = process == null ? null : new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        }

        /** Starts the child and waits until it has imported everything (before any timing starts). */
        static Pillow start(Path photo) {
            Path script = null;
            Path errors = null;
            Process p = null;
            try {
                script = Samples.extractResource("/org/fixres4j/bench/pillow_preprocess.py", "pillow_preprocess.py");
                errors = Files.createTempFile("fixres4j-pillow-", ".log");
                errors.toFile().deleteOnExit();
                String python = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
                // Pillow runs as its users run it: without the allocator settings the launcher made for FixRes4J
                p = EvalBench.withoutLauncherDefaults(new ProcessBuilder(python, script.toString(), photo.toString(),
                        "--serve").redirectError(ProcessBuilder.Redirect.to(errors.toFile()))).start();
            } catch (IOException | RuntimeException e) {
                Pillow failed = new Pillow(null, errors);
                failed.error = "skipped: " + e.getMessage();
                return failed;
            }
            Pillow pillow = new Pillow(p, errors);
            try {
                String first = pillow.in.readLine();
                if (first == null) {
                    pillow.fail(null);
                } else {
                    pillow.versions = Json.parseObject(first.strip());
                }
            } catch (IOException | RuntimeException e) {
                pillow.fail(e);
            }
            return pillow;
        }

        boolean usable() {
            return error == null;
        }

        String error() {
            return error;
        }

        Object version() {
            return versions.get("pillow");
        }

        /** The baseline's name in the rows. */
        String describe() {
            return "Pillow " + versions.get("pillow") + (versions.get("torchvision") == null ? " + numpy"
                    : " + torchvision " + versions.get("torchvision"));
        }

        /** Milliseconds per image of one block of about {@code seconds}; NaN (and not usable) if the child failed. */
        double block(int res, double seconds) {
            if (!usable()) {
                return Double.NaN;
            }
            try {
                out.write(res + " " + seconds + "\n");
                out.flush();
                String line = in.readLine();
                if (line == null) {
                    fail(null);
                    return Double.NaN;
                }
                return ((Number) Json.parseObject(line.strip()).get("ms_per_image")).doubleValue();
            } catch (IOException | RuntimeException e) {
                fail(e);
                return Double.NaN;
            }
        }

        private void fail(Exception e) {
            String last = null;
            try {
                if (process != null && !process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroy();
                }
                if (errors != null) {
                    last = Files.readAllLines(errors, StandardCharsets.UTF_8).stream()
                            .filter(l -> !l.isBlank()).reduce((x, y) -> y).orElse(null);
                }
            } catch (IOException | RuntimeException ignored) {
                // keep what we have
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            String why = last != null ? last.strip() : e != null ? e.toString()
                    : process != null && !process.isAlive() ? "exit " + process.exitValue() : "no answer";
            error = "skipped: python3 with Pillow and numpy is not usable here (" + why
                    + "); install python3-pil python3-numpy";
        }

        @Override
        public void close() {
            if (process == null) {
                return;
            }
            try {
                out.close();
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroy();
                }
            } catch (IOException e) {
                process.destroy();
            } catch (InterruptedException e) {
                process.destroy();
                Thread.currentThread().interrupt();
            }
        }
    }
}

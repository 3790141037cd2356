package org.fixres4j.bench;

import static org.bytedeco.opencv.global.opencv_imgproc.INTER_AREA;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_CUBIC;

import java.io.IOException;
import java.io.InputStream;
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
 * Each figure is the median over repeated timed blocks after a warm-up. Also reports the memory-traffic floor
 * (bytes the kernel must read and write at this machine's measured copy bandwidth).
 */
public final class PreprocessBench {
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
        Map<String, Object> pillow = Pillow.time(photo, resolutions, Math.max(0.5, secondsPerRow));
        try (DecodedImage image = ImageDecoder.decode(photo)) {
            for (int res : resolutions) {
                TimmEvalTransform t = TimmEvalTransform.of(res);
                OutputSpec spec = OutputSpec.nchwFloat(res, res, t.normalization());
                double fused1 = timeFused(image, t, spec, 1);
                double fusedN = threads > 1 ? timeFused(image, t, spec, threads) : fused1;
                // the same batch on one thread: the multi-thread row's scaling is measured against this one
                double fusedBatch1 = threads > 1 ? timeFused(image, t, spec, 1, batchFor(threads)) : fused1;
                double cvArea = timeOpenCv(image, t, INTER_AREA, 1);
                double cvCubic = timeOpenCv(image, t, INTER_CUBIC, 1);
                double cvAreaN = threads > 1 ? timeOpenCv(image, t, INTER_AREA, threads) : cvArea;
                double floorMs = floorMs(image, t, spec, bandwidth);
                Double pil = Pillow.msFor(pillow, res);
                rows.add(row(res, "fixres4j fused kernel", 1, fused1, fused1, floorMs));
                if (threads > 1) {
                    rows.add(row(res, "fixres4j fused kernel, batch " + batchFor(threads), 1, fusedBatch1, fusedBatch1,
                            floorMs));
                }
                rows.add(row(res, "fixres4j fused kernel" + (threads > 1 ? ", batch " + batchFor(threads) : ""),
                        threads, fusedN, fusedN, floorMs));
                rows.add(row(res, "OpenCV chain, INTER_AREA", 1, cvArea, fused1, floorMs));
                rows.add(row(res, "OpenCV chain, INTER_CUBIC", 1, cvCubic, fused1, floorMs));
                rows.add(row(res, "OpenCV chain, INTER_AREA", threads, cvAreaN, fusedN, floorMs));
                if (pil != null) {
                    rows.add(row(res, "Pillow " + pillow.get("pillow") + (pillow.get("torchvision") == null ? " + numpy"
                            : " + torchvision " + pillow.get("torchvision")), 1, pil, fused1, floorMs));
                }
                Map<String, Object> floor = new LinkedHashMap<>();
                floor.put("res", res);
                floor.put("pipeline", "memory-traffic floor (bytes read + written at copy bandwidth)");
                floor.put("threads", 1);
                floor.put("ms_per_image", floorMs);
                rows.add(floor);
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("benchmark", "preprocess");
        report.put("image", "coffee-500x375.jpg (500x375 RGB JPEG, decoded once)");
        report.put("transform", "timm eval: resize shorter side to floor(res/0.875) bicubic + centre crop res, "
                + "float32 NCHW normalised (ImageNet mean/std)");
        report.put("machine", Machine.describe());
        report.put("copy_bandwidth_gb_s", bandwidth / 1e9);
        report.put("seconds_per_row", secondsPerRow);
        report.put("pillow", pillow.containsKey("error") ? pillow.get("error") : pillow.get("pillow"));
        report.put("rows", rows);
        return report;
    }

    private static Map<String, Object> row(int res, String pipeline, int threads, double ms, double fusedMs,
                                           double floorMs) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("res", res);
        m.put("pipeline", pipeline);
        m.put("threads", threads);
        m.put("ms_per_image", ms);
        m.put("images_per_s", 1000.0 / ms);
        m.put("fused_speedup", ms / fusedMs);
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

    private double timeFused(DecodedImage image, TimmEvalTransform t, OutputSpec spec, int nThreads) {
        return timeFused(image, t, spec, nThreads, nThreads == 1 ? 1 : batchFor(nThreads));
    }

    private double timeFused(DecodedImage image, TimmEvalTransform t, OutputSpec spec, int nThreads, int batch) {
        CpuPreprocessor kernel = new CpuPreprocessor(nThreads);
        try (FloatPointer out = new FloatPointer(batch * spec.sampleElements())) {
            List<Sample> samples = new ArrayList<>();
            return Timer.msPerItem(secondsPerRow, batch, () -> {
                samples.clear();
                for (int i = 0; i < batch; i++) {
                    samples.add(new Sample(image, t.plan(image.width(), image.height(), null), i));
                }
                kernel.run(samples, spec, out);
            });
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
        return b.toString();
    }

    /** Times a Pillow pipeline in a python3 child process (the baseline script is a resource of this jar). */
    static final class Pillow {
        private Pillow() {}

        static Map<String, Object> time(Path photo, int[] resolutions, double seconds) {
            Map<String, Object> failed = new LinkedHashMap<>();
            try {
                Path script = Samples.extractResource("/org/fixres4j/bench/pillow_preprocess.py", "pillow_preprocess.py");
                String python = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
                String res = String.join(",", Arrays.stream(resolutions).mapToObj(Integer::toString).toList());
                Process p = new ProcessBuilder(python, script.toString(), photo.toString(), res,
                        Double.toString(seconds)).redirectErrorStream(false).start();
                String out;
                try (InputStream in = p.getInputStream()) {
                    out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                if (p.waitFor() != 0) {
                    failed.put("error", "skipped: python3 with Pillow and numpy is not usable here ("
                            + err.strip().lines().reduce((a, x) -> x).orElse("exit " + p.exitValue())
                            + "); install python3-pil python3-numpy");
                    return failed;
                }
                return Json.parseObject(out.strip());
            } catch (IOException | InterruptedException | RuntimeException e) {
                failed.put("error", "skipped: " + e.getMessage());
                return failed;
            }
        }

        @SuppressWarnings("unchecked")
        static Double msFor(Map<String, Object> pillow, int res) {
            Object rows = pillow.get("results");
            if (!(rows instanceof List<?> list)) {
                return null;
            }
            for (Object o : list) {
                Map<String, Object> m = (Map<String, Object>) o;
                if (((Number) m.get("res")).intValue() == res) {
                    return ((Number) m.get("ms_per_image")).doubleValue();
                }
            }
            return null;
        }
    }
}

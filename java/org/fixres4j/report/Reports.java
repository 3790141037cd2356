package org.fixres4j.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import org.fixres4j.data.Dataset;
import org.fixres4j.data.LoadFailure;
import org.fixres4j.eval.RealAccuracy;
import org.fixres4j.fixres.Sweep;
import org.fixres4j.io.AtomicFiles;
import org.fixres4j.io.Json;
import org.fixres4j.io.Sha256;

/**
 * Results of evaluations as files and text: a JSON document and a CSV table that carry the full configuration (model,
 * weights hash, transforms, dataset, software versions, machine) so that a run can be reproduced, and the text table
 * the command line prints.
 *
 * <p><b>JSON</b> ({@link #writeJson}, through {@link Json}): maps, lists and typed records, pretty-printed;
 * {@link #sweepReport} builds the standard document, an {@link EvalReport} ({@code {"format": ..., "schema_version":
 * 1, "config": {...}, "summary": {...}, "results": [...], "failures": [...]}}).
 *
 * <p><b>CSV</b> ({@link #writeSweepCsv}): one row per series and transform, with the result columns first
 * ({@code series, resolution, transform, images, evaluated, failed, top1, top5, ...}) followed by every configuration
 * value flattened into a column ({@code config.model.name}, {@code config.weights.sha256}, ...), so rows of several
 * runs can be concatenated and still say where they came from. RFC 4180 quoting, UTF-8, CRLF line ends.
 *
 * <p>Files are written atomically (a temporary file in the same folder, then a rename), so an existing file is
 * never left half-written.
 */
public final class Reports {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    /** The value of the JSON document's {@code format} key. */
    public static final String FORMAT = "fixres4j-eval/1";

    private Reports() {}

    // ------------------------------------------------------------------------------------------------------------
    // Configuration pieces
    // ------------------------------------------------------------------------------------------------------------

    /** {@code path} (absolute), {@code bytes} and {@code sha256} of a file. */
    public static FileInfo fileInfo(Path file) throws IOException {
        return new FileInfo(file.toAbsolutePath().normalize().toString(), Files.size(file), Sha256.of(file));
    }

    /** A file as a report names it: its absolute path, size and SHA-256. */
    @JsonPropertyOrder({"path", "bytes", "sha256"})
    public record FileInfo(String path, long bytes, String sha256) {}

    /**
     * The dataset part of a configuration: {@code path}, {@code layout}, {@code description}, {@code size} (after the
     * limit), {@code classes} and {@code limit} (null: none).
     */
    public static DatasetInfo datasetInfo(Dataset dataset, Path path, String layout, Integer limit,
                                          String limitMode) {
        return new DatasetInfo(path == null ? null : path.toAbsolutePath().normalize().toString(), layout,
                dataset.describe(), dataset.size(), dataset.numClasses(), limit == null ? null : (long) (int) limit,
                limit == null ? null : limitMode);
    }

    /**
     * The dataset a report ran on.
     *
     * @param limit null (written as null) when the whole dataset ran
     * @param limitMode null without a limit
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"path", "layout", "description", "size", "classes", "limit", "limit_mode"})
    public record DatasetInfo(String path, String layout, String description, long size, long classes, Long limit,
                              String limitMode) {}

    /**
     * The software and machine: FixRes4J, Java, libtorch (and its JavaCPP preset), JavaCPP, libtorch's intra-op
     * threads when libtorch is loaded, OS, CPU model and hardware threads.
     */
    public static Software software() {
        return new Software(fixres4jVersion(), System.getProperty("java.version") + " ("
                + System.getProperty("java.vm.name") + ", " + System.getProperty("java.vendor") + ")",
                SoftwareVersions.libtorch(), SoftwareVersions.pytorchPreset(), SoftwareVersions.javacpp(),
                SoftwareVersions.preset("opencv", "org.bytedeco.opencv.global.opencv_core"), torchThreads(),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"), cpuModel(), Runtime.getRuntime().availableProcessors());
    }

    /**
     * The software and machine a report was made on.
     *
     * @param torchThreads libtorch's intra-op threads, only when libtorch is loaded (null: left out)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"fixres4j", "java", "libtorch", "pytorch_preset", "javacpp", "opencv_preset", "torch_threads",
        "os", "cpu", "hardware_threads"})
    public record Software(String fixres4j, String java, String libtorch, String pytorchPreset, String javacpp,
                           String opencvPreset, @JsonInclude(JsonInclude.Include.NON_NULL) Integer torchThreads,
                           String os, String cpu, long hardwareThreads) {}

    /** FixRes4J's version from the jar manifest, or {@code development build}. */
    public static String fixres4jVersion() {
        String v = Reports.class.getPackage() == null ? null : Reports.class.getPackage().getImplementationVersion();
        return v == null ? "development build" : v;
    }

    /** The libtorch version: the part of the preset's version before the JavaCPP suffix (2.10.0-1.5.13 -> 2.10.0). */
    static String libtorchVersion(String presetVersion) {
        if (presetVersion == null) {
            return "unknown";
        }
        int dash = presetVersion.indexOf('-');
        return dash > 0 ? presetVersion.substring(0, dash) : presetVersion;
    }

    private static Integer torchThreads() {
        try {
            if (org.fixres4j.torch.Torch.isLoaded()) {
                return org.bytedeco.pytorch.global.torch.get_num_threads();
            }
        } catch (RuntimeException | LinkageError e) {
            // not available: leave it out
        }
        return null;
    }

    /** The CPU model from {@code /proc/cpuinfo}, or {@code os.arch} elsewhere. */
    public static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    /** Now, in UTC, to the second (ISO 8601). */
    public static String timestamp() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Documents
    // ------------------------------------------------------------------------------------------------------------

    /**
     * The standard JSON document of one or more sweeps over the same data ({@link EvalReport}).
     *
     * @param series the sweeps by name, in order (e.g. {@code "eval"}, or {@code "before"} and {@code "after"})
     */
    public static EvalReport sweepReport(Map<String, Object> config, Map<String, Sweep.Result> series) {
        return EvalReport.of(config, series);
    }

    /** Writes a JSON document atomically (pretty-printed, UTF-8, final newline); creates missing folders. */
    public static void writeJson(Path file, Object document) throws IOException {
        Json.write(file, document);
    }

    /** The result columns of {@link #writeSweepCsv}, before the configuration columns. */
    public static final List<String> RESULT_COLUMNS = List.of("series", "resolution", "transform", "images",
            "evaluated", "failed", "top1", "top5", "top1_correct", "top5_correct", "real_top1", "real_top5",
            "real_scored", "real_skipped", "forward_seconds", "sweep_seconds");

    /**
     * Writes the sweeps as CSV: one row per series and transform, {@link #RESULT_COLUMNS} then every configuration
     * value as a {@code config.<path>} column (nested maps flattened with dots, lists joined with {@code ;}). Empty
     * cells mean "not measured" (no ReaL labels, or nothing evaluated).
     */
    public static void writeSweepCsv(Path file, Map<String, Object> config, Map<String, Sweep.Result> series)
            throws IOException {
        Map<String, String> flat = new LinkedHashMap<>();
        flatten("config", config, flat);
        List<String> header = new ArrayList<>(RESULT_COLUMNS);
        header.addAll(flat.keySet());
        List<List<String>> rows = new ArrayList<>();
        for (Map.Entry<String, Sweep.Result> s : series.entrySet()) {
            Sweep.Result r = s.getValue();
            for (Sweep.Entry e : r.entries()) {
                List<String> row = new ArrayList<>();
                row.add(s.getKey());
                row.add(Integer.toString(e.resolution()));
                row.add(e.transform().describe());
                row.add(Integer.toString(r.datasetSize()));
                row.add(Integer.toString(r.evaluated()));
                row.add(Integer.toString(r.failures().size()));
                row.add(percent(e.accuracy().count(), e.accuracy().ks(), 1, e));
                row.add(percent(e.accuracy().count(), e.accuracy().ks(), 5, e));
                row.add(correct(e, 1));
                row.add(correct(e, 5));
                RealAccuracy real = e.real();
                row.add(realPercent(real, 1));
                row.add(realPercent(real, 5));
                row.add(real == null ? "" : Long.toString(real.scored()));
                row.add(real == null ? "" : Long.toString(real.skipped()));
                row.add(num(e.forwardSeconds()));
                row.add(num(r.seconds()));
                row.addAll(flat.values());
                rows.add(row);
            }
        }
        writeCsv(file, header, rows);
    }

    /** Writes a CSV file atomically: RFC 4180 quoting where needed, UTF-8, CRLF line ends. */
    public static void writeCsv(Path file, List<String> header, List<List<String>> rows) throws IOException {
        StringBuilder b = new StringBuilder();
        csvRow(b, header);
        for (List<String> r : rows) {
            if (r.size() != header.size()) {
                throw new IllegalArgumentException("a CSV row has " + r.size() + " cells, the header " + header.size());
            }
            csvRow(b, r);
        }
        AtomicFiles.write(file, b.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** The CSV file next to a JSON file: {@code results.json} -&gt; {@code results.csv}. */
    public static Path csvNextTo(Path json) {
        String name = json.getFileName().toString();
        String stem = name.toLowerCase(Locale.ROOT).endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        return json.resolveSibling(stem + ".csv");
    }

    // ------------------------------------------------------------------------------------------------------------
    // Text
    // ------------------------------------------------------------------------------------------------------------

    /**
     * The results table printed at the end of an evaluation: one line per series and transform with top-1, top-5,
     * ReaL top-1 / top-5 (when measured) and two speeds: {@code fwd img/s}, the model's forward alone (and reading its
     * logits), and {@code e2e img/s}, end to end (decoding, preprocessing and forward: the images of the sweep over its
     * wall time, the same on every row of a sweep, which decodes each image once for all its resolutions). A last line
     * says so.
     */
    public static String table(Map<String, Sweep.Result> series) {
        boolean real = false;
        boolean named = series.size() > 1;
        int transformWidth = "transform".length();
        for (Sweep.Result r : series.values()) {
            for (Sweep.Entry e : r.entries()) {
                real |= e.real() != null;
                transformWidth = Math.max(transformWidth, e.transform().describe().length());
            }
        }
        StringBuilder b = new StringBuilder();
        String seriesHeader = named ? String.format(Locale.ROOT, "%-10s ", "series") : "";
        b.append(seriesHeader).append(String.format(Locale.ROOT, "%5s  %8s  %8s  %8s", "res", "images", "top-1",
                "top-5"));
        if (real) {
            b.append(String.format(Locale.ROOT, "  %8s  %8s", "ReaL-1", "ReaL-5"));
        }
        b.append(String.format(Locale.ROOT, "  %9s  %9s  %s%n", "fwd img/s", "e2e img/s", "transform"));
        boolean several = false;
        for (Map.Entry<String, Sweep.Result> s : series.entrySet()) {
            for (Sweep.Entry e : s.getValue().entries()) {
                if (named) {
                    b.append(String.format(Locale.ROOT, "%-10s ", s.getKey()));
                }
                b.append(String.format(Locale.ROOT, "%5d  %8d  %8s  %8s", e.resolution(), e.accuracy().count(),
                        pct(e.accuracy().count() == 0 || !hasK(e.accuracy().ks(), 1) ? Double.NaN
                                : e.accuracy().percent(1)),
                        pct(e.accuracy().count() == 0 || !hasK(e.accuracy().ks(), 5) ? Double.NaN
                                : e.accuracy().percent(5))));
                if (real) {
                    RealAccuracy ra = e.real();
                    b.append(String.format(Locale.ROOT, "  %8s  %8s", pct(ra == null ? Double.NaN : ra.percent(1)),
                            pct(ra == null ? Double.NaN : ra.percent(5))));
                }
                double ips = e.forwardSeconds() > 0 ? e.accuracy().count() / e.forwardSeconds() : Double.NaN;
                double e2e = s.getValue().imagesPerSecond();
                b.append(String.format(Locale.ROOT, "  %9s  %9s  %s%n", speed(ips), speed(e2e),
                        e.transform().describe()));
            }
            several |= s.getValue().entries().size() > 1;
        }
        b.append("img/s: fwd = the model's forward alone; e2e = end to end (decode + preprocess + forward)")
                .append(several ? " over the sweep's wall time, all its resolutions together" : "")
                .append(System.lineSeparator());
        for (Map.Entry<String, Sweep.Result> s : series.entrySet()) {
            for (Sweep.Entry e : s.getValue().entries()) {
                long bad = e.accuracy().nonFiniteRows();
                if (bad > 0) {
                    b.append(String.format(Locale.ROOT, "%s%d px: %d of %d images had NaN/Inf logits, counted as "
                            + "wrong%n", named ? s.getKey() + " " : "", e.resolution(), bad, e.accuracy().count()));
                }
            }
        }
        return b.toString();
    }

    private static String speed(double imagesPerSecond) {
        return Double.isNaN(imagesPerSecond) || Double.isInfinite(imagesPerSecond) ? "-"
                : String.format(Locale.ROOT, "%.1f", imagesPerSecond);
    }

    /** A few lines about failed samples: how many, then the first {@code max}, one per line. */
    public static String failureLines(List<LoadFailure> failures, int max) {
        if (failures.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        b.append(failures.size()).append(failures.size() == 1 ? " image" : " images")
                .append(" could not be read and ").append(failures.size() == 1 ? "was" : "were")
                .append(" skipped:").append(System.lineSeparator());
        for (int i = 0; i < Math.min(max, failures.size()); i++) {
            b.append("  ").append(failures.get(i)).append(System.lineSeparator());
        }
        if (failures.size() > max) {
            b.append("  ... and ").append(failures.size() - max).append(" more (all are listed in the JSON results)")
                    .append(System.lineSeparator());
        }
        return b.toString();
    }

    // ------------------------------------------------------------------------------------------------------------

    private static boolean hasK(int[] ks, int k) {
        for (int v : ks) {
            if (v == k) {
                return true;
            }
        }
        return false;
    }

    private static String pct(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f%%", v);
    }

    private static String percent(long count, int[] ks, int k, Sweep.Entry e) {
        return count == 0 || !hasK(ks, k) ? "" : num(e.accuracy().percent(k));
    }

    private static String correct(Sweep.Entry e, int k) {
        return hasK(e.accuracy().ks(), k) ? Long.toString(e.accuracy().correct(k)) : "";
    }

    private static String realPercent(RealAccuracy r, int k) {
        if (r == null || r.scored() == 0) {
            return "";
        }
        try {
            return num(r.percent(k));
        } catch (IllegalArgumentException e) {
            return "";
        }
    }

    private static String num(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "";
    }

    /** Flattens nested maps into dotted keys; lists become {@code ;}-joined text, null an empty cell. */
    static void flatten(String prefix, Object value, Map<String, String> out) {
        if (value instanceof Record r) { // a typed report part: its JSON members, in their order
            flatten(prefix, Json.mapper().convertValue(r, Map.class), out);
        } else if (value instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                flatten(prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else if (value instanceof Iterable<?> it) {
            StringBuilder b = new StringBuilder();
            for (Object o : it) {
                b.append(b.length() == 0 ? "" : ";").append(o instanceof Map || o instanceof Iterable
                        || o instanceof Record ? Json.write(o) : String.valueOf(o));
            }
            out.put(prefix, b.toString());
        } else {
            out.put(prefix, value == null ? "" : String.valueOf(value));
        }
    }

    private static void csvRow(StringBuilder b, List<String> cells) {
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            String c = cells.get(i) == null ? "" : cells.get(i);
            if (c.indexOf(',') >= 0 || c.indexOf('"') >= 0 || c.indexOf('\n') >= 0 || c.indexOf('\r') >= 0
                    || (!c.isEmpty() && (c.charAt(0) == ' ' || c.charAt(c.length() - 1) == ' '))) {
                b.append('"').append(c.replace("\"", "\"\"")).append('"');
            } else {
                b.append(c);
            }
        }
        b.append("\r\n");
    }
}

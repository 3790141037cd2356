package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import javax.imageio.ImageIO;

import org.fixres4j.data.DemoShapes;
import org.fixres4j.data.Pixels;
import org.fixres4j.data.Sample;
import org.fixres4j.io.Json;
import org.fixres4j.io.Npy;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.report.EvalFixtures.Run;
import org.fixres4j.weights.SafeTensors;
import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.TensorData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line's outputs are unchanged on the same inputs: {@code preprocess} (.npy, byte for byte), {@code
 * logits} and {@code predict} on a {@code train} model file without {@code --arch}, {@code eval} (JSON and CSV),
 * {@code train} and {@code finetune} (their model files), against goldens in {@code tests/data/golden/cli}.
 *
 * <p>What libtorch computes is compared within a tolerance (1e-4 of the largest magnitude beside it), since its float rounding
 * depends on the CPU's instruction set (these machines differ from run to run); everything else exactly: structure,
 * key order, counts, names, metadata, and our own kernels' bytes. Timing, paths, versions and the machine are left
 * out. {@code -Dfixres.golden.update=true} rewrites the goldens (do it only for an intended change of output, and say
 * so in the commit).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliGoldenTest {
    static final Path GOLDEN = org.fixres4j.TestData.path("golden/cli");
    static final boolean UPDATE = Boolean.getBoolean("fixres.golden.update");
    /**
     * Keys whose values depend on the run, the machine or the checkout, not on the inputs (a trained file's sha256
     * follows libtorch's rounding, which depends on the CPU).
     */
    static final Set<String> VOLATILE = Set.of("software", "path", "cpu", "machine", "hardware_threads", "java", "os",
            "created", "date", "started", "finished", "threads", "torch_threads", "sha256");

    @TempDir
    static Path dir;
    static List<Path> images = new ArrayList<>();
    static Path csv;
    static Path trained;

    @BeforeAll
    static void fixture() throws IOException {
        DemoShapes shapes = new DemoShapes(40, 48, 11, "test");
        StringBuilder b = new StringBuilder("path,label\n");
        Files.createDirectories(dir.resolve("img"));
        for (int i = 0; i < shapes.size(); i++) {
            Sample s = shapes.get(i);
            Pixels p = s.pixels();
            BufferedImage im = new BufferedImage(p.width(), p.height(), BufferedImage.TYPE_BYTE_GRAY);
            im.getRaster().setDataElements(0, 0, p.width(), p.height(),
                    java.util.Arrays.copyOfRange(p.data(), p.offset(), p.offset() + p.byteCount()));
            Path f = dir.resolve(String.format("img/%02d.png", i));
            ImageIO.write(im, "png", f.toFile());
            images.add(f);
            b.append("img/").append(f.getFileName()).append(',').append(s.label()).append('\n');
        }
        csv = Files.writeString(dir.resolve("shapes.csv"), b, StandardCharsets.UTF_8);
        trained = dir.resolve("train/model.safetensors");
    }

    static Run run(String... args) {
        Run r = EvalFixtures.capture(() -> Main.execute(args));
        assertEquals(0, r.code(), String.join(" ", args) + "\n" + r.out() + r.err());
        return r;
    }

    static List<String> with(List<String> head, List<Path> files) {
        List<String> out = new ArrayList<>(head);
        files.forEach(f -> out.add(f.toString()));
        return out;
    }

    @Test
    @Order(1)
    void preprocessIsByteIdentical() throws IOException {
        Path out = dir.resolve("pre.npy");
        run(with(List.of("preprocess", "--res", "40", "--crop-pct", "0.875", "--threads", "1", "--out",
                out.toString()), images.subList(0, 6)).toArray(new String[0]));
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("shape", shapeOf(Npy.read(out).shape()));
        g.put("npy_sha256", sha256(Files.readAllBytes(out)));
        check("preprocess", g);
    }

    /** The model of {@code train} on generated shapes (made once; the other tests use it). */
    static synchronized Path trained() {
        if (!Files.exists(trained)) {
            run("train", "--data", "shapes:48", "--width", "0.25", "--depth", "0.25", "--res", "40", "--epochs", "1",
                    "--train-limit", "48", "--val-limit", "0", "--batch", "16", "--threads", "1", "--seed", "3",
                    "--checkpoint-dir", dir.resolve("train/ckpt").toString(), "--out", trained.toString());
        }
        return trained;
    }

    @Test
    @Order(2)
    void trainWritesTheSameModel() throws IOException {
        check("train", modelSummary(trained()));
    }

    @Test
    @Order(3)
    void logitsAndPredictOnATrainModelFileWithoutArch() throws IOException {
        Path out = dir.resolve("logits.npy");
        run(with(List.of("logits", "--weights", trained().toString(), "--threads", "1", "--out", out.toString()),
                images.subList(0, 8)).toArray(new String[0]));
        Npy.Array a = Npy.read(out);
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("shape", shapeOf(a.shape()));
        g.put("values", floats(a.toFloatArray()));
        check("logits", g);

        Run p = run(with(List.of("predict", "--weights", trained().toString(), "--threads", "1"), images.subList(0, 2))
                .toArray(new String[0]));
        Map<String, Object> pg = new LinkedHashMap<>();
        List<Object> lines = new ArrayList<>();
        // class names and ranks exactly; the percentages within rounding
        for (String line : p.out().replace(dir.toString(), "<dir>").lines().toList()) {
            lines.add(line.replaceAll("\\d+\\.\\d+%", "#%"));
        }
        pg.put("lines", lines);
        check("predict", pg);
    }

    @Test
    @Order(4)
    void evalJsonAndCsv() throws IOException {
        Path json = dir.resolve("eval.json");
        Path table = dir.resolve("eval.csv");
        run("eval", "--weights", trained().toString(), "--data", csv.toString(), "--layout", "csv", "--res", "32,40,48",
                "--batch", "16", "--threads", "1", "--progress", "off", "--out", json.toString(), "--csv",
                table.toString());
        check("eval_json", normalise(Json.read(json)));
        List<Object> rows = new ArrayList<>();
        for (String line : Files.readAllLines(table, StandardCharsets.UTF_8)) {
            rows.add(line);
        }
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("header", rows.get(0));
        g.put("rows", rows.size() - 1);
        check("eval_csv_header", g);
    }

    @Test
    @Order(5)
    void finetuneWritesTheSameModel() throws IOException {
        Path out = dir.resolve("ft/model.safetensors");
        run("finetune", "--model", trained().toString(), "--data", "shapes:48", "--res", "48", "--epochs", "1",
                "--train-limit", "32", "--eval-limit", "-1", "--batch", "16", "--threads", "1", "--seed", "5",
                "--checkpoint-dir", dir.resolve("ft/ckpt").toString(), "--out", out.toString(), "--json",
                dir.resolve("ft/report.json").toString());
        check("finetune", modelSummary(out));
        // the --json report keeps its members and their order (no scoring asked: no before / after)
        Map<?, ?> report = (Map<?, ?>) Json.read(dir.resolve("ft/report.json"));
        assertEquals(List.of("schema_version", "model", "model_info", "data", "test_transform", "config", "trained",
                "history", "finetune_images_per_second", "out"), new ArrayList<>(report.keySet()));
        assertEquals(List.of("resolution", "mode", "augment", "epochs", "batch_size", "optimizer", "schedule",
                "label_smoothing", "seed", "train_limit"), new ArrayList<>(((Map<?, ?>) report.get("config")).keySet()));
    }

    // ------------------------------------------------------------------------------------------------------------

    /** A model file as a golden: its metadata and, per tensor, dtype, shape, sums and 16 sampled values. */
    static Map<String, Object> modelSummary(Path file) throws IOException {
        StateDict sd = SafeTensors.read(file);
        Map<String, Object> g = new LinkedHashMap<>();
        Map<String, Object> meta = new TreeMap<>();
        for (Map.Entry<String, String> e : sd.metadata().entrySet()) {
            String v = e.getValue();
            Object parsed;
            try {
                parsed = normalise(Json.parse(v));
            } catch (RuntimeException notJson) {
                parsed = v;
            }
            meta.put(e.getKey(), parsed);
        }
        g.put("metadata", meta);
        Map<String, Object> tensors = new LinkedHashMap<>();
        for (String k : sd.keys()) {
            TensorData t = sd.get(k);
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("dtype", t.dtype().toString());
            one.put("shape", shapeOf(t.shape()));
            double sum = 0;
            double sq = 0;
            for (long i = 0; i < t.numel(); i++) {
                double v = t.valueAt(i);
                sum += v;
                sq += v * v;
            }
            one.put("sum", sum);
            one.put("sum_sq", sq);
            List<Object> sample = new ArrayList<>();
            long step = Math.max(1, t.numel() / 16);
            for (long i = 0; i < t.numel() && sample.size() < 16; i += step) {
                sample.add(t.valueAt(i));
            }
            one.put("sample", sample);
            tensors.put(k, one);
        }
        g.put("tensors", tensors);
        return g;
    }

    /** A JSON value without the keys in {@link #VOLATILE} and timing keys, recursively. */
    @SuppressWarnings("unchecked")
    static Object normalise(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String k = String.valueOf(e.getKey());
                if (VOLATILE.contains(k) || k.contains("second") || k.contains("time") || k.endsWith("_per_sec")) {
                    continue;
                }
                out.put(k, normalise(e.getValue()));
            }
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (Object o : l) {
                out.add(normalise(o));
            }
            return out;
        }
        if (v instanceof String s && s.contains(dir.toString())) {
            return s.replace(dir.toString(), "<dir>");
        }
        return v;
    }

    static List<Object> shapeOf(long[] shape) {
        List<Object> out = new ArrayList<>();
        for (long d : shape) {
            out.add(d);
        }
        return out;
    }

    static List<Object> floats(float[] values) {
        List<Object> out = new ArrayList<>();
        for (float f : values) {
            out.add((double) f);
        }
        return out;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Compares {@code actual} with the golden {@code name}.json (or writes it with -Dfixres.golden.update=true). */
    static void check(String name, Object actual) throws IOException {
        Path file = GOLDEN.resolve(name + ".json");
        Object canonical = Json.parse(Json.writePretty(actual)); // numbers as the file will hold them
        if (UPDATE) {
            Files.createDirectories(GOLDEN);
            Files.writeString(file, Json.writePretty(canonical) + "\n", StandardCharsets.UTF_8);
            return;
        }
        assertTrue(Files.isRegularFile(file), file + " is missing: run with -Dfixres.golden.update=true once");
        Object expected = Json.read(file);
        List<String> diffs = new ArrayList<>();
        compare(name, expected, canonical, 0, diffs);
        if (!diffs.isEmpty()) {
            fail(name + ": " + diffs.size() + " difference(s) from " + file + ":\n  "
                    + String.join("\n  ", diffs.subList(0, Math.min(12, diffs.size()))));
        }
    }

    /** The largest magnitude among a container's direct numeric members (the scale of their tolerance). */
    static double scaleOf(Iterable<?> members) {
        double x = 0;
        for (Object o : members) {
            if (o instanceof Number n && Double.isFinite(n.doubleValue())) {
                x = Math.max(x, Math.abs(n.doubleValue()));
            }
        }
        return x;
    }

    static void compare(String path, Object expected, Object actual, double scale, List<String> diffs) {
        if (expected instanceof Map<?, ?> a && actual instanceof Map<?, ?> b) {
            if (!new ArrayList<>(a.keySet()).equals(new ArrayList<>(b.keySet()))) {
                diffs.add(path + ": keys " + a.keySet() + " became " + b.keySet());
                return;
            }
            double s = scaleOf(a.values());
            for (Object k : a.keySet()) {
                compare(path + "." + k, a.get(k), b.get(k), s, diffs);
            }
        } else if (expected instanceof List<?> a && actual instanceof List<?> b) {
            if (a.size() != b.size()) {
                diffs.add(path + ": " + a.size() + " items became " + b.size());
                return;
            }
            double s = scaleOf(a);
            for (int i = 0; i < a.size(); i++) {
                compare(path + "[" + i + "]", a.get(i), b.get(i), s, diffs);
            }
        } else if (expected instanceof Double x && actual instanceof Number y) {
            // libtorch's rounding differs between instruction sets: 1e-4 of the largest magnitude beside it
            if (Math.abs(x - y.doubleValue()) > 1e-4 * Math.max(1e-6, Math.max(scale, Math.abs(x)))) {
                diffs.add(path + ": " + x + " became " + y);
            }
        } else if (!java.util.Objects.equals(expected, actual)) {
            diffs.add(path + ": " + expected + " became " + actual);
        }
    }
}

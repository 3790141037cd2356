package org.fixres4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.fixres4j.data.CsvImageList;
import org.fixres4j.data.LoadFailure;
import org.fixres4j.eval.TopKAccuracy;
import org.fixres4j.fixres.Sweep;
import org.fixres4j.io.Json;
import org.fixres4j.io.Sha256;
import org.fixres4j.transform.TimmEvalTransform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Reports}: hashes, software versions, flattening, CSV quoting, atomic writes. */
class ReportsTest {
    @Test
    void sha256OfAKnownText(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("abc.txt"), "abc");
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Sha256.of(f));
        assertEquals(Sha256.of(f), Sha256.of("abc".getBytes(StandardCharsets.US_ASCII)));
        Reports.FileInfo info = Reports.fileInfo(f);
        assertEquals(3L, info.bytes());
        assertEquals(f.toAbsolutePath().toString(), info.path());
        assertEquals("{\"path\":" + Json.write(info.path()) + ",\"bytes\":3,\"sha256\":\"" + Sha256.of(f) + "\"}",
                Json.write(info));
    }

    @Test
    void softwareNamesEveryVersion() {
        Map<String, Object> s = Json.parseObject(Json.write(Reports.software()));
        for (String k : List.of("fixres4j", "java", "libtorch", "pytorch_preset", "javacpp", "os", "cpu",
                "hardware_threads")) {
            assertNotNull(s.get(k), k);
        }
        assertTrue(s.get("java").toString().startsWith(System.getProperty("java.version")));
        assertEquals("2.10.0", Reports.libtorchVersion("2.10.0-1.5.13"));
        assertEquals("unknown", Reports.libtorchVersion(null));
        Json.write(s); // every value is JSON
    }

    @Test
    void csvQuotesAndFlattensTheConfiguration(@TempDir Path dir) throws IOException {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("model", Map.of("name", "tf_efficientnet_b0"));
        config.put("resolutions", List.of(224L, 256L));
        config.put("note", "a, \"quoted\" value");
        config.put("missing", null);
        Map<String, String> flat = new LinkedHashMap<>();
        Reports.flatten("config", config, flat);
        assertEquals("tf_efficientnet_b0", flat.get("config.model.name"));
        assertEquals("224;256", flat.get("config.resolutions"));
        assertEquals("", flat.get("config.missing"));

        Path csv = dir.resolve("r.csv");
        Reports.writeCsv(csv, List.of("path", "label"), List.of(List.of("a,b.png", "x\"y"), List.of(" c ", "1")));
        String text = Files.readString(csv, StandardCharsets.UTF_8);
        assertEquals("path,label\r\n\"a,b.png\",\"x\"\"y\"\r\n\" c \",1\r\n", text);
        // our own RFC 4180 reader reads it back (paths are checked, so name real files)
        Files.writeString(dir.resolve("a,b.png"), "");
        Files.writeString(dir.resolve(" c "), "");
        assertEquals(2, CsvImageList.read(csv).size());
    }

    @Test
    void jsonIsWrittenAtomicallyAndCsvGoesNextToIt(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("deep/results.json");
        Reports.writeJson(out, Map.of("a", 1L));
        assertEquals(Map.of("a", 1L), Json.read(out));
        try (var files = Files.list(out.getParent())) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
        assertEquals(dir.resolve("deep/results.csv"), Reports.csvNextTo(out));
        assertEquals(dir.resolve("r.out.csv"), Reports.csvNextTo(dir.resolve("r.out")));
    }

    /** A synthetic sweep: {@code correct[i]} of 4 samples right at resolution {@code res[i]}. */
    private static Sweep.Result sweep(int[] res, int[] correct) {
        List<Sweep.Entry> entries = new java.util.ArrayList<>();
        for (int i = 0; i < res.length; i++) {
            TopKAccuracy acc = new TopKAccuracy(2);
            for (int j = 0; j < 4; j++) {
                acc.add(new float[] {1f, 0f}, j < correct[i] ? 0 : 1);
            }
            entries.add(new Sweep.Entry(TimmEvalTransform.of(res[i]), acc, null, 2, null, 0.5));
        }
        return new Sweep.Result(entries, 5, List.of(new LoadFailure(2, 2, "x/bad.jpg", "cannot decode")),
                new int[] {0, 1, 3, 4}, 2.0, 0.1, 4, 2);
    }

    @Test
    void severalSeriesInTableJsonCsvAndPlot(@TempDir Path dir) throws IOException {
        Map<String, Sweep.Result> series = new LinkedHashMap<>();
        series.put("before", sweep(new int[] {64, 80}, new int[] {3, 2}));
        series.put("after", sweep(new int[] {64, 80}, new int[] {2, 4}));
        String table = Reports.table(series);
        assertTrue(table.startsWith("series"), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("after") && l.contains("80") && l.contains("100.00%")),
                table);
        assertFalse(table.contains("ReaL"), "no ReaL columns without ReaL labels");

        Map<String, Object> config = Map.of("model", Map.of("name", "m"));
        EvalReport report = Reports.sweepReport(config, series);
        assertEquals(4, report.results().size());
        assertEquals(64L, report.summary().bestResolution());
        assertEquals(1, report.failures().size());
        // the typed report is written with today's member names and order, schema_version after format
        Map<String, Object> doc = Json.parseObject(Json.writePretty(report.with(Map.of("recommendation", 7L))));
        assertEquals(List.of("format", "schema_version", "config", "summary", "results", "failures",
                "recommendation"), List.copyOf(doc.keySet()));
        assertEquals(1L, doc.get("schema_version"));
        assertEquals(Reports.FORMAT, doc.get("format"));
        assertEquals(List.of("images", "evaluated", "failed", "seconds", "images_per_second", "load_wait_seconds",
                "batch_size", "threads", "best_resolution", "best_top1"),
                List.copyOf(((Map<?, ?>) doc.get("summary")).keySet()));
        assertEquals(64L, ((Map<?, ?>) doc.get("summary")).get("best_resolution"));
        assertEquals(List.of(Map.of("index", 2L, "name", "x/bad.jpg", "message", "cannot decode")),
                doc.get("failures"));
        assertEquals("before", ((Map<?, ?>) ((List<?>) doc.get("results")).get(0)).get("series"));

        Path csv = dir.resolve("r.csv");
        Reports.writeSweepCsv(csv, config, series);
        List<String> lines = Files.readAllLines(csv);
        assertEquals(5, lines.size());
        assertTrue(lines.get(0).endsWith(",config.model.name"), lines.get(0));
        assertTrue(lines.get(4).startsWith("after,80,"), lines.get(4));
        assertTrue(lines.get(4).endsWith(",m"), lines.get(4));

        assertTrue(Plot.accuracy("t", 64, series).toPng().length > 1000);
        assertTrue(Reports.failureLines(List.of(), 3).isEmpty());
        assertTrue(Reports.failureLines(series.get("before").failures(), 3).contains("x/bad.jpg: cannot decode"));
    }
}

package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.fixres4j.io.Json;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.report.EvalFixtures.Run;
import org.fixres4j.report.Reports;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * timm's spellings on the command line (-b, --model, --img-size, --results-file), the channels-last switch, both
 * speeds in the eval table, the real library versions in the provenance, and {@code bench model} on real weights
 * with latency percentiles and peak memory.
 */
class TimmHabitsTest {
    @TempDir
    static Path dir;
    static Path weights;
    static Path folder;

    @BeforeAll
    static void setUp() throws IOException {
        weights = EvalFixtures.randomWeights(dir.resolve("random3.safetensors"), 3, 11);
        folder = EvalFixtures.imageFolder(dir.resolve("folder"), false);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    private static Run run(String... args) {
        return EvalFixtures.capture(() -> Main.execute(args));
    }

    @Test
    void timmSpellingsGiveTheSameResultsAsOurs() throws IOException {
        Path ours = dir.resolve("ours.json");
        Path timms = dir.resolve("timms.json");
        Run a = run("eval", "--arch", EvalFixtures.ARCH, "--weights", weights.toString(), "--data", folder.toString(),
                "--res", "64", "--batch", "2", "--progress", "off", "--out", ours.toString());
        assertEquals(0, a.code(), a.err());
        Run b = run("eval", "--model", EvalFixtures.ARCH, "--weights", weights.toString(), "--data",
                folder.toString(), "--img-size", "64", "-b", "2", "--progress", "off", "--results-file",
                timms.toString());
        assertEquals(0, b.code(), b.err());
        Map<String, Object> ra = map(Json.parse(Files.readString(ours)));
        Map<String, Object> rb = map(Json.parse(Files.readString(timms)));
        Map<String, Object> resA = map(((List<?>) ra.get("results")).get(0));
        Map<String, Object> resB = map(((List<?>) rb.get("results")).get(0));
        assertEquals(resA.get("top1"), resB.get("top1"));
        assertEquals(64L, resB.get("resolution"));
        assertEquals(2L, map(map(rb.get("config")).get("run")).get("batch_size"));

        // the table names both speeds
        String header = b.out().lines().findFirst().orElseThrow();
        assertTrue(header.contains("fwd img/s") && header.contains("e2e img/s"), b.out());
        assertTrue(b.out().contains("img/s: fwd = the model's forward alone; e2e = end to end (decode + preprocess "
                + "+ forward)"), b.out());

        // the provenance names the libraries' own versions, not FixRes4J's
        Map<String, Object> sw = map(map(rb.get("config")).get("software"));
        String preset = (String) sw.get("pytorch_preset");
        assertTrue(preset.matches("\\d+\\.\\d+\\.\\d+-\\d+\\.\\d+\\.\\d+"), preset);
        assertEquals(preset.substring(0, preset.indexOf('-')), sw.get("libtorch"));
        String javacpp = (String) sw.get("javacpp");
        assertEquals(preset.substring(preset.indexOf('-') + 1), javacpp);
        assertNotEquals(Reports.fixres4jVersion(), sw.get("libtorch"));
        assertTrue(((String) sw.get("opencv_preset")).matches("\\d+\\.\\d+\\.\\d+-\\d+\\.\\d+\\.\\d+"),
                String.valueOf(sw.get("opencv_preset")));
    }

    @Test
    void channelsLastPlainMatchesTheFastPath() throws IOException {
        Path plainCl = dir.resolve("cl.json");
        Run r = run("eval", "--arch", EvalFixtures.ARCH, "--weights", weights.toString(), "--data", folder.toString(),
                "--res", "64", "--plain", "--channels-last", "--progress", "off", "--out", plainCl.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> doc = map(Json.parse(Files.readString(plainCl)));
        Map<String, Object> model = map(map(doc.get("config")).get("model"));
        assertEquals(Boolean.FALSE, model.get("fast_path"));
        assertEquals(Boolean.TRUE, model.get("channels_last"));
        Path fast = dir.resolve("fast.json");
        assertEquals(0, run("eval", "--arch", EvalFixtures.ARCH, "--weights", weights.toString(), "--data",
                folder.toString(), "--res", "64", "--progress", "off", "--out", fast.toString()).code());
        Map<String, Object> f = map(Json.parse(Files.readString(fast)));
        assertEquals(map(((List<?>) f.get("results")).get(0)).get("top1"),
                map(((List<?>) doc.get("results")).get(0)).get("top1"));

        Path npy = dir.resolve("l.npy");
        Run logits = run("logits", "--model", EvalFixtures.ARCH, "--weights", weights.toString(), "--plain",
                "--channels-last", "--img-size", "64", "-b", "1", "--results-file", npy.toString(),
                org.fixres4j.TestData.path("decode/photo.jpg").toString());
        assertEquals(0, logits.code(), logits.err());
        assertEquals(3, org.fixres4j.io.Npy.read(npy).toFloatArray().length);
    }

    @Test
    @SuppressWarnings("unchecked")
    void benchModelRunsRealWeightsWithPercentilesAndPeakMemory() {
        Run r = run("bench", "model", "--weights", weights.toString(), "--model", EvalFixtures.ARCH, "--img-size",
                "64", "-b", "1", "--threads", "1", "--seconds", "0.05", "--json");
        assertEquals(0, r.code(), r.err());
        Map<String, Object> report = map(Json.parse(r.out()));
        assertEquals(weights.toString(), report.get("weights"));
        assertEquals(64L, ((Number) report.get("res")).longValue());
        assertTrue(((Number) report.get("peak_rss_mb")).doubleValue() > 10, String.valueOf(report.get("peak_rss_mb")));
        List<Object> rows = (List<Object>) report.get("rows");
        assertEquals(4, rows.size());
        for (Object o : rows) {
            Map<String, Object> row = map(o);
            double p50 = ((Number) row.get("latency_ms_p50")).doubleValue();
            double p90 = ((Number) row.get("latency_ms_p90")).doubleValue();
            double p99 = ((Number) row.get("latency_ms_p99")).doubleValue();
            assertTrue(p50 > 0 && p50 <= p90 && p90 <= p99, row.toString());
            assertTrue(((Number) row.get("latency_calls")).intValue() >= 15, row.toString());
        }
        String table = org.fixres4j.bench.ModelBench.table(report);
        assertTrue(table.contains("| p50 ms | p90 ms | p99 ms |"), table);
        assertTrue(table.contains("Peak memory: "), table);
    }

    @Test
    void percentilesAreNearestRank() {
        double[] v = new double[100];
        for (int i = 0; i < 100; i++) {
            v[i] = i + 1;
        }
        assertEquals(50, org.fixres4j.bench.ModelBench.percentile(v, 50));
        assertEquals(90, org.fixres4j.bench.ModelBench.percentile(v, 90));
        assertEquals(99, org.fixres4j.bench.ModelBench.percentile(v, 99));
        assertEquals(7, org.fixres4j.bench.ModelBench.percentile(new double[] {7}, 99));
    }
}

package org.fixres4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bench preprocess's parts that do not depend on timing: the Pillow child's request protocol, its failure report,
 * the medians and the interleaved summary of the table.
 */
class PreprocessBenchTest {
    @TempDir
    Path dir;

    @Test
    void medianOfOddAndEvenCounts() {
        double[] values = {5, 1, 4, 2, 3};
        assertEquals(3.0, Timer.median(values));
        assertEquals(5.0, values[0], "the input is not reordered");
        assertEquals(2.5, Timer.median(new double[] {4, 1, 3, 2}));
    }

    @Test
    void pillowChildAnswersOneBlockPerRequest() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "needs /usr/bin/python3");
        Path photo = Samples.extract("coffee-500x375.jpg");
        try (PreprocessBench.Pillow pillow = PreprocessBench.Pillow.start(photo)) {
            assumeTrue(pillow.usable(), () -> "Pillow is not usable here: " + pillow.error());
            assertTrue(pillow.describe().startsWith("Pillow " + pillow.version()), pillow.describe());
            for (int res : new int[] {224, 32, 224}) {
                double ms = pillow.block(res, 0.001);
                assertTrue(ms > 0 && Double.isFinite(ms), res + ": " + ms);
            }
            assertTrue(pillow.usable());
        }
    }

    @Test
    void unreadableImageMakesPillowUnusableWithAReason() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "needs /usr/bin/python3");
        Path bad = Files.writeString(dir.resolve("not-an-image.jpg"), "no image here");
        try (PreprocessBench.Pillow pillow = PreprocessBench.Pillow.start(bad)) {
            assertFalse(pillow.usable());
            assertTrue(pillow.error().startsWith("skipped: "), pillow.error());
            assertTrue(Double.isNaN(pillow.block(224, 0.001)));
        }
    }

    @Test
    void tableSummarisesTheInterleavedRounds() {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("res", 224);
        row.put("pipeline", "fixres4j fused kernel");
        row.put("threads", 1);
        row.put("ms_per_image", 0.093);
        row.put("images_per_s", 1000 / 0.093);
        row.put("fused_speedup", 1.0);
        row.put("x_floor", 2.14);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("res", 224);
        c.put("rounds", 9);
        c.put("fused_ms", spread(0.093, 0.087, 0.094));
        c.put("fused_x_floor", spread(2.14, 2.02, 2.17));
        c.put("batch", 16);
        c.put("threads", 2);
        c.put("batch_1_thread_ms", spread(0.097, 0.092, 0.101));
        c.put("batch_threads_ms", spread(0.050, 0.047, 0.052));
        c.put("thread_scaling", spread(1.93, 1.86, 2.06));
        c.put("pillow_ms", spread(1.999, 1.950, 2.077));
        c.put("pillow_over_fused", spread(22.0, 21.0, 22.9));
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("image", "coffee");
        report.put("transform", "timm eval");
        report.put("machine", "test machine");
        report.put("copy_bandwidth_gb_s", 21.4);
        report.put("pillow", "9.4.0");
        report.put("rows", List.of(row));
        report.put("interleaved", List.of(c));
        String table = PreprocessBench.table(report);
        assertTrue(table.contains("| 224 | fixres4j fused kernel | 1 | 0.093 | 10753 | 1.0x | 2.1 |"), table);
        assertTrue(table.contains("- 224, 9 rounds: fused 1 thread 0.093 [0.087-0.094] ms, 2.14 [2.02-2.17] x floor; "
                + "Pillow 1.999 [1.950-2.077] ms, Pillow / fused 22.0 [21.0-22.9]x; batch 16: 1 thread 0.097 "
                + "[0.092-0.101] ms, 2 threads 0.050 [0.047-0.052] ms, 2 threads / 1 thread 1.93 [1.86-2.06]x"), table);
    }

    private static Map<String, Object> spread(double median, double min, double max) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("median", median);
        m.put("min", min);
        m.put("max", max);
        return m;
    }
}

package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import org.fixres4j.io.Json;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.report.EvalFixtures.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fixres bench eval} on a tiny generated folder: it runs every stage and reports them (no timing checks). */
class BenchEvalCliTest {
    @TempDir
    Path dir;

    @Test
    void benchEvalReportsEveryStageAndSkipsTimmWithAReason() throws IOException {
        Path folder = dir.resolve("images");
        Path noTimm = Files.createDirectories(dir.resolve("no-timm"));
        Run r = EvalFixtures.capture(() -> Main.execute("bench", "eval", "--data", folder.toString(), "--images", "6",
                "--arch", EvalFixtures.ARCH, "--res", "64", "-b", "4", "--threads", "1", "--seconds", "0.05",
                "--repeats", "1", "--timm", noTimm.toString(), "--json"));
        assertEquals(0, r.code(), r.err());
        try (Stream<Path> s = Files.walk(folder)) {
            assertEquals(6, s.filter(p -> p.toString().endsWith(".jpg")).count(), "the generated folder is kept");
        }
        Map<String, Object> report = Json.parseObject(r.out());
        for (String k : new String[] {"decode_images_per_s", "decode_preprocess_images_per_s", "model_images_per_s",
            "e2e_images_per_s", "e2e_vs_model"}) {
            assertTrue(((Number) report.get(k)).doubleValue() > 0, k + " in " + r.out());
        }
        assertEquals(6, ((Number) report.get("images")).intValue());
        Map<?, ?> split = (Map<?, ?>) report.get("eval_split");
        assertEquals(1, ((Number) split.get("loader_threads")).intValue());
        assertEquals(1, ((Number) split.get("compute_threads")).intValue());
        assertEquals(4, ((Number) split.get("forward_chunk")).intValue(), "the whole batch");
        Map<?, ?> timm = (Map<?, ?>) report.get("timm");
        assertTrue(String.valueOf(timm.get("skipped")).contains("no validate.py"), r.out());

        // the same folder again, as a table: the folder is used, not regenerated
        Run t = EvalFixtures.capture(() -> Main.execute("bench", "eval", "--data", folder.toString(), "--arch",
                EvalFixtures.ARCH, "--res", "64", "-b", "4", "--threads", "1", "--seconds", "0.05", "--repeats", "1"));
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("| eval end to end |"), t.out());
        assertTrue(t.out().contains("timm: skipped: no --timm"), t.out());
        assertTrue(t.out().contains("(6 images)"), t.out());
    }

    @Test
    void badOptionsAreOneLineErrors() throws IOException {
        Path file = Files.writeString(dir.resolve("f.txt"), "x");
        Run r = EvalFixtures.capture(() -> Main.execute("bench", "eval", "--data", file.toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("error: --data is not a folder"), r.err());
        Run z = EvalFixtures.capture(() -> Main.execute("bench", "eval", "--threads", "0"));
        assertEquals(2, z.code(), z.err());
    }
}

package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.fixres4j.io.Json;
import org.fixres4j.io.Npy;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.report.EvalFixtures.Run;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --amp} on the command line: fp16 and unknown values are refused on the CPU with one line before any work
 * (existing outputs untouched), and bf16 gives logits close to float32's (tolerance: 3e-2 of the largest |logit|,
 * bfloat16's 8 significant bits through the network) and marks the eval report.
 */
class AmpCliTest {
    @TempDir
    static Path dir;
    static Path weights;
    static Path folder;

    @BeforeAll
    static void setUp() throws IOException {
        weights = EvalFixtures.randomWeights(dir.resolve("random3.safetensors"), 3, 11);
        folder = EvalFixtures.imageFolder(dir.resolve("folder"), false);
    }

    private static Run run(String... args) {
        return EvalFixtures.capture(() -> Main.execute(args));
    }

    @Test
    void float16AndUnknownModesAreRefusedOnTheCpu() throws IOException {
        Path out = Files.writeString(dir.resolve("kept.npy"), "keep me");
        Path image = folder.resolve("ant/a1.jpg");
        Run r = run("logits", "--weights", weights.toString(), "--arch", "efficientnet_b0", "--amp", "fp16", "--out",
                out.toString(), image.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("fixres logits: error: --amp fp16 is not supported on the CPU"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertEquals("keep me", Files.readString(out));
        r = run("eval", "--weights", weights.toString(), "--arch", "efficientnet_b0", "--data", folder.toString(),
                "--amp", "fp16", "--out", dir.resolve("e.json").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("fixres eval: error: --amp fp16 is not supported on the CPU"), r.err());
        assertFalse(Files.exists(dir.resolve("e.json")));
        r = run("bench", "model", "--amp", "fp16", "--seconds", "0.01", "--batch", "1", "--threads", "1");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--amp fp16 is not supported on the CPU"), r.err());
        r = run("finetune", "--model", weights.toString(), "--arch", "efficientnet_b0", "--res", "64", "--amp",
                "fp16", "--out", dir.resolve("ft/model.safetensors").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--amp fp16 is not supported on the CPU"), r.err());
        assertFalse(Files.exists(dir.resolve("ft")));
        r = run("logits", "--weights", weights.toString(), "--arch", "efficientnet_b0", "--amp", "int8", "--out",
                out.toString(), image.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--amp must be none, bf16 or fp16, got 'int8'"), r.err());
        assertEquals("keep me", Files.readString(out));
    }

    @Test
    void bf16LogitsAreCloseToFloat32AndEvalRecordsTheMode() throws IOException {
        String[] images = {folder.resolve("ant/a1.jpg").toString(), folder.resolve("bee/b1.png").toString(),
            folder.resolve("cat/c1.png").toString()};
        Path f32 = dir.resolve("f32.npy");
        Path bf16 = dir.resolve("bf16.npy");
        for (Path out : new Path[] {f32, bf16}) {
            String[] args = {"logits", "--weights", weights.toString(), "--arch", "efficientnet_b0", "--threads", "1",
                "--amp", out == f32 ? "none" : "bf16", "--out", out.toString(), images[0], images[1], images[2]};
            Run r = run(args);
            assertEquals(0, r.code(), r.err());
        }
        float[] a = Npy.read(f32).toFloatArray();
        float[] b = Npy.read(bf16).toFloatArray();
        assertEquals(a.length, b.length);
        double max = 0;
        double diff = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i]));
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
        }
        assertTrue(diff > 0 && diff <= 3e-2 * max, "bf16 logits deviate by " + diff + " of max " + max);

        Path json = dir.resolve("eval-bf16.json");
        Run r = run("eval", "--weights", weights.toString(), "--arch", "efficientnet_b0", "--data", folder.toString(),
                "--threads", "1", "--progress", "off", "--amp", "bf16", "--out", json.toString());
        assertEquals(0, r.code(), r.err());
        @SuppressWarnings("unchecked")
        Map<String, Object> config = (Map<String, Object>) ((Map<String, Object>) Json.read(json)).get("config");
        assertEquals("bf16", config.get("amp"));
        assertEquals(1L, ((Number) ((Map<?, ?>) config.get("run")).get("streams")).longValue(), "one thread: one pass");
    }

    @SuppressWarnings("unchecked")
    private static long streamsOfEval(String... extra) throws IOException {
        Path json = dir.resolve("eval-streams.json");
        Files.deleteIfExists(json);
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("eval", "--weights",
                weights.toString(), "--arch", "efficientnet_b0", "--data", folder.toString(), "--progress", "off",
                "--out", json.toString()));
        args.addAll(java.util.List.of(extra));
        Run r = run(args.toArray(new String[0]));
        assertEquals(0, r.code(), r.err());
        Map<String, Object> config = (Map<String, Object>) ((Map<String, Object>) Json.read(json)).get("config");
        return ((Number) ((Map<?, ?>) config.get("run")).get("streams")).longValue();
    }

    @Test
    void evalRunsBf16BatchesOnOneStreamPerThreadAndFloat32AsOnePassUnlessAsked() throws IOException {
        assertEquals(2, streamsOfEval("--threads", "2", "--amp", "bf16"));
        assertEquals(1, streamsOfEval("--threads", "2"));
        assertEquals(2, streamsOfEval("--threads", "2", "--streams", "2"));
        assertEquals(1, streamsOfEval("--threads", "2", "--amp", "bf16", "--streams", "1"));
        Path json = dir.resolve("eval-streams0.json");
        Run r = run("eval", "--weights", weights.toString(), "--arch", "efficientnet_b0", "--data", folder.toString(),
                "--streams", "0", "--out", json.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--streams must be at least 1, got 0"), r.err());
        assertFalse(Files.exists(json));
    }
}

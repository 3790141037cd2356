package org.fixres4j.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.fixres4j.cli.Main;
import org.fixres4j.io.Json;
import org.fixres4j.weights.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The train, finetune and bench commands from the command line, CI-sized: a quarter-width EfficientNet on the
 * generated shapes data at 32 px, one short epoch; a resumed fine-tune; benchmarks for a fraction of a second.
 */
class CliTrainBenchTest {
    @Test
    void trainThenFinetuneThenResume(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("train/model.safetensors");
        assertEquals(0, Main.execute("train", "--data", "shapes", "--arch", "efficientnet_b0", "--width", "0.25",
                "--depth", "0.25", "--res", "32", "--epochs", "1", "--batch", "8", "--train-limit", "32",
                "--val-limit", "16", "--threads", "1", "--seed", "3", "--out", model.toString()));
        assertTrue(Files.size(model) > 0);
        assertTrue(SafeTensors.read(model).size() > 10, "a state dict was written");

        Path tuned = dir.resolve("ft/model.safetensors");
        Path json = dir.resolve("ft/result.json");
        assertEquals(0, Main.execute("finetune", "--model", model.toString(), "--data", "shapes", "--res", "40",
                "--epochs", "1", "--batch", "8", "--train-limit", "16", "--eval-limit", "16", "--threads", "1",
                "--out", tuned.toString(), "--json", json.toString()));
        assertTrue(Files.size(tuned) > 0);
        @SuppressWarnings("unchecked")
        Map<String, Object> result = (Map<String, Object>) Json.read(json);
        assertTrue(!result.isEmpty(), "the fine-tune wrote its results");

        // bad input: one-line error, nothing overwritten
        byte[] before = Files.readAllBytes(tuned);
        assertTrue(Main.execute("finetune", "--model", model.toString(), "--data", "shapes", "--res", "-5",
                "--out", tuned.toString()) != 0, "a negative resolution is refused");
        assertTrue(Main.execute("train", "--data", "folder:" + dir.resolve("missing"), "--epochs", "1",
                "--out", dir.resolve("x/model.safetensors").toString()) != 0, "a missing data folder is refused");
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(tuned)), "existing output untouched");
    }

    @Test
    void benchCommandsRun() {
        assertEquals(0, Main.execute("bench", "preprocess", "--res", "64", "--seconds", "0.05", "--threads", "1",
                "--json"));
        assertEquals(0, Main.execute("bench", "model", "--res", "32", "--batch", "1", "--threads", "1", "--seconds",
                "0.1", "--json"));
        assertTrue(Main.execute("bench", "preprocess", "--res", "0", "--seconds", "0.05") != 0);
    }
}

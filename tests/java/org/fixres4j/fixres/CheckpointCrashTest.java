package org.fixres4j.fixres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.fixres4j.io.FaultPoints;
import org.fixres4j.weights.SafeTensors;
import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Real crashes while a checkpoint is written: a child JVM writes epoch 2 over a complete epoch 1 and pauses at a fault
 * point, where it is killed with SIGKILL ({@link Process#destroyForcibly()}). Whatever the point, the directory then
 * holds a complete checkpoint (epoch 1 before {@code state.json} is renamed into place, epoch 2 after) whose files match
 * their SHA-256, and the next save completes normally. Damaged checkpoints are refused naming the damaged file.
 */
class CheckpointCrashTest {

    @ParameterizedTest(name = "SIGKILL at {0} -> epoch {1}")
    @CsvSource({
        "safetensors:partial@epoch-0002.safetensors, 1",
        "atomic-write:before-fsync@epoch-0002.safetensors, 1",
        "atomic-write:before-rename@epoch-0002.safetensors, 1",
        "checkpoint:after-model, 1",
        "atomic-write:after-rename@epoch-0002.optimizer.safetensors, 1",
        "checkpoint:after-optimizer, 1",
        "atomic-write:partial@state.json, 1",
        "atomic-write:before-rename@state.json, 1",
        "atomic-write:after-rename@state.json, 2",
        "checkpoint:after-state, 2",
    })
    void killedWhileWritingLeavesTheLastCompleteCheckpoint(String point, int expectedEpoch, @TempDir Path dir)
            throws Exception {
        CheckpointCrashChild.save(dir, 1);
        Files.writeString(dir.resolve(".state.json.1234.tmp"), "{"); // not ours: left alone
        byte[] stateBefore = Files.readAllBytes(dir.resolve(Checkpoint.STATE_FILE));

        killAt(point, dir, 2);

        Checkpoint.Found found = Checkpoint.find(dir); // verifies both files against the recorded SHA-256
        assertNotNull(found);
        assertEquals(expectedEpoch, found.epoch(), "after a kill at " + point);
        assertSameTensors(CheckpointCrashChild.model(expectedEpoch), SafeTensors.read(found.modelFile()));
        assertSameTensors(CheckpointCrashChild.optimizer(expectedEpoch), SafeTensors.read(found.optimizerFile()));
        if (expectedEpoch == 1) {
            assertEquals(new String(stateBefore, StandardCharsets.UTF_8),
                    Files.readString(dir.resolve(Checkpoint.STATE_FILE)), "state.json untouched");
        }

        // the run resumes and writes the epoch again: complete, older epochs and nothing else removed
        CheckpointCrashChild.save(dir, 2);
        Checkpoint.Found again = Checkpoint.find(dir);
        assertEquals(2, again.epoch());
        assertSameTensors(CheckpointCrashChild.model(2), SafeTensors.read(again.modelFile()));
        assertFalse(Files.exists(Checkpoint.modelFile(dir, 1)));
        assertFalse(Files.exists(Checkpoint.optimizerFile(dir, 1)));
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(".state.json.1234.tmp", "epoch-0002.optimizer.safetensors", "epoch-0002.safetensors",
                    "state.json"), files.map(p -> p.getFileName().toString()).sorted().toList(),
                    "the killed write's temporary file is removed");
        }
    }

    /** Runs the child until it reports the pause point, then SIGKILLs it. */
    private static void killAt(String point, Path dir, int epoch) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("-D" + FaultPoints.PROPERTY + "=" + point);
        cmd.add(CheckpointCrashChild.class.getName());
        cmd.add(dir.toString());
        cmd.add(Integer.toString(epoch));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            StringBuilder seen = new StringBuilder();
            String line;
            while ((line = r.readLine()) != null) {
                seen.append(line).append('\n');
                if (line.startsWith("fixres4j: paused at " + point.split("@")[0])) {
                    break;
                }
            }
            assertTrue(line != null, "the child never reached " + point + ":\n" + seen);
            p.destroyForcibly(); // SIGKILL: no finally block, no shutdown hook runs
        } finally {
            p.destroyForcibly();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child did not die");
        }
        assertEquals(137, p.exitValue(), "killed by SIGKILL");
    }

    private static void assertSameTensors(Map<String, TensorData> expected, StateDict actual) {
        assertEquals(expected.keySet(), actual.keys());
        for (Map.Entry<String, TensorData> e : expected.entrySet()) {
            assertTrue(e.getValue().contentEquals(actual.get(e.getKey())), e.getKey());
        }
    }

    @Test
    void damagedCheckpointsAreRefusedNamingTheFile(@TempDir Path dir) throws IOException {
        CheckpointCrashChild.save(dir, 3);
        Path state = dir.resolve(Checkpoint.STATE_FILE);
        byte[] good = Files.readAllBytes(state);

        // a truncated state.json: which file, and that it is damaged
        Files.write(state, java.util.Arrays.copyOf(good, good.length / 2));
        IOException e = assertThrows(IOException.class, () -> Checkpoint.find(dir));
        assertTrue(e.getMessage().startsWith(state.toString() + ": not valid JSON"), e.getMessage());
        assertTrue(e.getMessage().contains("line"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());

        // a state that is JSON but not a checkpoint state
        Files.writeString(state, "[1, 2]");
        e = assertThrows(IOException.class, () -> Checkpoint.find(dir));
        assertTrue(e.getMessage().contains(state.toString()), e.getMessage());

        // a state naming a file outside the directory
        Files.writeString(state, new String(good, StandardCharsets.UTF_8)
                .replace("\"epoch-0003.safetensors\"", "\"../epoch-0003.safetensors\""));
        e = assertThrows(IOException.class, () -> Checkpoint.find(dir));
        assertTrue(e.getMessage().contains("files.model is not a file name"), e.getMessage());

        // a flipped byte in the model file
        Files.write(state, good);
        Path model = Checkpoint.modelFile(dir, 3);
        byte[] m = Files.readAllBytes(model);
        m[m.length / 2] ^= 0x40;
        Files.write(model, m);
        e = assertThrows(IOException.class, () -> Checkpoint.find(dir));
        assertTrue(e.getMessage().startsWith(model.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());

        // a truncated optimizer file
        m[m.length / 2] ^= 0x40;
        Files.write(model, m);
        Path opt = Checkpoint.optimizerFile(dir, 3);
        byte[] o = Files.readAllBytes(opt);
        Files.write(opt, java.util.Arrays.copyOf(o, o.length - 4));
        e = assertThrows(IOException.class, () -> Checkpoint.find(dir));
        assertTrue(e.getMessage().startsWith(opt.toString()), e.getMessage());

        // a missing one
        Files.delete(opt);
        e = assertThrows(NoSuchFileException.class, () -> Checkpoint.find(dir));
        assertTrue(e.getMessage().contains(opt.toString()), e.getMessage());
    }
}

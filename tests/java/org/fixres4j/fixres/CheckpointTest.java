package org.fixres4j.fixres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.fixres4j.model.ModelFile;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.data.DemoData;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.model.Variant;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.weights.SafeTensors;
import org.fixres4j.weights.TensorData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model files with their description, atomic writes, and checkpoints that refuse to be half-read. */
class CheckpointTest {
    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
    }

    static ModelInfo info() {
        EfficientNetSpec spec = ModelFile.custom(EfficientNetSpec.nativeVariant(Variant.B0), 0.25, 0.25, 3, 10);
        return new ModelInfo(spec, 64, 0.875, Interpolation.BILINEAR, DemoData.FASHION_MNIST,
                List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"));
    }

    @Test
    void customSpecsRoundTripThroughTheMetadata() {
        ModelInfo i = info();
        Map<String, String> m = i.toMetadata();
        assertEquals("efficientnet_b0", m.get("fixres4j.arch"));
        assertEquals("efficientnet_b0(width=0.25, depth=0.25, in_chans=3, classes=10)", i.describe());
        ModelInfo back = ModelInfo.fromMetadata(m);
        assertEquals(i.spec().stateDictShapes().keySet(), back.spec().stateDictShapes().keySet());
        assertEquals(i.spec().parameterCount(), back.spec().parameterCount());
        assertEquals(i.normalization(), back.normalization());
        assertEquals(i.classNames(), back.classNames());
        assertEquals(64, back.inputSize());
        assertNull(ModelInfo.fromMetadata(Map.of("format", "pt")));
        assertThrows(IllegalArgumentException.class,
                () -> ModelInfo.fromMetadata(Map.of("fixres4j.arch", "efficientnet_b0")));
        // the TF flavour keeps its padding and epsilon
        EfficientNetSpec tf = ModelFile.custom("tf_efficientnet_b3", 0.5, null, 3, 5);
        assertTrue(tf.tfSamePadding());
        assertEquals(1.4, tf.depth());
        assertEquals(0.5, tf.width());
        assertEquals("tf_efficientnet_b0", ModelFile.baseArchitectureOf(tf));
        assertEquals(64, i.toPretrainedConfig().inputSize());
    }

    @Test
    void modelFilesHaveTimmKeysOnlyAndLoadWithoutAnArchitecture(@TempDir Path dir) throws IOException {
        ModelInfo i = info();
        Path f = dir.resolve("m.safetensors");
        try (EfficientNet m = ModelRegistry.create(i.spec())) {
            m.initTimm();
            ModelFile.save(f, m, i, Map.of("fixres4j.note", "x"));
        }
        SafeTensors.Header h = SafeTensors.readHeader(f);
        List<String> keys = new ArrayList<>();
        h.entries().forEach(e -> keys.add(e.name()));
        assertEquals(i.spec().stateDictShapes().keySet(), new java.util.HashSet<>(keys));
        assertEquals("x", h.metadata().get("fixres4j.note"));
        try (ModelFile.Loaded l = ModelFile.load(f)) {
            assertEquals(i.describe(), l.info().describe());
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList(), "no temporary file is left behind");
        }
        // a file without the metadata needs an architecture name
        Path bare = dir.resolve("bare.safetensors");
        SafeTensors.write(bare, Map.of("x", TensorData.ofFloats(new long[] {1}, 1f)), Map.of());
        assertThrows(IllegalArgumentException.class, () -> ModelFile.load(bare));
    }

    @Test
    void checkpointsAreConsistentOrRefused(@TempDir Path dir) throws IOException {
        ModelInfo i = info();
        assertNull(Checkpoint.find(dir));
        try (EfficientNet m = ModelRegistry.create(i.spec())) {
            m.initTimm();
            Map<String, TensorData> opt = new LinkedHashMap<>();
            opt.put("steps", TensorData.ofLongs(new long[0], 7));
            Checkpoint.save(dir, 1, m, i, opt, Map.of("kind", "test"));
            Checkpoint.save(dir, 2, m, i, opt, Map.of("kind", "test"));
        }
        Checkpoint.Found f = Checkpoint.find(dir);
        assertEquals(2, f.epoch());
        assertEquals("test", f.state().get("kind"));
        assertEquals(7, f.optimizerTensors().get("steps").toLongArray()[0]);
        assertFalse(Files.exists(Checkpoint.modelFile(dir, 1)), "older epochs are deleted");
        // a crash while writing leaves a temporary file behind: it is ignored
        Files.write(dir.resolve(".state.json.1234.tmp"), new byte[] {'{'});
        assertEquals(2, Checkpoint.find(dir).epoch());
        // a damaged or missing tensor file is refused, not half-read
        byte[] good = Files.readAllBytes(Checkpoint.optimizerFile(dir, 2));
        byte[] b = good.clone();
        b[b.length - 1] ^= 1;
        Files.write(Checkpoint.optimizerFile(dir, 2), b);
        IOException e = assertThrows(IOException.class, () -> Checkpoint.find(dir));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
        Files.write(Checkpoint.optimizerFile(dir, 2), good);
        assertEquals(2, Checkpoint.find(dir).epoch());
        Files.delete(Checkpoint.modelFile(dir, 2));
        assertThrows(NoSuchFileException.class, () -> Checkpoint.find(dir));
    }

    @Test
    void atomicJsonReplacesWholeFiles(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("s.json");
        Checkpoint.writeJson(f, Map.of("a", 1));
        Checkpoint.writeJson(f, Map.of("a", 2));
        assertEquals("{\n  \"a\": 2\n}\n", Files.readString(f));
    }
}

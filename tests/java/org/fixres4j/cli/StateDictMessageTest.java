package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import org.bytedeco.pytorch.global.torch;
import org.fixres4j.TestData;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.model.StateDictLoader;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.report.EvalFixtures.Run;
import org.fixres4j.torch.Torch;
import org.fixres4j.weights.SafeTensors;
import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.WeightFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A state dict that does not fit: one readable line with the counts of missing, unexpected and mis-shaped keys, the
 * first few of each, and what the file looks like, instead of every key.
 */
class StateDictMessageTest {
    @TempDir
    static Path dir;
    static Path demo;
    static Path stripped;
    static Path b0;

    @BeforeAll
    static void setUp() throws IOException {
        Torch.ensureLoaded();
        demo = dir.resolve("demo.safetensors");
        try (InputStream in = StateDictMessageTest.class.getResourceAsStream(EvalCheckpointTest.DEMO_CHECKPOINT)) {
            Files.copy(in, demo, StandardCopyOption.REPLACE_EXISTING);
        }
        // the same tensors without FixRes4J's metadata (as a conversion tool might leave them)
        StateDict sd = WeightFiles.read(demo);
        stripped = dir.resolve("stripped.safetensors");
        SafeTensors.write(stripped, new StateDict(sd.tensors()));
        torch.manual_seed(5);
        try (EfficientNet m = ModelRegistry.create("tf_efficientnet_b0", 7)) {
            m.initTimm();
            b0 = dir.resolve("b0.safetensors");
            SafeTensors.write(b0, m.stateDict());
        }
    }

    private static Run predict(String arch, Path weights) {
        return EvalFixtures.capture(() -> Main.execute("predict", "--arch", arch, "--weights", weights.toString(),
                TestData.path("decode/photo.jpg").toString()));
    }

    @Test
    void theDemoCheckpointUnderATimmNameSaysLoadItWithoutArch() {
        // predict reads the model as eval does (ModelSource): the name is checked against the file's metadata
        Run r = predict("tf_efficientnet_b0", demo);
        assertEquals(2, r.code(), r.err());
        String msg = r.err().strip();
        assertEquals(1, msg.lines().count(), msg);
        assertTrue(msg.length() < 1200, msg.length() + " characters: " + msg);
        assertTrue(msg.contains("--arch tf_efficientnet_b0 does not match"), msg);
        assertTrue(msg.contains("whose FixRes4J metadata describes efficientnet_b0(width=0.25"), msg);
        assertTrue(msg.contains("leave --arch out"), msg);
        // and without --arch it loads
        Run ok = EvalFixtures.capture(() -> Main.execute("predict", "--weights", demo.toString(), "--top", "2",
                TestData.path("decode/photo.jpg").toString()));
        assertEquals(0, ok.code(), ok.err());
        assertEquals(3, ok.out().lines().count(), ok.out());
    }

    @Test
    void withoutMetadataTheNetworksShapeIsDescribed() {
        Run r = predict("tf_efficientnet_b0", stripped);
        assertEquals(2, r.code(), r.err());
        String msg = r.err().strip();
        assertEquals(1, msg.lines().count(), msg);
        assertTrue(msg.contains("It is an EfficientNet of no timm architecture: stem 8 channels (width 0.25 x the "
                + "base 32), blocks per stage ["), msg);
        assertTrue(msg.contains(", 10 classes"), msg);
    }

    @Test
    void aTimmFileUnderAnotherNameNamesTheArchitectureItFits() throws IOException {
        Run r = predict("tf_efficientnet_b2", b0);
        assertEquals(2, r.code(), r.err());
        String msg = r.err().strip();
        assertTrue(msg.contains("shape-mismatched"), msg);
        assertTrue(msg.contains("Its keys and shapes are those of tf_efficientnet_b0 or efficientnet_b0 "
                + "(7 classes): use that name"), msg);
        // the library exception keeps every key
        try (EfficientNet m = ModelRegistry.create("tf_efficientnet_b2", 7)) {
            StateDictLoader.Mismatch e = assertThrows(StateDictLoader.Mismatch.class,
                    () -> StateDictLoader.load(m, WeightFiles.read(b0), true));
            assertTrue(e.report().missing().size() + e.report().mismatched().size() > 3);
            assertFalse(e.getMessage().contains(e.report().mismatched().get(e.report().mismatched().size() - 1))
                    && e.report().mismatched().size() > 3, "only the first few keys in the message");
            assertTrue(e.fileDescription().startsWith("Its keys and shapes are those of"), e.fileDescription());
        }
    }

    @Test
    void somethingElseEntirelyIsSaidToBeNoEfficientNet() {
        StateDict sd = new StateDict();
        sd.put("fc.weight", org.fixres4j.weights.TensorData.ofFloats(new long[] {2, 2}, 1, 2, 3, 4));
        sd.put("fc.bias", org.fixres4j.weights.TensorData.ofFloats(new long[] {2}, 1, 2));
        assertEquals("The file is not an EfficientNet state dict in timm's layout (no 4-D conv_stem.weight; its "
                + "first keys: fc.weight, fc.bias)", StateDictLoader.describeFile(sd));
    }
}

package org.fixres4j.fixres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.fixres4j.model.ModelFile;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.app.Demo;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.weights.SafeTensors;
import org.fixres4j.weights.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ModelFile#checkArchitecture} and {@link ModelFile#readInfo}: an architecture name agrees with a model
 * file's metadata when it names the same network (whatever the spelling: base name, timm tag, legacy alias, or a
 * variant whose multipliers the file carries), and {@link ModelFile#load(Path, String)} refuses one that does
 * not.
 */
class CheckpointArchitectureTest {
    private static ModelInfo info(String base, double width, double depth, int classes) {
        return new ModelInfo(ModelFile.custom(EfficientNetSpec.of(base), width, depth, 3, classes), 64,
                0.875, Interpolation.BILINEAR, Normalization.IMAGENET, List.of());
    }

    @Test
    void namesThatDescribeTheSameNetworkAgree() {
        Path f = Path.of("m.safetensors");
        // classes and input channels come from the file: not compared
        ModelFile.checkArchitecture(info("tf_efficientnet_b0", 1.0, 1.0, 10), "tf_efficientnet_b0.ap_in1k", f);
        ModelFile.checkArchitecture(info("tf_efficientnet_b0", 1.0, 1.0, 1000), "tf_efficientnet_b0_ap", f);
        ModelFile.checkArchitecture(info("efficientnet_b0", 1.0, 1.0, 3), "efficientnet_b0", f);
        // B3 is the B0 layout at width 1.2, depth 1.4: what a fine-tuned B3 file records
        ModelFile.checkArchitecture(info("tf_efficientnet_b0", 1.2, 1.4, 1000), "tf_efficientnet_b3.ap_in1k", f);
    }

    @Test
    void namesThatDoNotAreRefusedWithWhatDiffers() {
        Path f = Path.of("m.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelFile.checkArchitecture(info("efficientnet_b0", 0.25, 0.25, 10), "efficientnet_b0", f));
        assertTrue(e.getMessage().contains("width 1.0 (file 0.25), depth 1.0 (file 0.25)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ModelFile.checkArchitecture(info("efficientnet_b0", 1.0, 1.0, 10), "tf_efficientnet_b0", f));
        assertTrue(e.getMessage().contains("padding TF 'same' (file symmetric)")
                && e.getMessage().contains("BatchNorm eps 0.001 (file 1.0E-5)"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ModelFile.checkArchitecture(info("efficientnet_b0", 1.0, 1.0, 10), "resnet50", f));
    }

    @Test
    void loadModelChecksTheNameAgainstTheMetadata(@TempDir Path dir) throws IOException {
        Path demo = dir.resolve("demo.safetensors");
        try (InputStream in = Demo.class.getResourceAsStream(
                "/org/fixres4j/demo/fashion-mnist-canvas-112.safetensors")) {
            Files.copy(in, demo);
        }
        ModelInfo read = ModelFile.readInfo(demo);
        assertEquals("efficientnet_b0(width=0.25, depth=0.25, in_chans=3, classes=10)", read.describe());
        assertEquals(64, read.inputSize());
        assertEquals(Interpolation.BILINEAR, read.interpolation());
        assertEquals("T-shirt/top", read.classNames().get(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelFile.load(demo, "efficientnet_b0.ra_in1k"));
        assertTrue(e.getMessage().contains("does not match"), e.getMessage());

        // without the metadata: no description
        Path bare = dir.resolve("bare.safetensors");
        SafeTensors.write(bare, Map.of("x", TensorData.ofFloats(new long[] {1}, 1f)), Map.of());
        assertNull(ModelFile.readInfo(bare));
    }
}

package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.report.EvalFixtures;
import org.fixres4j.report.EvalFixtures.Run;
import org.fixres4j.weights.SafeTensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * predict, logits, eval, recommend and finetune read their model through the one loader (ModelSource): a timm file
 * given without --arch is refused by all of them with its words, before any work.
 */
class ModelSourceCommandsTest {
    @TempDir
    static Path dir;
    static Path timmFile;
    static Path image;

    @BeforeAll
    static void setUp() throws IOException {
        timmFile = dir.resolve("timm.safetensors");
        try (EfficientNet m = ModelRegistry.create(ModelRegistry.resolve("efficientnet_b0").spec().withNumClasses(3))) {
            SafeTensors.write(timmFile, m.stateDict().tensors(), Map.of("format", "pt"));
        }
        image = dir.resolve("x.png");
        java.awt.image.BufferedImage im = new java.awt.image.BufferedImage(16, 16,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        javax.imageio.ImageIO.write(im, "png", image.toFile());
        Files.createDirectories(dir.resolve("data/a"));
    }

    @Test
    void everyCommandRefusesATimmFileWithoutArchInTheLoadersWords() {
        String w = timmFile.toString();
        for (List<String> args : List.of(
                List.of("predict", "--weights", w, image.toString()),
                List.of("logits", "--weights", w, "--out", dir.resolve("l.npy").toString(), image.toString()),
                List.of("eval", "--weights", w, "--data", dir.resolve("data").toString()),
                List.of("recommend", "--weights", w),
                List.of("finetune", "--model", w, "--res", "64", "--data", "folder:" + dir.resolve("data")))) {
            Run r = EvalFixtures.capture(() -> Main.execute(args.toArray(String[]::new)));
            assertEquals(2, r.code(), args + ": " + r.err());
            assertTrue(r.err().contains("has no FixRes4J model metadata (it was not written by fixres train or "
                    + "finetune): name its architecture with --arch"), args + ": " + r.err());
        }
    }
}

package org.fixres4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.fixres4j.transform.FixResTestTransform;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.transform.Normalization;
import org.fixres4j.transform.SampleTransform;
import org.fixres4j.transform.TimmEvalTransform;
import org.fixres4j.weights.SafeTensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one model loader and its preprocessing value: a timm name with a timm file, a self-describing FixRes4J file, a
 * file with a name that agrees (or not), and the overrides of the eval preprocessing.
 */
class ModelSourceTest {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }

    @TempDir
    static Path dir;
    /** efficientnet_b0 weights with 7 classes and no FixRes4J metadata (as timm writes them). */
    static Path timmFile;
    /** The same weights with FixRes4J metadata: input 96, crop_pct 0.9, bilinear, mean/std 0.5, class names. */
    static Path ownFile;
    static final List<String> NAMES = List.of("a", "b", "c", "d", "e", "f", "g");

    @BeforeAll
    static void setUp() throws IOException {
        EfficientNetSpec spec = ModelRegistry.resolve("efficientnet_b0").spec().withNumClasses(7);
        timmFile = dir.resolve("timm.safetensors");
        ownFile = dir.resolve("own.safetensors");
        try (EfficientNet m = ModelRegistry.create(spec)) {
            SafeTensors.write(timmFile, m.stateDict().tensors(), Map.of("format", "pt"));
            ModelFile.save(ownFile, m, new ModelInfo(spec, 96, 0.9, Interpolation.BILINEAR,
                    Normalization.parse("0.5,0.5,0.5", "0.5,0.5,0.5"), NAMES), null);
        }
    }

    @Test
    void timmNameWithATimmFile() throws IOException {
        ModelSource s = ModelSource.of("efficientnet_b0.ra_in1k", timmFile);
        assertNull(s.info());
        assertEquals("efficientnet_b0.ra_in1k", s.name());
        assertEquals(List.of(), s.classNames());
        EvalPreprocessing p = s.preprocessing();
        assertEquals(new EvalPreprocessing(EvalPreprocessing.ResizeMode.TIMM, 224, 0.875, Interpolation.BICUBIC,
                Normalization.IMAGENET), p);
        assertTrue(p.transform() instanceof TimmEvalTransform);
        try (ModelFile.Loaded m = s.load()) {
            assertEquals(7, m.model().spec().numClasses(), "class count from the classifier's shape");
        }
    }

    @Test
    void selfDescribingFile() throws IOException {
        ModelSource s = ModelSource.of(ownFile);
        assertNotNull(s.info());
        assertNull(s.resolved());
        assertEquals(s.info().describe(), s.name());
        assertEquals(NAMES, s.classNames());
        EvalPreprocessing p = s.preprocessing();
        assertEquals(96, p.resolution());
        assertEquals(0.9, p.cropPct());
        assertEquals(Interpolation.BILINEAR, p.interpolation());
        assertEquals(Normalization.parse("0.5,0.5,0.5", "0.5,0.5,0.5"), p.normalization());
        assertEquals(1 / 0.9, p.cropRatio(), 1e-12);
        try (ModelFile.Loaded m = s.load()) {
            assertEquals(7, m.model().spec().numClasses());
            assertEquals(NAMES, m.info().classNames());
        }
    }

    @Test
    void fileWithAnArchThatAgreesTakesTheFilesConfiguration() throws IOException {
        ModelSource s = ModelSource.of("efficientnet_b0", ownFile);
        assertNotNull(s.info());
        assertEquals("efficientnet_b0.ra_in1k", s.name(), "the name given, resolved to its timm tag");
        assertEquals(96, s.preprocessing().resolution(), "the file's input size, not timm's 224");
        assertEquals(NAMES, s.classNames());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelSource.of("efficientnet_b1", ownFile));
        assertTrue(e.getMessage().contains("does not match"), e.getMessage());
    }

    @Test
    void aTimmFileWithoutANameIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelSource.of(timmFile));
        assertTrue(e.getMessage().contains("no FixRes4J model metadata") && e.getMessage().contains("--arch"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelSource.of(dir.resolve("missing.safetensors")));
        assertTrue(e.getMessage().startsWith("no such weights file"), e.getMessage());
    }

    @Test
    void overrides() throws IOException {
        ModelSource s = ModelSource.of(ownFile);
        EvalPreprocessing p = s.preprocessing(EvalPreprocessing.Overrides.NONE.withResolution(128).withCropPct(1.0)
                .withInterpolation(Interpolation.BICUBIC).withNormalization(Normalization.IMAGENET));
        assertEquals(new EvalPreprocessing(EvalPreprocessing.ResizeMode.TIMM, 128, 1.0, Interpolation.BICUBIC,
                Normalization.IMAGENET), p);
        SampleTransform t = p.transform();
        assertEquals(128, t.outputWidth());
        List<SampleTransform> sweep = p.transforms(List.of(64, 160));
        assertEquals(64, sweep.get(0).outputWidth());
        assertEquals(160, sweep.get(1).outputWidth());

        EvalPreprocessing f = s.preprocessing(EvalPreprocessing.Overrides.NONE
                .withResizeMode(EvalPreprocessing.ResizeMode.FIXRES));
        assertTrue(f.transform() instanceof FixResTestTransform);
        assertEquals(Interpolation.BILINEAR, f.interpolation(), "FixRes's transform defaults to bilinear");
        assertEquals(256.0 / 224.0, f.cropRatio(), 1e-12);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.preprocessing(
                EvalPreprocessing.Overrides.NONE.withResizeMode(EvalPreprocessing.ResizeMode.FIXRES).withCropPct(0.9)));
        assertTrue(e.getMessage().contains("--crop-pct applies to --resize-mode timm"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EvalPreprocessing.Overrides.NONE.withCropPct(5.0));
        assertThrows(IllegalArgumentException.class, () -> EvalPreprocessing.Overrides.NONE.withResolution(4));
        assertEquals(EvalPreprocessing.ResizeMode.FIXRES, EvalPreprocessing.ResizeMode.parse("FixRes"));
        e = assertThrows(IllegalArgumentException.class, () -> EvalPreprocessing.ResizeMode.parse("squash"));
        assertEquals("--resize-mode must be timm or fixres, got 'squash'", e.getMessage());
    }
}

package org.fixres4j.classify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.model.ModelFile;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.TestData;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.FastEfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.model.PretrainedConfig;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The classifier API's ownership rules (a classifier closes only what it created), use after close (an
 * IllegalStateException naming the object, never a crash or a NullPointerException from JavaCPP), loading a
 * self-describing model file without a timm name, and the channels-last switch.
 */
class ClassifierApiTest {
    static final String DEMO = "/org/fixres4j/demo/fashion-mnist-canvas-112.safetensors";

    @TempDir
    static Path dir;
    static Path demo;
    static Path photo;

    @BeforeAll
    static void setUp() throws IOException {
        Torch.ensureLoaded();
        demo = dir.resolve("demo.safetensors");
        try (InputStream in = ClassifierApiTest.class.getResourceAsStream(DEMO)) {
            Files.copy(in, demo, StandardCopyOption.REPLACE_EXISTING);
        }
        photo = TestData.path("decode/photo.jpg");
    }

    private static EfficientNet smallModel() {
        torch.manual_seed(3);
        EfficientNet m = ModelRegistry.create("tf_efficientnet_b0", 4);
        m.initTimm();
        return m;
    }

    @Test
    void ofLeavesTheCallersModelOpen() throws IOException {
        PretrainedConfig cfg = ModelRegistry.config("tf_efficientnet_b0");
        try (EfficientNet model = smallModel()) {
            float[] first;
            try (Classifier c = Classifier.of(model, cfg, new Classifier.Options().resolution(64))) {
                first = c.classify(photo, 1).isEmpty() ? null : logits(c);
            }
            assertFalse(model.isClosed(), "the caller's model stays open");
            try (PointerScope s = new PointerScope()) {
                Tensor y = model.forward(torch.randn(1, 3, 64, 64));
                assertArrayEquals(new long[] {1, 4}, TensorValues.shape(y));
            }
            // a second classifier over the same model gives the same logits
            try (Classifier c = Classifier.of(model, cfg, new Classifier.Options().resolution(64))) {
                assertArrayEquals(first, logits(c), 0f);
            }
        }
    }

    private static float[] logits(Classifier c) throws IOException {
        try (DecodedImage im = ImageDecoder.decode(photo)) {
            return c.logits(List.of(im))[0];
        }
    }

    @Test
    void useAfterCloseIsAnIllegalStateException() throws IOException {
        Classifier c = Classifier.load(demo, new Classifier.Options());
        assertFalse(c.isClosed());
        c.close();
        c.close(); // idempotent
        assertTrue(c.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.classify(photo, 1));
        assertTrue(e.getMessage().contains("was closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> c.classify(List.of(photo), 1));
        try (DecodedImage im = ImageDecoder.decode(photo)) {
            assertThrows(IllegalStateException.class, () -> c.logits(List.of(im)));
            assertThrows(IllegalStateException.class, () -> c.classifyImages(List.of(im), 1));
        }

        EfficientNet m = smallModel();
        FastEfficientNet fast = FastEfficientNet.fuse(m);
        fast.close();
        fast.close();
        try (PointerScope s = new PointerScope()) {
            Tensor x = torch.randn(1, 3, 64, 64);
            assertTrue(assertThrows(IllegalStateException.class, () -> fast.forward(x)).getMessage()
                    .contains("FastEfficientNet was closed"));
            assertThrows(IllegalStateException.class, () -> fast.forwardFeatures(x));
            assertThrows(IllegalStateException.class, () -> fast.features(x));
            m.close();
            m.close();
            assertTrue(m.isClosed());
            assertThrows(IllegalStateException.class, () -> m.forward(x));
            assertThrows(IllegalStateException.class, () -> m.forwardFeatures(x));
            assertThrows(IllegalStateException.class, m::namedTensors);
            assertThrows(IllegalStateException.class, m::stateDict);
            assertThrows(IllegalStateException.class, () -> FastEfficientNet.fuse(m));
        }
    }

    @Test
    void aSelfDescribingFileLoadsWithoutATimmNameAndKeepsItsClassNames() throws IOException {
        ModelInfo info = ModelFile.readInfo(demo);
        try (Classifier c = Classifier.load(demo, new Classifier.Options())) {
            assertEquals(info.classNames(), c.labels());
            assertEquals(info.inputSize(), c.transform().outputWidth());
            List<Classifier.Prediction> top = c.classify(photo, 3);
            assertEquals(3, top.size());
            assertEquals(info.classNames().get(top.get(0).index()), top.get(0).label());
        }
        Path noMeta = dir.resolve("timm.safetensors");
        try (EfficientNet m = smallModel()) {
            org.fixres4j.weights.SafeTensors.write(noMeta, m.stateDict());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Classifier.load(noMeta, new Classifier.Options()));
        assertTrue(e.getMessage().contains("no FixRes4J model metadata"), e.getMessage());
    }

    @Test
    void streamsGiveTheLogitsOfTheSameImagesInOnePass() throws IOException {
        for (org.fixres4j.torch.Amp amp : new org.fixres4j.torch.Amp[] {org.fixres4j.torch.Amp.NONE,
            org.fixres4j.torch.Amp.BF16}) {
            try (DecodedImage im = ImageDecoder.decode(photo);
                 Classifier c1 = Classifier.load(demo, new Classifier.Options().amp(amp).batchSize(4));
                 Classifier c2 = Classifier.load(demo, new Classifier.Options().amp(amp).batchSize(4).streams(2))) {
                List<DecodedImage> four = List.of(im, im, im, im); // one batch: two slices of two
                float[][] a = c1.logits(four);
                float[][] b = c2.logits(four);
                float max = 0;
                for (float[] row : a) {
                    for (float v : row) {
                        max = Math.max(max, Math.abs(v));
                    }
                }
                // float32: rounding of other blockings only; bf16: one pass and the streams may run with other thread
                // counts, so one rounding of a bf16 intermediate may differ (AmpModelTest's bound)
                float tol = (amp == org.fixres4j.torch.Amp.NONE ? 1e-4f : 3e-2f) * Math.max(1f, max);
                for (int r = 0; r < 4; r++) {
                    for (int i = 0; i < a[r].length; i++) {
                        assertEquals(a[r][i], b[r][i], tol, amp + " logit " + i);
                    }
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new Classifier.Options().streams(0));
    }

    @Test
    void channelsLastGivesTheSameLogitsAsNchw() throws IOException {
        float[] nchw;
        float[] nhwc;
        try (Classifier c = Classifier.load(demo, new Classifier.Options().fast(false))) {
            nchw = logits(c);
        }
        try (Classifier c = Classifier.load(demo, new Classifier.Options().fast(false).channelsLast(true))) {
            nhwc = logits(c);
        }
        assertEquals(nchw.length, nhwc.length);
        for (int i = 0; i < nchw.length; i++) {
            assertEquals(nchw[i], nhwc[i], 1e-3f * Math.max(1f, Math.abs(nchw[i])), "logit " + i);
        }
    }
}

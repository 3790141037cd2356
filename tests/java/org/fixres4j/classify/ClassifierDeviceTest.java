package org.fixres4j.classify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import org.bytedeco.pytorch.global.torch;
import org.fixres4j.TestData;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.torch.DeviceSpec;
import org.fixres4j.torch.DeviceUnavailableException;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Classifier.Options#device}: parsed when set, checked before any weight is read, CPU by default. */
class ClassifierDeviceTest {
    @TempDir
    static Path dir;
    static Path demo;

    @BeforeAll
    static void setUp() throws IOException {
        Torch.ensureLoaded();
        demo = dir.resolve("demo.safetensors");
        try (InputStream in = ClassifierDeviceTest.class.getResourceAsStream(ClassifierApiTest.DEMO)) {
            Files.copy(in, demo, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Test
    void badValuesAreRefusedWhenSet() {
        Classifier.Options o = new Classifier.Options();
        for (String bad : List.of("gpu", "cuda:-1", "cuda:abc", "")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.device(bad), bad);
            assertTrue(e.getMessage().contains("cuda:N"), e.getMessage());
        }
        assertThrows(NullPointerException.class, () -> o.device((DeviceSpec) null));
        o.device("cuda:1"); // a valid value: whether it is usable is decided when the classifier is made
        assertEquals(DeviceSpec.cuda(1), o.copy().device);
    }

    @Test
    void cudaIsRefusedHereBeforeLoadingAndTheCpuIsTheDefault() throws IOException {
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                () -> Classifier.load(demo, new Classifier.Options().device("cuda")));
        assertTrue(e.getMessage().startsWith("cuda:0 is not usable: libtorch here is its CPU build"), e.getMessage());
        try (Classifier c = Classifier.load(demo, new Classifier.Options().threads(1))) {
            assertEquals(DeviceSpec.CPU, c.device());
            try (org.fixres4j.image.DecodedImage im = org.fixres4j.image.ImageDecoder.decode(
                    TestData.path("decode/photo.jpg"))) {
                assertEquals(c.labels().size(), c.logits(List.of(im))[0].length);
            }
        }
    }

    @Test
    void ofWithAnUnusableDeviceLeavesTheCallersModelOnTheCpu() {
        torch.manual_seed(3);
        try (EfficientNet m = ModelRegistry.create("tf_efficientnet_b0", 4)) {
            m.initTimm();
            assertThrows(DeviceUnavailableException.class, () -> Classifier.of(m,
                    ModelRegistry.config("tf_efficientnet_b0"), new Classifier.Options().device("cuda:0")));
            assertTrue(m.parameters().get(0).is_cpu());
        }
    }
}

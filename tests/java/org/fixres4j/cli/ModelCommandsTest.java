package org.fixres4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.TestData;
import org.fixres4j.classify.Classifier;
import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;
import org.fixres4j.io.Npy;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.ModelRegistry;
import org.fixres4j.model.PretrainedConfig;
import org.fixres4j.preprocess.CpuPreprocessor;
import org.fixres4j.preprocess.OutputSpec;
import org.fixres4j.preprocess.Sample;
import org.fixres4j.torch.Torch;
import org.fixres4j.transform.TimmEvalTransform;
import org.fixres4j.weights.SafeTensors;
import org.fixres4j.weights.StateDict;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code logits}, {@code predict}, {@code convert} and {@link Classifier} on a real B0 (seeded random weights with timm's
 * initialisation) saved as safetensors: logits equal the plain module's on the same preprocessed input.
 */
class ModelCommandsTest {
    @TempDir
    static Path dir;
    static Path weights;
    static final String ARCH = "tf_efficientnet_b0.ap_in1k";

    @BeforeAll
    static void saveModel() throws IOException {
        Torch.ensureLoaded();
        torch.manual_seed(7);
        try (EfficientNet m = ModelRegistry.create(ARCH)) {
            m.initTimm();
            weights = dir.resolve("b0.safetensors");
            SafeTensors.write(weights, m.stateDict());
        }
    }

    /** The plain module's logits for images preprocessed with the config's eval transform at {@code res}. */
    private static float[] reference(List<Path> files, int res) throws IOException {
        PretrainedConfig cfg = ModelRegistry.config(ARCH);
        TimmEvalTransform t = cfg.evalTransform(res);
        OutputSpec spec = OutputSpec.nchwFloat(res, res, cfg.normalization());
        try (EfficientNet m = ModelRegistry.create(ARCH); PointerScope scope = new PointerScope();
             InferenceMode g = new InferenceMode()) {
            org.fixres4j.model.StateDictLoader.load(m, SafeTensors.read(weights));
            m.eval();
            Tensor input = torch.zeros(spec.shape(files.size()), new TensorOptions(torch.ScalarType.Float));
            for (int i = 0; i < files.size(); i++) {
                try (DecodedImage im = ImageDecoder.decode(files.get(i))) {
                    new CpuPreprocessor(1).run(List.of(new Sample(im, t.plan(im.width(), im.height(), null), i)),
                            spec, input);
                }
            }
            Tensor logits = m.forward(input).contiguous();
            float[] out = new float[files.size() * 1000];
            new FloatPointer(logits.data_ptr()).get(out);
            return out;
        }
    }

    private static void assertClose(float[] want, float[] got, String what) {
        float max = 0;
        for (float v : want) {
            max = Math.max(max, Math.abs(v));
        }
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-4f * max, what + " [" + i + "]");
        }
    }

    @Test
    void logitsCommandMatchesThePlainModule() throws IOException {
        List<Path> files = List.of(TestData.path("decode/photo.jpg"),
                TestData.path("preprocess/sources/portrait_333x500.png"));
        Path out = dir.resolve("logits.npy");
        assertEquals(0, Main.execute("logits", "--arch", ARCH, "--weights", weights.toString(), "--res", "256",
                "--batch", "2", "--out", out.toString(), files.get(0).toString(), files.get(1).toString()));
        Npy.Array arr = Npy.read(out);
        assertArrayEquals(new long[] {2, 1000}, arr.shape());
        assertClose(reference(files, 256), arr.toFloatArray(), "fast-path logits vs plain module");
    }

    @Test
    void classifierAndPredictAgree() throws IOException {
        Path photo = TestData.path("decode/photo.jpg");
        float[] ref = reference(List.of(photo), 224);
        int best = 0;
        for (int i = 1; i < ref.length; i++) {
            best = ref[i] > ref[best] ? i : best;
        }
        try (Classifier c = Classifier.load(ARCH, weights, new Classifier.Options().batchSize(4))) {
            List<Classifier.Prediction> top = c.classify(photo, 5);
            assertEquals(5, top.size());
            assertEquals(best, top.get(0).index());
            assertTrue(top.get(0).probability() >= top.get(4).probability());
        }
        PrintStream old = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true));
        try {
            assertEquals(0, Main.execute("predict", "--arch", "tf_efficientnet_b0_ap", "--weights",
                    weights.toString(), photo.toString()));
        } finally {
            System.setOut(old);
        }
        String text = captured.toString();
        assertTrue(text.contains(org.fixres4j.classify.ImageNetClasses.names().get(best)), text);
    }

    @Test
    void convertTurnsPthIntoSafetensors() throws IOException {
        Path pth = TestData.path("weights/module_state.pth");
        Path out = dir.resolve("module.safetensors");
        assertEquals(0, Main.execute("convert", "--in", pth.toString(), "--out", out.toString()));
        StateDict a = org.fixres4j.weights.PthReader.read(pth);
        StateDict b = SafeTensors.read(out);
        assertEquals(a.keys(), b.keys());
        for (String k : a.keys()) {
            assertArrayEquals(a.get(k).toByteArray(), b.get(k).toByteArray(), k);
        }
        Path junk = dir.resolve("junk.pth");
        Files.writeString(junk, "nope");
        assertEquals(1, Main.execute("convert", "--in", junk.toString(), "--out", out.toString()));
        assertEquals(1, Main.execute("convert", "--in", TestData.path("weights/malicious_zip.pth").toString(),
                "--out", dir.resolve("evil.safetensors").toString()));
        assertTrue(Files.notExists(dir.resolve("evil.safetensors")));
    }

    @Test
    void wrongWeightsAreAClearError() {
        assertEquals(2, Main.execute("logits", "--arch", "efficientnet_b1", "--weights", weights.toString(),
                "--out", dir.resolve("x.npy").toString(), TestData.path("decode/photo.jpg").toString()));
        assertEquals(2, Main.execute("predict", "--arch", "efficientnet_b99", "--weights", weights.toString(),
                TestData.path("decode/photo.jpg").toString()));
    }
}

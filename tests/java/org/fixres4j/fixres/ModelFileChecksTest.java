package org.fixres4j.fixres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.fixres4j.model.ModelFile;
import org.fixres4j.model.ModelInfo;
import org.fixres4j.data.DemoData;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.model.Variant;
import org.fixres4j.transform.Interpolation;
import org.fixres4j.weights.DType;
import org.fixres4j.weights.NonFiniteWeightsException;
import org.fixres4j.weights.SafeTensors;
import org.fixres4j.weights.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model file's metadata is bounded and compared with its tensors before any model is built, and its weights must
 * be finite. Every file here is refused before libtorch allocates anything (the files hold zeros of the described
 * shapes, written from the spec alone).
 */
class ModelFileChecksTest {
    @TempDir
    Path dir;

    private static ModelInfo tiny() {
        EfficientNetSpec spec = ModelFile.custom(EfficientNetSpec.nativeVariant(Variant.B0), 0.25, 0.25, 3, 10);
        return new ModelInfo(spec, 64, 0.875, Interpolation.BILINEAR, DemoData.FASHION_MNIST, List.of());
    }

    /** Zeros of every shape the spec describes (num_batches_tracked as int64). */
    private static Map<String, TensorData> zeros(EfficientNetSpec spec) {
        Map<String, TensorData> m = new LinkedHashMap<>();
        for (EfficientNetSpec.Entry e : spec.stateDictEntries()) {
            if (e.isCounter()) {
                m.put(e.key(), TensorData.ofLongs(e.shape(), 0L));
            } else {
                m.put(e.key(), TensorData.wrap(DType.F32, e.shape(), ByteBuffer.allocate(4 * (int) e.numel())));
            }
        }
        return m;
    }

    private Path file(String name, Map<String, TensorData> tensors, Map<String, String> meta) throws IOException {
        Path f = dir.resolve(name);
        SafeTensors.write(f, tensors, meta);
        return f;
    }

    private static Map<String, String> meta(ModelInfo i, String key, String value) {
        Map<String, String> m = new TreeMap<>(i.toMetadata());
        m.put(ModelInfo.META + key, value);
        return m;
    }

    @Test
    void hugeOrMalformedMetadataIsRefusedBeforeBuilding() throws IOException {
        ModelInfo i = tiny();
        Map<String, TensorData> t = zeros(i.spec());
        String[][] bad = {
            {"depth", "100000", "fixres4j.depth is 100000, outside"},
            {"width", "1e9", "fixres4j.width is 1e9, outside"},
            {"width", "NaN", "fixres4j.width is NaN, outside"},
            {"depth", "-1", "outside"},
            {"num_classes", "99999999999", "fixres4j.num_classes is 99999999999, outside"},
            {"num_classes", "ten", "not a whole number"},
            {"input_size", "1000000", "fixres4j.input_size is 1000000, outside"},
            {"crop_pct", "5", "fixres4j.crop_pct is 5, outside"},
            {"in_chans", "100000", "outside"},
            {"in_chans", "1", "only in_chans=3"},
            {"class_names", "[\"a\"]", "1 names for num_classes=10"},
            {"std", "-1,-1,-1", "std > 0"},
        };
        for (String[] b : bad) {
            Path f = file("bad-" + b[0] + ".safetensors", t, meta(i, b[0], b[1]));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(f),
                    b[0] + "=" + b[1]);
            assertTrue(e.getMessage().contains(b[2]), b[0] + "=" + b[1] + ": " + e.getMessage());
            assertTrue(e.getMessage().startsWith(f + ": malformed fixres4j model metadata: "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ModelFile.readInfo(f));
        }
        // each multiplier within its bound, but together 2.3 billion parameters
        Map<String, String> both = meta(i, "width", "8.0");
        both.put(ModelInfo.META + "depth", "8.0");
        Path f = file("both.safetensors", t, both);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(f));
        assertTrue(e.getMessage().contains("parameters, over the limit of 2000000000"), e.getMessage());
    }

    @Test
    void tensorsThatDoNotFitTheMetadataAreRefusedBeforeBuilding() throws IOException {
        ModelInfo i = tiny();
        // metadata of a much larger network over the tiny one's tensors
        Map<String, String> big = new TreeMap<>(i.toMetadata());
        big.put(ModelInfo.META + "depth", "3.1");
        big.put(ModelInfo.META + "width", "2.0");
        Path f = file("big.safetensors", zeros(i.spec()), big);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(f));
        assertTrue(e.getMessage().startsWith(f + " does not hold the weights of efficientnet_b0(width=2.0, depth=3.1"),
                e.getMessage());
        assertTrue(e.getMessage().contains("conv_stem.weight is [8, 3, 3, 3], the model needs [64, 3, 3, 3]"),
                e.getMessage());

        // one tensor of another shape, one missing, one extra
        Map<String, TensorData> t = zeros(i.spec());
        t.put("classifier.bias", TensorData.ofFloats(new long[] {3}, 0, 0, 0));
        t.remove("bn2.running_var");
        t.put("extra\nkey", TensorData.ofFloats(new long[] {1}, 0));
        Path g = file("odd.safetensors", t, i.toMetadata());
        e = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(g));
        assertTrue(e.getMessage().contains("2 missing or of another shape, 1 unexpected"), e.getMessage());
        assertTrue(e.getMessage().contains("unexpected 'extra\\u000akey'"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());

        // timm files without metadata: the stem must take RGB
        Map<String, TensorData> gray = zeros(i.spec().withInChannels(1));
        Path h = file("gray.safetensors", gray, Map.of());
        e = assertThrows(IllegalArgumentException.class, () -> ModelFile.load(h, "efficientnet_b0"));
        assertTrue(e.getMessage().contains("conv_stem.weight takes 1 input channels"), e.getMessage());
    }

    @Test
    void nonFiniteWeightsAreRefusedNamingTheTensor() throws IOException {
        ModelInfo i = tiny();
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            Map<String, TensorData> t = zeros(i.spec());
            float[] bias = new float[10];
            bias[7] = bad;
            t.put("classifier.bias", TensorData.ofFloats(new long[] {10}, bias));
            Path f = file("nan.safetensors", t, i.toMetadata());
            NonFiniteWeightsException e = assertThrows(NonFiniteWeightsException.class, () -> ModelFile.load(f));
            assertEquals("classifier.bias", e.tensor());
            assertEquals(7, e.index());
            assertTrue(e.getMessage().startsWith(f + ": tensor 'classifier.bias' holds " + (double) bad
                    + " at element 7"), e.getMessage());
        }
    }
}

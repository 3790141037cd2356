package org.fixres4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.fixres4j.torch.Torch;
import org.fixres4j.weights.DType;
import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.TensorData;
import org.fixres4j.weights.TorchTensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@SuppressWarnings("try")
class StateDictLoaderTest {

    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
    }

    static EfficientNetSpec spec(int classes) {
        return EfficientNetSpec.custom("tiny_tf", 0.25, 0.3, true, classes);
    }

    @Test
    void strictLoadReportsEveryProblemInOneError() {
        StateDict sd = SeededWeights.stateDict(spec(10), null);
        sd.remove("blocks.1.0.conv_dw.weight");
        sd.remove("bn2.bias");
        sd.put("blocks.9.0.conv_pw.weight", TensorData.ofFloats(new long[] {1}, 0f));
        sd.put("fc.weight", TensorData.ofFloats(new long[] {1}, 0f));
        sd.put("conv_stem.weight", TensorData.ofFloats(new long[] {16, 3, 3, 3}, new float[432]));
        try (EfficientNet m = new EfficientNet(spec(10)); PointerScope scope = new PointerScope()) {
            float[] stemBefore = TorchTensors.fromTorch(m.namedTensors().get("bn1.weight")).toFloatArray();
            StateDictLoader.Mismatch e = assertThrows(StateDictLoader.Mismatch.class,
                    () -> StateDictLoader.load(m, sd));
            String msg = e.getMessage();
            for (String k : List.of("blocks.1.0.conv_dw.weight", "bn2.bias", "blocks.9.0.conv_pw.weight", "fc.weight",
                    "conv_stem.weight: [16, 3, 3, 3] in the state dict vs [8, 3, 3, 3] in the model")) {
                assertTrue(msg.contains(k), "message lacks " + k + ":\n" + msg);
            }
            assertEquals(List.of("blocks.1.0.conv_dw.weight", "bn2.bias"), e.report().missing());
            assertEquals(List.of("blocks.9.0.conv_pw.weight", "fc.weight"), e.report().unexpected());
            assertEquals(1, e.report().mismatched().size());
            // nothing was loaded
            assertArrayEquals(stemBefore, TorchTensors.fromTorch(m.namedTensors().get("bn1.weight")).toFloatArray());
        }
    }

    @Test
    void nonStrictLoadKeepsTheModelsHeadOfAnotherSize() {
        StateDict sd1000 = SeededWeights.stateDict(spec(1000), null);
        try (EfficientNet m = new EfficientNet(spec(5)); PointerScope scope = new PointerScope()) {
            Tensor headBefore = m.namedTensors().get("classifier.weight").clone();
            StateDictLoader.Report r = StateDictLoader.load(m, sd1000, false);
            assertEquals(2, r.mismatched().size(), r.describe());
            assertTrue(r.mismatched().get(0).startsWith("classifier.weight: [1000, 320]"), r.describe());
            assertTrue(r.missing().isEmpty() && r.unexpected().isEmpty());
            assertEquals(sd1000.size() - 2, r.loaded().size());
            assertArrayEquals(TorchTensors.fromTorch(headBefore).toFloatArray(),
                    TorchTensors.fromTorch(m.namedTensors().get("classifier.weight")).toFloatArray());
            assertTrue(sd1000.get("conv_head.weight").contentEquals(m.stateDict().get("conv_head.weight")));
            assertThrows(StateDictLoader.Mismatch.class, () -> StateDictLoader.load(m, sd1000, true));
        }
    }

    @Test
    void missingBatchCountersAreToleratedAndHalfPrecisionConverts() {
        StateDict full = SeededWeights.stateDict(spec(10), null);
        StateDict sd = new StateDict();
        for (String k : full.keys()) {
            TensorData t = full.get(k);
            if (k.endsWith("num_batches_tracked")) {
                continue; // old checkpoints may lack them
            }
            sd.put(k, k.equals("conv_head.weight") ? TensorData.ofFloats(DType.F16, t.shape(), t.toFloatArray()) : t);
        }
        try (EfficientNet m = new EfficientNet(spec(10)); PointerScope scope = new PointerScope()) {
            StateDictLoader.Report r = StateDictLoader.load(m, sd);
            assertTrue(r.isClean(), r.describe());
            assertEquals(m.spec().stateDictEntries().stream().filter(EfficientNetSpec.Entry::isCounter).count(),
                    r.defaulted().size());
            float[] want = TensorData.ofFloats(DType.F16, full.get("conv_head.weight").shape(),
                    full.get("conv_head.weight").toFloatArray()).toFloatArray();
            assertArrayEquals(want, m.stateDict().get("conv_head.weight").toFloatArray(), 0f);
            assertEquals(0L, m.namedTensors().get("bn1.num_batches_tracked").item().toLong());
        }
    }

    @Test
    void readsPthAndSafetensorsFiles(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path pth = org.fixres4j.TestData.path("timm/tiny_tf.pth");
        StateDict fromPth = StateDictLoader.read(pth);
        java.nio.file.Path st = dir.resolve("model.safetensors");
        org.fixres4j.weights.SafeTensors.write(st, fromPth);
        StateDict fromSt = StateDictLoader.read(st);
        assertEquals(fromPth.keys(), fromSt.keys()); // as sets: safetensors files are sorted by dtype, then name
        try (EfficientNet a = new EfficientNet(spec(10)); EfficientNet b = new EfficientNet(spec(10))) {
            assertTrue(StateDictLoader.load(a, pth, true).isClean());
            assertTrue(StateDictLoader.load(b, st, true).isClean());
            assertTrue(a.stateDict().get("classifier.weight").contentEquals(b.stateDict().get("classifier.weight")));
        }
        java.nio.file.Path junk = dir.resolve("weights.bin");
        java.nio.file.Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        assertThrows(java.io.IOException.class, () -> StateDictLoader.read(junk));
    }
}

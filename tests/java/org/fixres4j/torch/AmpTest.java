package org.fixres4j.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link Amp}'s parsing and device rules, and {@link AmpScope} turning libtorch's CPU autocast on and back off. */
class AmpTest {
    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
    }

    @Test
    void parsesTheThreeModesAndTheirAliases() {
        assertSame(Amp.NONE, Amp.parse("none"));
        assertSame(Amp.NONE, Amp.parse("FP32"));
        assertSame(Amp.BF16, Amp.parse("bf16"));
        assertSame(Amp.BF16, Amp.parse(" BFloat16 "));
        assertSame(Amp.FP16, Amp.parse("fp16"));
        assertSame(Amp.FP16, Amp.parse("float16"));
        assertEquals("bf16", Amp.BF16.label());
        assertFalse(Amp.NONE.enabled());
        assertTrue(Amp.BF16.enabled());
        for (String bad : new String[] {"", "int8", "bf", "auto"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Amp.parse(bad));
            assertTrue(e.getMessage().contains("none, bf16 or fp16"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Amp.parse(null));
    }

    @Test
    void float16IsRefusedOnTheCpuOnly() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Amp.FP16.checkDevice("cpu"));
        assertTrue(e.getMessage().contains("not supported on the CPU"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Amp.FP16.autocast("cpu"));
        assertSame(Amp.BF16, Amp.BF16.checkDevice("cpu"));
        assertSame(Amp.FP16, Amp.FP16.checkDevice("cuda"));
        assertSame(Amp.FP16, Amp.FP16.checkDevice("cuda:1"));
        assertTrue(Amp.isCuda("CUDA:0"));
        assertFalse(Amp.isCuda("cpu"));
        assertThrows(IllegalArgumentException.class, () -> Amp.BF16.checkDevice("tpu"));
        assertThrows(IllegalArgumentException.class, () -> Amp.BF16.checkDevice(null));
    }

    @Test
    void scopeRunsConvolutionsInBfloat16AndRestoresTheThreadsState() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.randn(1, 4, 8, 8);
            Tensor w = torch.randn(6, 4, 3, 3);
            ScalarType before = torch.get_autocast_dtype(DeviceType.CPU);
            assertFalse(torch.is_autocast_enabled(DeviceType.CPU));
            try (AmpScope s = Amp.BF16.autocast("cpu")) {
                assertTrue(torch.is_autocast_enabled(DeviceType.CPU));
                Tensor y = torch.conv2d(x, w, new TensorOptional(), new long[] {1, 1}, new long[] {1, 1},
                        new long[] {1, 1}, 1);
                assertEquals(ScalarType.BFloat16.value, y.scalar_type().value);
                try (AmpScope none = Amp.NONE.autocast("cpu")) {
                    assertTrue(torch.is_autocast_enabled(DeviceType.CPU), "NONE changes nothing");
                }
                try (AmpScope inner = Amp.BF16.autocast("cpu")) {
                    assertTrue(torch.is_autocast_enabled(DeviceType.CPU));
                }
                assertTrue(torch.is_autocast_enabled(DeviceType.CPU), "an inner scope restores the outer state");
                assertEquals(ScalarType.Float.value, AmpScope.toFloat(y).scalar_type().value);
            }
            assertFalse(torch.is_autocast_enabled(DeviceType.CPU));
            assertEquals(before.value, torch.get_autocast_dtype(DeviceType.CPU).value);
            Tensor y = torch.conv2d(x, w, new TensorOptional(), new long[] {1, 1}, new long[] {1, 1},
                    new long[] {1, 1}, 1);
            assertEquals(ScalarType.Float.value, y.scalar_type().value);
            Tensor f = AmpScope.forward(Amp.BF16, "cpu", t -> torch.conv2d(t, w, new TensorOptional(),
                    new long[] {1, 1}, new long[] {1, 1}, new long[] {1, 1}, 1), x);
            assertEquals(ScalarType.Float.value, f.scalar_type().value);
            double rel = f.sub(y).abs().max().item_double() / y.abs().max().item_double();
            assertTrue(rel > 0 && rel < 2e-2, "bfloat16 conv within 2e-2 of float32, got " + rel);
        }
    }

    @Test
    void scopeMustBeClosedOnItsThread() throws Exception {
        AmpScope s = Amp.BF16.autocast("cpu");
        try {
            Throwable[] err = new Throwable[1];
            Thread t = new Thread(() -> {
                try {
                    s.close();
                } catch (Throwable e) {
                    err[0] = e;
                }
            });
            t.start();
            t.join();
            assertTrue(err[0] instanceof IllegalStateException, String.valueOf(err[0]));
        } finally {
            s.close();
        }
        assertFalse(torch.is_autocast_enabled(DeviceType.CPU));
    }
}

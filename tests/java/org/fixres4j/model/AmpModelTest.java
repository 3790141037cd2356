package org.fixres4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.fixres4j.torch.Amp;
import org.fixres4j.torch.AmpScope;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * bfloat16 on the CPU: the fast path folded in bfloat16 (fused depthwise kernel's bfloat16 instance) and the plain
 * module under autocast give float32 logits close to the float32 model's.
 *
 * <p>Tolerance: bfloat16 keeps 8 significant bits (each rounding within 2^-9 relative); over the ~20 rounded layers
 * of the tiny seeded model the logits are allowed 3e-2 of the largest |logit|, while
 * float32 paths agree within 1e-4. A deviation of 0 would mean bfloat16 was not used, so that is checked too.
 */
class AmpModelTest {
    static final double BF16_TOL = 3e-2;

    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
    }

    private static double deviation(Tensor ref, Tensor got) {
        return got.sub(ref).abs().max().item_double() / ref.abs().max().item_double();
    }

    @Test
    void bf16LogitsAreCloseToFloat32() {
        try (EfficientNet m = EfficientNetTest.seeded(EfficientNetTest.tiny(true));
             PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            m.eval();
            Tensor x = EfficientNetTest.input(4, 3, 64, 64);
            Tensor ref = m.forward(x);
            try (FastEfficientNet fast = FastEfficientNet.fuse(m, Amp.BF16)) {
                assertEquals(Amp.BF16, fast.amp());
                assertTrue(fast.usesNativeDepthwise(), "the bfloat16 fast path keeps the fused kernel");
                Tensor y = fast.forward(x);
                assertEquals(ScalarType.Float.value, y.scalar_type().value);
                double d = deviation(ref, y);
                assertTrue(d > 0 && d <= BF16_TOL, "fast bf16 vs float32: " + d);
                Features f = fast.features(x);
                assertEquals(ScalarType.Float.value, f.map().scalar_type().value);
                assertTrue(deviation(y, f.logits()) == 0.0, "features() gives the same logits");
            }
            try (FastEfficientNet torchDw = FastEfficientNet.fuse(m, false)) {
                assertEquals(Amp.NONE, torchDw.amp());
            }
            Tensor p = AmpScope.forward(Amp.BF16, "cpu", m::forward, x);
            assertEquals(ScalarType.Float.value, p.scalar_type().value);
            double d = deviation(ref, p);
            assertTrue(d > 0 && d <= BF16_TOL, "plain bf16 autocast vs float32: " + d);
        }
    }

    @Test
    void float16IsRefusedOnTheCpu() {
        try (EfficientNet m = EfficientNetTest.seeded(EfficientNetTest.tiny(true))) {
            m.eval();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> FastEfficientNet.fuse(m, Amp.FP16));
            assertTrue(e.getMessage().contains("not supported on the CPU"), e.getMessage());
            try (FastEfficientNet f = FastEfficientNet.fuse(m, Amp.NONE)) {
                assertEquals(Amp.NONE, f.amp());
            }
        }
    }
}

package org.fixres4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bfloat16 depthwise forward through {@link Depthwise#forward}: every output is the float32 kernel's output on the
 * same (widened) inputs rounded once to bfloat16 (libtorch's float-to-bfloat16 conversion rounds to nearest even too;
 * no output here is subnormal, where the kernel's rule flushes to zero), the SE sums equal the float32 kernel's, the
 * output keeps the input's memory format, and mixed dtypes are refused; the input SiLU ({@code inputSilu}).
 */
class DepthwiseBf16Test {
    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
        torch.manual_seed(23);
    }

    @ParameterizedTest(name = "n{0} c{1} {2}x{2} k{3} s{4} nhwc={5}")
    @CsvSource({"2, 32, 28, 3, 1, true", "2, 40, 27, 5, 2, true", "1, 24, 13, 3, 2, false", "3, 20, 9, 5, 1, false"})
    void bf16IsTheRoundedFloatKernel(int n, int c, int hw, int k, int stride, boolean nhwc) {
        try (PointerScope scope = new PointerScope()) {
            MemoryFormat mf = nhwc ? MemoryFormat.ChannelsLast : MemoryFormat.Contiguous;
            Tensor xb = torch.randn(n, c, hw, hw).to(ScalarType.BFloat16).contiguous(mf);
            Tensor wb = torch.randn(c, 1, k, k).mul_(new org.bytedeco.pytorch.Scalar(0.3)).to(ScalarType.BFloat16)
                    .contiguous();
            Tensor bb = torch.randn(c).to(ScalarType.BFloat16).contiguous();
            Tensor xf = xb.to(ScalarType.Float).contiguous(mf);
            Tensor wf = wb.to(ScalarType.Float).contiguous();
            Tensor bf = bb.to(ScalarType.Float).contiguous();
            Depthwise.Pad pad = Depthwise.Pad.same(hw, hw, k, stride);
            Tensor sf = torch.empty(n, c);
            Tensor sb = torch.empty(n, c);
            Tensor yf = Depthwise.forward(xf, wf, bf, stride, pad, Depthwise.Activation.SILU, sf, 1);
            Tensor yb = Depthwise.forward(xb, wb, bb, stride, pad, Depthwise.Activation.SILU, sb, 2);
            assertEquals(ScalarType.BFloat16.value, yb.scalar_type().value);
            assertTrue(yb.is_contiguous(mf));
            Tensor rounded = yf.to(ScalarType.BFloat16).to(ScalarType.Float);
            assertEquals(0.0, yb.to(ScalarType.Float).sub(rounded).abs().max().item_double(), 0.0);
            assertEquals(0.0, sb.sub(sf).abs().max().item_double(), 0.0);
        }
    }

    /**
     * The input SiLU (the layer before's SiLU, applied as the kernel reads x): bfloat16 equals the float32 kernel with
     * the same flag, rounded; both are close to the plain kernel on libtorch's silu(x) (the AVX-512 input SiLU is
     * good to ~7e-5 relative); NCHW is refused.
     */
    @Test
    void inputSiluIsTheSiluOfTheLayerBefore() {
        try (PointerScope scope = new PointerScope()) {
            int n = 2;
            int c = 40;
            int hw = 17;
            Tensor xb = torch.randn(n, c, hw, hw).mul_(new org.bytedeco.pytorch.Scalar(3.0)).to(ScalarType.BFloat16)
                    .contiguous(MemoryFormat.ChannelsLast);
            Tensor wb = torch.randn(c, 1, 5, 5).mul_(new org.bytedeco.pytorch.Scalar(0.3)).to(ScalarType.BFloat16)
                    .contiguous();
            Tensor bb = torch.randn(c).to(ScalarType.BFloat16).contiguous();
            Tensor xf = xb.to(ScalarType.Float).contiguous(MemoryFormat.ChannelsLast);
            Tensor wf = wb.to(ScalarType.Float).contiguous();
            Tensor bf = bb.to(ScalarType.Float).contiguous();
            Depthwise.Pad pad = Depthwise.Pad.same(hw, hw, 5, 2);
            Tensor yf = Depthwise.forward(xf, wf, bf, 2, pad, Depthwise.Activation.SILU, true, null, 1);
            Tensor yb = Depthwise.forward(xb, wb, bb, 2, pad, Depthwise.Activation.SILU, true, null, 2);
            Tensor rounded = yf.to(ScalarType.BFloat16).to(ScalarType.Float);
            assertEquals(0.0, yb.to(ScalarType.Float).sub(rounded).abs().max().item_double(), 0.0);
            Tensor ref = Depthwise.forward(torch.silu(xf).contiguous(MemoryFormat.ChannelsLast), wf, bf, 2, pad,
                    Depthwise.Activation.SILU, null, 1);
            double scale = ref.abs().max().item_double();
            assertTrue(scale > 1.0);
            assertEquals(0.0, yf.sub(ref).abs().max().item_double(), 1e-3 * scale);
            Tensor xNchw = xb.contiguous();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Depthwise.forward(xNchw,
                    wb, bb, 1, Depthwise.Pad.symmetric(2), Depthwise.Activation.SILU, true, null, 1));
            assertTrue(e.getMessage().contains("channels-last"), e.getMessage());
        }
    }

    @Test
    void mixedDtypesAreRefused() {
        try (PointerScope scope = new PointerScope()) {
            Tensor xb = torch.randn(1, 16, 8, 8).to(ScalarType.BFloat16).contiguous(MemoryFormat.ChannelsLast);
            Tensor wf = torch.randn(16, 1, 3, 3);
            Tensor wb = wf.to(ScalarType.BFloat16);
            Depthwise.Pad pad = Depthwise.Pad.symmetric(1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Depthwise.forward(xb, wf, null, 1, pad, Depthwise.Activation.SILU, null, 1));
            assertTrue(e.getMessage().contains("w must be bfloat16"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Depthwise.forward(xb, wb, torch.zeros(16), 1, pad,
                    Depthwise.Activation.SILU, null, 1));
            assertTrue(e.getMessage().contains("bias must be bfloat16"), e.getMessage());
            Tensor sumsBf16 = torch.zeros(1, 16).to(ScalarType.BFloat16);
            e = assertThrows(IllegalArgumentException.class, () -> Depthwise.forward(xb, wb, null, 1, pad,
                    Depthwise.Activation.SILU, sumsBf16, 1));
            assertTrue(e.getMessage().contains("seSums must be float32"), e.getMessage());
            Tensor xh = torch.randn(1, 16, 8, 8).to(ScalarType.Half);
            e = assertThrows(IllegalArgumentException.class, () -> Depthwise.forward(xh, wb, null, 1, pad,
                    Depthwise.Activation.SILU, null, 1));
            assertTrue(e.getMessage().contains("x must be float32"), e.getMessage());
            // the backward stays float32
            assertThrows(IllegalArgumentException.class, () -> Depthwise.backward(xb, wb, xb, 1, pad, true, false,
                    false, 1));
        }
    }
}

package org.fixres4j.kernels;

import static org.fixres4j.TensorAsserts.relErr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The native depthwise kernels through Java on libtorch tensors, against libtorch's own {@code conv2d(groups=C)} +
 * bias + {@code silu} (forward, SE sums) and autograd (backward), NCHW and channels-last, TF-same and symmetric
 * padding, on EfficientNet depthwise shapes (reduced batch) and odd sizes.
 */
class DepthwiseTest {
    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
        torch.manual_seed(11);
    }

    private static Tensor reference(Tensor x, Tensor w, Tensor b, int stride, Depthwise.Pad p, boolean silu) {
        Tensor xp = torch.constant_pad_nd(x, p.left(), p.right(), p.top(), p.bottom());
        Tensor y = torch.conv2d(xp, w, b == null ? new TensorOptional() : new TensorOptional(b),
                new long[] {stride, stride}, new long[] {0, 0}, new long[] {1, 1}, w.size(0));
        return silu ? torch.silu(y) : y;
    }

    @ParameterizedTest(name = "n{0} c{1} {2}x{3} k{4} s{5} {6} {7}")
    @CsvSource({
        // EfficientNet-B0 depthwise layers (batch reduced), TF 'same' and symmetric, both layouts
        "2, 32, 112, 112, 3, 1, same, nchw", "2, 96, 112, 112, 3, 2, same, nhwc", "2, 144, 56, 56, 5, 2, same, nchw",
        "2, 240, 28, 28, 3, 2, sym, nhwc", "2, 480, 14, 14, 5, 1, sym, nchw", "2, 672, 14, 14, 5, 2, same, nhwc",
        "2, 1152, 7, 7, 3, 1, same, nchw", "1, 3840, 9, 9, 5, 1, same, nhwc",
        // odd sizes, kernel 7, tiny maps
        "3, 7, 13, 11, 7, 2, same, nchw", "1, 9, 5, 3, 3, 2, sym, nhwc", "2, 17, 1, 1, 3, 1, same, nchw"})
    void forwardMatchesLibtorch(int n, int c, int h, int w, int k, int stride, String pad, String layout) {
        try (PointerScope scope = new PointerScope()) {
            TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
            Tensor x = torch.randn(new long[] {n, c, h, w}, f32);
            if (layout.equals("nhwc")) {
                x = x.contiguous(MemoryFormat.ChannelsLast);
            }
            Tensor wt = torch.randn(new long[] {c, 1, k, k}, f32).mul_(new org.bytedeco.pytorch.Scalar(0.3));
            Tensor b = torch.randn(new long[] {c}, f32);
            Depthwise.Pad p = pad.equals("same") ? Depthwise.Pad.same(h, w, k, stride)
                    : Depthwise.Pad.symmetric(k / 2);
            Tensor se = torch.zeros(new long[] {n, c}, f32);
            Tensor y = Depthwise.forward(x, wt, b, stride, p, Depthwise.Activation.SILU, se, 2);
            Tensor want = reference(x, wt, b, stride, p, true);
            if (y.size(2) * y.size(3) > 1 && c > 1) { // a 1x1 map is both NCHW and channels-last
                assertEquals(layout.equals("nhwc"), !y.is_contiguous(), "output keeps the input's layout");
            }
            double e = relErr(y, want);
            assertTrue(e < 1e-5, "fused forward relative error " + e);
            double es = relErr(se, want.sum(new long[] {2, 3}, false, new org.bytedeco.pytorch.ScalarTypeOptional()));
            assertTrue(es < 1e-5, "SE sums relative error " + es);
            Tensor plain = Depthwise.forward(x, wt, null, stride, p, Depthwise.Activation.NONE, null, 1);
            double ep = relErr(plain, reference(x, wt, null, stride, p, false));
            assertTrue(ep < 1e-5, "plain forward relative error " + ep);
        }
    }

    @ParameterizedTest(name = "n{0} c{1} {2}x{3} k{4} s{5} {6}")
    @CsvSource({"2, 24, 20, 18, 3, 1, nchw", "2, 40, 21, 21, 5, 2, nhwc", "1, 16, 9, 12, 3, 2, nchw",
        "2, 8, 7, 7, 7, 1, nhwc"})
    void backwardMatchesAutograd(int n, int c, int h, int w, int k, int stride, String layout) {
        try (PointerScope scope = new PointerScope()) {
            TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
            Tensor x = torch.randn(new long[] {n, c, h, w}, f32);
            if (layout.equals("nhwc")) {
                x = x.contiguous(MemoryFormat.ChannelsLast);
            }
            Tensor wt = torch.randn(new long[] {c, 1, k, k}, f32);
            Tensor b = torch.randn(new long[] {c}, f32);
            Depthwise.Pad p = Depthwise.Pad.same(h, w, k, stride);
            Tensor xg = x.detach().clone().set_requires_grad(true);
            Tensor wg = wt.detach().clone().set_requires_grad(true);
            Tensor bg = b.detach().clone().set_requires_grad(true);
            Tensor out = reference(xg, wg, bg, stride, p, false);
            Tensor dy = torch.randn(out.sizes().vec().get(), f32);
            if (layout.equals("nhwc")) {
                dy = dy.contiguous(MemoryFormat.ChannelsLast);
            }
            out.mul(dy).sum().backward();
            Depthwise.Grads g = Depthwise.backward(x, wt, dy, stride, p, true, true, true, 2);
            assertTrue(relErr(g.input(), xg.grad()) < 1e-5, "dx " + relErr(g.input(), xg.grad()));
            assertTrue(relErr(g.weight(), wg.grad()) < 1e-5, "dw " + relErr(g.weight(), wg.grad()));
            assertTrue(relErr(g.bias(), bg.grad()) < 1e-5, "db " + relErr(g.bias(), bg.grad()));
            Depthwise.Grads onlyW = Depthwise.backward(x, wt, dy, stride, p, false, true, false, 1);
            assertEquals(null, onlyW.input());
            assertTrue(relErr(onlyW.weight(), wg.grad()) < 1e-5);
        }
    }

    @Test
    void badTensorsAreRefused() {
        try (PointerScope scope = new PointerScope()) {
            TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
            Tensor x = torch.randn(new long[] {1, 8, 10, 10}, f32);
            Tensor w = torch.randn(new long[] {8, 1, 3, 3}, f32);
            Depthwise.Pad p = Depthwise.Pad.symmetric(1);
            assertThrows(IllegalArgumentException.class, () -> Depthwise.forward(x, torch.randn(new long[] {4, 1, 3, 3},
                    f32), null, 1, p, Depthwise.Activation.NONE, null, 1));
            assertThrows(IllegalArgumentException.class, () -> Depthwise.forward(x.to(torch.ScalarType.Half), w, null,
                    1, p, Depthwise.Activation.NONE, null, 1));
            assertThrows(IllegalArgumentException.class, () -> Depthwise.forward(x, w, null, 3, p,
                    Depthwise.Activation.NONE, null, 1));
            assertThrows(IllegalArgumentException.class, () -> Depthwise.forward(x, w, null, 1,
                    new Depthwise.Pad(0, 0, 5, 0), Depthwise.Activation.NONE, null, 1));
            assertThrows(IllegalArgumentException.class, () -> Depthwise.forward(x.narrow(3, 0, 5), w, null, 1, p,
                    Depthwise.Activation.NONE, null, 1));
            assertThrows(IllegalArgumentException.class, () -> Depthwise.forward(x, w, null, 1, p,
                    Depthwise.Activation.NONE, torch.zeros(new long[] {1, 7}, f32), 1));
            assertThrows(IllegalArgumentException.class, () -> Depthwise.backward(x, w,
                    torch.randn(new long[] {1, 8, 9, 9}, f32), 1, p, true, false, false, 1));
            assertThrows(IllegalArgumentException.class, () -> Depthwise.forward(x, w, null, 1, p,
                    Depthwise.Activation.NONE, null, 0));
        }
    }
    /**
     * With libtorch loaded, the kernels run on its OpenMP team by default; the pool can be chosen instead; every
     * choice and thread count gives bitwise the same output and SE sums (forward and backward).
     */
    @Test
    void threadsRunOnLibtorchsOpenMpWithTheSameResult() {
        assertEquals(Depthwise.Threading.OPENMP, Depthwise.threading(), "libtorch's libgomp is loaded");
        try (PointerScope scope = new PointerScope()) {
            TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
            Tensor x = torch.randn(new long[] {3, 96, 28, 28}, f32).contiguous(MemoryFormat.ChannelsLast);
            Tensor w = torch.randn(new long[] {96, 1, 5, 5}, f32);
            Tensor b = torch.randn(new long[] {96}, f32);
            Tensor dy = torch.randn(new long[] {3, 96, 14, 14}, f32).contiguous(MemoryFormat.ChannelsLast);
            Depthwise.Pad p = Depthwise.Pad.same(28, 28, 5, 2);
            Tensor se1 = torch.zeros(new long[] {3, 96}, f32);
            Tensor y1 = Depthwise.forward(x, w, b, 2, p, Depthwise.Activation.SILU, se1, 1);
            Depthwise.Grads g1 = Depthwise.backward(x, w, dy, 2, p, true, true, true, 1);
            try {
                for (Depthwise.Threading t : Depthwise.Threading.values()) {
                    Depthwise.setThreading(t);
                    assertEquals(t == Depthwise.Threading.POOL ? Depthwise.Threading.POOL : Depthwise.Threading.OPENMP,
                            Depthwise.threading());
                    for (int threads : new int[] {2, 3, 16}) {
                        Tensor se = torch.zeros(new long[] {3, 96}, f32);
                        Tensor y = Depthwise.forward(x, w, b, 2, p, Depthwise.Activation.SILU, se, threads);
                        assertTrue(torch.equal(y, y1) && torch.equal(se, se1), t + ", " + threads + " threads");
                        Depthwise.Grads g = Depthwise.backward(x, w, dy, 2, p, true, true, true, threads);
                        assertTrue(torch.equal(g.input(), g1.input()) && torch.equal(g.weight(), g1.weight())
                                && torch.equal(g.bias(), g1.bias()), "backward, " + t + ", " + threads + " threads");
                    }
                }
            } finally {
                Depthwise.setThreading(Depthwise.Threading.AUTO);
            }
        }
    }
}

package org.fixres4j.kernels;

import static org.fixres4j.TensorAsserts.relErr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.fixres4j.torch.Torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link DepthwiseAutograd}: gradients through the native backward equal libtorch autograd through
 * {@code conv2d(groups = C)} (with {@code constant_pad_nd} for the explicit pad), in both layouts and paddings; partial
 * requires-grad, grad mode off, two uses in one graph, {@code retain_graph}, and the state's lifetime (scopes, GC).
 */
class DepthwiseAutogradTest {
    static final TensorOptions F32 = new TensorOptions(torch.ScalarType.Float);

    @BeforeAll
    static void load() {
        Torch.ensureLoaded();
        torch.manual_seed(23);
    }

    static void assertClose(Tensor got, Tensor want, double tol, String what) {
        assertTrue(got.defined(), what + " is undefined");
        assertEquals(java.util.Arrays.toString(want.sizes().vec().get()),
                java.util.Arrays.toString(got.sizes().vec().get()), what + " shape");
        double e = relErr(got, want);
        assertTrue(e < tol, what + " relative error " + e);
    }

    /** libtorch's own depthwise convolution with the same explicit padding. */
    static Tensor reference(Tensor x, Tensor w, int stride, Depthwise.Pad p) {
        Tensor xp = torch.constant_pad_nd(x, p.left(), p.right(), p.top(), p.bottom());
        return torch.conv2d(xp, w, new TensorOptional(), new long[] {stride, stride}, new long[] {0, 0},
                new long[] {1, 1}, w.size(0));
    }

    static Tensor randn(long... shape) {
        return torch.randn(shape, F32);
    }

    static Tensor leaf(Tensor t, boolean grad) {
        return t.detach().clone().set_requires_grad(grad);
    }

    /** {@code sum(y * r)}: a loss whose dL/dy is r. */
    static Tensor loss(Tensor y, Tensor r) {
        return y.mul(r).sum();
    }

    @ParameterizedTest(name = "n{0} c{1} {2}x{3} k{4} s{5} {6} {7}")
    @CsvSource({"2, 16, 14, 14, 3, 1, same, nchw", "2, 16, 15, 13, 3, 2, same, nchw", "2, 24, 14, 14, 5, 1, same, nhwc",
        "2, 24, 17, 16, 5, 2, same, nhwc", "2, 16, 14, 14, 3, 1, sym, nhwc", "2, 16, 15, 13, 3, 2, sym, nhwc",
        "1, 32, 12, 12, 5, 1, sym, nchw", "3, 8, 11, 12, 5, 2, sym, nchw", "2, 40, 8, 8, 3, 2, same, nhwc"})
    void gradientsMatchLibtorchAutograd(int n, int c, int h, int w, int k, int stride, String pad, String layout) {
        try (PointerScope scope = new PointerScope()) {
            Tensor x0 = randn(n, c, h, w);
            if (layout.equals("nhwc")) {
                x0 = x0.contiguous(MemoryFormat.ChannelsLast);
            }
            Tensor w0 = randn(c, 1, k, k).mul(new Scalar(0.3));
            Depthwise.Pad p = pad.equals("same") ? Depthwise.Pad.same(h, w, k, stride)
                    : Depthwise.Pad.symmetric(k / 2);
            Tensor xr = leaf(x0, true);
            Tensor wr = leaf(w0, true);
            Tensor want = reference(xr, wr, stride, p);
            Tensor r = randn(want.sizes().vec().get());
            loss(want, r).backward();

            Tensor xg = leaf(x0, true);
            if (layout.equals("nhwc")) {
                xg = leaf(x0, false).contiguous(MemoryFormat.ChannelsLast).set_requires_grad(true);
            }
            Tensor wg = leaf(w0, true);
            Tensor y = DepthwiseAutograd.conv(xg, wg, stride, p);
            assertTrue(y.requires_grad());
            String node = y.grad_fn().name().getString();
            assertFalse(node.contains("Convolution"), "no libtorch convolution in the graph: " + node);
            if (layout.equals("nhwc")) {
                assertTrue(y.is_contiguous(MemoryFormat.ChannelsLast), "output keeps the channels-last layout");
            }
            assertClose(y, want, 1e-5, "forward");
            loss(y, r).backward();
            assertClose(xg.grad(), xr.grad(), 1e-5, "dx");
            assertClose(wg.grad(), wr.grad(), 1e-5, "dw");
        }
        assertEquals(0, DepthwiseAutograd.pending(), "the scope released the call");
    }

    @Test
    void onlyTheInputsThatRequireGradGetOne() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x0 = randn(2, 12, 9, 10);
            Tensor w0 = randn(12, 1, 3, 3);
            Depthwise.Pad p = Depthwise.Pad.same(9, 10, 3, 2);
            Tensor r = randn(2, 12, 5, 5);
            for (boolean gradX : new boolean[] {true, false}) {
                Tensor xr = leaf(x0, gradX);
                Tensor wr = leaf(w0, !gradX);
                loss(reference(xr, wr, 2, p), r).backward();
                Tensor xg = leaf(x0, gradX);
                Tensor wg = leaf(w0, !gradX);
                Tensor y = DepthwiseAutograd.conv(xg, wg, 2, p);
                assertTrue(y.requires_grad());
                loss(y, r).backward();
                if (gradX) {
                    assertClose(xg.grad(), xr.grad(), 1e-5, "dx only");
                    assertFalse(wg.grad().defined(), "w does not require grad");
                } else {
                    assertClose(wg.grad(), wr.grad(), 1e-5, "dw only");
                    assertFalse(xg.grad().defined(), "x does not require grad");
                }
            }
        }
        assertEquals(0, DepthwiseAutograd.pending());
    }

    @Test
    void withoutGradItIsThePlainNativeForward() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = randn(2, 8, 10, 10).set_requires_grad(true);
            Tensor w = randn(8, 1, 5, 5).set_requires_grad(true);
            Depthwise.Pad p = Depthwise.Pad.symmetric(2);
            Tensor want;
            try (NoGradGuard g = new NoGradGuard()) {
                want = reference(x, w, 1, p);
                Tensor y = DepthwiseAutograd.conv(x, w, 1, p);
                assertFalse(y.requires_grad());
                assertClose(y, want, 1e-5, "grad mode off");
            }
            assertEquals(0, DepthwiseAutograd.pending(), "nothing registered with grad mode off");
            Tensor y = DepthwiseAutograd.conv(x.detach(), w.detach(), 1, p);
            assertFalse(y.requires_grad());
            assertClose(y, want, 1e-5, "nothing requires grad");
            assertEquals(0, DepthwiseAutograd.pending(), "nothing registered when nothing requires grad");
        }
    }

    @Test
    void twoUsesInOneGraph() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x0 = randn(2, 16, 12, 12).contiguous(MemoryFormat.ChannelsLast);
            Tensor a0 = randn(16, 1, 3, 3);
            Tensor b0 = randn(16, 1, 5, 5);
            Depthwise.Pad pa = Depthwise.Pad.same(12, 12, 3, 2);
            Depthwise.Pad pb = Depthwise.Pad.symmetric(2);
            // x feeds two convolutions, and one of them feeds a third with another weight
            Tensor[] ref = {leaf(x0, true), leaf(a0, true), leaf(b0, true)};
            Tensor[] nat = {leaf(x0, false).contiguous(MemoryFormat.ChannelsLast).set_requires_grad(true),
                leaf(a0, true), leaf(b0, true)};
            Tensor r = randn(2, 16, 6, 6);
            Tensor wantA = reference(ref[0], ref[1], 2, pa);
            Tensor want = reference(wantA, ref[2], 1, pb).add(reference(ref[0], ref[2], 2, pb));
            loss(want, r).backward();
            Tensor gotA = DepthwiseAutograd.conv(nat[0], nat[1], 2, pa);
            Tensor got = DepthwiseAutograd.conv(gotA, nat[2], 1, pb).add(DepthwiseAutograd.conv(nat[0], nat[2], 2, pb));
            assertEquals(3, DepthwiseAutograd.pending());
            assertClose(got, want, 1e-5, "forward");
            loss(got, r).backward();
            assertClose(nat[0].grad(), ref[0].grad(), 1e-5, "dx");
            assertClose(nat[1].grad(), ref[1].grad(), 1e-5, "dw of the first");
            assertClose(nat[2].grad(), ref[2].grad(), 1e-5, "dw shared by two calls");
        }
        assertEquals(0, DepthwiseAutograd.pending());
    }

    @Test
    void retainGraphAllowsASecondBackwardInsideTheScope() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = randn(1, 8, 9, 9).set_requires_grad(true);
            Tensor w = randn(8, 1, 3, 3).set_requires_grad(true);
            Depthwise.Pad p = Depthwise.Pad.symmetric(1);
            Tensor r = randn(1, 8, 9, 9);
            Tensor l = loss(DepthwiseAutograd.conv(x, w, 1, p), r);
            l.backward(new Tensor(), new BoolOptional(true), false, new TensorArrayRefOptional());
            Tensor dx1 = x.grad().clone();
            Tensor dw1 = w.grad().clone();
            l.backward();
            assertClose(x.grad(), dx1.mul(new Scalar(2.0)), 1e-6, "dx accumulated twice");
            assertClose(w.grad(), dw1.mul(new Scalar(2.0)), 1e-6, "dw accumulated twice");
            assertEquals(1, DepthwiseAutograd.pending(), "held by the scope until it closes");
        }
        assertEquals(0, DepthwiseAutograd.pending());
    }

    @Test
    void withoutAScopeTheStateGoesAfterBackward() {
        int before = DepthwiseAutograd.pending();
        Tensor x = randn(1, 4, 6, 6).set_requires_grad(true);
        Tensor w = randn(4, 1, 3, 3).set_requires_grad(true);
        Tensor l = DepthwiseAutograd.conv(x, w, 1, Depthwise.Pad.symmetric(1)).sum();
        assertEquals(before + 1, DepthwiseAutograd.pending());
        l.backward(new Tensor(), new BoolOptional(true), false, new TensorArrayRefOptional());
        assertEquals(before, DepthwiseAutograd.pending(), "released once both gradients were delivered");
        assertTrue(x.grad().defined() && w.grad().defined());
        // a second backward without a scope is refused, not a crash
        RuntimeException e = assertThrows(RuntimeException.class, l::backward);
        assertTrue(String.valueOf(e.getMessage()).contains("DepthwiseAutograd"), e.getMessage());
    }

    @Test
    void manyStepsInScopesWithGcBetweenForwardAndBackward() {
        Tensor w = randn(24, 1, 5, 5).mul(new Scalar(0.2)).set_requires_grad(true);
        Depthwise.Pad p = Depthwise.Pad.same(10, 10, 5, 2);
        Tensor wRef = leaf(w, true);
        Tensor x0 = randn(2, 24, 10, 10);
        for (int i = 0; i < 200; i++) {
            try (PointerScope scope = new PointerScope()) {
                Tensor x = leaf(x0, true);
                Tensor y = DepthwiseAutograd.conv(x, w, 2, p);
                Tensor l = DepthwiseAutograd.conv(y, w, 1, Depthwise.Pad.symmetric(2)).sum();
                System.gc(); // the hook objects are reachable only through the registry now
                l.backward();
                assertEquals(2, DepthwiseAutograd.pending());
                if (i == 0) {
                    Tensor xr = leaf(x0, true);
                    reference(reference(xr, wRef, 2, p), wRef, 1, Depthwise.Pad.symmetric(2)).sum().backward();
                    assertClose(x.grad(), xr.grad(), 1e-5, "dx after a GC");
                    assertClose(w.grad(), wRef.grad(), 1e-5, "dw after a GC");
                }
            }
            assertEquals(0, DepthwiseAutograd.pending(), "iteration " + i);
        }
    }

    @Test
    void unsupportedInputsAreRefused() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = randn(1, 8, 10, 10).set_requires_grad(true);
            Tensor w = randn(8, 1, 3, 3).set_requires_grad(true);
            Depthwise.Pad p = Depthwise.Pad.symmetric(1);
            assertThrows(IllegalArgumentException.class, () -> DepthwiseAutograd.conv(x.to(torch.ScalarType.Double), w,
                    1, p));
            assertThrows(IllegalArgumentException.class, () -> DepthwiseAutograd.conv(x, w.to(torch.ScalarType.Half),
                    1, p));
            assertThrows(IllegalArgumentException.class, () -> DepthwiseAutograd.conv(x.view(new long[] {8, 10, 10}),
                    w, 1, p));
            assertThrows(IllegalArgumentException.class, () -> DepthwiseAutograd.conv(x, randn(4, 1, 3, 3), 1, p));
            assertThrows(IllegalArgumentException.class, () -> DepthwiseAutograd.conv(x, w, 1, null));
            assertThrows(IllegalArgumentException.class, () -> DepthwiseAutograd.conv(new Tensor(), w, 1, p));
            assertEquals(0, DepthwiseAutograd.pending(), "a refused call leaves nothing behind");
        }
    }
}

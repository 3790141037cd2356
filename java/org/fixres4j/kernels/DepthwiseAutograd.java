package org.fixres4j.kernels;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorTensorHook;
import org.bytedeco.pytorch.VoidTensorHook;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.fixres4j.torch.Torch;

/**
 * The plain depthwise convolution {@code conv(x, w)} (no bias, no activation) as a libtorch autograd operation whose
 * backward is the native kernel ({@link Depthwise#backward}), not libtorch's convolution backward.
 *
 * <p><b>How.</b> {@code torch::autograd::Function} is not mapped by the JavaCPP preset, so the operation is made of
 * tensor hooks: the output is computed natively under a {@link NoGradGuard}; for each input that requires grad a
 * carrier view ({@code xc = x.view_as(x)}, {@code wc = w.view_as(w)}) is tied to the output by adding
 * {@code xc.narrow(0, 0, 0).sum() + wc.narrow(0, 0, 0).sum()} (an exact zero) in place. A hook on the output receives
 * dL/dy and runs the native backward once; hooks on the carriers replace the (zero) gradients that reach them with
 * dx and dw. Only first-order gradients: {@code create_graph} gives no graph through dx, dw.
 *
 * <p><b>Lifetime: what a caller must know.</b> libtorch holds the hooks by pointer into Java objects, so each call's
 * state (hooks, detached input and weight, pending gradients) is kept in a registry ({@link #pending()} counts it)
 * until it is no longer needed:
 * <ul>
 *   <li>Inside a {@link PointerScope} (the normal case: one scope per training step), the state is leased to that
 *       scope (by default the innermost one at the call; {@link #conv(Tensor, Tensor, int, Depthwise.Pad,
 *       PointerScope)} names another) and released when the scope closes, whether or not backward ran. Backward must
 *       therefore run before the scope closes; a second backward through the same graph ({@code retain_graph}) works
 *       while the scope is open.</li>
 *   <li>Without a scope, the state is released when the first backward has delivered both gradients. A second
 *       backward through the same graph then fails with an exception (and must not be attempted), and a graph whose
 *       backward never runs keeps its state (the saved input!) for the life of the JVM: use a scope.</li>
 * </ul>
 * Backpropagating through a graph after its state was released is an error (an exception naming this class when the
 * hook objects are still there; libtorch's graph keeps only raw references to them).
 *
 * <p>When grad mode is off, or neither input requires grad, {@link #conv} is the plain native forward. Inputs are as
 * for {@link Depthwise#forward}: float32 CPU {@code [N, C, H, W]} and {@code [C, 1, k, k]}, or CUDA tensors of one
 * device (float32, float16 or bfloat16; the native forward and backward then run on libtorch's current stream, and
 * {@code threads} is unused); other strides are made
 * contiguous (channels-last when that is {@code x}'s suggested format); anything else is an
 * {@link IllegalArgumentException}. The output has {@code x}'s memory format and belongs to the caller's innermost
 * scope. Thread-safe: the native calls use {@code torch.get_num_threads()} threads.
 */
public final class DepthwiseAutograd {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    private static final Set<Call> REGISTRY = ConcurrentHashMap.newKeySet();

    private DepthwiseAutograd() {}

    /** {@code conv(x, w)} with the native backward, its state leased to the innermost scope (if any). */
    public static Tensor conv(Tensor x, Tensor w, int stride, Depthwise.Pad pad) {
        Torch.ensureLoaded();
        return conv(x, w, stride, pad, PointerScope.getInnerScope());
    }

    /**
     * {@code conv(x, w)} with the native backward; the state of this call is leased to {@code leaseScope} (null: no
     * lease, see the class comment). A model whose layers run in scopes of their own passes its caller's scope here.
     */
    public static Tensor conv(Tensor x, Tensor w, int stride, Depthwise.Pad pad, PointerScope leaseScope) {
        Torch.ensureLoaded();
        if (x == null || w == null || pad == null || x.isNull() || w.isNull() || !x.defined() || !w.defined()) {
            throw new IllegalArgumentException("depthwise: x, w and pad must be defined");
        }
        boolean needX = GradMode.is_enabled() && x.requires_grad();
        boolean needW = GradMode.is_enabled() && w.requires_grad();
        int threads = Math.max(1, torch.get_num_threads());
        Tensor out;
        try (PointerScope local = new PointerScope()) {
            Tensor xs;
            Tensor ws;
            try (NoGradGuard g = new NoGradGuard()) {
                xs = inLayout(x.detach());
                ws = w.detach().contiguous();
                out = Depthwise.forward(xs, ws, null, stride, pad, Depthwise.Activation.NONE, null, threads);
            }
            if (needX || needW) {
                Call call = new Call(xs, ws, stride, pad, needX, needW, threads);
                Tensor tie = null;
                if (needX) {
                    Tensor xc = x.view_as(x);
                    xc.register_hook(call.xHook);
                    tie = xc.narrow(0, 0, 0).sum();
                }
                if (needW) {
                    Tensor wc = w.view_as(w);
                    wc.register_hook(call.wHook);
                    Tensor s = wc.narrow(0, 0, 0).sum();
                    tie = tie == null ? s : tie.add(s);
                }
                out.add_(tie); // an exact zero that makes out a node of the graph; the returned handle is unused
                out.register_hook(call.yHook);
                call.open(leaseScope);
            }
            out.retainReference();
        }
        return adopt(out);
    }

    /** Calls whose state is still held (forwards awaiting backward, or leased to an open scope). */
    public static int pending() {
        return REGISTRY.size();
    }

    /** x detached and contiguous in its own layout: channels-last if it is (or suggests) that, else NCHW. */
    private static Tensor inLayout(Tensor x) {
        if (x.dim() == 4 && !x.is_contiguous()
                && (x.is_contiguous(MemoryFormat.ChannelsLast)
                || x.suggest_memory_format().value == MemoryFormat.ChannelsLast.value)) {
            return x.contiguous(MemoryFormat.ChannelsLast);
        }
        return x.contiguous();
    }

    /** Moves a retained reference to the caller's innermost scope (or leaves it to the GC without one). */
    private static Tensor adopt(Tensor t) {
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(t);
            t.releaseReference();
        }
        return t;
    }

    /** One call's state: the saved (detached) input and weight, the hook objects and the gradients in flight. */
    private static final class Call {
        static { org.fixres4j.torch.Torch.ensureLoaded(); }
        final Tensor x;
        final Tensor w;
        final int stride;
        final Depthwise.Pad pad;
        final boolean needX;
        final boolean needW;
        final int threads;
        final VoidTensorHook yHook;
        final TensorTensorHook xHook;
        final TensorTensorHook wHook;
        Tensor dx;
        Tensor dw;
        boolean xDelivered;
        boolean wDelivered;
        boolean leased;
        boolean released;

        Call(Tensor x, Tensor w, int stride, Depthwise.Pad pad, boolean needX, boolean needW, int threads) {
            this.x = x.retainReference();
            this.w = w.retainReference();
            this.stride = stride;
            this.pad = pad;
            this.needX = needX;
            this.needW = needW;
            this.threads = threads;
            // The hook objects are never deallocated explicitly (a scope closing must not free what libtorch's graph
            // points to): one extra reference, dropped only by the GC once the Call is unreachable.
            yHook = new VoidTensorHook() {
                @Override
                public void call(TensorBase grad) {
                    backward(grad);
                }
            }.retainReference();
            xHook = needX ? new TensorTensorHook() {
                @Override
                public TensorBase call(TensorBase ignored) {
                    return deliver(true);
                }
            }.retainReference() : null;
            wHook = needW ? new TensorTensorHook() {
                @Override
                public TensorBase call(TensorBase ignored) {
                    return deliver(false);
                }
            }.retainReference() : null;
        }

        /** Registers the call, and leases it to {@code scope} when there is one that takes it. */
        void open(PointerScope scope) {
            REGISTRY.add(this);
            if (scope == null) {
                return;
            }
            Call[] target = {this};
            Lease lease = new Lease(target).retainReference(); // attached to the local scope of conv(): one more
            try {
                scope.attach(lease);
                synchronized (this) {
                    leased = true;
                }
            } catch (IllegalArgumentException refused) { // a scope restricted to other classes: no lease after all
                target[0] = null;
            }
            lease.releaseReference(); // now held by the lease scope only (once conv()'s local scope has closed)
        }

        /** The output hook: dL/dy arrived, run the native backward once for both gradients. */
        synchronized void backward(TensorBase grad) {
            if (released) {
                throw new IllegalStateException("DepthwiseAutograd: backward through a depthwise convolution whose "
                        + "state was released (its PointerScope closed, or a second backward without a scope)");
            }
            try (PointerScope local = new PointerScope()) {
                boolean nhwc = !x.is_contiguous() && x.is_contiguous(MemoryFormat.ChannelsLast);
                Tensor dy = new Tensor(grad).contiguous(nhwc ? MemoryFormat.ChannelsLast : MemoryFormat.Contiguous);
                Depthwise.Grads g = Depthwise.backward(x, w, dy, stride, pad, needX, needW, false, threads);
                if (needX) {
                    replace(true, g.input().retainReference());
                }
                if (needW) {
                    replace(false, g.weight().retainReference());
                }
            }
        }

        private void replace(boolean input, Tensor g) {
            Tensor old = input ? dx : dw;
            if (old != null) { // an earlier backward that did not reach this carrier
                old.releaseReference();
            }
            if (input) {
                dx = g;
            } else {
                dw = g;
            }
        }

        /** A carrier hook: hand over the gradient computed by {@link #backward}. */
        TensorBase deliver(boolean input) {
            Tensor g;
            synchronized (this) {
                g = input ? dx : dw;
                if (g == null) {
                    throw new IllegalStateException("DepthwiseAutograd: the " + (input ? "input" : "weight")
                            + " gradient reached its carrier before the output's (or after the state was released)");
                }
                if (input) {
                    dx = null;
                    xDelivered = true;
                } else {
                    dw = null;
                    wDelivered = true;
                }
                if (!leased && (!needX || xDelivered) && (!needW || wDelivered)) {
                    release();
                }
            }
            // libtorch copies the returned tensor after this returns: it must outlive the call, so it goes to the
            // caller's scope (the one around backward), or to the GC
            return adopt(g);
        }

        /** Frees the saved tensors and pending gradients and leaves the registry (idempotent). */
        synchronized void release() {
            if (released) {
                return;
            }
            released = true;
            x.releaseReference();
            w.releaseReference();
            if (dx != null) {
                dx.releaseReference();
                dx = null;
            }
            if (dw != null) {
                dw.releaseReference();
                dw = null;
            }
            REGISTRY.remove(this);
        }
    }

    /** A pointer without memory whose deallocation (its scope closing) releases a call. */
    private static final class Lease extends Pointer {
        Lease(Call[] target) {
            super((Pointer) null);
            deallocator(() -> {
                Call c = target[0];
                target[0] = null;
                if (c != null) {
                    c.release();
                }
            });
        }
    }
}

package org.fixres4j.model;

import java.util.function.Supplier;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * PointerScope plumbing. libtorch memory is invisible to the GC, so every forward step runs in its own scope and only
 * its result escapes: {@link #run} retains the result, closes the scope (freeing the intermediates at once, which also
 * lets the allocator reuse warm memory), and hands the result to the caller's scope, if there is one. Without an
 * enclosing scope the result is freed by the GC (or by {@code close()}).
 */
final class Scopes {
    private Scopes() {}

    /** Runs {@code body} in a fresh scope; its result survives the scope and joins the enclosing one. */
    static Tensor run(Supplier<Tensor> body) {
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            out = body.get();
            out.retainReference();
        }
        return adopt(out);
    }

    /** Moves one retained reference of {@code p} to the innermost open scope (keeps it if there is none). */
    static <P extends Pointer> P adopt(P p) {
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(p);
            p.releaseReference();
        }
        return p;
    }

    /**
     * Keeps a long-lived object (a module, a parameter) alive whatever scope it was made in: a surrounding scope's
     * close then only drops its own reference. The GC still frees it once unreachable.
     */
    static <P extends Pointer> P keep(P p) {
        p.retainReference();
        return p;
    }
}

package org.fixres4j.dist;

import org.bytedeco.pytorch.Tensor;

/**
 * A world of one process: every reduction leaves its tensor as it is, broadcast from rank 0 is a no-op, a gather
 * holds the caller's tensor only. It checks its arguments like {@link GlooCollective}, so a single-process run
 * catches what a distributed one would reject.
 */
public final class LocalCollective extends AbstractCollective {
    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int worldSize() {
        return 1;
    }

    @Override
    public void allReduce(Tensor t, Op op) {
        check(t, "allreduce " + op);
        if (op == Op.AVG && !t.is_floating_point()) {
            throw new IllegalArgumentException("allreduce AVG needs a floating-point tensor");
        }
    }

    @Override
    public void broadcast(Tensor t, int root) {
        checkRoot(root);
        check(t, "broadcast");
    }

    @Override
    public Tensor allGather(Tensor t) {
        check(t, "allgather");
        return t.unsqueeze(0).clone();
    }

    @Override
    public void barrier() {
    }

    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "LocalCollective(rank 0/1)";
    }
}

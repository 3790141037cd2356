package org.fixres4j.dist;

import org.bytedeco.pytorch.Tensor;

/**
 * The collective operations a data-parallel job needs, hiding the process group. Every rank calls the same
 * operations in the same order with tensors of the same shape and dtype (dense, contiguous, on the CPU for Gloo);
 * operations run in place unless they return a tensor. Calls are serialised: use one thread per collective.
 *
 * <p>A failure (a peer died, a timeout) throws {@link CollectiveException} naming the operation and, when it is
 * known, the peer; the group is unusable afterwards and every later call throws at once. {@link #close()} is safe to
 * call any number of times.
 */
public interface Collective extends AutoCloseable {

    /** Reductions. AVG is SUM divided by the world size. */
    enum Op { SUM, AVG, MIN, MAX }

    /** This process's rank, 0 .. worldSize-1. */
    int rank();

    /** The number of processes. */
    int worldSize();

    /** Whether this is rank 0 (the one that writes reports). */
    default boolean isMain() {
        return rank() == 0;
    }

    /** Reduces {@code t} across ranks into every rank's {@code t}. */
    void allReduce(Tensor t, Op op);

    /** In-place sum across ranks. */
    default void allReduceSum(Tensor t) {
        allReduce(t, Op.SUM);
    }

    /** In-place mean across ranks (floating-point tensors). */
    default void allReduceAvg(Tensor t) {
        allReduce(t, Op.AVG);
    }

    /** Copies {@code root}'s {@code t} into every rank's {@code t}. */
    void broadcast(Tensor t, int root);

    /** Every rank's {@code t}, stacked: shape [worldSize, *t.shape], row r from rank r (a new tensor). */
    Tensor allGather(Tensor t);

    /** Returns once every rank has called it. */
    void barrier();

    /** Element-wise sum of every rank's {@code values} (int64, exact): counts of samples, of correct answers. */
    long[] allReduceSum(long[] values);

    /** Element-wise sum of every rank's {@code values} (float64). */
    double[] allReduceSum(double[] values);

    /** Every rank's {@code values} (same length on every rank): row r from rank r. */
    long[][] allGather(long[] values);

    /** Leaves the group (idempotent; never blocks on peers). */
    @Override
    void close();

    /** Joins the group {@code config} describes: a {@link LocalCollective} for one process, else Gloo over TCP. */
    static Collective connect(DistConfig config) {
        return config.distributed() ? GlooCollective.connect(config) : new LocalCollective();
    }
}

package org.fixres4j.dist;

import java.util.ArrayList;
import java.util.List;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * Data-parallel gradient averaging, the part of PyTorch's DistributedDataParallel that Java lacks: after each rank's
 * {@code backward()}, {@link #allReduceAvg(List)} replaces every gradient by the mean over the ranks, in buckets of
 * about 25 MB (flatten, one allreduce per bucket, copy back). With the same initial weights (see
 * {@link StateSync#broadcast}) and the same optimizer, every rank then takes the same step.
 *
 * <p>The first call, and any call whose list changes, checks that every rank passes the same dtypes and shapes.
 * A world of one returns at once. The flat buffers are kept between calls (one allocation, not one a step);
 * {@link #close()} frees them.
 */
public final class GradientAllReducer implements AutoCloseable {
    /** PyTorch DDP's default bucket size ({@code bucket_cap_mb=25}). */
    public static final long DEFAULT_BUCKET_BYTES = 25L * 1024 * 1024;

    private final Collective collective;
    private final long bucketBytes;
    private long checkedFingerprint;
    private int checkedCount = -1;
    private List<Buckets.Bucket> plan;
    private Tensor[] buffers;

    public GradientAllReducer(Collective collective) {
        this(collective, DEFAULT_BUCKET_BYTES);
    }

    public GradientAllReducer(Collective collective, long bucketBytes) {
        if (collective == null) {
            throw new IllegalArgumentException("collective is null");
        }
        if (bucketBytes < 1) {
            throw new IllegalArgumentException("bucket size must be positive, got " + bucketBytes);
        }
        this.collective = collective;
        this.bucketBytes = bucketBytes;
    }

    /**
     * Averages {@code gradients} over the ranks, in place. Every rank passes the same list (same order, dtypes,
     * shapes): gradients of float or double parameters.
     *
     * @return the number of buckets (allreduce calls) used
     */
    public int allReduceAvg(List<Tensor> gradients) {
        if (collective.worldSize() == 1) {
            return 0;
        }
        for (int i = 0; i < gradients.size(); i++) {
            Tensor g = gradients.get(i);
            if (g != null && g.defined() && !g.is_floating_point()) {
                throw new IllegalArgumentException("gradient " + i + " is not floating-point");
            }
        }
        long fp = Buckets.fingerprint(null, checkDefined(gradients));
        if (plan == null || fp != checkedFingerprint || gradients.size() != checkedCount) {
            Buckets.checkSameLayout(collective, "gradients", null, gradients);
            plan = Buckets.plan(gradients, bucketBytes);
            releaseBuffers();
            buffers = new Tensor[plan.size()];
            checkedFingerprint = fp;
            checkedCount = gradients.size();
        }
        Buckets.apply(gradients, plan, buffers, collective::allReduceAvg);
        return plan.size();
    }

    /** Frees the flat buffers kept between calls (the next call allocates them again). */
    @Override
    public void close() {
        releaseBuffers();
    }

    private void releaseBuffers() {
        if (buffers != null) {
            for (int i = 0; i < buffers.length; i++) {
                if (buffers[i] != null) {
                    buffers[i].releaseReference();
                    buffers[i] = null;
                }
            }
        }
    }

    /** The bucket layout of the last call (element counts per bucket), for logs and tests. */
    public long[] bucketSizes() {
        return plan == null ? new long[0] : plan.stream().mapToLong(Buckets.Bucket::numel).toArray();
    }

    /**
     * The gradients of the parameters that require one (what {@code module.parameters()} gives, after
     * {@code backward()}). A trainable parameter without a gradient (unused in the forward pass) is an error: every
     * rank must reduce the same list.
     */
    public static List<Tensor> gradients(TensorVector parameters) {
        List<Tensor> out = new ArrayList<>();
        for (long i = 0; i < parameters.size(); i++) {
            Tensor p = parameters.get(i);
            if (!p.requires_grad()) {
                continue;
            }
            Tensor g = p.grad();
            if (g == null || !g.defined()) {
                throw new IllegalStateException("parameter " + i + " requires a gradient but has none "
                        + "(unused in the forward pass, or backward() not run)");
            }
            out.add(g);
        }
        return out;
    }

    private static List<Tensor> checkDefined(List<Tensor> ts) {
        for (int i = 0; i < ts.size(); i++) {
            if (ts.get(i) == null || !ts.get(i).defined()) {
                throw new IllegalArgumentException("gradient " + i + " of " + ts.size() + " is undefined");
            }
        }
        return ts;
    }
}

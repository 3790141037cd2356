package org.fixres4j.fixres;

import java.util.ArrayList;
import java.util.List;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorTensorHook;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.torch.DeviceTensors;
import org.fixres4j.dist.Collective;
import org.fixres4j.model.EfficientNet;

/**
 * Synchronised BatchNorm (PyTorch's {@code SyncBatchNorm}) for data-parallel runs: a BatchNorm in train mode
 * normalises its rank's shard with the statistics of the whole global batch, and its running statistics take the
 * global ones, so N ranks compute what one process computes on the combined batch.
 *
 * <p><b>Forward.</b> The per-channel sum and sum of squares of the input (float64) and the value count are summed over
 * the ranks in one allreduce; the global mean and biased variance normalise the shard; the running mean and variance
 * take PyTorch's update (momentum, unbiased variance) with the global statistics.
 *
 * <p><b>Backward.</b> When the input needs a gradient, the global sums enter the graph as {@code local + (global -
 * local).detach()} (their value is global, their gradient reaches the rank's input), and a hook on them sums their
 * gradient over the ranks before it flows on: each rank's loss depends on every rank's input through the shared
 * statistics. With the rank's loss the mean over its shard and the parameter gradients averaged over the ranks
 * afterwards ({@code GradientAllReducer}), every parameter gets the gradient of the global batch's mean loss. Every
 * rank's graph is the same, so the hooks' allreduces run in the same order on every rank. When the input needs no
 * gradient (a frozen trunk, {@code InferenceMode}), the statistics are constants and no hook is registered.
 */
final class SyncBatchNorm implements EfficientNet.BatchNormForward {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }

    private final Collective collective;
    private final double momentum;
    private final double eps;
    /** This step's hooks and the gradients they returned: alive until the next step's {@link #newStep()}. */
    private final List<TensorTensorHook> hooks = new ArrayList<>();
    private final List<Tensor> handedOver = new ArrayList<>();

    SyncBatchNorm(Collective collective, EfficientNet model) {
        this.collective = collective;
        this.momentum = model.spec().bnMomentum();
        this.eps = model.spec().bnEps();
    }

    /** Drops the previous step's hooks (its backward has run). */
    synchronized void newStep() {
        hooks.clear(); // the hook objects keep their one extra reference: the GC frees them, never a scope
        for (Tensor t : handedOver) {
            t.releaseReference();
        }
        handedOver.clear();
    }

    @Override
    public Tensor apply(BatchNorm2dImpl bn, Tensor x) {
        int c = (int) x.size(1);
        long n = x.size(0) * x.size(2) * x.size(3);
        long[] dims = {0, 2, 3};
        boolean grad = GradMode.is_enabled() && x.requires_grad();
        Tensor xd = x.to(torch.ScalarType.Double);
        Tensor local = torch.cat(new TensorVector(xd.sum(dims, false, new ScalarTypeOptional()),
                xd.mul(xd).sum(dims, false, new ScalarTypeOptional())));
        double[] sums = new double[2 * c + 1];
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            // read on the host (a CUDA tensor's data pointer is a device address)
            new DoublePointer(DeviceTensors.toHost(local.detach()).contiguous().data_ptr()).get(sums, 0, 2 * c);
        }
        sums[2 * c] = n;
        double[] global = collective.allReduceSum(sums);
        double total = global[2 * c];
        if (total < 2) {
            throw new IllegalArgumentException("a BatchNorm in train mode needs more than one value per channel in a "
                    + "global batch, got " + (long) total);
        }
        Tensor globalSums;
        try (NoGradGuard g = new NoGradGuard()) {
            // float64 [2C], filled with the global sums on the host, then put where the batch is
            Tensor host = DeviceTensors.toHost(local.detach()).contiguous().clone();
            new DoublePointer(host.data_ptr()).put(global, 0, 2 * c);
            globalSums = DeviceTensors.like(host, local);
        }
        Tensor stats;
        if (grad) {
            stats = local.add(globalSums.sub(local.detach()));
            TensorTensorHook hook = new TensorTensorHook() {
                @Override
                public TensorBase call(TensorBase g) {
                    // the collective takes host tensors: a device gradient goes there and back
                    Tensor grad = new Tensor(g);
                    Tensor host = DeviceTensors.toHost(grad).contiguous().clone();
                    collective.allReduceSum(host);
                    Tensor summed = DeviceTensors.like(host, grad);
                    synchronized (SyncBatchNorm.this) {
                        handedOver.add(summed.retainReference());
                    }
                    return summed;
                }
            }.retainReference();
            synchronized (this) {
                hooks.add(hook);
            }
            stats.register_hook(hook);
        } else {
            stats = globalSums;
        }
        Tensor mean = stats.narrow(0, 0, c).div(new Scalar(total));
        Tensor var = stats.narrow(0, c, c).div(new Scalar(total)).sub(mean.mul(mean)).clamp_min(new Scalar(0.0));
        Tensor invstd = var.add(new Scalar(eps)).rsqrt();
        long[] shape = {1, c, 1, 1};
        Tensor scale = invstd.to(x.scalar_type()).mul(bn.weight()).view(shape);
        Tensor y = x.sub(mean.to(x.scalar_type()).view(shape)).mul(scale).add(bn.bias().view(shape));
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor m = mean.detach().to(torch.ScalarType.Float);
            Tensor v = var.detach().mul(new Scalar(total / (total - 1))).to(torch.ScalarType.Float);
            bn.running_mean().mul_(new Scalar(1 - momentum)).add_(m, new Scalar(momentum));
            bn.running_var().mul_(new Scalar(1 - momentum)).add_(v, new Scalar(momentum));
            bn.num_batches_tracked().add_(new Scalar(1L));
        }
        return y;
    }
}

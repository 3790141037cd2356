package org.fixres4j.fixres;

import java.util.Map;
import java.util.function.UnaryOperator;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.dist.Collective;
import org.fixres4j.model.EfficientNet;

/**
 * Synchronised BatchNorm for {@code bn2}, the layer FixRes fine-tuning re-estimates: in train mode each rank
 * normalises its shard with the statistics of the whole global batch. The per-channel sum and sum of squares of
 * {@code conv_head}'s output (float64) and the value count are summed over the ranks in one allreduce; the global
 * mean and biased variance normalise the shard ({@code batch_norm} with those statistics as constants), and the running
 * statistics take PyTorch's update with the global mean and unbiased variance, so every rank's {@code bn2} ends
 * where a single process on the combined batch ends.
 *
 * <p>The statistics are constants of the autograd graph: gradients reach bn2's weight and bias exactly, but not the
 * input through the statistics. So the input of bn2 must not be trained (the finetuner refuses
 * {@code --unfreeze-last-stage} in a world larger than one).
 */
final class SyncHeadNorm implements UnaryOperator<Tensor> {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }

    private final Collective collective;
    private final Tensor weight;
    private final Tensor bias;
    private final Tensor runningMean;
    private final Tensor runningVar;
    private final Tensor tracked;
    private final double momentum;
    private final double eps;

    /** Owning handles of bn2's tensors are taken in the caller's scope (keep it open while this is installed). */
    SyncHeadNorm(Collective collective, EfficientNet model) {
        this.collective = collective;
        Map<String, Tensor> bn = TrainSupport.owned(model, k -> k.startsWith("bn2."));
        weight = bn.get("bn2.weight");
        bias = bn.get("bn2.bias");
        runningMean = bn.get("bn2.running_mean");
        runningVar = bn.get("bn2.running_var");
        tracked = bn.get("bn2.num_batches_tracked");
        momentum = model.spec().bnMomentum();
        eps = model.spec().bnEps();
    }

    @Override
    public Tensor apply(Tensor x) {
        int c = (int) x.size(1);
        long n = x.size(0) * x.size(2) * x.size(3);
        double[] local = new double[2 * c + 1];
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor d = x.detach().to(torch.ScalarType.Double);
            long[] dims = {0, 2, 3};
            Tensor s = d.sum(dims, false, new ScalarTypeOptional()).contiguous();
            Tensor ss = d.mul(d).sum(dims, false, new ScalarTypeOptional()).contiguous();
            new DoublePointer(s.data_ptr()).get(local, 0, c);
            new DoublePointer(ss.data_ptr()).get(local, c, c);
        }
        local[2 * c] = n;
        double[] global = collective.allReduceSum(local);
        double total = global[2 * c];
        if (total < 2) {
            throw new IllegalArgumentException("bn2 needs more than one value per channel in a training batch, got "
                    + (long) total);
        }
        float[] mean = new float[c];
        float[] var = new float[c];
        float[] unbiased = new float[c];
        for (int i = 0; i < c; i++) {
            double m = global[i] / total;
            double v = Math.max(0, global[c + i] / total - m * m);
            mean[i] = (float) m;
            var[i] = (float) v;
            unbiased[i] = (float) (v * total / (total - 1));
        }
        Tensor meanT = torch.tensor(mean);
        Tensor varT = torch.tensor(var);
        Tensor y = torch.batch_norm(x, new TensorOptional(weight), new TensorOptional(bias),
                new TensorOptional(meanT), new TensorOptional(varT), false, 0.0, eps, false);
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            runningMean.mul_(new Scalar(1 - momentum)).add_(meanT, new Scalar(momentum));
            runningVar.mul_(new Scalar(1 - momentum)).add_(torch.tensor(unbiased), new Scalar(momentum));
            tracked.add_(new Scalar(1L));
        }
        return y;
    }
}

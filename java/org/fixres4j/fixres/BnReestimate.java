package org.fixres4j.fixres;

import java.util.Map;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.data.Batch;
import org.fixres4j.data.BatchLoader;
import org.fixres4j.data.Dataset;
import org.fixres4j.dist.Collective;
import org.fixres4j.dist.StateSync;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.torch.DeviceSpec;
import org.fixres4j.torch.DeviceTensors;
import org.fixres4j.transform.SampleTransform;

/**
 * The label-free FixRes adaptation ({@code finetune --bn-only}): re-estimates the statistics of the last BatchNorm
 * ({@code bn2}) at the test resolution from unlabelled images, with no gradient at all. Everything else, the
 * classifier included, is left bit-identical.
 *
 * <p><b>Exact statistics.</b> Rather than an exponential moving average, the running mean and variance become the
 * statistics of all the images seen: for each batch {@code bn2}'s running statistics are zeroed, one forward pass in
 * train mode (momentum m) leaves {@code m * batch statistic} in them, and the batch mean and (unbiased) variance are
 * read back and pooled in double precision over the {@code n = N * h * w} values per channel of every batch:
 * {@code mean = sum(n_b mean_b) / n}, {@code var = (sum(n_b (var_b (n_b - 1) / n_b + mean_b^2)) / n - mean^2)
 * * n / (n - 1)}. {@code num_batches_tracked} grows by the number of batches.
 */
public final class BnReestimate {
    static { org.fixres4j.torch.Torch.ensureLoaded(); }
    private BnReestimate() {}

    /**
     * Re-estimates bn2 in place.
     *
     * @param data unlabelled images (labels are not read)
     * @param transform the test-resolution transform (deterministic or seeded)
     * @return the number of images used
     */
    public static long run(EfficientNet model, Dataset data, SampleTransform transform, int batchSize, int threads,
                           long seed) {
        return run(model, data, transform, batchSize, threads, seed, null);
    }

    /**
     * Re-estimates bn2 in place from the images of every rank of {@code c} (null: this process's alone). Each rank
     * loads its shard of every global batch of {@code batchSize} ({@code batchSize / worldSize} images) and the
     * double-precision sums are added over the ranks, so every rank ends with the statistics of all the images (equal
     * to a single process's up to float rounding of the per-batch statistics). Rank 0's parameters and buffers are
     * broadcast first.
     *
     * @return the number of images used (by all ranks)
     * @throws IllegalArgumentException if {@code batchSize} is not divisible by the world size
     */
    public static long run(EfficientNet model, Dataset data, SampleTransform transform, int batchSize, int threads,
                           long seed, Collective group) {
        int world = group == null ? 1 : group.worldSize();
        if (batchSize % world != 0) {
            throw new IllegalArgumentException("the batch size " + batchSize + " is the global batch: it must be "
                    + "divisible by the world size " + world);
        }
        if (world > 1) {
            try (PointerScope scope = new PointerScope()) {
                StateSync.broadcast(group, model.namedTensors(), 0); // every rank measures rank 0's model
            }
        }
        double momentum = model.spec().bnMomentum();
        if (!(momentum > 0)) {
            throw new IllegalStateException("bn2 has momentum 0: its statistics cannot be read back");
        }
        if (!model.isChannelsLast()) {
            model.toChannelsLast(); // same values; faster
        }
        DeviceSpec device = DeviceTensors.of(model); // it runs where the model is: batches are copied there
        int c = model.spec().numFeatures();
        double[] sum = new double[c];
        double[] sumSq = new double[c];
        double total = 0;
        long images = 0;
        long batches = 0;
        Map<String, Tensor> live = TrainSupport.owned(model, k -> k.startsWith("bn2.running_")
                || k.equals("bn2.num_batches_tracked"));
        Tensor runningMean = live.get("bn2.running_mean");
        Tensor runningVar = live.get("bn2.running_var");
        Tensor tracked = live.get("bn2.num_batches_tracked");
        long trackedBefore;
        try (NoGradGuard g = new NoGradGuard()) {
            trackedBefore = tracked.item_long();
        }
        try {
            Finetuner.fixresModes(model);
            BatchLoader.Builder lb = BatchLoader.builder(data, transform).batchSize(batchSize / world)
                    .threads(threads).seed(seed).strict(true);
            if (world > 1) {
                lb.shard(group.rank(), world);
            }
            try (BatchLoader loader = lb.build();
                 BatchLoader.Epoch ep = loader.epoch(0)) {
                while (ep.hasNext()) {
                    try (Batch b = ep.next(); PointerScope scope = new PointerScope()) {
                        Tensor map;
                        try (NoGradGuard g = new NoGradGuard()) {
                            runningMean.zero_();
                            runningVar.zero_();
                        }
                        try (InferenceMode im = new InferenceMode()) {
                            map = model.forwardFeatures(DeviceTensors.toDevice(b.input(), device,
                                    device.isCuda()));
                        }
                        long n = (long) b.size() * map.size(2) * map.size(3);
                        if (n < 2) {
                            continue;
                        }
                        double[] mean = toDoubles(runningMean, c);
                        double[] var = toDoubles(runningVar, c);
                        for (int i = 0; i < c; i++) {
                            double mb = mean[i] / momentum;
                            double vb = var[i] / momentum * (n - 1) / n; // biased batch variance
                            sum[i] += n * mb;
                            sumSq[i] += n * (vb + mb * mb);
                        }
                        total += n;
                        images += b.size();
                        batches++;
                    }
                }
            }
        } finally {
            model.eval();
        }
        if (world > 1) {
            double[] mine = new double[2 * c + 2];
            System.arraycopy(sum, 0, mine, 0, c);
            System.arraycopy(sumSq, 0, mine, c, c);
            mine[2 * c] = total;
            mine[2 * c + 1] = images;
            double[] all = group.allReduceSum(mine);
            System.arraycopy(all, 0, sum, 0, c);
            System.arraycopy(all, c, sumSq, 0, c);
            total = all[2 * c];
            images = Math.round(all[2 * c + 1]);
            // the global batch count: rank 0's shard has the most local batches, ceil(ceil(N / W) / (B / W))
            long most = 0;
            for (long[] row : group.allGather(new long[] {batches})) {
                most = Math.max(most, row[0]);
            }
            batches = most;
        }
        if (total < 2) {
            throw new IllegalArgumentException("no images to estimate bn2's statistics from");
        }
        float[] mean = new float[c];
        float[] var = new float[c];
        for (int i = 0; i < c; i++) {
            double m = sum[i] / total;
            double v = Math.max(0, sumSq[i] / total - m * m) * total / (total - 1);
            mean[i] = (float) m;
            var[i] = (float) v;
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            runningMean.copy_(torch.tensor(mean));
            runningVar.copy_(torch.tensor(var));
            tracked.fill_(new Scalar(trackedBefore + batches));
        }
        return images;
    }

    private static double[] toDoubles(Tensor t, int c) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor d = DeviceTensors.toHost(t).to(torch.ScalarType.Double).contiguous(); // a device's: read on the host
            double[] out = new double[c];
            new DoublePointer(d.data_ptr()).get(out);
            return out;
        }
    }
}

package org.fixres4j.dist;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fixres4j.model.EfficientNet;
import org.fixres4j.model.EfficientNetSpec;
import org.fixres4j.torch.Torch;
import org.fixres4j.weights.StateDict;
import org.fixres4j.weights.TensorData;
import org.fixres4j.weights.TorchTensors;

/**
 * One rank of {@link TwoRankTest}, run in a child JVM with torchrun's variables set. It prints {@code RESULT key value}
 * lines that the test compares across ranks and with the exact expected values; any exception exits non-zero.
 */
public final class DistWorker {
    private DistWorker() {}

    static void result(String key, Object value) {
        System.out.println("RESULT " + key + " " + value);
    }

    static float[] floats(Tensor t) {
        return TorchTensors.fromTorch(t).toFloatArray();
    }

    /** Rank r's deterministic "gradient" values: exact in float32 so the expected mean is exact too. */
    static float[] values(int rank, int tensor, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(1000.0 * rank + 31.0 * tensor + i) * (tensor + 1);
        }
        return v;
    }

    @SuppressWarnings("try")
    public static void main(String[] args) throws Exception {
        Torch.ensureLoaded();
        DistConfig cfg = DistConfig.resolve(System.getenv(), null, null, null, java.time.Duration.ofSeconds(40),
                null);
        try (Collective c = Collective.connect(cfg); PointerScope scope = new PointerScope()) {
            int r = c.rank();
            int w = c.worldSize();
            result("world", w);
            // --- allreduce SUM / AVG / MAX on float32, exact
            Tensor s = TorchTensors.toTorch(TensorData.ofFloats(new long[] {3}, r + 1, 0.5f * r, -2f * r));
            c.allReduceSum(s);
            result("sum_f32", Arrays.toString(floats(s)));
            Tensor a = TorchTensors.toTorch(TensorData.ofFloats(new long[] {2, 2}, 1 + r, 2 + 3 * r, 0.25f, r));
            c.allReduceAvg(a);
            result("avg_f32", Arrays.toString(floats(a)));
            Tensor mx = TorchTensors.toTorch(TensorData.ofFloats(new long[] {2}, r, -r));
            c.allReduce(mx, Collective.Op.MAX);
            result("max_f32", Arrays.toString(floats(mx)));
            // --- int64 and float64 counts
            result("sum_i64", Arrays.toString(c.allReduceSum(new long[] {r, 1, (1L << 53) + r, -7L * r})));
            result("sum_f64", Arrays.toString(c.allReduceSum(new double[] {0.5 * r, 1e300 * r})));
            // --- broadcast from the last rank, allgather, barrier
            Tensor b = TorchTensors.toTorch(TensorData.ofFloats(new long[] {4}, 10 * r, 10 * r + 1, r, -r));
            c.broadcast(b, w - 1);
            result("bcast_f32", Arrays.toString(floats(b)));
            Tensor g = TorchTensors.toTorch(TensorData.ofLongs(new long[] {1, 2}, 100 + r, -r));
            Tensor all = c.allGather(g);
            result("gather_shape", Arrays.toString(Buckets.shape(all)));
            result("gather_i64", Arrays.toString(TorchTensors.fromTorch(all).toLongArray()));
            result("gather_rows", Arrays.deepToString(c.allGather(new long[] {r, r * r})));
            c.barrier();
            result("barrier", "ok");

            // --- bucketed gradient allreduce: several buckets, two dtypes, a channels-last tensor
            int[] sizes = {5, 300, 1, 1000, 77, 2048};
            List<Tensor> grads = new ArrayList<>();
            for (int i = 0; i < sizes.length; i++) {
                grads.add(TorchTensors.toTorch(TensorData.ofFloats(new long[] {sizes[i]}, values(r, i, sizes[i]))));
            }
            grads.add(TorchTensors.toTorch(TensorData.ofDoubles(new long[] {3}, 0.25 * r, r, -1.5 * r)));
            Tensor cl = TorchTensors.toTorch(TensorData.ofFloats(new long[] {2, 3, 2, 2}, values(r, 9, 24)))
                    .contiguous(torch.MemoryFormat.ChannelsLast);
            grads.add(cl);
            GradientAllReducer reducer = new GradientAllReducer(c, 4096); // 1,024 floats a bucket
            int buckets = reducer.allReduceAvg(grads);
            result("grad_buckets", buckets);
            long mismatches = 0;
            for (int i = 0; i < sizes.length; i++) {
                float[] got = floats(grads.get(i));
                float[] want = new float[sizes[i]];
                float[] mine = values(0, i, sizes[i]);
                float[] other = values(1, i, sizes[i]);
                for (int k = 0; k < want.length; k++) {
                    want[k] = (mine[k] + other[k]) / 2f;
                    if (Float.floatToIntBits(got[k]) != Float.floatToIntBits(want[k])) {
                        mismatches++;
                    }
                }
            }
            float[] cl0 = values(0, 9, 24);
            float[] cl1 = values(1, 9, 24);
            float[] clGot = floats(cl);
            for (int k = 0; k < 24; k++) {
                if (Float.floatToIntBits(clGot[k]) != Float.floatToIntBits((cl0[k] + cl1[k]) / 2f)) {
                    mismatches++;
                }
            }
            result("grad_mismatches", mismatches);
            result("grad_f64", Arrays.toString(TorchTensors.fromTorch(grads.get(sizes.length)).toDoubleArray()));
            result("grad_channels_last", cl.is_contiguous(torch.MemoryFormat.ChannelsLast));
            // a second call reuses the kept buffers: the mean of equal gradients is those gradients, bit for bit
            TensorVector before = new TensorVector();
            for (Tensor t : grads) {
                before.push_back(t.reshape(-1).to(torch.ScalarType.Double));
            }
            Tensor snapshot = torch.cat(before).clone();
            reducer.allReduceAvg(grads);
            TensorVector again = new TensorVector();
            for (Tensor t : grads) {
                again.push_back(t.reshape(-1).to(torch.ScalarType.Double));
            }
            result("grad_second_call_unchanged", torch.cat(again).equal(snapshot));
            reducer.close();

            // --- a tiny EfficientNet: different weights per rank, then broadcast from rank 0
            EfficientNetSpec spec = EfficientNetSpec.custom("tiny", 0.25, 0.3, true, 10);
            try (EfficientNet m = org.fixres4j.model.ModelRegistry.create(spec)) {
                torch.manual_seed(1234 + r);
                m.initTimm();
                Map<String, Tensor> state = m.namedTensors();
                try (PointerScope s2 = new PointerScope()) {
                    for (Map.Entry<String, Tensor> e : state.entrySet()) {
                        if (e.getKey().endsWith("running_mean")) {
                            e.getValue().normal_(0.0, 0.1, new org.bytedeco.pytorch.GeneratorOptional());
                        }
                    }
                }
                result("model_before", digest(m.stateDict()));
                StateSync.broadcast(c, state, 0);
                result("model_after", digest(m.stateDict()));

                // real gradients: rank-dependent input, backward, bucketed mean == mean of the ranks' gradients
                m.train(true);
                torch.manual_seed(99 + r);
                Tensor x = torch.randn(2, 3, 32, 32);
                Tensor loss = m.forward(x).pow(new org.bytedeco.pytorch.Scalar(2.0)).mean();
                loss.backward();
                TensorVector ps = m.parameters(true);
                List<Tensor> mg = GradientAllReducer.gradients(ps);
                TensorVector copies = new TensorVector();
                for (Tensor t : mg) {
                    copies.push_back(t.reshape(-1));
                }
                Tensor local = torch.cat(copies).clone();
                int modelBuckets = new GradientAllReducer(c, 64 * 1024).allReduceAvg(mg);
                Tensor gathered = c.allGather(local); // [2, n]: each rank's own gradients
                Tensor expected = gathered.select(0, 0).add(gathered.select(0, 1))
                        .div(new org.bytedeco.pytorch.Scalar(2.0));
                TensorVector after = new TensorVector();
                for (Tensor t : mg) {
                    after.push_back(t.reshape(-1));
                }
                Tensor reduced = torch.cat(after);
                result("model_grad_buckets", modelBuckets);
                result("model_grad_numel", reduced.numel());
                result("model_grad_equal", reduced.equal(expected));
                result("model_grad_ranks_differ", !gathered.select(0, 0).equal(gathered.select(0, 1)));

                // BatchNorm running statistics after each rank's own training forward: averaged
                Map<String, Tensor> stats = StateSync.runningStatistics(state);
                TensorVector pre = new TensorVector();
                for (Tensor t : stats.values()) {
                    pre.push_back(t.reshape(-1));
                }
                Tensor localStats = torch.cat(pre).clone();
                int n = StateSync.averageRunningStatistics(c, state);
                Tensor gs = c.allGather(localStats);
                Tensor wantStats = gs.select(0, 0).add(gs.select(0, 1)).div(new org.bytedeco.pytorch.Scalar(2.0));
                TensorVector post = new TensorVector();
                for (Tensor t : stats.values()) {
                    post.push_back(t.reshape(-1));
                }
                result("bn_count", n);
                result("bn_equal", torch.cat(post).equal(wantStats));
                result("bn_ranks_differed", !gs.select(0, 0).equal(gs.select(0, 1)));
            }
            c.barrier();
            result("done", "ok");
        }
    }

    static String digest(StateDict sd) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (String k : sd.keys()) {
            md.update(k.getBytes(StandardCharsets.UTF_8));
            md.update(sd.get(k).toByteArray());
        }
        return HexFormat.of().formatHex(md.digest()).substring(0, 16);
    }
}

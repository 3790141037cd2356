package org.fixres4j.dist;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.fixres4j.weights.TensorData;
import org.fixres4j.weights.TorchTensors;

/** Argument checks and the array helpers, shared by the local and the Gloo collective. */
abstract class AbstractCollective implements Collective {
    /** Rejects what a collective cannot take (undefined, sparse, non-contiguous, not on the CPU). */
    static void check(Tensor t, String what) {
        if (t == null || !t.defined()) {
            throw new IllegalArgumentException(what + ": the tensor is undefined");
        }
        if (!t.is_cpu()) {
            throw new IllegalArgumentException(what + ": the tensor is on " + t.device().str().getString()
                    + "; this collective takes CPU tensors (NCCL for GPU tensors is not built)");
        }
        if (t.is_sparse() || !t.is_contiguous()) {
            throw new IllegalArgumentException(what + ": the tensor must be dense and contiguous "
                    + "(call contiguous() first)");
        }
    }

    void checkRoot(int root) {
        if (root < 0 || root >= worldSize()) {
            throw new IllegalArgumentException("broadcast root must be in 0.." + (worldSize() - 1) + ", got " + root);
        }
    }

    @Override
    @SuppressWarnings("try")
    public long[] allReduceSum(long[] values) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = TorchTensors.toTorch(TensorData.ofLongs(new long[] {values.length}, values));
            allReduce(t, Op.SUM);
            return TorchTensors.fromTorch(t).toLongArray();
        }
    }

    @Override
    @SuppressWarnings("try")
    public double[] allReduceSum(double[] values) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = TorchTensors.toTorch(TensorData.ofDoubles(new long[] {values.length}, values));
            allReduce(t, Op.SUM);
            return TorchTensors.fromTorch(t).toDoubleArray();
        }
    }

    @Override
    @SuppressWarnings("try")
    public long[][] allGather(long[] values) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = TorchTensors.toTorch(TensorData.ofLongs(new long[] {values.length}, values));
            long[] all = TorchTensors.fromTorch(allGather(t)).toLongArray();
            long[][] rows = new long[worldSize()][];
            for (int r = 0; r < rows.length; r++) {
                rows[r] = java.util.Arrays.copyOfRange(all, r * values.length, (r + 1) * values.length);
            }
            return rows;
        }
    }
}

package org.fixres4j.data;

import java.util.List;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.fixres4j.preprocess.OutputType;

/**
 * One batch from a {@link BatchLoader}: the first {@link #size()} rows of a pooled tensor, with the samples' labels,
 * dataset indices and names. Batch {@code k} of an epoch always holds the samples at positions
 * {@code k*B .. k*B+B-1} of the epoch's order, minus those that failed to load (the survivors are moved up, in order,
 * so rows are contiguous).
 *
 * <p><b>Ownership.</b> The tensors are views of memory that the loader owns and reuses. {@link #close()} gives the
 * memory back to the pool: finish everything that reads it (forward and backward) first, do not keep the tensors (or
 * anything that aliases them) afterwards, and {@code clone()} what must outlive the batch. Tensors you compute from a
 * batch are yours: make them inside your own {@code PointerScope}, one per batch. Not thread-safe.
 */
public final class Batch implements LoadedBatch {
    private final BatchLoader.Slot slot;
    private final BatchLoader owner;
    private final int number;
    private final int epoch;
    private final int[] indices;
    private final int[] positions;
    private final int[] labels;
    private final List<String> names;
    private final List<LoadFailure> failures;
    private Tensor[] inputs;
    private Tensor labelTensor;
    private boolean closed;

    Batch(BatchLoader owner, BatchLoader.Slot slot, int epoch, int number, int[] indices, int[] positions,
          int[] labels, List<String> names, List<LoadFailure> failures, Tensor[] inputs, Tensor labelTensor) {
        this.owner = owner;
        this.slot = slot;
        this.epoch = epoch;
        this.number = number;
        this.indices = indices;
        this.positions = positions;
        this.labels = labels;
        this.names = List.copyOf(names);
        this.failures = List.copyOf(failures);
        this.inputs = inputs;
        this.labelTensor = labelTensor;
    }

    /** The batch number k in its epoch (batches whose samples all failed are skipped, so numbers may jump). */
    public int number() {
        return number;
    }

    /** The epoch this batch belongs to. */
    public int epoch() {
        return epoch;
    }

    /** The number of samples, 1..batchSize. */
    public int size() {
        return indices.length;
    }

    /** The preprocessed images, {@code [size, 3, H, W]} (or NHWC as the loader's spec says); see the class comment. */
    public Tensor input() {
        return input(0);
    }

    /**
     * The preprocessed images under transform {@code t} of the loader's {@link BatchLoader#transforms()}, {@code [size,
     * 3, H_t, W_t]} (or NHWC as that transform's spec says); rows are the same samples under every transform.
     */
    public Tensor input(int t) {
        check();
        if (t < 0 || t >= inputs.length) {
            throw new IndexOutOfBoundsException("transform " + t + " of " + inputs.length);
        }
        return inputs[t];
    }

    /** The number of transforms, i.e. of input tensors. */
    public int inputCount() {
        return owner.specs().size();
    }

    /** The labels as an int64 tensor {@code [size]} (pooled like {@link #input()}). */
    public Tensor labelTensor() {
        check();
        return labelTensor;
    }

    /** The labels, row by row (a copy). */
    public int[] labels() {
        return labels.clone();
    }

    /** The dataset index of each row (a copy). */
    public int[] indices() {
        return indices.clone();
    }

    /** The epoch position of each row (a copy). */
    public int[] positions() {
        return positions.clone();
    }

    /** The sample name of each row. */
    public List<String> names() {
        return names;
    }

    /** The samples of this batch's positions that failed to load, in order. */
    public List<LoadFailure> failures() {
        return failures;
    }

    /** A copy of the input values (float32 specs only; for tests and small tools). */
    public float[] inputToArray() {
        check();
        if (owner.spec().type() != OutputType.FLOAT32) {
            throw new IllegalStateException("inputToArray needs a FLOAT32 spec, the loader writes "
                    + owner.spec().type());
        }
        long n = (long) size() * owner.spec().sampleElements();
        if (n > Integer.MAX_VALUE) {
            throw new IllegalStateException("batch of " + n + " values is too large for an array");
        }
        float[] out = new float[(int) n];
        new FloatPointer(slot.inputData[0]).get(out);
        return out;
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /** Closes the tensor views and gives the memory back to the loader's pool (idempotent). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Tensor[] in = inputs;
        Tensor l = labelTensor;
        inputs = null;
        labelTensor = null;
        for (Tensor t : in) {
            t.close();
        }
        l.close();
        owner.returnSlot(slot, true);
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("batch " + number + " of epoch " + epoch + " was closed: its memory is "
                    + "back in the loader's pool");
        }
    }

    @Override
    public String toString() {
        return "batch " + number + " of epoch " + epoch + " (" + size() + " samples" + (failures.isEmpty() ? ""
                : ", " + failures.size() + " failed") + ")";
    }
}

package org.fixres4j.data;

import org.bytedeco.pytorch.Tensor;

/**
 * A batch as a consumer reads it, wherever it was loaded: a {@link Batch} of the CPU loader or a
 * {@link CudaFeed.DeviceBatch} already on the device. Close it once its tensors are no longer needed.
 */
public interface LoadedBatch extends AutoCloseable {
    /** The batch's number in its epoch (0, 1, ...). */
    int number();

    /** Images in the batch. */
    int size();

    /** The images under transform {@code t}, {@code [size, ...]}. */
    Tensor input(int t);

    /** The class of each image. */
    int[] labels();

    /** Each image's index in the dataset. */
    int[] indices();

    @Override
    void close();
}

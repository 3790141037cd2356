package org.fixres4j.data;

import java.util.List;

/**
 * An indexed, immutable collection of labelled images. Implementations are thread-safe: {@link #get(int)} is called
 * from the loader's worker threads at once. Labels index {@link #classNames()}.
 */
public interface Dataset {

    /** The number of samples. */
    int size();

    /**
     * Sample {@code index}, 0 &lt;= index &lt; {@link #size()}. Cheap: no image is read until
     * {@link Sample#decode()}.
     *
     * @throws IndexOutOfBoundsException for a bad index
     */
    Sample get(int index);

    /** The class names; label {@code c} is {@code classNames().get(c)}. */
    List<String> classNames();

    /** {@code classNames().size()}. */
    default int numClasses() {
        return classNames().size();
    }

    /** The label of sample {@code index} (implementations may answer without building the sample). */
    default int label(int index) {
        return get(index).label();
    }

    /** All labels, in index order. */
    default int[] labels() {
        int[] out = new int[size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = label(i);
        }
        return out;
    }

    /** A short one-line description for reports, e.g. {@code image_folder(/data/val, 50000 images, 1000 classes)}. */
    String describe();
}

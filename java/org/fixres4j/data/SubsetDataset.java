package org.fixres4j.data;

import java.util.List;
import java.util.Objects;

/** A view of some samples of another dataset, in a given order; sample {@code i} is base sample {@code indices[i]}. */
public final class SubsetDataset implements Dataset {
    private final Dataset base;
    private final int[] indices;
    private final String description;

    /**
     * @param indices base indices (each in range; repeats allowed)
     * @param how a short note for {@link #describe()}, e.g. {@code first 100}
     */
    public SubsetDataset(Dataset base, int[] indices, String how) {
        this.base = Objects.requireNonNull(base, "base");
        this.indices = indices.clone();
        for (int i : this.indices) {
            Objects.checkIndex(i, base.size());
        }
        this.description = "subset(" + how + ", " + this.indices.length + " of " + base.describe() + ")";
    }

    /** The dataset this is a view of. */
    public Dataset base() {
        return base;
    }

    /** The base index of sample {@code index}. */
    public int baseIndex(int index) {
        return indices[Objects.checkIndex(index, indices.length)];
    }

    /** All base indices, in order (a copy). */
    public int[] baseIndices() {
        return indices.clone();
    }

    @Override
    public int size() {
        return indices.length;
    }

    @Override
    public Sample get(int index) {
        return base.get(baseIndex(index));
    }

    @Override
    public int label(int index) {
        return base.label(baseIndex(index));
    }

    @Override
    public List<String> classNames() {
        return base.classNames();
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public String toString() {
        return describe();
    }
}

package org.fixres4j.weights;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An ordered map from parameter names (timm's keys, e.g. {@code blocks.0.0.conv_dw.weight}) to {@link TensorData},
 * with the optional string metadata of a safetensors file and the notes a reader left (which wrapper key of a
 * checkpoint was used, which prefix was stripped, which non-tensor entries were skipped).
 *
 * <p>Not thread-safe while being filled; the tensors themselves are immutable.
 */
public final class StateDict implements Iterable<Map.Entry<String, TensorData>> {
    private final LinkedHashMap<String, TensorData> tensors = new LinkedHashMap<>();
    private final LinkedHashMap<String, String> metadata = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private String sourceKey;

    /** An empty state dict. */
    public StateDict() {}

    /** A state dict holding the given tensors, in the map's iteration order. */
    public StateDict(Map<String, TensorData> tensors) {
        tensors.forEach(this::put);
    }

    /** Adds or replaces a tensor (a replaced key keeps its position). Returns this. */
    public StateDict put(String name, TensorData tensor) {
        tensors.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(tensor, "tensor"));
        return this;
    }

    /** Removes a tensor; returns it or null. */
    public TensorData remove(String name) {
        return tensors.remove(name);
    }

    /** The tensor of that name, or null. */
    public TensorData get(String name) {
        return tensors.get(name);
    }

    /**
     * The tensor of that name.
     *
     * @throws IllegalArgumentException naming the key if it is absent
     */
    public TensorData require(String name) {
        TensorData t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor named '" + name + "' (" + tensors.size() + " tensors)");
        }
        return t;
    }

    /** Whether a tensor of that name exists. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The number of tensors. */
    public int size() {
        return tensors.size();
    }

    /** The keys, in order (a read-only view). */
    public Set<String> keys() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    /** The tensors, in order (a read-only view). */
    public Map<String, TensorData> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    /** The total number of tensor bytes. */
    public long totalBytes() {
        long n = 0;
        for (TensorData t : tensors.values()) {
            n += t.byteSize();
        }
        return n;
    }

    /** The string metadata (the safetensors {@code __metadata__} map); mutable, insertion-ordered. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Notes left by the reader (what was unwrapped, stripped or skipped); read-only. */
    public List<String> notes() {
        return Collections.unmodifiableList(notes);
    }

    /** Appends a note. */
    public void addNote(String note) {
        notes.add(note);
    }

    /**
     * The key of the checkpoint dict the tensors came from ({@code "state_dict"}, {@code "model"}, ...), or null when
     * the file's top-level object was the state dict itself.
     */
    public String sourceKey() {
        return sourceKey;
    }

    /** Sets {@link #sourceKey()}. */
    public void setSourceKey(String sourceKey) {
        this.sourceKey = sourceKey;
    }

    @Override
    public Iterator<Map.Entry<String, TensorData>> iterator() {
        return tensors().entrySet().iterator();
    }

    /**
     * Checks that every floating-point tensor holds only finite values: a NaN or infinite weight makes every output
     * meaningless (and a NaN logit row would otherwise rank classes by index).
     *
     * @param source what the tensors came from (a file name), for the message
     * @throws NonFiniteWeightsException naming the first tensor, the element and its value
     */
    public void requireFinite(String source) throws NonFiniteWeightsException {
        for (Map.Entry<String, TensorData> e : tensors.entrySet()) {
            TensorData t = e.getValue();
            long i = t.firstNonFinite();
            if (i >= 0) {
                throw new NonFiniteWeightsException(source, e.getKey(), i, t.valueAt(i));
            }
        }
    }

    @Override
    public String toString() {
        return "StateDict[" + tensors.size() + " tensors, " + totalBytes() + " bytes"
                + (sourceKey != null ? ", from '" + sourceKey + "'" : "") + "]";
    }
}

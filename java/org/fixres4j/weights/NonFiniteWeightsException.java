package org.fixres4j.weights;

/** A weight file holds a NaN or infinite value; the message names the file, the tensor and the element. */
public final class NonFiniteWeightsException extends WeightFormatException {
    private static final long serialVersionUID = 1L;
    private final String tensor;
    private final long index;

    /**
     * @param source the file (or other source) of the tensors
     * @param tensor the tensor's key
     * @param index the flat index of the first non-finite element
     * @param value that element
     */
    public NonFiniteWeightsException(String source, String tensor, long index, double value) {
        super(source + ": tensor " + Keys.quote(tensor) + " holds " + value + " at element " + index
                + "; a model with non-finite weights gives meaningless outputs, refusing to load it");
        this.tensor = tensor;
        this.index = index;
    }

    /** The tensor's key. */
    public String tensor() {
        return tensor;
    }

    /** The flat index of the first non-finite element. */
    public long index() {
        return index;
    }
}

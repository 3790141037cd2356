package org.fixres4j.data;

/**
 * A sample the loader could not use (unreadable file, undecodable bytes, or an image size the transform refuses).
 *
 * @param index the sample's dataset index
 * @param position the sample's position in the epoch's order (batch {@code position / batchSize})
 * @param name the sample's name (its file path for file datasets)
 * @param message why, as the decoder or transform reported it
 */
public record LoadFailure(int index, int position, String name, String message) {
    @Override
    public String toString() {
        return name + ": " + message;
    }
}

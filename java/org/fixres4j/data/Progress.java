package org.fixres4j.data;

/**
 * Progress reports of a long computation, in images. A sweep or loop calls {@link #start} once, {@link #advance} after
 * every batch (with the images of the batch, failed ones included) and {@link #finish} once at the end, also when
 * it stops early. Called from the consuming thread only.
 */
public interface Progress {
    /** The work begins: {@code total} images. */
    void start(long total);

    /** {@code images} more images are done. */
    void advance(long images);

    /** The work has ended (completed or not). */
    void finish();

    /** A progress sink that ignores everything. */
    static Progress none() {
        return new Progress() {
            @Override
            public void start(long total) {}

            @Override
            public void advance(long images) {}

            @Override
            public void finish() {}
        };
    }
}

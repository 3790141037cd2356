package org.fixres4j.weights;

import java.io.IOException;

/** A weight file is malformed, truncated or uses a feature this reader does not support; the message says which. */
public class WeightFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** With a message. */
    public WeightFormatException(String message) {
        super(message);
    }

    /** With a message and a cause. */
    public WeightFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}

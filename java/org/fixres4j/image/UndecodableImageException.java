package org.fixres4j.image;

import java.io.IOException;

/** The bytes of an image file could not be decoded (unknown format, truncated or corrupt). */
public class UndecodableImageException extends IOException {
    private static final long serialVersionUID = 1L;

    public UndecodableImageException(String message) {
        super(message);
    }
}

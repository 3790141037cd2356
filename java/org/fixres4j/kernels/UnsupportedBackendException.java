package org.fixres4j.kernels;

/** A backend (CUDA, AVX2) that is not compiled into this build or not supported by this machine was asked for. */
public class UnsupportedBackendException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public UnsupportedBackendException(String message) {
        super(message);
    }
}

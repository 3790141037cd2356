package org.fixres4j.preprocess;

/** Element type of the preprocessed batch. UINT8 holds raw pixel values (no normalisation). */
public enum OutputType {
    FLOAT32(0, 4),
    FLOAT16(1, 2),
    BFLOAT16(2, 2),
    UINT8(3, 1);

    /** The fx dtype code (kernels.h). */
    public final int code;
    /** Bytes per element. */
    public final int bytes;

    OutputType(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }
}

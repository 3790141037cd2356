package org.fixres4j.preprocess;

/** Memory layout of a batch of images: NCHW (planes) or NHWC (channels last). */
public enum Layout {
    NCHW(0),
    NHWC(1);

    /** The fx layout code (kernels.h). */
    public final int code;

    Layout(int code) {
        this.code = code;
    }
}

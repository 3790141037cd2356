package org.fixres4j.image;

import org.bytedeco.javacpp.Loader;

/** Loads the OpenCV natives once (about a second the first time). */
final class OpenCv {
    private static volatile boolean loaded;

    private OpenCv() {}

    static void ensureLoaded() {
        if (!loaded) {
            synchronized (OpenCv.class) {
                if (!loaded) {
                    Loader.load(org.bytedeco.opencv.global.opencv_imgcodecs.class);
                    loaded = true;
                }
            }
        }
    }
}

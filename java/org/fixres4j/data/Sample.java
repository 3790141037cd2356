package org.fixres4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

import org.fixres4j.image.DecodedImage;
import org.fixres4j.image.ImageDecoder;

/**
 * One sample of a {@link Dataset}: where its image comes from (a file, or pixels in memory) and its class label.
 * Exactly one of {@link #path()} and {@link #pixels()} is non-null. Immutable; decoding happens only in
 * {@link #decode()}.
 *
 * @param name a stable, human-readable identity for reports and errors (the file path, or e.g.
 *             {@code fashion-mnist/train/00042})
 * @param path the image file, or null for in-memory samples
 * @param pixels the in-memory pixels, or null for file samples
 * @param label the class index, &gt;= 0
 */
public record Sample(String name, Path path, Pixels pixels, int label) {

    /** Checks that exactly one source is given and the label is not negative. */
    public Sample {
        Objects.requireNonNull(name, "name");
        if ((path == null) == (pixels == null)) {
            throw new IllegalArgumentException("a sample needs exactly one of a path and in-memory pixels: " + name);
        }
        if (label < 0) {
            throw new IllegalArgumentException("label must be >= 0, got " + label + " for " + name);
        }
    }

    /** A sample read from an image file; its name is the path. */
    public static Sample ofFile(Path path, int label) {
        return new Sample(path.toString(), path, null, label);
    }

    /** A sample whose pixels are already in memory. */
    public static Sample ofPixels(String name, Pixels pixels, int label) {
        return new Sample(name, null, pixels, label);
    }

    /**
     * The decoded image (the caller closes it): {@link ImageDecoder#decode(Path)} for files, a copy of the pixels
     * otherwise.
     *
     * @throws IOException if the file cannot be read or decoded; the message names the file
     */
    public DecodedImage decode() throws IOException {
        return path != null ? ImageDecoder.decode(path) : pixels.toImage(name);
    }

    /** The file name without folders ({@code ILSVRC2012_val_00000001.JPEG}), or the name for in-memory samples. */
    public String baseName() {
        if (path != null) {
            Path f = path.getFileName();
            return f == null ? path.toString() : f.toString();
        }
        int slash = name.lastIndexOf('/');
        return slash < 0 ? name : name.substring(slash + 1);
    }
}

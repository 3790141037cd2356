package org.fixres4j.cli;

import org.fixres4j.image.ImageLimits;

import picocli.CommandLine.Option;

/**
 * The image-size limit of every command that decodes image files: it sets the process-wide
 * {@link ImageLimits#defaults()}, which the decoder and every dataset use. Applied when the command line is parsed
 * (picocli calls the setter with the default when the option is absent, so each command starts from the default).
 */
final class ImageOptions {
    @Option(names = "--max-pixels", paramLabel = "N", defaultValue = "89478485",
            description = "Refuse images of more than N pixels (width x height, read from the file header before "
                    + "decoding: decompression bombs); such files are reported as unreadable. Files larger than "
                    + "4N + 1 MiB bytes are not read. Default: ${DEFAULT-VALUE} (Pillow's MAX_IMAGE_PIXELS).")
    void maxPixels(long n) {
        if (n < 1) {
            throw new IllegalArgumentException("--max-pixels must be >= 1, got " + n);
        }
        ImageLimits.setDefaults(ImageLimits.ofMaxPixels(n));
    }
}

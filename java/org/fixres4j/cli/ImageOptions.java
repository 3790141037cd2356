package org.fixres4j.cli;

import org.fixres4j.image.ImageLimits;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * The image-size limit of every command that decodes image files: it sets the process-wide
 * {@link ImageLimits#defaults()}, which the decoder and every dataset use. Applied when the command line is parsed
 * (picocli calls the setter with the default when the option is absent, so each command starts from the default).
 */
final class ImageOptions {
    @Option(names = "--max-pixels", paramLabel = "N", defaultValue = "89478485", converter = PixelCount.class,
            description = "Refuse images of more than N pixels (width x height, read from the file header before "
                    + "decoding: decompression bombs); such files are reported as unreadable. Files larger than "
                    + "4N bytes + 1 MiB are not read. Default: ${DEFAULT-VALUE} (Pillow's MAX_IMAGE_PIXELS).")
    void maxPixels(long n) {
        ImageLimits.setDefaults(ImageLimits.ofMaxPixels(n));
    }

    /** A whole number >= 1. */
    static final class PixelCount implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            long n;
            try {
                n = Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not a whole number of pixels");
            }
            if (n < 1) {
                throw new TypeConversionException("must be >= 1, got " + n);
            }
            return n;
        }
    }
}

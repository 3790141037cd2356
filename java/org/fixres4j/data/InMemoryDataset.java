package org.fixres4j.data;

import java.util.List;
import java.util.Objects;

import org.fixres4j.image.DecodedImage.ChannelOrder;

/**
 * A dataset whose images are in one byte array, all of one size (e.g. Fashion-MNIST: 28x28 gray). Samples are served
 * as {@link Pixels} and decoded with {@code DecodedImage.ofPixels}; sample names are {@code <prefix>/<index>} with
 * the index zero-padded to five digits. Immutable (the arrays are not copied: do not modify them).
 */
public final class InMemoryDataset implements Dataset {
    private final byte[] pixels;
    private final int count;
    private final int width;
    private final int height;
    private final int channels;
    private final ChannelOrder order;
    private final int[] labels;
    private final List<String> classNames;
    private final String prefix;
    private final String description;

    /**
     * @param pixels {@code count} images of {@code width x height x channels} bytes, packed
     * @param labels one label per image, in 0..classNames.size()-1
     * @param prefix the start of every sample name, e.g. {@code fashion-mnist/train}
     */
    public InMemoryDataset(byte[] pixels, int width, int height, int channels, ChannelOrder order, int[] labels,
                           List<String> classNames, String prefix, String description) {
        this.pixels = Objects.requireNonNull(pixels, "pixels");
        this.labels = Objects.requireNonNull(labels, "labels");
        this.classNames = List.copyOf(classNames);
        this.count = labels.length;
        this.width = width;
        this.height = height;
        this.channels = channels;
        this.order = Objects.requireNonNull(order, "order");
        this.prefix = Objects.requireNonNull(prefix, "prefix");
        this.description = Objects.requireNonNull(description, "description");
        if (width <= 0 || height <= 0 || (channels != 1 && channels != 3 && channels != 4)) {
            throw new IllegalArgumentException("bad image geometry " + width + "x" + height + "x" + channels);
        }
        if ((long) count * width * height * channels != pixels.length) {
            throw new IllegalArgumentException(count + " labels but " + pixels.length + " bytes of pixels ("
                    + (long) count * width * height * channels + " expected for " + width + "x" + height + "x"
                    + channels + " images)");
        }
        for (int i = 0; i < count; i++) {
            if (labels[i] < 0 || labels[i] >= this.classNames.size()) {
                throw new IllegalArgumentException("label " + labels[i] + " of image " + i + " is outside 0.."
                        + (this.classNames.size() - 1));
            }
        }
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public Sample get(int index) {
        Objects.checkIndex(index, count);
        int bytes = width * height * channels;
        return Sample.ofPixels(String.format("%s/%05d", prefix, index),
                new Pixels(pixels, index * bytes, width, height, channels, order), labels[index]);
    }

    @Override
    public int label(int index) {
        return labels[Objects.checkIndex(index, count)];
    }

    @Override
    public int[] labels() {
        return labels.clone();
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    public int channels() {
        return channels;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public String toString() {
        return describe();
    }
}

package org.fixres4j.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import org.fixres4j.image.DecodedImage.ChannelOrder;

/**
 * Fashion-MNIST (Zalando): 60,000 training and 10,000 test images, 28x28 gray, 10 classes, as IDX files
 * {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte},
 * {@code t10k-labels-idx1-ubyte}, each plain or with {@code .gz}. Debian's {@code dataset-fashion-mnist} installs
 * the gzipped files in {@link #DEBIAN_DIR}. Images are served in memory (1 channel; the preprocessing kernel
 * replicates gray to RGB as Pillow's {@code convert('RGB')} does).
 */
public final class FashionMnist {
    /** Where Debian's {@code dataset-fashion-mnist} package installs the files. */
    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    /** The class names, label 0 first (the dataset's README). */
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** The two splits and their file prefixes. */
    public enum Split {
        TRAIN("train"),
        TEST("t10k");

        /** The IDX file name prefix. */
        public final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }
    }

    private FashionMnist() {}

    /** One split from {@code dir}; the files may be plain or gzipped. */
    public static InMemoryDataset read(Path dir, Split split) throws IOException {
        Path images = find(dir, split.prefix + "-images-idx3-ubyte");
        Path labels = find(dir, split.prefix + "-labels-idx1-ubyte");
        Idx.Images im = Idx.readImages(images);
        int[] l = Idx.readLabels(labels);
        if (im.count() != l.length) {
            throw new IOException(images + " holds " + im.count() + " images but " + labels + " holds " + l.length
                    + " labels");
        }
        for (int i = 0; i < l.length; i++) {
            if (l[i] >= CLASS_NAMES.size()) {
                throw new IOException(labels + ": label " + l[i] + " of image " + i + " is outside 0..9");
            }
        }
        String name = "fashion-mnist/" + split.name().toLowerCase(java.util.Locale.ROOT);
        return new InMemoryDataset(im.pixels(), im.cols(), im.rows(), 1, ChannelOrder.RGB, l, CLASS_NAMES, name,
                "fashion_mnist(" + dir + ", " + split.name().toLowerCase(java.util.Locale.ROOT) + ", " + l.length
                        + " images of " + im.cols() + "x" + im.rows() + ", 10 classes)");
    }

    /** One split from {@link #DEBIAN_DIR}. */
    public static InMemoryDataset read(Split split) throws IOException {
        return read(DEBIAN_DIR, split);
    }

    private static Path find(Path dir, String base) throws IOException {
        Path plain = dir.resolve(base);
        if (Files.isRegularFile(plain)) {
            return plain;
        }
        Path gz = dir.resolve(base + ".gz");
        if (Files.isRegularFile(gz)) {
            return gz;
        }
        throw new NoSuchFileException(plain.toString(), null, "neither " + base + " nor " + base + ".gz is in " + dir
                + (dir.equals(DEBIAN_DIR) ? " (install it with: apt-get install dataset-fashion-mnist)" : ""));
    }
}

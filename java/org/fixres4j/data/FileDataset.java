package org.fixres4j.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A dataset of image files with one label each, as the folder and CSV readers ({@link ImageFolder},
 * {@link CsvImageList}) build it. Immutable.
 */
public final class FileDataset implements Dataset {
    private final Path[] paths;
    private final int[] labels;
    private final List<String> classNames;
    private final String description;
    private final int ignoredFiles;

    /**
     * @param paths the image files, in sample order
     * @param labels one label per file, each in 0..classNames.size()-1
     * @param classNames the class names
     * @param description the one-line description {@link #describe()} returns
     * @param ignoredFiles files the reader passed over (not images), for reports
     */
    public FileDataset(List<Path> paths, int[] labels, List<String> classNames, String description,
                       int ignoredFiles) {
        Objects.requireNonNull(paths, "paths");
        Objects.requireNonNull(labels, "labels");
        this.classNames = List.copyOf(classNames);
        if (paths.size() != labels.length) {
            throw new IllegalArgumentException(paths.size() + " paths but " + labels.length + " labels");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= this.classNames.size()) {
                throw new IllegalArgumentException("label " + labels[i] + " of " + paths.get(i) + " is outside 0.."
                        + (this.classNames.size() - 1));
            }
        }
        this.paths = paths.toArray(new Path[0]);
        this.labels = labels.clone();
        this.description = Objects.requireNonNull(description, "description");
        this.ignoredFiles = ignoredFiles;
    }

    @Override
    public int size() {
        return paths.length;
    }

    @Override
    public Sample get(int index) {
        Objects.checkIndex(index, paths.length);
        return Sample.ofFile(paths[index], labels[index]);
    }

    @Override
    public int label(int index) {
        return labels[Objects.checkIndex(index, labels.length)];
    }

    @Override
    public int[] labels() {
        return labels.clone();
    }

    /** The file of sample {@code index}. */
    public Path path(int index) {
        return paths[Objects.checkIndex(index, paths.length)];
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    /** Files the reader passed over because their extension is not an image extension. */
    public int ignoredFiles() {
        return ignoredFiles;
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

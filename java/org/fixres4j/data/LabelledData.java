package org.fixres4j.data;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A labelled evaluation dataset opened as {@code eval} and {@code recommend} open it: one of the layouts
 * (imagefolder, imagenetv2, fashion-mnist, csv), its labels mapped onto the model's class order (an explicit class
 * list, or the model's class names from its metadata), limited to a subset, with ImageNet ReaL labels aligned.
 *
 * @param path the dataset folder or CSV file
 * @param dataset the (limited) dataset
 * @param layout the layout's canonical name
 * @param real the aligned ReaL labels, or null
 * @param limit the image limit, or null
 * @param limitMode the limit mode's spelling when limited, else null
 * @param realPath the ReaL labels file, or null
 * @param classList whether an explicit class list named the classes
 */
public record LabelledData(Path path, Dataset dataset, String layout, RealLabels.Aligned real, Integer limit,
                           String limitMode, Path realPath, boolean classList) {
    /**
     * How to open a dataset.
     *
     * @param layout imagefolder, imagenetv2, fashion-mnist or csv (spelling variants accepted)
     * @param classList class names in the model's order, one a line, or null
     * @param split fashion-mnist's split, test or train
     * @param realLabels ImageNet ReaL labels (real.json), or null
     * @param limit the number of images to keep, or null for all
     * @param limitMode stratified or first
     * @param seed the seed of the stratified subset
     */
    public record Spec(String layout, Path classList, String split, Path realLabels, Integer limit, String limitMode,
                       long seed) {
        /** The subset rule. */
        public Subsets.Mode mode() {
            return switch (limitMode.toLowerCase(Locale.ROOT)) {
                case "stratified" -> Subsets.Mode.STRATIFIED;
                case "first" -> Subsets.Mode.FIRST;
                default -> throw new IllegalArgumentException("--limit-mode must be stratified or first, got '"
                        + limitMode + "'");
            };
        }

        /** The layout's canonical name. */
        public String layoutName() {
            String l = layout.toLowerCase(Locale.ROOT).replace("_", "-");
            return switch (l) {
                case "imagefolder", "image-folder", "folder" -> "imagefolder";
                case "imagenetv2", "imagenet-v2" -> "imagenetv2";
                case "fashion-mnist", "fashionmnist" -> "fashion-mnist";
                case "csv" -> "csv";
                default -> throw new IllegalArgumentException("--layout must be imagefolder, imagenetv2, "
                        + "fashion-mnist or csv, got '" + layout + "'");
            };
        }
    }

    /**
     * Reads the dataset, applies the limit, reads and aligns the ReaL labels. Without a class list, folder or CSV label
     * names that are all among the model's class names take the model's indices (said on {@code warn}); names that are
     * not the model's get a warning.
     *
     * @param modelClasses the model's class names (from its metadata), or an empty list
     * @param modelFile the file that named them, for the message
     */
    public static LabelledData open(Path data, Spec d, List<String> modelClasses, Path modelFile, PrintStream warn)
            throws IOException {
        String layout = d.layoutName();
        Subsets.Mode mode = d.mode();
        if (d.limit() != null && d.limit() < 1) {
            throw new IllegalArgumentException("--limit must be >= 1, got " + d.limit());
        }
        if (!Files.exists(data)) {
            throw new IllegalArgumentException("no such dataset " + (layout.equals("csv") ? "file" : "folder")
                    + ": " + data);
        }
        if (layout.equals("csv") && Files.isDirectory(data)) {
            throw new IllegalArgumentException("--layout csv expects a CSV file of path,label rows, but " + data
                    + " is a folder (for one sub-folder per class use --layout imagefolder)");
        }
        if (!layout.equals("csv") && !Files.isDirectory(data)) {
            throw new IllegalArgumentException("--layout " + layout + " expects a folder, but " + data + " is a file"
                    + (data.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".csv")
                    ? " (for a CSV of path,label rows use --layout csv)" : ""));
        }
        List<String> classNames = d.classList() == null ? null : readClassList(d.classList());
        Dataset ds = read(data, layout, d, classNames);
        if (classNames == null && !modelClasses.isEmpty() && (layout.equals("imagefolder") || layout.equals("csv"))
                && !ds.classNames().equals(modelClasses.subList(0, Math.min(ds.numClasses(), modelClasses.size())))
                && modelClasses.containsAll(ds.classNames())) {
            ds = read(data, layout, d, modelClasses);
            warn.println("fixres: label names mapped to the model's class indices (class names from "
                    + modelFile + "'s metadata)");
        } else if (!modelClasses.isEmpty() && !numbered(ds.classNames())
                && !ds.classNames().equals(modelClasses.subList(0, Math.min(ds.numClasses(), modelClasses.size())))) {
            warn.println("fixres: warning: the dataset's classes " + abbreviate(ds.classNames()) + " are not the "
                    + "model's " + abbreviate(modelClasses) + ": label c is the dataset's c-th class");
        }
        ds = Subsets.limit(ds, d.limit() == null ? -1 : d.limit(), mode, d.seed());
        RealLabels.Aligned real = null;
        if (d.realLabels() != null) {
            real = RealLabels.read(d.realLabels()).align(ds);
        }
        return new LabelledData(data, ds, layout, real, d.limit(), d.limit() == null ? null : d.limitMode(),
                d.realLabels(), classNames != null);
    }

    private static Dataset read(Path data, String layout, Spec d, List<String> classNames) throws IOException {
        return switch (layout) {
            case "imagefolder" -> classNames == null ? ImageFolder.read(data) : ImageFolder.read(data, classNames);
            case "imagenetv2" -> classNames == null ? ImageFolder.readImageNetV2(data)
                    : ImageFolder.readImageNetV2(data, classNames);
            case "fashion-mnist" -> FashionMnist.read(data, switch (d.split().toLowerCase(Locale.ROOT)) {
                case "test" -> FashionMnist.Split.TEST;
                case "train" -> FashionMnist.Split.TRAIN;
                default -> throw new IllegalArgumentException("--split must be test or train, got '" + d.split()
                        + "'");
            });
            case "csv" -> CsvImageList.read(data, classNames);
            default -> throw new IllegalStateException(layout);
        };
    }

    /** Class names, one a line (blank lines skipped). */
    public static List<String> readClassList(Path file) throws IOException {
        List<String> names = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String s = line.strip();
            if (!s.isEmpty()) {
                names.add(s);
            }
        }
        if (names.isEmpty()) {
            throw new IOException(file + " lists no class names");
        }
        return names;
    }

    /** Whether the names are "0", "1", ... (a layout's default names, not real ones). */
    private static boolean numbered(List<String> names) {
        for (int i = 0; i < names.size(); i++) {
            if (!names.get(i).equals(Integer.toString(i))) {
                return false;
            }
        }
        return true;
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 6 ? names.toString()
                : "[" + String.join(", ", names.subList(0, 5)) + ", ... (" + names.size() + ")]";
    }
}

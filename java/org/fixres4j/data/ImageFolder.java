package org.fixres4j.data;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Readers for datasets laid out as one folder per class.
 *
 * <p><b>ImageNet style</b> ({@link #read(Path)}, torchvision's {@code ImageFolder}): every sub-folder of the root is a
 * class (the synset, {@code n01440764}); classes are sorted by name as Python's {@code sorted()} sorts strings (by
 * Unicode code point), so label 0 is the first name. The ImageNet validation set in this layout gives the standard
 * 0..999 labels. With {@link #read(Path, List)} the folder names are looked up in a given class list instead (a
 * validation subset that holds only some synsets keeps the 1000-class labels).
 *
 * <p><b>ImageNet-V2</b> ({@link #readImageNetV2(Path)}): class folders are named "0".."999" and the label is the
 * integer value of the name. Sorting the names as strings ("0", "1", "10", "100", ...) would mislabel them.
 *
 * <p>Files: those whose extension is one of {@link #IMAGE_EXTENSIONS}, case-insensitively, found in the class folder
 * and its sub-folders (symbolic links followed), in torchvision's order: folders sorted by relative path, files by
 * name within each folder, both by code point. Other files are counted ({@link FileDataset#ignoredFiles()}) and
 * skipped. A class folder without images is an error, as in torchvision. A file with an image extension is a sample
 * even when it cannot be read (a FIFO, a file over the size or pixel limit, a GIF named {@code .jpg}): listing only
 * reads attributes, never opens it; the loader then counts, lists and skips it by name (docs/INPUT-FORMATS.md).
 */
public final class ImageFolder {
    /** Image file extensions, lower case, without the dot. */
    public static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png", "webp", "bmp");

    /** Strings in Python's {@code sorted()} order: by Unicode code point (not UTF-16 unit). */
    public static final Comparator<String> PYTHON_ORDER = ImageFolder::compareCodePoints;

    private ImageFolder() {}

    /** An ImageNet-style folder: classes are the sorted sub-folder names. */
    public static FileDataset read(Path root) throws IOException {
        List<String> classes = classFolders(root);
        if (classes.isEmpty()) {
            throw new IOException("no class folders in " + root + ": expected one sub-folder per class");
        }
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < classes.size(); i++) {
            index.put(classes.get(i), i);
        }
        return collect(root, classes, classes, index, "image_folder");
    }

    /**
     * An ImageNet-style folder whose sub-folder names are looked up in {@code classNames} (e.g. the 1000 synsets);
     * a folder that is not in the list is an error.
     */
    public static FileDataset read(Path root, List<String> classNames) throws IOException {
        Map<String, Integer> index = indexOf(classNames);
        List<String> folders = classFolders(root);
        for (String f : folders) {
            if (!index.containsKey(f)) {
                throw new IOException("class folder '" + f + "' of " + root + " is not one of the "
                        + classNames.size() + " given class names");
            }
        }
        return collect(root, folders, classNames, index, "image_folder");
    }

    /** ImageNet-V2 (folders "0".."999", label = the integer), with class names "0".."999". */
    public static FileDataset readImageNetV2(Path root) throws IOException {
        List<String> names = new ArrayList<>(1000);
        for (int i = 0; i < 1000; i++) {
            names.add(Integer.toString(i));
        }
        return readImageNetV2(root, names);
    }

    /**
     * ImageNet-V2 with the given class names (e.g. the sorted synsets): folder "c" holds class {@code c}, which must
     * be below {@code classNames.size()}. Samples are ordered by label, then as the files are sorted.
     */
    public static FileDataset readImageNetV2(Path root, List<String> classNames) throws IOException {
        List<String> folders = classFolders(root);
        if (folders.isEmpty()) {
            throw new IOException("no class folders in " + root + ": ImageNet-V2 has folders 0..999");
        }
        Map<String, Integer> index = new HashMap<>();
        Map<Integer, String> seen = new HashMap<>();
        for (String f : folders) {
            int label = parseClassIndex(f);
            if (label < 0) {
                throw new IOException("ImageNet-V2 class folders must be named by their class index (0.."
                        + (classNames.size() - 1) + "), found '" + f + "' in " + root);
            }
            if (label >= classNames.size()) {
                throw new IOException("ImageNet-V2 class folder '" + f + "' of " + root + " is outside 0.."
                        + (classNames.size() - 1));
            }
            String other = seen.put(label, f);
            if (other != null) {
                throw new IOException("ImageNet-V2 folders '" + other + "' and '" + f + "' of " + root
                        + " both name class " + label);
            }
            index.put(f, label);
        }
        List<String> byLabel = new ArrayList<>(folders);
        byLabel.sort(Comparator.comparingInt(index::get));
        return collect(root, byLabel, classNames, index, "imagenet_v2");
    }

    /** Whether a file name has an image extension (case-insensitive). */
    public static boolean isImageFile(String fileName) {
        int dot = fileName.lastIndexOf('.');
        return dot >= 0 && IMAGE_EXTENSIONS.contains(fileName.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /**
     * The image files under {@code dir} (sub-folders included, links followed) in torchvision's order; other files
     * are added to {@code ignored} when it is not null.
     */
    public static List<Path> listImages(Path dir, int[] ignored) throws IOException {
        // one walk: directories and their files, with the attributes the walk already read (no extra stat a file)
        Map<Path, List<String>> filesByDir = new HashMap<>();
        Files.walkFileTree(dir, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE,
                new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                        filesByDir.put(d, new ArrayList<>());
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
                        filesByDir.get(f.getParent()).add(f.getFileName().toString());
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
                        if (e instanceof FileSystemLoopException) {
                            throw new IOException("symbolic-link loop under " + dir + ": " + f, e);
                        }
                        throw new IOException("cannot list " + f + ": " + e.getMessage(), e);
                    }
                });
        List<Path> dirs = new ArrayList<>(filesByDir.keySet());
        dirs.sort((a, b) -> compareCodePoints(relative(dir, a), relative(dir, b)));
        List<Path> out = new ArrayList<>();
        for (Path d : dirs) {
            List<String> files = filesByDir.get(d);
            files.sort(PYTHON_ORDER);
            for (String f : files) {
                if (isImageFile(f)) {
                    out.add(d.resolve(f));
                } else if (ignored != null) {
                    ignored[0]++;
                }
            }
        }
        return out;
    }

    /** The names of the sub-folders of {@code root}, sorted as Python sorts strings. */
    public static List<String> classFolders(Path root) throws IOException {
        if (!Files.exists(root)) {
            throw new NoSuchFileException(root.toString(), null, "dataset folder does not exist");
        }
        if (!Files.isDirectory(root)) {
            throw new NotDirectoryException(root.toString());
        }
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                if (Files.isDirectory(p)) {
                    names.add(p.getFileName().toString());
                }
            }
        }
        names.sort(PYTHON_ORDER);
        return names;
    }

    private static FileDataset collect(Path root, List<String> folders, List<String> classNames,
                                       Map<String, Integer> index, String kind) throws IOException {
        List<Path> paths = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        int[] ignored = {0};
        List<String> empty = new ArrayList<>();
        for (String f : folders) {
            List<Path> files = listImages(root.resolve(f), ignored);
            if (files.isEmpty()) {
                empty.add(f);
            }
            int label = index.get(f);
            for (Path p : files) {
                paths.add(p);
                labels.add(label);
            }
        }
        if (!empty.isEmpty()) {
            throw new IOException("class folder" + (empty.size() == 1 ? " " : "s ") + "'" + String.join("', '",
                    empty.subList(0, Math.min(5, empty.size()))) + "'" + (empty.size() > 5 ? " (and "
                    + (empty.size() - 5) + " more)" : "") + " of " + root + " hold" + (empty.size() == 1 ? "s" : "")
                    + " no image file (extensions: jpg, jpeg, png, webp, bmp)");
        }
        int[] l = labels.stream().mapToInt(Integer::intValue).toArray();
        String d = kind + "(" + root + ", " + paths.size() + " images, " + folders.size() + " class folders, "
                + classNames.size() + " classes)";
        return new FileDataset(paths, l, classNames, d, ignored[0]);
    }

    private static Map<String, Integer> indexOf(List<String> classNames) {
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < classNames.size(); i++) {
            if (index.put(classNames.get(i), i) != null) {
                throw new IllegalArgumentException("class name '" + classNames.get(i) + "' appears twice");
            }
        }
        return index;
    }

    /** The value of a folder name made of ASCII digits only (leading zeros allowed), or -1. */
    static int parseClassIndex(String name) {
        if (name.isEmpty() || name.length() > 9) {
            return -1;
        }
        int v = 0;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static String relative(Path base, Path p) {
        String r = base.relativize(p).toString();
        return p.getFileSystem().getSeparator().equals("/") ? r : r.replace(p.getFileSystem().getSeparator(), "/");
    }

    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

}

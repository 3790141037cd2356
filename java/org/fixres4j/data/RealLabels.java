package org.fixres4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.fixres4j.io.Json;

/**
 * The ImageNet "ReaL" labels (Beyer et al. 2020, {@code real.json} of google-research/reassessed-imagenet, also
 * timm's {@code imagenet_real_labels.json}): a JSON array of 50,000 lists of class indices (standard 0..999 order);
 * entry {@code i} belongs to {@code ILSVRC2012_val_<i+1, 8 digits>.JPEG}.
 *
 * <p>Samples are matched by file base name, as timm's {@code RealLabelsImagenet} does. A base name must be
 * {@code ILSVRC2012_val_NNNNNNNN} followed by an extension; the extension's case and kind are not checked, so a copy
 * converted to PNG still matches. {@link #align(Dataset)} gives each dataset index its list. Images with an empty list
 * are not scored (the metric in {@code org.fixres4j.eval.RealAccuracy} skips and counts them).
 */
public final class RealLabels {
    private static final Pattern VAL_NAME = Pattern.compile("ILSVRC2012_val_(\\d{8})\\.[A-Za-z0-9]+");

    private final int[][] labels;
    private final Path source;

    private RealLabels(int[][] labels, Path source) {
        this.labels = labels;
        this.source = source;
    }

    /** Reads {@code real.json}; every entry must be a list of integers 0..999. */
    public static RealLabels read(Path json) throws IOException {
        org.fixres4j.image.ImageFiles.requireRegularFile(json, "ReaL labels");
        Object root;
        try {
            root = Json.read(json);
        } catch (Json.ParseException e) {
            throw new IOException(json + ": " + e.getMessage(), e);
        }
        return of(root, json);
    }

    /** Parses the JSON text of {@code real.json} (for tests and in-memory copies). */
    public static RealLabels parse(String jsonText) {
        try {
            return of(Json.parse(jsonText), null);
        } catch (IOException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private static RealLabels of(Object root, Path source) throws IOException {
        String where = source == null ? "ReaL labels" : source.toString();
        if (!(root instanceof List<?> list)) {
            throw new IOException(where + ": expected a JSON array of label lists at the top level");
        }
        int[][] labels = new int[list.size()][];
        for (int i = 0; i < labels.length; i++) {
            if (!(list.get(i) instanceof List<?> entry)) {
                throw new IOException(where + ": entry " + i + " (" + fileName(i) + ") is not a list");
            }
            int[] l = new int[entry.size()];
            for (int j = 0; j < l.length; j++) {
                Object v = entry.get(j);
                if (!(v instanceof Long n) || n < 0 || n > 999) {
                    throw new IOException(where + ": entry " + i + " (" + fileName(i) + ") holds " + v
                            + ", not a class index 0..999");
                }
                l[j] = n.intValue();
            }
            labels[i] = l;
        }
        return new RealLabels(labels, source);
    }

    /** The validation file name of entry {@code i}: {@code ILSVRC2012_val_<i+1, 8 digits>.JPEG}. */
    public static String fileName(int i) {
        return String.format("ILSVRC2012_val_%08d.JPEG", i + 1);
    }

    /** The number of entries (50,000 for the real file). */
    public int size() {
        return labels.length;
    }

    /** The labels of entry {@code i} (a copy; empty when the raters found no label). */
    public int[] labels(int i) {
        return labels[i].clone();
    }

    /** Entries with an empty list (3,163 in the real file). */
    public int emptyCount() {
        int n = 0;
        for (int[] l : labels) {
            if (l.length == 0) {
                n++;
            }
        }
        return n;
    }

    /**
     * The entry index a base name belongs to, or -1 when the name is not {@code ILSVRC2012_val_NNNNNNNN.<ext>} or
     * its number is outside 1..size().
     */
    public int indexOf(String baseName) {
        Matcher m = VAL_NAME.matcher(baseName);
        if (!m.matches()) {
            return -1;
        }
        int n = Integer.parseInt(m.group(1));
        return n >= 1 && n <= labels.length ? n - 1 : -1;
    }

    /**
     * The ReaL labels of every sample of {@code dataset}, by dataset index.
     *
     * @throws IllegalArgumentException naming the first samples whose base name does not match (with how many do
     *         not), or two samples with the same entry
     */
    public Aligned align(Dataset dataset) {
        int n = dataset.size();
        int[][] out = new int[n][];
        int unmatched = 0;
        StringBuilder examples = new StringBuilder();
        Map<Integer, Integer> seen = new HashMap<>();
        for (int i = 0; i < n; i++) {
            Sample s = dataset.get(i);
            int e = indexOf(s.baseName());
            if (e < 0) {
                if (unmatched++ < 3) {
                    examples.append(examples.length() == 0 ? "" : ", ").append('\'').append(s.name()).append('\'');
                }
                continue;
            }
            Integer other = seen.put(e, i);
            if (other != null) {
                throw new IllegalArgumentException("samples " + dataset.get(other).name() + " and " + s.name()
                        + " both match ReaL entry " + fileName(e));
            }
            out[i] = labels[e];
        }
        if (unmatched > 0) {
            throw new IllegalArgumentException(unmatched + " of " + n + " samples of " + dataset.describe()
                    + " have no ReaL labels: their file names are not ILSVRC2012_val_NNNNNNNN.JPEG with NNNNNNNN in 1.."
                    + labels.length + " (e.g. " + examples + "); ReaL labels exist only for the ImageNet-1k "
                    + "validation set" + (source == null ? "" : " (" + source + ")"));
        }
        return new Aligned(out);
    }

    /** ReaL labels indexed like a dataset. */
    public static final class Aligned {
        private final int[][] labels;

        private Aligned(int[][] labels) {
            this.labels = labels;
        }

        /** The number of samples. */
        public int size() {
            return labels.length;
        }

        /** The labels of dataset sample {@code index}; empty when the sample is not scored. Do not modify. */
        public int[] of(int index) {
            return labels[index];
        }

        /** Samples with an empty list (skipped by ReaL scoring). */
        public int emptyCount() {
            int n = 0;
            for (int[] l : labels) {
                if (l.length == 0) {
                    n++;
                }
            }
            return n;
        }
    }
}

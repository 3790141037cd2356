package org.fixres4j.data;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * A dataset listed in a CSV file of {@code path,label} rows (RFC 4180: comma-separated, fields optionally in double
 * quotes, {@code ""} for a quote inside a quoted field, commas and line breaks allowed inside quotes; UTF-8, an
 * optional byte-order mark, LF or CRLF line ends).
 * <ul>
 *   <li><b>Header:</b> the first row is a header when its two fields are {@code path} and {@code label} (any case,
 *       surrounding spaces ignored); otherwise it is data.</li>
 *   <li><b>Paths</b> are relative to the CSV file's folder unless absolute. Each must name an existing file (checked
 *       when reading, so a typo fails at once with its line).</li>
 *   <li><b>Labels</b> are class indices (non-negative integers) when every label is one; the class names are then
 *       {@code "0"..max} unless given. Otherwise every label is a class name: the classes are the distinct names,
 *       sorted as Python sorts strings, unless a class list is given (then an unknown name is an error).</li>
 *   <li>Blank lines are skipped. Every error names the file and the 1-based line where the offending row starts.</li>
 * </ul>
 */
public final class CsvImageList {
    private CsvImageList() {}

    /** A CSV dataset whose classes come from the labels themselves. */
    public static FileDataset read(Path csv) throws IOException {
        return read(csv, null);
    }

    /**
     * A CSV dataset whose labels are indices into, or names from, {@code classNames} (null: derived from the
     * labels).
     */
    public static FileDataset read(Path csv, List<String> classNames) throws IOException {
        org.fixres4j.image.ImageFiles.requireRegularFile(csv, "CSV list");
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(csv)))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IOException(csv + " is not UTF-8 text", e);
        }
        List<Row> rows = parse(text, csv);
        if (!rows.isEmpty() && isHeader(rows.get(0))) {
            rows.remove(0);
        }
        if (rows.isEmpty()) {
            throw new IOException(csv + " has no data rows (expected path,label rows)");
        }
        Path dir = csv.toAbsolutePath().getParent();
        List<Path> paths = new ArrayList<>(rows.size());
        for (Row r : rows) {
            if (r.fields.size() != 2) {
                throw error(csv, r.line, "expected 2 fields (path,label), got " + r.fields.size());
            }
            String p = r.fields.get(0);
            if (p.isEmpty()) {
                throw error(csv, r.line, "empty path");
            }
            Path path;
            try {
                path = dir.resolve(p);
            } catch (java.nio.file.InvalidPathException e) {
                throw error(csv, r.line, "invalid path '" + p + "': " + e.getReason());
            }
            if (!Files.exists(path)) {
                throw error(csv, r.line, "no such file: " + path);
            }
            if (Files.isDirectory(path)) {
                throw error(csv, r.line, "a directory, not an image file: " + path);
            }
            // anything else that exists (a FIFO, a device) is a sample: loading it fails, and it is counted,
            // listed and skipped like an undecodable file
            paths.add(path);
        }
        boolean numeric = true;
        for (Row r : rows) {
            if (ImageFolder.parseClassIndex(r.fields.get(1).trim()) < 0) {
                numeric = false;
                break;
            }
        }
        int[] labels = new int[rows.size()];
        List<String> classes;
        if (numeric) {
            int max = -1;
            for (int i = 0; i < labels.length; i++) {
                labels[i] = ImageFolder.parseClassIndex(rows.get(i).fields.get(1).trim());
                max = Math.max(max, labels[i]);
            }
            if (classNames != null) {
                classes = classNames;
                for (int i = 0; i < labels.length; i++) {
                    if (labels[i] >= classes.size()) {
                        throw error(csv, rows.get(i).line, "label " + labels[i] + " is outside 0.."
                                + (classes.size() - 1) + " (" + classes.size() + " classes given)");
                    }
                }
            } else {
                classes = new ArrayList<>();
                for (int c = 0; c <= max; c++) {
                    classes.add(Integer.toString(c));
                }
            }
        } else {
            if (classNames != null) {
                classes = classNames;
            } else {
                TreeSet<String> names = new TreeSet<>(ImageFolder.PYTHON_ORDER);
                for (Row r : rows) {
                    names.add(r.fields.get(1).trim());
                }
                classes = new ArrayList<>(names);
            }
            Map<String, Integer> index = new HashMap<>();
            for (int c = 0; c < classes.size(); c++) {
                index.putIfAbsent(classes.get(c), c);
            }
            for (int i = 0; i < labels.length; i++) {
                String name = rows.get(i).fields.get(1).trim();
                Integer c = index.get(name);
                if (name.isEmpty()) {
                    throw error(csv, rows.get(i).line, "empty label");
                }
                if (c == null) {
                    throw error(csv, rows.get(i).line, "label '" + name + "' is not one of the " + classes.size()
                            + " given class names");
                }
                labels[i] = c;
            }
        }
        String d = "csv(" + csv + ", " + paths.size() + " images, " + classes.size() + " classes)";
        return new FileDataset(paths, labels, classes, d, 0);
    }

    private static boolean isHeader(Row r) {
        return r.fields.size() == 2 && r.fields.get(0).trim().toLowerCase(Locale.ROOT).equals("path")
                && r.fields.get(1).trim().toLowerCase(Locale.ROOT).equals("label");
    }

    /** One parsed row and the line it starts on. */
    record Row(int line, List<String> fields) {}

    /** Splits CSV text into rows of fields (RFC 4180), skipping blank lines. */
    static List<Row> parse(String text, Path csv) throws IOException {
        List<Row> rows = new ArrayList<>();
        int i = text.startsWith("\uFEFF") ? 1 : 0;
        int line = 1;
        int n = text.length();
        while (i < n) {
            int rowLine = line;
            List<String> fields = new ArrayList<>();
            StringBuilder field = new StringBuilder();
            boolean rowDone = false;
            boolean blank = true;
            while (!rowDone) {
                // one field
                if (i < n && text.charAt(i) == '"') {
                    blank = false;
                    int quoteLine = line;
                    i++;
                    while (true) {
                        if (i >= n) {
                            throw error(csv, quoteLine, "unterminated quoted field");
                        }
                        char c = text.charAt(i);
                        if (c == '"') {
                            if (i + 1 < n && text.charAt(i + 1) == '"') {
                                field.append('"');
                                i += 2;
                            } else {
                                i++;
                                break;
                            }
                        } else {
                            if (c == '\n') {
                                line++;
                            }
                            field.append(c);
                            i++;
                        }
                    }
                    // after the closing quote: a separator, a line end or the end of the text
                    if (i < n && text.charAt(i) != ',' && text.charAt(i) != '\n' && text.charAt(i) != '\r') {
                        throw error(csv, line, "unexpected character '" + text.charAt(i)
                                + "' after a closing quote (a quote inside a quoted field is written \"\")");
                    }
                } else {
                    while (i < n) {
                        char c = text.charAt(i);
                        if (c == ',' || c == '\n' || c == '\r') {
                            break;
                        }
                        if (c == '"') {
                            throw error(csv, line, "a quote inside an unquoted field (quote the whole field and "
                                    + "write the quote as \"\")");
                        }
                        field.append(c);
                        i++;
                    }
                }
                fields.add(field.toString());
                field.setLength(0);
                if (i >= n) {
                    rowDone = true;
                } else if (text.charAt(i) == ',') {
                    blank = false;
                    i++;
                } else {
                    // line end: \n, \r\n or a lone \r
                    if (text.charAt(i) == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') {
                        i++;
                    }
                    i++;
                    line++;
                    rowDone = true;
                }
            }
            if (blank && fields.size() == 1 && fields.get(0).isBlank()) {
                continue;
            }
            rows.add(new Row(rowLine, fields));
        }
        return rows;
    }

    private static IOException error(Path csv, int line, String message) {
        return new IOException(csv + ", line " + line + ": " + message);
    }
}

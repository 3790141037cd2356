package org.fixres4j.weights;

/**
 * Renders keys and values read from an untrusted weight file for error messages and notes: bounded in length, control
 * characters escaped, and never by calling {@code toString()} on a container (a crafted pickle can make a list that
 * holds itself, whose {@code toString()} recurses until the stack overflows).
 */
public final class Keys {
    /** The longest rendering of one key, in characters (longer keys are cut with {@code ...}). */
    public static final int MAX_LENGTH = 120;

    private Keys() {}

    /** A string key quoted, escaped and cut; anything else by its type and size ({@code tuple of 2}). */
    public static String render(Object key) {
        if (key instanceof String s) {
            return quote(s);
        }
        if (key == null || key instanceof Number || key instanceof Boolean) {
            return String.valueOf(key);
        }
        return TorchPickle.describe(key); // type and size only: never recurses
    }

    /** {@link #render} without the quotes around a string key (for lists of keys in notes). */
    public static String plain(Object key) {
        if (key instanceof String s) {
            String q = quote(s);
            int end = q.lastIndexOf('\'');
            return q.substring(1, end) + q.substring(end + 1);
        }
        return render(key);
    }

    /** A string in single quotes, control and non-ASCII characters escaped as {@code \\uXXXX}, cut at the limit. */
    public static String quote(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_LENGTH) + 8).append('\'');
        int n = Math.min(s.length(), MAX_LENGTH);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '\'' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7F || (c >= 0x80 && !Character.isLetterOrDigit(c))) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        b.append('\'');
        if (s.length() > MAX_LENGTH) {
            b.append("... (").append(s.length()).append(" characters)");
        }
        return b.toString();
    }
}

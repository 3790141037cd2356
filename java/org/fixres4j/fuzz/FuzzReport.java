package org.fixres4j.fuzz;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Tallies of one fuzz run, per family of entry points, and the optional record of every input tried (one
 * tab-separated line per set: family, set number, what was mutated, outcome).
 */
public final class FuzzReport implements AutoCloseable {
    /** Counts of one family. */
    public static final class Family {
        final String name;
        long sets;
        long valid;
        long accepted;
        long broken;
        long rejected;
        final List<String> wrong = new ArrayList<>();
        long wrongCount;
        final Map<String, Long> outcomes = new TreeMap<>();

        Family(String name) {
            this.name = name;
        }

        public long sets() {
            return sets;
        }

        public long wrongCount() {
            return wrongCount;
        }
    }

    private final Map<String, Family> families = new TreeMap<>();
    private final BufferedWriter log;

    FuzzReport(Path logFile) throws IOException {
        if (logFile != null) {
            Path parent = logFile.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8);
            log.write("# family\tset\tinput\toutcome\n");
        } else {
            log = null;
        }
    }

    Family family(String name) {
        return families.computeIfAbsent(name, Family::new);
    }

    /** A set that broke no rule: it must have been accepted. */
    void valid(String family, long set, String input, boolean ok, String outcome) {
        Family f = family(family);
        f.sets++;
        f.valid++;
        if (ok) {
            f.accepted++;
        }
        record(f, set, input, ok, outcome);
    }

    /** A set that broke at least one rule: it must have been rejected (a status code or a Java exception). */
    void broken(String family, long set, String input, boolean rejected, boolean ok, String outcome) {
        Family f = family(family);
        f.sets++;
        f.broken++;
        if (rejected) {
            f.rejected++;
        }
        record(f, set, input, ok, outcome);
    }

    /** A set whose validity is not known in advance (a mutated file): either outcome is fine unless !ok. */
    void either(String family, long set, String input, boolean accepted, boolean ok, String outcome) {
        Family f = family(family);
        f.sets++;
        if (accepted) {
            f.accepted++;
        } else {
            f.rejected++;
        }
        record(f, set, input, ok, outcome);
    }

    private void record(Family f, long set, String input, boolean ok, String outcome) {
        String kind = outcome.contains(":") ? outcome.substring(0, outcome.indexOf(':')) : outcome;
        f.outcomes.merge(kind, 1L, Long::sum);
        if (!ok) {
            f.wrongCount++;
            if (f.wrong.size() < 20) {
                f.wrong.add("set " + set + " [" + input + "]: " + outcome);
            }
        }
        if (log != null) {
            try {
                log.write(f.name + "\t" + set + "\t" + oneLine(input) + "\t" + (ok ? "" : "WRONG ")
                        + oneLine(outcome) + "\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Tabs and line breaks (also \r, which some native messages end with) become spaces: one line per set. */
    private static String oneLine(String s) {
        return s.replaceAll("[\\t\\n\\r\\x0B\\f\\u0085\\u2028\\u2029]", " ");
    }

    public Map<String, Family> families() {
        return families;
    }

    public long totalSets() {
        return families.values().stream().mapToLong(f -> f.sets).sum();
    }

    public long totalWrong() {
        return families.values().stream().mapToLong(f -> f.wrongCount).sum();
    }

    /** The summary printed at the end of a run (FuzzChildJvmTest and the CI step parse its last line). */
    public List<String> summary() {
        List<String> lines = new ArrayList<>();
        for (Family f : families.values()) {
            lines.add(String.format("%-22s sets %7d: valid %6d (accepted %6d), rule-breaking %6d (rejected %6d),"
                    + " wrong %d  outcomes %s", f.name, f.sets, f.valid, f.accepted, f.broken, f.rejected,
                    f.wrongCount, f.outcomes));
            for (String w : f.wrong) {
                lines.add("  WRONG " + w);
            }
        }
        lines.add("fuzz summary: sets " + totalSets() + ", wrong " + totalWrong() + ", crashes 0");
        return lines;
    }

    @Override
    public void close() throws IOException {
        if (log != null) {
            log.close();
        }
    }
}

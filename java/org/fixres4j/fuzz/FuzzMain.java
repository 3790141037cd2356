package org.fixres4j.fuzz;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The fuzz run: random argument sets for every native entry point, at the raw JNI level ({@link JniFuzz}) and the
 * typed API level ({@link ApiFuzz}), and random mutations of valid JPEG, PNG, safetensors and pickle files for the
 * decoders and readers ({@link FileFuzz}). Meant to run in its own JVM (a crash must not take the caller down):
 * FuzzChildJvmTest spawns it, {@code fixres fuzz} runs it in the CLI's JVM.
 *
 * <pre>
 * java -cp CLASSPATH org.fixres4j.fuzz.FuzzMain [--seed S] [--iterations N] [--minutes M] [--corpus DIR]
 *      [--log FILE] [--families a,b,...]
 * </pre>
 * N argument sets per entry point and round (file families get N / 10); with --minutes, rounds with consecutive seeds
 * repeat until the time is spent. Exit 0 when every set had the expected outcome, 1 otherwise, 3 on a hang, 4
 * when the run itself failed (a bad option, an unreadable corpus); the last
 * line is {@code fuzz summary: sets S, wrong W, crashes 0}.
 */
public final class FuzzMain {
    /** Every family, in run order. */
    public static final List<String> FAMILIES = List.of("jni.preprocess_cpu", "jni.depthwise", "jni.cuda", "jni.misc",
            "api.preprocess_cpu", "api.native_calls", "api.depthwise", "api.cuda", "file.jpeg", "file.png", "file.safetensors",
            "file.pth");

    /** Options of one run. */
    public static final class Options {
        public long seed = 1;
        public long iterations = 10_000;
        public double minutes = 0;
        public Path corpus;
        public Path log;
        public Set<String> families = new LinkedHashSet<>(FAMILIES);
        public long hangSeconds = 60;
    }

    private FuzzMain() {}

    public static void main(String[] args) throws IOException {
        Options o = new Options();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--seed" -> o.seed = Long.parseLong(require(a, v));
                case "--iterations" -> o.iterations = Long.parseLong(require(a, v));
                case "--minutes" -> o.minutes = Double.parseDouble(require(a, v));
                case "--corpus" -> o.corpus = Path.of(require(a, v));
                case "--log" -> o.log = Path.of(require(a, v));
                case "--families" -> o.families = new LinkedHashSet<>(List.of(require(a, v).split(",")));
                default -> {
                    System.err.println("usage: FuzzMain [--seed S] [--iterations N] [--minutes M] [--corpus DIR] "
                            + "[--log FILE] [--families " + String.join(",", FAMILIES) + "]");
                    System.exit(2);
                }
            }
            i++;
        }
        int status;
        try {
            status = run(o, System.out);
        } catch (Throwable t) {
            System.out.flush();
            System.err.println("fuzz ERROR: the run itself failed: " + t);
            t.printStackTrace();
            status = 4;
        }
        System.exit(status);
    }

    private static String require(String option, String value) {
        if (value == null) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return value;
    }

    /** Runs the fuzz and prints its summary; returns the exit status (0 all as expected, 1 otherwise). */
    public static int run(Options o, java.io.PrintStream out) throws IOException {
        for (String f : o.families) {
            if (!FAMILIES.contains(f)) {
                throw new IllegalArgumentException("unknown fuzz family '" + f + "'; known: " + FAMILIES);
            }
        }
        if (o.iterations < 1) {
            throw new IllegalArgumentException("--iterations must be >= 1, got " + o.iterations);
        }
        long t0 = System.nanoTime();
        long deadline = o.minutes > 0 ? t0 + (long) (o.minutes * 60e9) : 0;
        Path work = Files.createTempDirectory("fixres-fuzz");
        Path saveDir = o.log != null && o.log.toAbsolutePath().getParent() != null
                ? o.log.toAbsolutePath().getParent() : work;
        Watchdog watchdog = new Watchdog(o.hangSeconds, saveDir);
        List<Long> seeds = new ArrayList<>();
        try (FuzzReport report = new FuzzReport(o.log)) {
            long seed = o.seed;
            do {
                seeds.add(seed);
                round(o, seed, report, work, watchdog, out);
                seed++;
            } while (deadline != 0 && System.nanoTime() < deadline);
            double seconds = (System.nanoTime() - t0) / 1e9;
            out.printf("fuzz seeds %s, %d sets per family and round (files: %d), %.1f s%n", seeds, o.iterations,
                    fileIterations(o), seconds);
            for (String line : report.summary()) {
                out.println(line);
            }
            out.flush();
            return report.totalWrong() == 0 ? 0 : 1;
        } finally {
            try (var files = Files.list(work)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(work);
        }
    }

    private static long fileIterations(Options o) {
        return Math.max(1, o.iterations / 10);
    }

    private static void round(Options o, long seed, FuzzReport report, Path work, Watchdog watchdog,
                              java.io.PrintStream out) throws IOException {
        SplittableRandom root = new SplittableRandom(seed);
        long n = o.iterations;
        Set<String> f = o.families;
        // each family its own stream split from the seed, so selecting families does not change the others' inputs
        JniFuzz jni = new JniFuzz(root.split(), report);
        SplittableRandom r2 = root.split();
        SplittableRandom r3 = root.split();
        SplittableRandom r4 = root.split();
        ApiFuzz api = new ApiFuzz(root.split(), report);
        FileFuzz files = new FileFuzz(root.split(), report, work, watchdog);
        if (f.contains("jni.preprocess_cpu")) {
            jni.preprocess(n);
        }
        if (f.contains("jni.depthwise")) {
            new JniFuzz(r2, report).depthwise(2 * n); // forward and backward: ~n each
        }
        if (f.contains("jni.cuda")) {
            new JniFuzz(r3, report).cuda(3 * n); // device count, create, batch: n each
        }
        if (f.contains("jni.misc")) {
            new JniFuzz(r4, report).misc(2 * n); // ISA setter, shape function: n each
        }
        if (f.contains("api.preprocess_cpu")) {
            api.preprocess(n);
        }
        if (f.contains("api.native_calls")) {
            api.nativeCalls(n);
        }
        if (f.contains("api.depthwise")) {
            api.depthwise(n);
        }
        if (f.contains("api.cuda")) {
            api.cuda(n);
        }
        if (f.stream().anyMatch(s -> s.startsWith("file."))) {
            files.loadSeeds(o.corpus);
            out.println("fuzz seed " + seed + ": file seeds " + files.seedCounts());
            long fn = fileIterations(o);
            if (f.contains("file.jpeg")) {
                files.images("jpeg", fn);
            }
            if (f.contains("file.png")) {
                files.images("png", fn);
            }
            if (f.contains("file.safetensors")) {
                files.weights("safetensors", fn);
            }
            if (f.contains("file.pth")) {
                files.weights("pth", fn);
            }
        }
    }
}

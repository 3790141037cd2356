package org.fixres4j.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.fixres4j.fuzz.FuzzMain;
import org.junit.jupiter.api.Test;

/**
 * The fuzz (org.fixres4j.fuzz.FuzzMain) in a child JVM with a fixed seed: every native entry point gets 3,000
 * random argument sets at the raw JNI level and through the typed API, the decoders and readers 300 mutated files
 * per format (CI's tests/ci/50-fuzz.sh runs another seed with 10,000 and 1,000 through {@code fixres fuzz}). A crash is a non-zero exit (a signal) of the child; a wrong outcome (a bad set accepted, a valid set
 * rejected, an output written by a rejected call, an unexpected exception type) exits 1 with WRONG lines.
 */
class FuzzChildJvmTest {
    /** Sets per entry point here (the CI step tests/ci/50-fuzz.sh runs 10,000 through the CLI). */
    static final int ITERATIONS = 3000;
    static final Pattern SUMMARY = Pattern.compile("fuzz summary: sets (\\d+), wrong (\\d+), crashes 0");

    @Test
    void everyBadArgumentSetIsRejectedAndNothingCrashes() throws Exception {
        Path log = Path.of("target", "fuzz", "junit-seed-11.tsv");
        ChildJvm.Result r = ChildJvm.run(List.of("-Xmx1g"), FuzzMain.class,
                List.of("--seed", "11", "--iterations", Integer.toString(ITERATIONS), "--corpus", "tests/data",
                        "--log", log.toString()),
                20);
        // the summary (the decoders' own stderr complaints about mutated files are left out)
        r.output().lines().filter(l -> !l.startsWith("libpng ") && !l.startsWith("[ WARN:")
                && !l.startsWith("Corrupt JPEG") && !l.startsWith("Premature end of JPEG")
                && !(l.startsWith("[ERROR:") && l.contains("grfmt_")))
                .forEach(System.out::println);
        assertEquals(0, r.exit(), "the fuzz JVM exited with " + r.exit() + " (>128: killed by a signal):\n"
                + r.output());
        Matcher m = SUMMARY.matcher(r.output());
        assertTrue(m.find(), "no summary line:\n" + r.output());
        assertEquals(0, Long.parseLong(m.group(2)));
        // every entry point got ITERATIONS argument sets, every file format a tenth as many mutated files
        Matcher f = Pattern.compile("(?m)^(\\S+)\\s+sets\\s+(\\d+):").matcher(r.output());
        java.util.Map<String, Long> sets = new java.util.TreeMap<>();
        while (f.find()) {
            sets.put(f.group(1), Long.parseLong(f.group(2)));
        }
        for (String family : List.of("jni.preprocess_cpu", "jni.depthwise_forward", "jni.depthwise_backward",
                "jni.cuda", "jni.cpu_set_isa", "jni.depthwise_out_size", "api.preprocess_cpu", "api.native_calls",
                "api.depthwise", "api.cuda", "file.decode_jpeg", "file.decode_png", "file.read_safetensors",
                "file.read_pth")) {
            assertTrue(sets.containsKey(family), family + " did not run:\n" + r.output());
            long min = family.startsWith("file.") ? ITERATIONS / 10 : family.equals("jni.cuda") ? 3 * ITERATIONS
                    : ITERATIONS;
            assertTrue(sets.get(family) >= min, family + ": " + sets.get(family) + " sets < " + min);
        }
        // the inputs tried are recorded, one line each
        long lines;
        try (var s = Files.lines(log)) {
            lines = s.filter(l -> !l.startsWith("#")).count();
        }
        assertEquals(Long.parseLong(m.group(1)), lines, "one log line per set");
    }
}

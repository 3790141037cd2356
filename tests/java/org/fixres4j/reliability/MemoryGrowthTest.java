package org.fixres4j.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * 100,000 preprocessing calls and 2,000 inference batches in one JVM stay within +50 MB of resident memory after
 * warm-up. Measured in a child JVM with a fixed, pre-touched heap (MemoryMain); the growth is printed.
 */
class MemoryGrowthTest {
    static final double LIMIT_MB = 50;
    static final Pattern LINE = Pattern.compile("memory (\\w+): warm-up RSS ([\\d.]+) MB, after .* growth (-?[\\d.]+) MB");

    @Test
    void preprocessingAndInferenceDoNotLeak() throws Exception {
        ChildJvm.Result r = ChildJvm.run(List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch"), MemoryMain.class,
                List.of("100000", "2000"), 20);
        System.out.println(r.output());
        assertEquals(0, r.exit(), r.output());
        Matcher m = LINE.matcher(r.output());
        int found = 0;
        while (m.find()) {
            found++;
            double growth = Double.parseDouble(m.group(3));
            assertTrue(growth <= LIMIT_MB, m.group(1) + " grew " + growth + " MB (> " + LIMIT_MB + " MB):\n"
                    + r.output());
        }
        assertEquals(2, found, "expected the preprocess and inference lines:\n" + r.output());
    }
}

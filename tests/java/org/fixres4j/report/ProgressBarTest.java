package org.fixres4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** {@link ProgressBar}: at most one line per 5% in logs, a bar redrawn in place on terminals, rate and ETA. */
class ProgressBarTest {
    private long now;

    private ProgressBar bar(ByteArrayOutputStream out, ProgressBar.Mode mode) {
        return new ProgressBar("eval", new PrintStream(out, true, StandardCharsets.UTF_8), mode, () -> now);
    }

    @Test
    void linesModeWritesAtMostOneLinePerFivePercent() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ProgressBar p = bar(out, ProgressBar.Mode.LINES);
        p.start(10_000);
        for (int i = 0; i < 10_000; i++) {
            now += 1_000_000; // 1 ms per image: 1000 images/s
            p.advance(1);
        }
        p.finish();
        String text = out.toString(StandardCharsets.UTF_8);
        assertFalse(text.contains("\r"), "no carriage returns in logs");
        String[] lines = text.split("\n");
        assertEquals(20, lines.length, text); // 5%..95% and the final line
        assertEquals("eval:   5% 500/10000 images, 1000.0 images/s, ETA 0:10", lines[0]);
        assertEquals("eval: 100% 10000/10000 images, 1000.0 images/s, 0:10", lines[19]);
    }

    @Test
    void linesModeWithFewLargeStepsAndTinyTotals() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ProgressBar p = bar(out, ProgressBar.Mode.LINES);
        p.start(3);
        now += 3_000_000_000L;
        p.advance(2);
        p.advance(1);
        p.finish();
        p.finish(); // idempotent
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(2, lines.length);
        assertTrue(lines[0].startsWith("eval:  66% 2/3 images"), lines[0]);
        assertTrue(lines[1].startsWith("eval: 100% 3/3 images"), lines[1]);
    }

    @Test
    void barModeRedrawsInPlaceAtMostTenTimesASecond() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ProgressBar p = bar(out, ProgressBar.Mode.BAR);
        p.start(1000);
        for (int i = 0; i < 1000; i++) {
            now += 1_000_000; // one second in all
            p.advance(1);
        }
        p.finish();
        String text = out.toString(StandardCharsets.UTF_8);
        long redraws = text.chars().filter(c -> c == '\r').count();
        assertTrue(redraws >= 10 && redraws <= 13, redraws + " redraws");
        assertTrue(text.endsWith("\n"));
        assertTrue(text.contains("[########################] 100% 1000/1000"), text);
    }

    @Test
    void offModeIsSilentAndDurationsFormat() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ProgressBar p = bar(out, ProgressBar.Mode.OFF);
        p.start(5);
        p.advance(5);
        p.finish();
        assertEquals(0, out.size());
        assertEquals("0:07", ProgressBar.duration(7.2));
        assertEquals("1:01:01", ProgressBar.duration(3661));
        assertEquals("?", ProgressBar.duration(Double.NaN));
        assertEquals(ProgressBar.Mode.LINES, ProgressBar.Mode.parse("Lines"));
    }
}

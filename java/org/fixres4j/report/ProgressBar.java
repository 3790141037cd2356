package org.fixres4j.report;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongSupplier;

import org.fixres4j.data.Progress;

/**
 * Progress of a long computation on stderr, in images: done / total, percent, images per second and the estimated
 * time left.
 * <ul>
 *   <li>{@link Mode#BAR} (a terminal): one line redrawn in place with a carriage return, at most 10 times a
 *       second, ended with a newline by {@link #finish()}.</li>
 *   <li>{@link Mode#LINES} (a log, CI): a plain line when a new 5% step is reached (at most 20 lines plus the final
 *       one), never carriage returns or escape codes.</li>
 *   <li>{@link Mode#OFF}: nothing.</li>
 *   <li>{@link Mode#AUTO} picks BAR when stderr is a terminal ({@link #stderrIsTerminal()}), LINES otherwise.</li>
 * </ul>
 * Thread-safe (all methods synchronized).
 */
public final class ProgressBar implements Progress {
    /** How progress is shown. */
    public enum Mode {
        /** BAR on a terminal, LINES otherwise. */
        AUTO,
        /** A bar redrawn in place. */
        BAR,
        /** One line per 5%. */
        LINES,
        /** Nothing. */
        OFF;

        /** Parses {@code auto|bar|lines|off} (any case). */
        public static Mode parse(String s) {
            for (Mode m : values()) {
                if (m.name().equalsIgnoreCase(s.trim())) {
                    return m;
                }
            }
            throw new IllegalArgumentException("progress mode must be auto, bar, lines or off, got '" + s + "'");
        }
    }

    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int BAR_WIDTH = 24;
    private static final int STEPS = 20;

    private final String label;
    private final PrintStream out;
    private final Mode mode;
    private final LongSupplier clock;
    private long total;
    private long done;
    private long startNanos;
    private long lastDraw = Long.MIN_VALUE;
    private int lastStep = -1;
    private int lastWidth;
    private boolean started;
    private boolean finished;

    /** Progress on {@code System.err} in the given mode (AUTO resolved now). */
    public ProgressBar(String label, Mode mode) {
        this(label, System.err, mode == Mode.AUTO ? (stderrIsTerminal() ? Mode.BAR : Mode.LINES) : mode,
                System::nanoTime);
    }

    /**
     * Progress on any stream (for tests: a fake clock in nanoseconds).
     *
     * @param mode BAR, LINES or OFF (AUTO is taken as LINES: the stream's kind is unknown)
     */
    public ProgressBar(String label, PrintStream out, Mode mode, LongSupplier clock) {
        this.label = Objects.requireNonNull(label, "label");
        this.out = Objects.requireNonNull(out, "out");
        this.mode = mode == Mode.AUTO ? Mode.LINES : Objects.requireNonNull(mode, "mode");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Whether the process's stderr is a terminal: on Linux, {@code /proc/self/fd/2} links to a {@code /dev/pts/N} or
     * {@code /dev/ttyN}; elsewhere, whether the JVM has a console. {@code TERM=dumb} or a set {@code CI} variable
     * count as "not a terminal".
     */
    public static boolean stderrIsTerminal() {
        String term = System.getenv("TERM");
        if ("dumb".equals(term) || System.getenv("CI") != null) {
            return false;
        }
        try {
            Path fd = Path.of("/proc/self/fd/2");
            if (Files.isSymbolicLink(fd)) {
                String target = Files.readSymbolicLink(fd).toString();
                return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
            }
        } catch (Exception e) {
            // not Linux, or /proc unreadable: fall back
        }
        return System.console() != null;
    }

    /** The mode in use (never AUTO). */
    public Mode mode() {
        return mode;
    }

    @Override
    public synchronized void start(long totalImages) {
        if (totalImages < 0) {
            throw new IllegalArgumentException("total must be >= 0, got " + totalImages);
        }
        total = totalImages;
        done = 0;
        startNanos = clock.getAsLong();
        lastDraw = Long.MIN_VALUE;
        lastStep = -1;
        lastWidth = 0;
        started = true;
        finished = false;
        if (mode == Mode.BAR) {
            draw(startNanos);
        }
    }

    @Override
    public synchronized void advance(long images) {
        if (!started || finished) {
            return;
        }
        done = Math.min(total, done + Math.max(0, images));
        long now = clock.getAsLong();
        if (mode == Mode.BAR) {
            if (now - lastDraw >= REDRAW_NANOS || done == total) {
                draw(now);
            }
        } else if (mode == Mode.LINES) {
            int step = total == 0 ? STEPS : (int) (done * STEPS / total);
            if (step > lastStep && step > 0 && done < total) {
                lastStep = step;
                out.println(line(now));
                out.flush();
            }
        }
    }

    @Override
    public synchronized void finish() {
        if (!started || finished) {
            return;
        }
        finished = true;
        long now = clock.getAsLong();
        if (mode == Mode.BAR) {
            draw(now);
            out.println();
            out.flush();
        } else if (mode == Mode.LINES) {
            out.println(line(now));
            out.flush();
        }
    }

    /** The current status as one line, without a bar ({@code eval: 45% 450/1000 images, 12.3 images/s, ETA 0:45}). */
    synchronized String line(long now) {
        double seconds = (now - startNanos) / 1e9;
        StringBuilder b = new StringBuilder(label).append(": ");
        b.append(String.format(Locale.ROOT, "%3d%% %d/%d images", percent(), done, total));
        appendRate(b, seconds);
        return b.toString();
    }

    private int percent() {
        return total == 0 ? 100 : (int) (done * 100 / total);
    }

    private void appendRate(StringBuilder b, double seconds) {
        if (done > 0 && seconds > 0) {
            double rate = done / seconds;
            b.append(String.format(Locale.ROOT, ", %.1f images/s", rate));
            if (done < total) {
                b.append(", ETA ").append(duration((total - done) / rate));
            } else {
                b.append(", ").append(duration(seconds));
            }
        }
    }

    private void draw(long now) {
        lastDraw = now;
        double seconds = (now - startNanos) / 1e9;
        int filled = total == 0 ? BAR_WIDTH : (int) (done * BAR_WIDTH / total);
        StringBuilder b = new StringBuilder("\r").append(label).append(" [");
        for (int i = 0; i < BAR_WIDTH; i++) {
            b.append(i < filled ? '#' : '.');
        }
        b.append("] ").append(String.format(Locale.ROOT, "%3d%% %d/%d", percent(), done, total));
        appendRate(b, seconds);
        int width = b.length() - 1;
        for (int i = width; i < lastWidth; i++) {
            b.append(' '); // clear what a longer previous line left
        }
        lastWidth = width;
        out.print(b);
        out.flush();
    }

    /** {@code m:ss} or {@code h:mm:ss}. */
    static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "?";
        }
        long s = Math.round(seconds);
        long h = s / 3600;
        long m = (s % 3600) / 60;
        long sec = s % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, sec)
                : String.format(Locale.ROOT, "%d:%02d", m, sec);
    }
}

package org.fixres4j.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.AffineTransform;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

import javax.imageio.ImageIO;

import org.fixres4j.fixres.Sweep;
import org.fixres4j.io.AtomicFiles;

/**
 * A line chart as a PNG, drawn with {@code java.awt} in headless mode (no display needed): several series of
 * (x, y) points, e.g. top-1 accuracy against test resolution before and after fine-tuning, vertical marker lines
 * (the training resolution K_train, a recommended K_test), axis labels with rounded ticks, a legend and a title.
 *
 * <pre>{@code
 * Plot.accuracy("tf_efficientnet_b0 on val", 224, Map.of("before", before, "after", after))
 *     .write(Path.of("acc.png"));
 * }</pre>
 *
 * Where the JDK finds no font (a stripped-down container), text is left out and the lines are still drawn.
 * Builders are not thread-safe; {@link #render()} may be called several times.
 */
public final class Plot {
    /** Default size in pixels. */
    public static final int DEFAULT_WIDTH = 800;
    /** Default size in pixels. */
    public static final int DEFAULT_HEIGHT = 500;

    /** Series colours, in order (colour-blind safe: Okabe-Ito). */
    static final Color[] PALETTE = {new Color(0, 114, 178), new Color(213, 94, 0), new Color(0, 158, 115),
        new Color(204, 121, 167), new Color(230, 159, 0), new Color(86, 180, 233), new Color(0, 0, 0)};
    /** The colour of marker lines. */
    static final Color MARKER = new Color(120, 120, 120);

    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /** One line: a name for the legend and its points (x ascending is not required; they are drawn in x order). */
    public record Series(String name, double[] x, double[] y) {
        /** Checks the points. */
        public Series {
            Objects.requireNonNull(name, "name");
            if (x.length != y.length) {
                throw new IllegalArgumentException("series '" + name + "' has " + x.length + " x values and "
                        + y.length + " y values");
            }
            x = x.clone();
            y = y.clone();
        }
    }

    /** A vertical line at {@code x} with a label. */
    public record Marker(double x, String label) {}

    private String title = "";
    private String xLabel = "";
    private String yLabel = "";
    private int width = DEFAULT_WIDTH;
    private int height = DEFAULT_HEIGHT;
    private final List<Series> series = new ArrayList<>();
    private final List<Marker> markers = new ArrayList<>();

    /** An empty chart. */
    public Plot() {}

    /**
     * Top-1 accuracy (%) against test resolution for each sweep (a series per map entry, in the map's order), with
     * the training resolution marked; nothing is marked when {@code kTrain <= 0}.
     */
    public static Plot accuracy(String title, int kTrain, Map<String, Sweep.Result> sweeps) {
        Plot p = new Plot().title(title).xLabel("test resolution (px)").yLabel("top-1 accuracy (%)");
        for (Map.Entry<String, Sweep.Result> s : sweeps.entrySet()) {
            List<Sweep.Entry> entries = s.getValue().entries();
            double[] x = new double[entries.size()];
            double[] y = new double[entries.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = entries.get(i).resolution();
                y[i] = entries.get(i).top1();
            }
            p.series(s.getKey(), x, y);
        }
        if (kTrain > 0) {
            p.marker(kTrain, "K_train = " + kTrain);
        }
        return p;
    }

    public Plot title(String t) {
        this.title = Objects.requireNonNull(t);
        return this;
    }

    public Plot xLabel(String l) {
        this.xLabel = Objects.requireNonNull(l);
        return this;
    }

    public Plot yLabel(String l) {
        this.yLabel = Objects.requireNonNull(l);
        return this;
    }

    /** The image size, each side in 200..8000 pixels. */
    public Plot size(int w, int h) {
        if (w < 200 || h < 150 || w > 8000 || h > 8000) {
            throw new IllegalArgumentException("plot size must be within 200x150 .. 8000x8000, got " + w + "x" + h);
        }
        this.width = w;
        this.height = h;
        return this;
    }

    /** Adds a series; NaN y values are gaps (not drawn). */
    public Plot series(String name, double[] x, double[] y) {
        series.add(new Series(name, x, y));
        return this;
    }

    /** Adds a vertical marker line. */
    public Plot marker(double x, String label) {
        if (!Double.isFinite(x)) {
            throw new IllegalArgumentException("a marker needs a finite x, got " + x);
        }
        markers.add(new Marker(x, label == null ? "" : label));
        return this;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** Draws the chart. */
    public BufferedImage render() {
        BufferedImage im = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = im.createGraphics();
        try {
            draw(g);
        } finally {
            g.dispose();
        }
        return im;
    }

    /** The chart as PNG bytes. */
    public byte[] toPng() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(render(), "png", out)) {
            throw new IOException("this JDK has no PNG writer");
        }
        return out.toByteArray();
    }

    /** Writes the chart as a PNG file, atomically; creates missing folders. */
    public void write(Path png) throws IOException {
        AtomicFiles.write(png, toPng());
    }

    // ------------------------------------------------------------------------------------------------------------

    private boolean textOk = true;

    private void draw(Graphics2D g) {
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        float scale = Math.max(0.6f, Math.min(width / 800f, height / 500f));
        Font base = new Font(Font.SANS_SERIF, Font.PLAIN, Math.round(13 * scale));
        Font titleFont = base.deriveFont(Font.BOLD, 16 * scale);
        int lineH = textHeight(g, base);

        int left = Math.round(70 * scale);
        int right = Math.round(25 * scale);
        int top = Math.round((title.isEmpty() ? 20 : 45) * scale);
        int bottom = Math.round(60 * scale);
        Rectangle2D.Double area = new Rectangle2D.Double(left, top, width - left - right, height - top - bottom);

        // data range
        double xmin = Double.POSITIVE_INFINITY;
        double xmax = Double.NEGATIVE_INFINITY;
        double ymin = Double.POSITIVE_INFINITY;
        double ymax = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
                    xmin = Math.min(xmin, s.x()[i]);
                    xmax = Math.max(xmax, s.x()[i]);
                    ymin = Math.min(ymin, s.y()[i]);
                    ymax = Math.max(ymax, s.y()[i]);
                }
            }
        }
        for (Marker m : markers) {
            xmin = Math.min(xmin, m.x());
            xmax = Math.max(xmax, m.x());
        }
        if (!Double.isFinite(xmin)) {
            xmin = 0;
            xmax = 1;
        }
        if (!Double.isFinite(ymin)) {
            ymin = 0;
            ymax = 100;
        }
        double[] xr = padded(xmin, xmax, 0.05);
        double[] yr = padded(ymin, ymax, 0.08);
        double[] xt = ticks(xr[0], xr[1], Math.max(3, (int) (area.width / (80 * scale))));
        double[] yt = ticks(yr[0], yr[1], Math.max(3, (int) (area.height / (50 * scale))));
        xr = new double[] {Math.min(xr[0], xt[0]), Math.max(xr[1], xt[xt.length - 1])};
        yr = new double[] {Math.min(yr[0], yt[0]), Math.max(yr[1], yt[yt.length - 1])};
        Axis ax = new Axis(area, xr[0], xr[1], yr[0], yr[1]);

        // grid and ticks
        g.setFont(base);
        Stroke thin = new BasicStroke(1f);
        for (double v : yt) {
            double py = ax.py(v);
            g.setColor(new Color(228, 228, 228));
            g.setStroke(thin);
            g.draw(new Line2D.Double(area.x, py, area.x + area.width, py));
            g.setColor(Color.DARK_GRAY);
            text(g, tick(v, yt), (float) (area.x - 6 * scale), (float) py, 1, 0.5f);
        }
        for (double v : xt) {
            double px = ax.px(v);
            g.setColor(new Color(228, 228, 228));
            g.setStroke(thin);
            g.draw(new Line2D.Double(px, area.y, px, area.y + area.height));
            g.setColor(Color.DARK_GRAY);
            text(g, tick(v, xt), (float) px, (float) (area.y + area.height + 5 * scale), 0.5f, 0);
        }
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(1.2f * scale));
        g.draw(area);

        // markers
        for (Marker m : markers) {
            double px = ax.px(m.x());
            g.setColor(MARKER);
            g.setStroke(new BasicStroke(1.6f * scale, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                    new float[] {7 * scale, 5 * scale}, 0f));
            g.draw(new Line2D.Double(px, area.y, px, area.y + area.height));
            if (!m.label().isEmpty()) {
                g.setColor(MARKER.darker());
                boolean rightSide = px + 4 * scale + textWidth(g, m.label()) < area.x + area.width;
                text(g, m.label(), (float) (px + (rightSide ? 4 : -4) * scale),
                        (float) (area.y + area.height - 4 * scale), rightSide ? 0 : 1, 1);
            }
        }

        // series
        for (int k = 0; k < series.size(); k++) {
            Series s = series.get(k);
            Color c = PALETTE[k % PALETTE.length];
            Integer[] order = new Integer[s.x().length];
            Arrays.setAll(order, i -> i);
            Arrays.sort(order, (a, b) -> Double.compare(s.x()[a], s.x()[b]));
            g.setColor(c);
            g.setStroke(new BasicStroke(2.2f * scale, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            Path2D.Double path = new Path2D.Double();
            boolean pen = false;
            for (int i : order) {
                if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i])) {
                    pen = false;
                    continue;
                }
                double px = ax.px(s.x()[i]);
                double py = ax.py(s.y()[i]);
                if (pen) {
                    path.lineTo(px, py);
                } else {
                    path.moveTo(px, py);
                    pen = true;
                }
            }
            g.draw(path);
            double r = 3.5 * scale;
            for (int i : order) {
                if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
                    g.fill(new java.awt.geom.Ellipse2D.Double(ax.px(s.x()[i]) - r, ax.py(s.y()[i]) - r, 2 * r,
                            2 * r));
                }
            }
        }

        // labels and title
        g.setColor(Color.BLACK);
        g.setFont(base);
        text(g, xLabel, (float) (area.x + area.width / 2), height - 8 * scale, 0.5f, 1);
        if (!yLabel.isEmpty() && textOk) {
            AffineTransform saved = g.getTransform();
            g.rotate(-Math.PI / 2);
            // in rotated space, (x, y) = (-screenY, screenX)
            text(g, yLabel, (float) -(area.y + area.height / 2), 16 * scale, 0.5f, 0.5f);
            g.setTransform(saved);
        }
        if (!title.isEmpty()) {
            g.setFont(titleFont);
            text(g, title, width / 2f, 12 * scale, 0.5f, 0);
            g.setFont(base);
        }

        // legend, in the corner farthest from the data
        if (!series.isEmpty() && textOk) {
            int sw = Math.round(22 * scale);
            int pad = Math.round(8 * scale);
            int w = 0;
            for (Series s : series) {
                w = Math.max(w, textWidth(g, s.name()));
            }
            int boxW = pad * 3 + sw + w;
            int boxH = pad * 2 + lineH * series.size();
            double[] corner = legendCorner(ax, area, boxW, boxH, pad);
            g.setColor(new Color(255, 255, 255, 235));
            Rectangle2D.Double box = new Rectangle2D.Double(corner[0], corner[1], boxW, boxH);
            g.fill(box);
            g.setColor(Color.GRAY);
            g.setStroke(new BasicStroke(1f));
            g.draw(box);
            for (int k = 0; k < series.size(); k++) {
                double cy = corner[1] + pad + lineH * (k + 0.5);
                g.setColor(PALETTE[k % PALETTE.length]);
                g.setStroke(new BasicStroke(2.2f * scale));
                g.draw(new Line2D.Double(corner[0] + pad, cy, corner[0] + pad + sw, cy));
                g.setColor(Color.BLACK);
                text(g, series.get(k).name(), (float) (corner[0] + 2 * pad + sw), (float) cy, 0, 0.5f);
            }
        }
    }

    /** The top-left of the legend box: the inner corner whose box covers the fewest data points. */
    private double[] legendCorner(Axis ax, Rectangle2D.Double area, int w, int h, int pad) {
        double[][] corners = {
            {area.x + area.width - w - pad, area.y + area.height - h - pad - 18}, // bottom right (above marker label)
            {area.x + pad, area.y + pad},                                            // top left
            {area.x + area.width - w - pad, area.y + pad},                           // top right
            {area.x + pad, area.y + area.height - h - pad},                          // bottom left
        };
        double[] best = corners[0];
        int bestCount = Integer.MAX_VALUE;
        for (double[] c : corners) {
            int count = 0;
            for (Series s : series) {
                for (int i = 0; i < s.x().length; i++) {
                    double px = ax.px(s.x()[i]);
                    double py = ax.py(s.y()[i]);
                    if (px >= c[0] - pad && px <= c[0] + w + pad && py >= c[1] - pad && py <= c[1] + h + pad) {
                        count++;
                    }
                }
            }
            if (count < bestCount) {
                bestCount = count;
                best = c;
            }
        }
        return best;
    }

    /** Maps data coordinates into the plot area. */
    private record Axis(Rectangle2D.Double area, double x0, double x1, double y0, double y1) {
        double px(double x) {
            return area.x + (x - x0) / (x1 - x0) * area.width;
        }

        double py(double y) {
            return area.y + area.height - (y - y0) / (y1 - y0) * area.height;
        }
    }

    /** [lo, hi] widened by {@code frac} of the span on both sides (a zero span becomes +-1, or +-5% of the value). */
    static double[] padded(double lo, double hi, double frac) {
        double span = hi - lo;
        if (span <= 0) {
            double d = Math.max(1, Math.abs(lo) * 0.05);
            return new double[] {lo - d, hi + d};
        }
        return new double[] {lo - span * frac, hi + span * frac};
    }

    /** Rounded tick values (steps of 1, 2 or 5 times a power of ten) covering [lo, hi], about {@code n} of them. */
    static double[] ticks(double lo, double hi, int n) {
        double raw = (hi - lo) / Math.max(1, n);
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = mag;
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * mag >= raw) {
                step = m * mag;
                break;
            }
        }
        double first = Math.ceil(lo / step - 1e-9) * step;
        List<Double> out = new ArrayList<>();
        for (double v = first; v <= hi + step * 1e-9; v += step) {
            out.add(Math.abs(v) < step * 1e-9 ? 0.0 : v);
        }
        if (out.isEmpty()) {
            out.add(first);
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static String tick(double v, double[] all) {
        double step = all.length > 1 ? Math.abs(all[1] - all[0]) : 1;
        int decimals = step >= 1 ? 0 : (int) Math.ceil(-Math.log10(step) - 1e-9);
        return String.format(Locale.ROOT, "%." + Math.min(6, decimals) + "f", v);
    }

    /** Draws text anchored at (x, y): ax/ay 0 = left/top, 0.5 = centre, 1 = right/bottom. Skipped without fonts. */
    private void text(Graphics2D g, String s, float x, float y, float ax, float ay) {
        if (!textOk || s.isEmpty()) {
            return;
        }
        try {
            FontMetrics fm = g.getFontMetrics();
            float w = fm.stringWidth(s);
            float h = fm.getAscent() + fm.getDescent();
            g.drawString(s, x - ax * w, y - ay * h + fm.getAscent());
        } catch (RuntimeException | InternalError | LinkageError e) {
            textOk = false; // no usable font: draw the rest without text
        }
    }

    private int textWidth(Graphics2D g, String s) {
        try {
            return textOk ? g.getFontMetrics().stringWidth(s) : 0;
        } catch (RuntimeException | InternalError | LinkageError e) {
            textOk = false;
            return 0;
        }
    }

    private int textHeight(Graphics2D g, Font f) {
        try {
            FontMetrics fm = g.getFontMetrics(f);
            return fm.getAscent() + fm.getDescent() + 4;
        } catch (RuntimeException | InternalError | LinkageError e) {
            textOk = false;
            return 16;
        }
    }
}

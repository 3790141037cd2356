package org.fixres4j.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.fixres4j.fixres.Sweep;
import org.fixres4j.io.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A line chart as a PNG, drawn by XChart in headless mode (no display needed): several series of (x, y) points, e.g.
 * top-1 accuracy against test resolution before and after fine-tuning, vertical marker lines (the training resolution
 * K_train, a recommended K_test), axis titles, a title, and a legend below the plot area, outside the data, naming
 * every series and marker.
 *
 * <pre>{@code
 * Plot.accuracy("tf_efficientnet_b0 on val", 224, Map.of("before", before, "after", after))
 *     .write(Path.of("acc.png"));
 * }</pre>
 *
 * NaN y values are gaps. Builders are not thread-safe; {@link #render()} may be called several times.
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

    /** Dash patterns of successive markers, so their legend entries differ. */
    private static final float[][] MARKER_DASHES = {{6f, 4f}, {2f, 3f}, {10f, 3f, 2f, 3f}};
    /** The colour of the grid lines. */
    static final Color GRID = new Color(225, 225, 225);

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
        return BitmapEncoder.getBufferedImage(chart());
    }

    /** The chart as PNG bytes. */
    public byte[] toPng() throws IOException {
        return BitmapEncoder.getBitmapBytes(chart(), BitmapEncoder.BitmapFormat.PNG);
    }

    /** Writes the chart as a PNG file, atomically; creates missing folders. */
    public void write(Path png) throws IOException {
        AtomicFiles.write(png, toPng());
    }

    /** The XChart chart: series in {@link #PALETTE} order, markers as dashed grey lines across the y range. */
    XYChart chart() {
        XYChart chart = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle(xLabel)
                .yAxisTitle(yLabel).build();
        XYStyler st = chart.getStyler();
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setPlotBorderColor(Color.GRAY);
        st.setPlotGridLinesColor(GRID);
        st.setLegendPosition(Styler.LegendPosition.OutsideS);
        st.setLegendLayout(Styler.LegendLayout.Vertical);
        st.setLegendBorderColor(Color.WHITE);
        st.setLegendBackgroundColor(Color.WHITE);
        st.setChartTitleBoxVisible(false);
        st.setChartTitleVisible(!title.isEmpty());
        st.setAntiAlias(true);
        st.setPlotContentSize(1.0); // the axes span exactly the padded ranges below, so markers run frame to frame
        st.setMarkerSize(7);
        st.setXAxisDecimalPattern("#.##");
        st.setYAxisDecimalPattern("#.##");

        double[] yr = yRange();
        st.setYAxisMin(yr[0]);
        st.setYAxisMax(yr[1]);
        double[] xr = xRange();
        st.setXAxisMin(xr[0]);
        st.setXAxisMax(xr[1]);

        int colour = 0;
        for (Series s : series) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            Integer[] order = new Integer[s.x().length];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            java.util.Arrays.sort(order, (a, b) -> Double.compare(s.x()[a], s.x()[b]));
            for (int i : order) {
                if (Double.isFinite(s.x()[i])) {
                    xs.add(s.x()[i]);
                    ys.add(Double.isFinite(s.y()[i]) ? s.y()[i] : null); // null: a gap
                }
            }
            if (xs.isEmpty()) {
                continue;
            }
            Color c = PALETTE[colour++ % PALETTE.length];
            XYSeries xy = chart.addSeries(uniqueName(chart, s.name()), xs, ys);
            xy.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            xy.setLineColor(c);
            xy.setMarkerColor(c);
            xy.setMarker(SeriesMarkers.CIRCLE);
            xy.setLineWidth(2f);
        }
        for (int k = 0; k < markers.size(); k++) {
            Marker m = markers.get(k);
            XYSeries xy = chart.addSeries(uniqueName(chart, m.label().isEmpty() ? "x = " + m.x() : m.label()),
                    new double[] {m.x(), m.x()}, new double[] {yr[0], yr[1]});
            xy.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            xy.setLineColor(MARKER);
            xy.setMarker(SeriesMarkers.NONE);
            xy.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                    MARKER_DASHES[k % MARKER_DASHES.length], 0f));
        }
        if (chart.getSeriesMap().isEmpty()) {
            // nothing to draw: an empty frame with its axes (XChart needs one series to lay the axes out)
            XYSeries xy = chart.addSeries(" ", new double[] {xr[0]}, new double[] {yr[0]});
            xy.setMarker(SeriesMarkers.NONE);
            xy.setShowInLegend(false);
            st.setLegendVisible(false);
        }
        return chart;
    }

    /** XChart keys series by name: a repeated name gets a " (2)", " (3)", ... suffix. */
    private static String uniqueName(XYChart chart, String name) {
        String n = name;
        for (int k = 2; chart.getSeriesMap().containsKey(n); k++) {
            n = name + " (" + k + ")";
        }
        return n;
    }

    /** The finite y values' range, padded by 8% (at least 0.5 each side); 0..100 without any. */
    private double[] yRange() {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.y().length; i++) {
                if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
                    lo = Math.min(lo, s.y()[i]);
                    hi = Math.max(hi, s.y()[i]);
                }
            }
        }
        return lo > hi ? new double[] {0, 100} : padded(lo, hi, 0.08, 0.5);
    }

    /** The finite x values' and markers' range, padded by 5% (at least 1 each side); 0..1 without any. */
    private double[] xRange() {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (double x : s.x()) {
                if (Double.isFinite(x)) {
                    lo = Math.min(lo, x);
                    hi = Math.max(hi, x);
                }
            }
        }
        for (Marker m : markers) {
            lo = Math.min(lo, m.x());
            hi = Math.max(hi, m.x());
        }
        return lo > hi ? new double[] {0, 1} : padded(lo, hi, 0.05, 1);
    }

    private static double[] padded(double lo, double hi, double fraction, double atLeast) {
        double pad = Math.max((hi - lo) * fraction, atLeast);
        return new double[] {lo - pad, hi + pad};
    }
}

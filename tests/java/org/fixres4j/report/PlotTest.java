package org.fixres4j.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Plot}: a decodable PNG of the asked size, series and marker drawn in their colours, rounded ticks. */
class PlotTest {
    private static int count(BufferedImage im, Color c) {
        int n = 0;
        for (int y = 0; y < im.getHeight(); y++) {
            for (int x = 0; x < im.getWidth(); x++) {
                if ((im.getRGB(x, y) & 0xFFFFFF) == (c.getRGB() & 0xFFFFFF)) {
                    n++;
                }
            }
        }
        return n;
    }

    @Test
    void writesAPngOfTheRightSizeWithSeriesAndMarker(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("sub/acc.png");
        new Plot().title("tf_efficientnet_b0 on val").xLabel("test resolution (px)").yLabel("top-1 accuracy (%)")
                .size(640, 400)
                .series("before fine-tuning", new double[] {224, 256, 288, 320}, new double[] {77.1, 77.9, 78.0, 77.2})
                .series("after fine-tuning", new double[] {224, 256, 288, 320}, new double[] {76.0, 78.1, 78.9, 79.3})
                .marker(224, "K_train = 224")
                .write(png);
        BufferedImage im = ImageIO.read(png.toFile());
        assertEquals(640, im.getWidth());
        assertEquals(400, im.getHeight());
        assertTrue(count(im, Plot.PALETTE[0]) > 100, "first series drawn");
        assertTrue(count(im, Plot.PALETTE[1]) > 100, "second series drawn");
        assertTrue(count(im, Plot.MARKER) > 50, "K_train marker drawn");
        assertEquals(Color.WHITE.getRGB(), im.getRGB(1, 1), "white background");
        try (var files = Files.list(png.getParent())) {
            assertEquals(1, files.count(), "no temporary file left");
        }
    }

    @Test
    void defaultSizeAndDegenerateData() throws IOException {
        // one point, a NaN gap, no title: still a valid image
        byte[] png = new Plot().series("one", new double[] {224, 256}, new double[] {50, Double.NaN}).toPng();
        BufferedImage im = ImageIO.read(new java.io.ByteArrayInputStream(png));
        assertEquals(Plot.DEFAULT_WIDTH, im.getWidth());
        assertEquals(Plot.DEFAULT_HEIGHT, im.getHeight());
        BufferedImage empty = new Plot().render();
        assertEquals(Plot.DEFAULT_WIDTH, empty.getWidth());
    }

    @Test
    void legendSitsBelowThePlotAreaAndNamesSeriesAndMarkers() {
        Plot p = new Plot().series("a", new double[] {224, 288}, new double[] {70, 71})
                .series("a", new double[] {224, 288}, new double[] {72, 73}).marker(256, "K_train = 256");
        var chart = p.chart();
        assertEquals(org.knowm.xchart.style.Styler.LegendPosition.OutsideS, chart.getStyler().getLegendPosition());
        assertEquals(java.util.List.of("a", "a (2)", "K_train = 256"),
                java.util.List.copyOf(chart.getSeriesMap().keySet()));
        // the y range holds every point with a margin, so no point sits on the frame
        assertTrue(chart.getStyler().getYAxisMin() < 70 && chart.getStyler().getYAxisMax() > 73);
        // below the x axis (the legend's band) the first series' colour appears: its legend line
        BufferedImage im = p.render();
        int lowestData = -1; // the plot frame's bottom edge: the lowest row that is mostly frame colour
        for (int y = im.getHeight() - 1; y >= 0 && lowestData < 0; y--) {
            int n = 0;
            for (int x = 0; x < im.getWidth(); x++) {
                if ((im.getRGB(x, y) & 0xFFFFFF) == (Color.GRAY.getRGB() & 0xFFFFFF)) {
                    n++;
                }
            }
            if (n > im.getWidth() / 2) {
                lowestData = y;
            }
        }
        assertTrue(lowestData > 0, "plot frame drawn");
        BufferedImage band = im.getSubimage(0, lowestData + 1, im.getWidth(), im.getHeight() - lowestData - 1);
        assertTrue(count(band, Plot.PALETTE[0]) > 5, "legend entry of the first series below the plot");
    }

    @Test
    void refusesBadInput() {
        assertThrows(IllegalArgumentException.class, () -> new Plot().size(10, 10));
        assertThrows(IllegalArgumentException.class, () -> new Plot().series("x", new double[] {1}, new double[0]));
        assertThrows(IllegalArgumentException.class, () -> new Plot().marker(Double.NaN, "x"));
    }
}

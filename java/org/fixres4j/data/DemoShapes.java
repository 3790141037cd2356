package org.fixres4j.data;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.TexturePaint;
import java.awt.geom.AffineTransform;
import java.awt.geom.Area;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.util.List;
import java.util.Objects;
import java.util.random.RandomGenerator;

import org.fixres4j.image.DecodedImage.ChannelOrder;

/**
 * A dataset the project generates itself, for machines without Fashion-MNIST: ten shape classes (disc, ring,
 * square, frame, triangle, cross, star, diamond, hexagon, crescent), each image a gray canvas with one filled shape
 * at a random scale (20% to 90% of the canvas side), position and rotation, filled with a fine stripe texture of
 * random period and contrast, over a noisy background. Images are rendered on demand from (seed, split, index) with
 * Java2D, so the dataset costs no memory and is the same on every machine; the canvas is rendered at a higher
 * resolution than the training crops, so a larger test resolution does reveal more detail.
 */
public final class DemoShapes implements Dataset {
    /** The class names, label order. */
    public static final List<String> CLASS_NAMES = List.of("disc", "ring", "square", "frame", "triangle", "cross",
            "star", "diamond", "hexagon", "crescent");

    private final int size;
    private final int canvas;
    private final long seed;
    private final String split;

    /**
     * @param size the number of images
     * @param canvas the canvas side in pixels
     * @param seed the generator seed
     * @param split a name mixed into the seed ({@code train} and {@code test} give disjoint streams)
     */
    public DemoShapes(int size, int canvas, long seed, String split) {
        if (size < 1 || canvas < 16 || canvas > 1024) {
            throw new IllegalArgumentException("bad generated dataset: " + size + " images of " + canvas + " px");
        }
        this.size = size;
        this.canvas = canvas;
        this.seed = seed;
        this.split = Objects.requireNonNull(split);
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int label(int index) {
        Objects.checkIndex(index, size);
        return (int) Long.remainderUnsigned(Seeds.hash(seed, split.hashCode(), index, 1), CLASS_NAMES.size());
    }

    @Override
    public Sample get(int index) {
        int label = label(index);
        byte[] px = render(index, label);
        return Sample.ofPixels(String.format("shapes/%s/%05d", split, index),
                new Pixels(px, 0, canvas, canvas, 1, ChannelOrder.RGB), label);
    }

    @Override
    public List<String> classNames() {
        return CLASS_NAMES;
    }

    @Override
    public String describe() {
        return "generated_shapes(" + split + ", " + size + " images of " + canvas + "x" + canvas + ", 10 classes, seed "
                + seed + ")";
    }

    /** Renders image {@code index} (gray, {@code canvas * canvas} bytes). */
    byte[] render(int index, int label) {
        RandomGenerator rng = new Seeds.SplitMix64(Seeds.hash(seed, split.hashCode(), index, 2));
        BufferedImage img = new BufferedImage(canvas, canvas, BufferedImage.TYPE_BYTE_GRAY);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            int bg = 20 + rng.nextInt(60);
            g.setColor(new Color(bg, bg, bg));
            g.fillRect(0, 0, canvas, canvas);
            // background clutter: a few faint thin lines
            g.setStroke(new BasicStroke(Math.max(1f, canvas / 96f)));
            for (int i = 0; i < 4; i++) {
                int c = Math.min(255, bg + 15 + rng.nextInt(30));
                g.setColor(new Color(c, c, c));
                g.drawLine(rng.nextInt(canvas), rng.nextInt(canvas), rng.nextInt(canvas), rng.nextInt(canvas));
            }
            double scale = 0.2 + 0.7 * rng.nextDouble();
            double side = scale * canvas;
            double cx = side / 2 + rng.nextDouble() * (canvas - side);
            double cy = side / 2 + rng.nextDouble() * (canvas - side);
            double angle = rng.nextDouble() * Math.PI * 2;
            Shape unit = shape(label);
            AffineTransform at = new AffineTransform();
            at.translate(cx, cy);
            at.rotate(angle);
            at.scale(side / 2, side / 2);
            Shape s = at.createTransformedShape(unit);
            // fine stripes: period 2..5 px of the canvas, random contrast
            int period = 2 + rng.nextInt(4);
            int hi = 170 + rng.nextInt(86);
            int lo = Math.max(bg + 40, hi - 60 - rng.nextInt(60));
            BufferedImage tile = new BufferedImage(period * 2, period * 2, BufferedImage.TYPE_BYTE_GRAY);
            Graphics2D tg = tile.createGraphics();
            tg.setColor(new Color(lo, lo, lo));
            tg.fillRect(0, 0, period * 2, period * 2);
            tg.setColor(new Color(hi, hi, hi));
            tg.fillRect(0, 0, period, period * 2);
            tg.dispose();
            g.setPaint(new TexturePaint(tile, new Rectangle2D.Double(0, 0, period * 2, period * 2)));
            g.fill(s);
            // sensor noise
            byte[] data = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
            for (int i = 0; i < data.length; i++) {
                int v = (data[i] & 0xFF) + (int) Math.round((rng.nextDouble() - 0.5) * 24);
                data[i] = (byte) Math.max(0, Math.min(255, v));
            }
            return data.clone();
        } finally {
            g.dispose();
        }
    }

    /** The class's shape in the unit square [-1, 1]^2. */
    static Shape shape(int label) {
        return switch (label) {
            case 0 -> new Ellipse2D.Double(-1, -1, 2, 2);
            case 1 -> ring(1.0, 0.6);
            case 2 -> new Rectangle2D.Double(-0.8, -0.8, 1.6, 1.6);
            case 3 -> frame();
            case 4 -> polygon(3, 1.0, 0);
            case 5 -> cross();
            case 6 -> star();
            case 7 -> diamond();
            case 8 -> polygon(6, 1.0, 0);
            default -> crescent();
        };
    }

    private static Shape diamond() {
        Path2D.Double p = new Path2D.Double();
        p.moveTo(0, -1);
        p.lineTo(0.6, 0);
        p.lineTo(0, 1);
        p.lineTo(-0.6, 0);
        p.closePath();
        return p;
    }

    private static Shape ring(double outer, double inner) {
        Area a = new Area(new Ellipse2D.Double(-outer, -outer, 2 * outer, 2 * outer));
        a.subtract(new Area(new Ellipse2D.Double(-inner, -inner, 2 * inner, 2 * inner)));
        return a;
    }

    private static Shape frame() {
        Area a = new Area(new Rectangle2D.Double(-0.85, -0.85, 1.7, 1.7));
        a.subtract(new Area(new Rectangle2D.Double(-0.5, -0.5, 1.0, 1.0)));
        return a;
    }

    private static Shape cross() {
        Area a = new Area(new Rectangle2D.Double(-0.3, -1, 0.6, 2));
        a.add(new Area(new Rectangle2D.Double(-1, -0.3, 2, 0.6)));
        return a;
    }

    private static Shape polygon(int n, double r, double phase) {
        return radial(n, i -> r, phase);
    }

    private static Shape star() {
        return radial(10, i -> i % 2 == 0 ? 1.0 : 0.42, 0.0);
    }

    /** The closed path through n points at angles phase + 2 pi i / n (from the top) and radii radius(i). */
    private static Shape radial(int n, java.util.function.IntToDoubleFunction radius, double phase) {
        Path2D.Double p = new Path2D.Double();
        for (int i = 0; i < n; i++) {
            double r = radius.applyAsDouble(i);
            double a = phase + 2 * Math.PI * i / n - Math.PI / 2;
            if (i == 0) {
                p.moveTo(r * Math.cos(a), r * Math.sin(a));
            } else {
                p.lineTo(r * Math.cos(a), r * Math.sin(a));
            }
        }
        p.closePath();
        return p;
    }

    private static Shape crescent() {
        Area a = new Area(new Ellipse2D.Double(-1, -1, 2, 2));
        a.subtract(new Area(new Ellipse2D.Double(-0.55, -1.05, 2, 2)));
        return a;
    }
}

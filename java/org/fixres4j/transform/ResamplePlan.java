package org.fixres4j.transform;

import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * The geometry of one sample, the Java mirror of the kernel's {@code fx_resample_plan} (kernels.h). With R the region
 * of interest (roi) of the image, the output is
 * <pre>
 *     resized   = Pillow: R.resize((resizeW, resizeH), filter, box=(boxX0, boxY0, boxX1, boxY1))
 *     out[y][x] = resized[cropY + y][cropX + x]   for 0 &lt;= x &lt; outW, 0 &lt;= y &lt; outH
 *                 (0 where that falls outside resized: torchvision's zero padding)
 *     then mirrored left-right when flipX.
 * </pre>
 * The filter reads pixels of R only, clamped at R's edges. The constructor checks the plan against itself (positive
 * sizes, a box inside the roi); {@link #validateFor} checks it against an image.
 *
 * <p>Jackson writes a plan with the field names of {@code fx_resample_plan} ({@code roi_x}, ..., {@code filter} as the
 * kernel's code, {@code flip_x} as 0 or 1), the format of the golden cases.json; {@link #fromMap} reads it back.
 *
 * @param roiX left edge of the roi in the image, &gt;= 0
 * @param roiY top edge of the roi in the image, &gt;= 0
 * @param roiW roi width, &gt; 0
 * @param roiH roi height, &gt; 0
 * @param boxX0 left edge of the resize box, relative to the roi: 0 &lt;= boxX0 &lt; boxX1 &lt;= roiW
 * @param boxY0 top edge of the resize box, relative to the roi: 0 &lt;= boxY0 &lt; boxY1 &lt;= roiH
 * @param boxX1 right edge of the resize box
 * @param boxY1 bottom edge of the resize box
 * @param resizeW width of the resized image, &gt; 0
 * @param resizeH height of the resized image, &gt; 0
 * @param cropX left edge of the output window in the resized image (any value; outside pixels are 0)
 * @param cropY top edge of the output window in the resized image (any value)
 * @param outW output width, &gt; 0
 * @param outH output height, &gt; 0
 * @param interpolation the resampling filter
 * @param flipX whether the output is mirrored left-right
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonPropertyOrder({"roi_x", "roi_y", "roi_w", "roi_h", "box_x0", "box_y0", "box_x1", "box_y1", "resize_w", "resize_h",
    "crop_x", "crop_y", "out_w", "out_h", "filter", "flip_x"})
public record ResamplePlan(int roiX, int roiY, int roiW, int roiH,
                           double boxX0, double boxY0, double boxX1, double boxY1,
                           int resizeW, int resizeH, int cropX, int cropY, int outW, int outH,
                           @JsonIgnore Interpolation interpolation, @JsonIgnore boolean flipX) {

    /** Checks the plan against itself. */
    public ResamplePlan {
        Objects.requireNonNull(interpolation, "interpolation");
        if (roiX < 0 || roiY < 0 || roiW <= 0 || roiH <= 0) {
            throw new IllegalArgumentException("roi must have x, y >= 0 and a positive size, got " + roiString(roiX,
                    roiY, roiW, roiH));
        }
        if ((long) roiX + roiW > Integer.MAX_VALUE || (long) roiY + roiH > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("roi " + roiString(roiX, roiY, roiW, roiH) + " overflows int");
        }
        if (!(Double.isFinite(boxX0) && Double.isFinite(boxY0) && Double.isFinite(boxX1) && Double.isFinite(boxY1))) {
            throw new IllegalArgumentException("box must be finite, got " + boxString(boxX0, boxY0, boxX1, boxY1));
        }
        if (!(0 <= boxX0 && boxX0 < boxX1 && boxX1 <= roiW && 0 <= boxY0 && boxY0 < boxY1 && boxY1 <= roiH)) {
            throw new IllegalArgumentException("box " + boxString(boxX0, boxY0, boxX1, boxY1)
                    + " must satisfy 0 <= x0 < x1 <= roi width " + roiW + " and 0 <= y0 < y1 <= roi height " + roiH);
        }
        if (resizeW <= 0 || resizeH <= 0) {
            throw new IllegalArgumentException("resize size must be positive, got " + resizeW + "x" + resizeH);
        }
        if (outW <= 0 || outH <= 0) {
            throw new IllegalArgumentException("output size must be positive, got " + outW + "x" + outH);
        }
    }

    /**
     * A plan that resizes the whole image (roi = box = the image) to {@code resizeW x resizeH} and keeps the
     * {@code outW x outH} window at ({@code cropX}, {@code cropY}).
     */
    public static ResamplePlan wholeImage(int imageWidth, int imageHeight, int resizeW, int resizeH, int cropX,
                                          int cropY, int outW, int outH, Interpolation interpolation, boolean flipX) {
        return new ResamplePlan(0, 0, imageWidth, imageHeight, 0.0, 0.0, imageWidth, imageHeight, resizeW, resizeH,
                cropX, cropY, outW, outH, interpolation, flipX);
    }

    /**
     * Checks that the roi lies inside an image of this size.
     *
     * @throws IllegalArgumentException with the plan and the image size if it does not
     */
    public ResamplePlan validateFor(int imageWidth, int imageHeight) {
        if (imageWidth <= 0 || imageHeight <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + imageWidth + "x" + imageHeight);
        }
        if ((long) roiX + roiW > imageWidth || (long) roiY + roiH > imageHeight) {
            throw new IllegalArgumentException("roi " + roiString(roiX, roiY, roiW, roiH) + " does not fit in the "
                    + imageWidth + "x" + imageHeight + " image");
        }
        return this;
    }

    /** This plan with {@code flipX} replaced. */
    public ResamplePlan withFlipX(boolean flip) {
        return flip == flipX ? this : new ResamplePlan(roiX, roiY, roiW, roiH, boxX0, boxY0, boxX1, boxY1, resizeW,
                resizeH, cropX, cropY, outW, outH, interpolation, flip);
    }

    /** The kernel's code of the filter: the plan's {@code filter} member in JSON. */
    @JsonProperty("filter")
    int filterCode() {
        return interpolation.code();
    }

    /** {@link #flipX()} as 0 or 1: the plan's {@code flip_x} member in JSON. */
    @JsonProperty("flip_x")
    int flipCode() {
        return flipX ? 1 : 0;
    }

    /**
     * The plan from its JSON members (as {@link org.fixres4j.io.Json} reads them): every key must be present with a
     * numeric value ({@code flip_x} may also be a boolean).
     */
    public static ResamplePlan fromMap(Map<String, ?> m) {
        return new ResamplePlan(intOf(m, "roi_x"), intOf(m, "roi_y"), intOf(m, "roi_w"), intOf(m, "roi_h"),
                doubleOf(m, "box_x0"), doubleOf(m, "box_y0"), doubleOf(m, "box_x1"), doubleOf(m, "box_y1"),
                intOf(m, "resize_w"), intOf(m, "resize_h"), intOf(m, "crop_x"), intOf(m, "crop_y"),
                intOf(m, "out_w"), intOf(m, "out_h"), Interpolation.fromCode(intOf(m, "filter")),
                flipOf(m));
    }

    private static boolean flipOf(Map<String, ?> m) {
        Object v = m.get("flip_x");
        if (v instanceof Boolean b) {
            return b;
        }
        int f = intOf(m, "flip_x");
        if (f != 0 && f != 1) {
            throw new IllegalArgumentException("plan field flip_x must be 0 or 1, got " + f);
        }
        return f == 1;
    }

    private static Number numberOf(Map<String, ?> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof Number n)) {
            throw new IllegalArgumentException("plan field " + key + " must be a number, got " + v);
        }
        return n;
    }

    private static int intOf(Map<String, ?> m, String key) {
        double d = numberOf(m, key).doubleValue();
        if (d != Math.rint(d) || d < Integer.MIN_VALUE || d > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("plan field " + key + " must be an int, got " + d);
        }
        return (int) d;
    }

    private static double doubleOf(Map<String, ?> m, String key) {
        return numberOf(m, key).doubleValue();
    }

    private static String roiString(int x, int y, int w, int h) {
        return "(x=" + x + ", y=" + y + ", w=" + w + ", h=" + h + ")";
    }

    private static String boxString(double x0, double y0, double x1, double y1) {
        return "(" + x0 + ", " + y0 + ", " + x1 + ", " + y1 + ")";
    }
}

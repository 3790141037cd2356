package org.fixres4j.image;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

import java.awt.image.Raster;

/**
 * 4-component (CMYK or YCCK) JPEGs, decoded exactly as Pillow does. OpenCV converts them to BGR with libjpeg's
 * formula, which differs from Pillow's by one on most values; so they are decoded here to the raw components (the
 * JDK's JPEG reader, {@code readRaster}, which applies no colour conversion) and converted like Pillow 9.4:
 * <ol>
 *   <li>YCCK (Adobe transform 2): Y, Cb, Cr to C, M, Y with libjpeg's integer YCC tables ({@code ycck_cmyk_convert},
 *       what libjpeg-turbo does inside Pillow), K unchanged;</li>
 *   <li>every CMYK JPEG is taken as Adobe-inverted (Pillow's raw mode {@code CMYK;I}, "assume adobe
 *       conventions"): each component becomes {@code 255 - v};</li>
 *   <li>{@code convert('RGB')}: with {@code nk = 255 - k}, each of R, G, B is
 *       {@code nk - muldiv255(c, nk)}, where {@code muldiv255(a, b) = ((t >> 8) + t) >> 8} for
 *       {@code t = a * b + 128}.</li>
 * </ol>
 */
final class CmykJpeg {
    private static final int SCALEBITS = 16;
    private static final int ONE_HALF = 1 << (SCALEBITS - 1);
    private static final int[] CR_R = new int[256];
    private static final int[] CB_B = new int[256];
    private static final int[] CR_G = new int[256];
    private static final int[] CB_G = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int x = i - 128;
            CR_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALEBITS;
            CB_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALEBITS;
            CR_G[i] = -fix(0.71414) * x;
            CB_G[i] = -fix(0.34414) * x + ONE_HALF;
        }
    }

    private CmykJpeg() {}

    private static int fix(double v) {
        return (int) (v * (1L << SCALEBITS) + 0.5);
    }

    /** Decodes a 4-component JPEG to RGB pixels (3 channels, RGB order). */
    static DecodedImage decode(byte[] bytes, String name, ImageHeader header, boolean ycck)
            throws UndecodableImageException {
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName("jpeg");
        if (!readers.hasNext()) {
            throw new UndecodableImageException("cannot decode image " + name + ": a CMYK JPEG, and this Java "
                    + "runtime has no JPEG reader (javax.imageio) to decode it");
        }
        ImageReader reader = readers.next();
        Raster raster;
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            reader.setInput(in, true, true);
            raster = reader.readRaster(0, null);
        } catch (IOException | RuntimeException e) {
            throw new UndecodableImageException("cannot decode image " + name + " (" + bytes.length
                    + " bytes): corrupt or truncated CMYK JPEG (" + (e.getMessage() == null ? e : e.getMessage())
                    + ")");
        } finally {
            reader.dispose();
        }
        int w = raster.getWidth();
        int h = raster.getHeight();
        if (w != header.width() || h != header.height() || raster.getNumBands() != 4) {
            throw new UndecodableImageException("cannot decode image " + name + ": the CMYK JPEG decoded to " + w
                    + "x" + h + "x" + raster.getNumBands() + ", not the " + header.width() + "x" + header.height()
                    + "x4 of its header");
        }
        byte[] rgb = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        int[] row = new int[w * 4];
        for (int y = 0; y < h; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
            int o = y * w * 3;
            for (int x = 0; x < w; x++) {
                int c0 = row[4 * x] & 0xFF;
                int c1 = row[4 * x + 1] & 0xFF;
                int c2 = row[4 * x + 2] & 0xFF;
                int k = row[4 * x + 3] & 0xFF;
                int c;
                int m;
                int yy;
                if (ycck) {
                    c = clamp(255 - (c0 + CR_R[c2]));
                    m = clamp(255 - (c0 + ((CB_G[c1] + CR_G[c2]) >> SCALEBITS)));
                    yy = clamp(255 - (c0 + CB_B[c1]));
                } else {
                    c = c0;
                    m = c1;
                    yy = c2;
                }
                // Pillow's CMYK;I unpacking inverts every component, then cmyk2rgb with nk = 255 - k' = k
                int nk = k;
                rgb[o + 3 * x] = (byte) clamp(nk - mulDiv255(255 - c, nk));
                rgb[o + 3 * x + 1] = (byte) clamp(nk - mulDiv255(255 - m, nk));
                rgb[o + 3 * x + 2] = (byte) clamp(nk - mulDiv255(255 - yy, nk));
            }
        }
        return DecodedImage.ofPixels(name, rgb, w, h, 3, DecodedImage.ChannelOrder.RGB);
    }

    private static int mulDiv255(int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }
}

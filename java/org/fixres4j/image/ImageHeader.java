package org.fixres4j.image;

/**
 * What a file's first bytes say, read before any pixel is decoded: the format and the image size (and for JPEG the
 * component count), so that decompression bombs and unsupported formats are refused without handing the bytes to a
 * decoder. Every read is bounds-checked: a short or malformed header is an {@link UndecodableImageException}, never
 * an index error.
 *
 * <p>Accepted (see docs/INPUT-FORMATS.md): JPEG (baseline, extended or progressive, Huffman or arithmetic coded,
 * 8-bit, gray, YCbCr/RGB or CMYK/YCCK), PNG (every standard colour type and depth, not animated), WebP (lossy or
 * lossless, still) and BMP (Windows headers, uncompressed 1/4/8/24/32-bit, or 32-bit with bit fields). Everything
 * else, including GIF, TIFF and the rarer variants of the accepted formats, is refused with a message that names the
 * file and what was found.
 *
 * @param format the container format
 * @param width the width in pixels, &gt;= 1
 * @param height the height in pixels, &gt;= 1
 * @param components JPEG: the number of colour components (1, 3 or 4); other formats: 0
 * @param ycck JPEG with 4 components: whether they are YCCK (an Adobe marker with a transform other than 0), as
 *             libjpeg decides; otherwise false
 */
public record ImageHeader(Format format, int width, int height, int components, boolean ycck) {
    /** The formats the decoder accepts. */
    public enum Format { JPEG, PNG, WEBP, BMP }

    /** What the decoder accepts, for messages. */
    public static final String SUPPORTED = "supported: JPEG (8-bit gray, colour or CMYK), PNG (not animated), "
            + "WebP (still) and BMP (uncompressed, 1/4/8/24/32-bit)";

    /** The pixel count, width x height. */
    public long pixels() {
        return (long) width * height;
    }

    /**
     * Reads the header of an encoded image.
     *
     * @param name the file name, for messages
     * @throws UndecodableImageException for a format or variant the decoder does not accept, or a malformed header
     */
    public static ImageHeader read(byte[] b, String name) throws UndecodableImageException {
        if (b.length >= 3 && u8(b, 0) == 0xFF && u8(b, 1) == 0xD8 && u8(b, 2) == 0xFF) {
            return jpeg(b, name);
        }
        if (startsWith(b, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
            return png(b, name);
        }
        if (startsWith(b, 0, 'R', 'I', 'F', 'F') && startsWith(b, 8, 'W', 'E', 'B', 'P')) {
            return webp(b, name);
        }
        if (startsWith(b, 0, 'B', 'M')) {
            return bmp(b, name);
        }
        String other = otherFormat(b);
        throw refused(name, other == null ? "not a JPEG, PNG, WebP or BMP file (unknown format)"
                : "a " + other + " file, a format this decoder does not read");
    }

    // ---- JPEG ----------------------------------------------------------------------------------------------------

    private static ImageHeader jpeg(byte[] b, String name) throws UndecodableImageException {
        int pos = 2;
        int adobeTransform = -1;
        ImageHeader frame = null;
        while (true) {
            // libjpeg skips stray bytes before a marker (with a warning): so do we
            while (pos < b.length && u8(b, pos) != 0xFF) {
                pos++;
            }
            while (pos < b.length && u8(b, pos) == 0xFF) {
                pos++;
            }
            if (pos >= b.length) {
                if (frame != null) {
                    return withAdobe(frame, adobeTransform);
                }
                throw corrupt(name, "JPEG", "the file ends before the frame header (SOF)");
            }
            int marker = u8(b, pos++);
            if (marker == 0x00 || marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) {
                continue; // markers without a length (and a stuffed zero, skipped like libjpeg)
            }
            if (marker == 0xD9 || marker == 0xDA) {
                if (frame != null) {
                    return withAdobe(frame, adobeTransform);
                }
                throw corrupt(name, "JPEG", "no frame header (SOF) before the " + (marker == 0xD9 ? "end of image"
                        : "scan data"));
            }
            if (pos + 2 > b.length) {
                if (frame != null) {
                    return withAdobe(frame, adobeTransform);
                }
                throw corrupt(name, "JPEG", "the file ends inside a marker segment");
            }
            int length = u16be(b, pos);
            if (length < 2 || pos + length > b.length) {
                if (frame != null) {
                    return withAdobe(frame, adobeTransform);
                }
                throw corrupt(name, "JPEG", "marker segment 0xFF" + hex(marker) + " has a bad length " + length);
            }
            boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
            if (sof && frame != null) {
                throw corrupt(name, "JPEG", "two frame headers (SOF)");
            }
            if (marker == 0xEE && length >= 14 && startsWith(b, pos + 2, 'A', 'd', 'o', 'b', 'e')) {
                adobeTransform = u8(b, pos + 13);
            }
            if (sof) {
                if (length < 8) {
                    throw corrupt(name, "JPEG", "frame header too short");
                }
                int precision = u8(b, pos + 2);
                int height = u16be(b, pos + 3);
                int width = u16be(b, pos + 5);
                int components = u8(b, pos + 7);
                switch (marker) {
                    case 0xC0, 0xC1, 0xC2, 0xC9, 0xCA -> { }
                    case 0xC3, 0xCB -> throw refused(name, "a lossless JPEG (SOF" + (marker - 0xC0)
                            + "), which this decoder does not read");
                    default -> throw refused(name, "a hierarchical JPEG (SOF" + (marker - 0xC0)
                            + "), which this decoder does not read");
                }
                if (precision != 8) {
                    throw refused(name, "a " + precision + "-bit JPEG; only 8-bit JPEGs are read");
                }
                if (components != 1 && components != 3 && components != 4) {
                    throw refused(name, "a JPEG with " + components + " colour components; only gray (1), colour "
                            + "(3) and CMYK (4) are read");
                }
                if (width == 0 || height == 0) {
                    throw corrupt(name, "JPEG", "the frame header gives a size of " + width + "x" + height);
                }
                frame = new ImageHeader(Format.JPEG, width, height, components, false);
                if (components != 4) {
                    return frame;
                }
                // libjpeg honours an Adobe marker anywhere before the scan: read on to it for CMYK / YCCK
            }
            pos += length;
        }
    }

    /** libjpeg's rule for 4 components: YCCK when an Adobe marker says a transform other than 0, else CMYK. */
    private static ImageHeader withAdobe(ImageHeader frame, int adobeTransform) {
        return new ImageHeader(frame.format(), frame.width(), frame.height(), frame.components(),
                adobeTransform > 0);
    }

    // ---- PNG -----------------------------------------------------------------------------------------------------

    private static ImageHeader png(byte[] b, String name) throws UndecodableImageException {
        if (b.length < 33 || u32be(b, 8) != 13 || !startsWith(b, 12, 'I', 'H', 'D', 'R')) {
            throw corrupt(name, "PNG", "no IHDR chunk after the signature");
        }
        long width = u32be(b, 16);
        long height = u32be(b, 20);
        int depth = u8(b, 24);
        int colorType = u8(b, 25);
        if (width == 0 || height == 0 || width > Integer.MAX_VALUE || height > Integer.MAX_VALUE) {
            throw corrupt(name, "PNG", "IHDR gives a size of " + width + "x" + height);
        }
        boolean valid = switch (colorType) {
            case 0 -> depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
            case 3 -> depth == 1 || depth == 2 || depth == 4 || depth == 8;
            case 2, 4, 6 -> depth == 8 || depth == 16;
            default -> false;
        };
        if (!valid) {
            throw corrupt(name, "PNG", "IHDR gives colour type " + colorType + " with bit depth " + depth);
        }
        // Walk every chunk: each must fit in the file (OpenCV's reader allocates what a length claims, 4 GB for a
        // mangled one), and an acTL chunk before the image data makes it an animated PNG.
        long pos = 8;
        boolean idat = false;
        while (pos + 8 <= b.length) {
            long length = u32be(b, (int) pos);
            int type = (int) pos + 4;
            if (length > Integer.MAX_VALUE || pos + 12 + length > b.length) {
                throw corrupt(name, "PNG", "chunk '" + chunkName(b, type) + "' at byte " + pos + " claims " + length
                        + " bytes, past the end of the " + b.length + "-byte file");
            }
            if (!idat && startsWith(b, type, 'a', 'c', 'T', 'L')) {
                throw refused(name, "an animated PNG (APNG); only still PNGs are read");
            }
            if (startsWith(b, type, 'I', 'D', 'A', 'T')) {
                idat = true;
            }
            if (startsWith(b, type, 'I', 'E', 'N', 'D')) {
                break;
            }
            pos += 12 + length;
        }
        if (!idat) {
            throw corrupt(name, "PNG", "no image data (IDAT chunk)");
        }
        return new ImageHeader(Format.PNG, (int) width, (int) height, 0, false);
    }

    /**
     * A PNG that ends without its IEND chunk (which Pillow reads: it stops at the end of the file after the image
     * data) rewritten as libpng accepts it: cut after the last whole chunk (dropping fewer than 8 stray bytes, as
     * Pillow does), with an IEND chunk appended. Null when the file has its IEND. Only for bytes {@link #read}
     * accepted as a PNG (every chunk within the file).
     */
    static byte[] pngWithEnd(byte[] b) {
        long pos = 8;
        while (pos + 8 <= b.length) {
            long length = u32be(b, (int) pos);
            if (length > Integer.MAX_VALUE || pos + 12 + length > b.length) {
                break;
            }
            if (startsWith(b, (int) pos + 4, 'I', 'E', 'N', 'D')) {
                return null;
            }
            pos += 12 + length;
        }
        byte[] out = java.util.Arrays.copyOf(b, (int) pos + 12);
        byte[] iend = {0, 0, 0, 0, 'I', 'E', 'N', 'D', (byte) 0xAE, 0x42, 0x60, (byte) 0x82};
        System.arraycopy(iend, 0, out, (int) pos, iend.length);
        return out;
    }

    // ---- WebP ----------------------------------------------------------------------------------------------------

    private static ImageHeader webp(byte[] b, String name) throws UndecodableImageException {
        if (b.length < 30) {
            throw corrupt(name, "WebP", "the file ends inside the header");
        }
        int d = 20; // the first chunk's data
        int width;
        int height;
        if (startsWith(b, 12, 'V', 'P', '8', ' ')) {
            if (u8(b, d + 3) != 0x9D || u8(b, d + 4) != 0x01 || u8(b, d + 5) != 0x2A) {
                throw corrupt(name, "WebP", "no VP8 start code");
            }
            width = u16le(b, d + 6) & 0x3FFF;
            height = u16le(b, d + 8) & 0x3FFF;
        } else if (startsWith(b, 12, 'V', 'P', '8', 'L')) {
            if (u8(b, d) != 0x2F) {
                throw corrupt(name, "WebP", "no VP8L signature");
            }
            long bits = u32le(b, d + 1);
            width = (int) (bits & 0x3FFF) + 1;
            height = (int) ((bits >>> 14) & 0x3FFF) + 1;
        } else if (startsWith(b, 12, 'V', 'P', '8', 'X')) {
            if ((u8(b, d) & 0x02) != 0) {
                throw refused(name, "an animated WebP; only still WebP images are read");
            }
            width = u24le(b, d + 4) + 1;
            height = u24le(b, d + 7) + 1;
        } else {
            throw corrupt(name, "WebP", "the first chunk is not VP8, VP8L or VP8X");
        }
        if (width == 0 || height == 0) {
            throw corrupt(name, "WebP", "the header gives a size of " + width + "x" + height);
        }
        return new ImageHeader(Format.WEBP, width, height, 0, false);
    }

    // ---- BMP -----------------------------------------------------------------------------------------------------

    private static ImageHeader bmp(byte[] b, String name) throws UndecodableImageException {
        if (b.length < 18) {
            throw corrupt(name, "BMP", "the file ends inside the header");
        }
        long headerSize = u32le(b, 14);
        if (headerSize == 12 || headerSize == 16 || headerSize == 64) {
            throw refused(name, "an OS/2 BMP; only Windows BMPs are read");
        }
        if (headerSize != 40 && headerSize != 52 && headerSize != 56 && headerSize != 108 && headerSize != 124) {
            throw corrupt(name, "BMP", "unknown info header size " + headerSize);
        }
        if (b.length < 14 + 40) {
            throw corrupt(name, "BMP", "the file ends inside the info header");
        }
        long width = s32le(b, 18);
        long height = s32le(b, 22);
        int bits = u16le(b, 28);
        long compression = u32le(b, 30);
        boolean ok = compression == 0 ? bits == 1 || bits == 4 || bits == 8 || bits == 24 || bits == 32
                : compression == 3 && bits == 32;
        if (!ok) {
            String what = compression == 1 || compression == 2 ? "an RLE-compressed BMP"
                    : compression == 4 || compression == 5 ? "a BMP holding a JPEG or PNG"
                    : compression == 0 || compression == 3 ? "a " + bits + "-bit BMP"
                    : "a BMP with compression " + compression;
            throw refused(name, what + "; only uncompressed 1/4/8/24/32-bit BMPs are read");
        }
        long h = Math.abs(height);
        if (width <= 0 || h == 0 || h > Integer.MAX_VALUE) {
            throw corrupt(name, "BMP", "the header gives a size of " + width + "x" + height);
        }
        return new ImageHeader(Format.BMP, (int) width, (int) h, 0, false);
    }

    // ---- other formats, for the message ----------------------------------------------------------------------------

    private static String otherFormat(byte[] b) {
        if (startsWith(b, 0, 'G', 'I', 'F', '8')) {
            return "GIF";
        }
        if (startsWith(b, 0, 'I', 'I', 0x2A, 0x00) || startsWith(b, 0, 'M', 'M', 0x00, 0x2A)
                || startsWith(b, 0, 'I', 'I', 0x2B, 0x00) || startsWith(b, 0, 'M', 'M', 0x00, 0x2B)) {
            return "TIFF";
        }
        if (startsWith(b, 4, 'f', 't', 'y', 'p')) {
            return "HEIF/AVIF (ISO media)";
        }
        if (startsWith(b, 0, 0x00, 0x00, 0x00, 0x0C, 'j', 'P', ' ', ' ') || startsWith(b, 0, 0xFF, 0x4F, 0xFF, 0x51)) {
            return "JPEG 2000";
        }
        if (startsWith(b, 0, 0xFF, 0x0A) || startsWith(b, 0, 0x00, 0x00, 0x00, 0x0C, 'J', 'X', 'L', ' ')) {
            return "JPEG XL";
        }
        if (startsWith(b, 0, 0x00, 0x00, 0x01, 0x00) || startsWith(b, 0, 0x00, 0x00, 0x02, 0x00)) {
            return "ICO/CUR";
        }
        if (startsWith(b, 0, '8', 'B', 'P', 'S')) {
            return "Photoshop (PSD)";
        }
        if (startsWith(b, 0, 0x76, 0x2F, 0x31, 0x01)) {
            return "OpenEXR";
        }
        if (startsWith(b, 0, '#', '?')) {
            return "Radiance HDR";
        }
        if (b.length >= 3 && b[0] == 'P' && ((b[1] >= '1' && b[1] <= '7') || b[1] == 'F' || b[1] == 'f')
                && (b[2] == ' ' || b[2] == '\n' || b[2] == '\r' || b[2] == '\t')) {
            return "PNM/PFM";
        }
        if (startsWith(b, 0, 0x59, 0xA6, 0x6A, 0x95)) {
            return "Sun raster";
        }
        if (startsWith(b, 0, 'R', 'I', 'F', 'F')) {
            return "RIFF (not WebP)";
        }
        return null;
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private static UndecodableImageException refused(String name, String what) {
        return new UndecodableImageException("cannot decode image " + name + ": " + what + " (" + SUPPORTED + ")");
    }

    private static UndecodableImageException corrupt(String name, String format, String what) {
        return new UndecodableImageException("cannot decode image " + name + ": corrupt " + format + " header: "
                + what);
    }

    private static boolean startsWith(byte[] b, int at, int... expected) {
        if (at < 0 || at + expected.length > b.length) {
            return false;
        }
        for (int i = 0; i < expected.length; i++) {
            if (u8(b, at + i) != expected[i]) {
                return false;
            }
        }
        return true;
    }

    private static String chunkName(byte[] b, int at) {
        StringBuilder s = new StringBuilder(4);
        for (int i = at; i < at + 4 && i < b.length; i++) {
            int c = u8(b, i);
            s.append(c >= 0x20 && c < 0x7F ? (char) c : '?');
        }
        return s.toString();
    }

    private static String hex(int v) {
        return String.format("%02X", v);
    }

    private static int u8(byte[] b, int i) {
        return b[i] & 0xFF;
    }

    private static int u16be(byte[] b, int i) {
        return (u8(b, i) << 8) | u8(b, i + 1);
    }

    private static long u32be(byte[] b, int i) {
        return ((long) u16be(b, i) << 16) | u16be(b, i + 2);
    }

    private static int u16le(byte[] b, int i) {
        return u8(b, i) | (u8(b, i + 1) << 8);
    }

    private static int u24le(byte[] b, int i) {
        return u16le(b, i) | (u8(b, i + 2) << 16);
    }

    private static long u32le(byte[] b, int i) {
        return u16le(b, i) | ((long) u16le(b, i + 2) << 16);
    }

    private static int s32le(byte[] b, int i) {
        return (int) u32le(b, i);
    }
}

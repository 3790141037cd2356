package org.fixres4j.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reader of the IDX files of MNIST and Fashion-MNIST ({@code *-idx3-ubyte} images, {@code *-idx1-ubyte} labels),
 * plain or gzip-compressed (recognised by the gzip magic bytes, whatever the file name). Only unsigned-byte data
 * (type 0x08) is accepted: a big-endian header {@code 0x00 0x00 0x08 ndim}, then ndim big-endian int32 sizes, then
 * the bytes, row-major.
 */
public final class Idx {
    private Idx() {}

    /** Images read from an IDX3 file: {@code count} images of {@code rows x cols} uint8 pixels, packed. */
    public record Images(int count, int rows, int cols, byte[] pixels) {
        /** Checks the sizes against the pixel array. */
        public Images {
            if ((long) count * rows * cols != pixels.length) {
                throw new IllegalArgumentException(count + " images of " + rows + "x" + cols + " need "
                        + (long) count * rows * cols + " bytes, got " + pixels.length);
            }
        }
    }

    /** The images of an IDX3 unsigned-byte file. */
    public static Images readImages(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int[] dims = header(in, file, 3);
            byte[] pixels = body(in, file, dims);
            return new Images(dims[0], dims[1], dims[2], pixels);
        }
    }

    /** The labels (0..255) of an IDX1 unsigned-byte file. */
    public static int[] readLabels(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int[] dims = header(in, file, 1);
            byte[] raw = body(in, file, dims);
            int[] labels = new int[raw.length];
            for (int i = 0; i < raw.length; i++) {
                labels[i] = raw[i] & 0xFF;
            }
            return labels;
        }
    }

    private static DataInputStream open(Path file) throws IOException {
        org.fixres4j.image.ImageFiles.requireRegularFile(file, "IDX file");
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            if (b0 == 0x1f && b1 == 0x8b) {
                raw = new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16);
            }
            return new DataInputStream(raw);
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    private static int[] header(DataInputStream in, Path file, int expectedDims) throws IOException {
        int magic;
        try {
            magic = in.readInt();
        } catch (EOFException e) {
            throw new IOException(file + ": not an IDX file (shorter than its 4-byte header)");
        }
        int type = (magic >>> 8) & 0xFF;
        int ndim = magic & 0xFF;
        if ((magic >>> 16) != 0) {
            throw new IOException(file + ": not an IDX file (magic 0x" + Integer.toHexString(magic) + ")");
        }
        if (type != 0x08) {
            throw new IOException(file + ": IDX data type 0x" + Integer.toHexString(type)
                    + " is not supported (only unsigned bytes, 0x08)");
        }
        if (ndim != expectedDims) {
            throw new IOException(file + ": expected an IDX file of " + expectedDims + " dimension"
                    + (expectedDims == 1 ? "" : "s") + " (" + (expectedDims == 1 ? "labels" : "images") + "), got "
                    + ndim);
        }
        int[] dims = new int[ndim];
        long total = 1;
        for (int d = 0; d < ndim; d++) {
            try {
                dims[d] = in.readInt();
            } catch (EOFException e) {
                throw new IOException(file + ": truncated IDX header");
            }
            if (dims[d] < 0 || (d > 0 && dims[d] == 0)) {
                throw new IOException(file + ": bad IDX size " + dims[d] + " in dimension " + d);
            }
            total *= dims[d];
        }
        if (total > Integer.MAX_VALUE - 16) {
            throw new IOException(file + ": IDX data of " + total + " bytes is too large");
        }
        return dims;
    }

    private static byte[] body(DataInputStream in, Path file, int[] dims) throws IOException {
        long total = 1;
        for (int d : dims) {
            total *= d;
        }
        byte[] data = new byte[(int) total];
        try {
            in.readFully(data);
        } catch (EOFException e) {
            throw new IOException(file + ": truncated IDX file (expected " + total + " data bytes)");
        }
        return data;
    }
}

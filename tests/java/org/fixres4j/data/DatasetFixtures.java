package org.fixres4j.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import javax.imageio.ImageIO;

/** Tiny datasets written by the tests themselves (PNG through ImageIO, IDX files, empty placeholder files). */
final class DatasetFixtures {
    private DatasetFixtures() {}

    /** A PNG of random colour (or gray) pixels, reproducible from {@code seed}. */
    static Path png(Path file, int width, int height, long seed, boolean gray) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage im = new BufferedImage(width, height,
                gray ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
        Random r = new Random(seed);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                im.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(im, "png", out)) {
            throw new IOException("no PNG writer");
        }
        Files.write(file, out.toByteArray());
        return file;
    }

    /** An empty file (enough for datasets that are listed, not decoded). */
    static Path touch(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, new byte[0]);
    }

    /** An IDX file of unsigned bytes with the given dimensions, optionally gzipped. */
    static Path idx(Path file, int[] dims, byte[] data, boolean gzip) throws IOException {
        Files.createDirectories(file.getParent());
        ByteBuffer header = ByteBuffer.allocate(4 + 4 * dims.length);
        header.putInt(0x00000800 | dims.length);
        for (int d : dims) {
            header.putInt(d);
        }
        try (OutputStream raw = Files.newOutputStream(file);
             OutputStream out = gzip ? new GZIPOutputStream(raw) : raw) {
            out.write(header.array());
            out.write(data);
        }
        return file;
    }
}

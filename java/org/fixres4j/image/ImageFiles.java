package org.fixres4j.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;

/**
 * The one place image files are opened for reading (the decoder, and through it every dataset and command): regular
 * files only (a symbolic link to one is fine), never more than a size limit. A FIFO, socket, device or directory
 * is refused from its attributes, before it is opened, so reading an image never blocks waiting for a writer; a
 * file that grows while it is read is cut off at the limit, so memory stays bounded.
 */
public final class ImageFiles {
    private ImageFiles() {}

    /**
     * The bytes of an image file.
     *
     * @param maxBytes the largest file accepted
     * @throws IOException naming the file: missing, not a regular file, too large, or unreadable
     */
    public static byte[] read(Path file, long maxBytes) throws IOException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(file, BasicFileAttributes.class); // follows links
        } catch (NoSuchFileException e) {
            throw new IOException("cannot read image " + file + ": no such file", e);
        } catch (IOException e) {
            throw new IOException("cannot read image " + file + ": " + reason(e), e);
        }
        if (attrs.isDirectory()) {
            throw new IOException("cannot read image " + file + ": it is a directory");
        }
        if (!attrs.isRegularFile()) {
            throw new IOException("cannot read image " + file + ": not a regular file (a FIFO, socket or device); "
                    + "only regular files are read");
        }
        if (attrs.size() > maxBytes) {
            throw new UndecodableImageException("cannot read image " + file + ": the file has " + attrs.size()
                    + " bytes, over the limit of " + maxBytes + " bytes (raise --max-pixels to raise it)");
        }
        try (SeekableByteChannel ch = Files.newByteChannel(file, StandardOpenOption.READ)) {
            // read what stat said, plus one byte to notice a file that grew past the limit meanwhile
            long cap = Math.min(maxBytes + 1, Integer.MAX_VALUE - 16L);
            byte[] buf = new byte[(int) Math.min(cap, Math.max(attrs.size() + 1, 1))];
            int n = 0;
            while (true) {
                if (n == buf.length) {
                    if (buf.length >= cap) {
                        break;
                    }
                    buf = Arrays.copyOf(buf, (int) Math.min(cap, 2L * buf.length + 4096));
                }
                int r = ch.read(ByteBuffer.wrap(buf, n, buf.length - n));
                if (r < 0) {
                    break;
                }
                n += r;
            }
            if (n > maxBytes) {
                throw new UndecodableImageException("cannot read image " + file + ": the file grew past the limit of "
                        + maxBytes + " bytes while it was read");
            }
            return n == buf.length ? buf : Arrays.copyOf(buf, n);
        } catch (UndecodableImageException e) {
            throw e;
        } catch (IOException e) {
            throw new IOException("cannot read image " + file + ": " + reason(e), e);
        }
    }

    /**
     * Checks that {@code file} is a regular file (or a link to one) before a reader opens it, so that a FIFO or
     * device never blocks the open; {@code what} names it in the message ("CSV list", "IDX file").
     */
    public static void requireRegularFile(Path file, String what) throws IOException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new IOException("cannot read " + what + " " + file + ": no such file", e);
        }
        if (!attrs.isRegularFile()) {
            throw new IOException("cannot read " + what + " " + file + ": not a regular file ("
                    + (attrs.isDirectory() ? "a directory" : "a FIFO, socket or device") + ")");
        }
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}

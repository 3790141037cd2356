package org.fixres4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The one way FixRes4J replaces an output file: a temporary sibling is written, {@code fsync}ed and renamed over the
 * target with {@link StandardCopyOption#ATOMIC_MOVE}, then the directory is {@code fsync}ed. A reader (or a process
 * killed at any point) sees the old file or the new one, never a mix or a truncated file; a failed write leaves the
 * old file untouched and removes the temporary one.
 *
 * <p><b>Permissions.</b> The temporary file is created like any file the process creates ({@code 0666} less the
 * umask; {@link Files#createTempFile} would make it owner-only, and that mode would stick to the output). When an
 * existing file is replaced, its POSIX permissions are kept.
 *
 * <p><b>No silent fallback.</b> A file system without atomic renames gets an {@link IOException} naming the
 * directory, not a plain rename.
 *
 * <p>The temporary file is {@code .tmp.<random>.<name>} in the target's directory, so its name keeps the target's
 * suffix (a writer that chooses compression by suffix, such as {@code .npy.gz}, does the same for both).
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /**
     * Writes the temporary file. It exists (empty) when called; the writer may reopen it (truncating) or write it
     * through its own streams, and must close what it opens.
     */
    @FunctionalInterface
    public interface TempWriter<E extends Exception> {
        void write(Path tmp) throws IOException, E;
    }

    /** Replaces {@code file} with {@code bytes}. */
    public static void write(Path file, byte[] bytes) throws IOException {
        write(file, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                int half = bytes.length / 2;
                writeFully(ch, ByteBuffer.wrap(bytes, 0, half));
                FaultPoints.reached("atomic-write:partial", file);
                writeFully(ch, ByteBuffer.wrap(bytes, half, bytes.length - half));
            }
        });
    }

    /**
     * Replaces {@code file} with what {@code writer} writes to a temporary sibling; creates missing parent
     * directories. If the writer throws, {@code file} is untouched and the temporary file removed.
     */
    public static <E extends Exception> void write(Path file, TempWriter<E> writer) throws IOException, E {
        try (Replacement r = begin(file)) {
            writer.write(r.tmp());
            r.commit();
        }
    }

    /**
     * Starts replacing {@code file}: creates the temporary sibling (and missing parent directories). Write
     * {@link Replacement#tmp()}, then {@link Replacement#commit()}; closing without a commit removes the temporary
     * file and leaves {@code file} untouched.
     */
    public static Replacement begin(Path file) throws IOException {
        return new Replacement(file);
    }

    /** One replacement in progress ({@link #begin}). Not thread-safe. */
    public static final class Replacement implements java.io.Closeable {
        private final Path target;
        private final Path dir;
        private final Path tmp;
        private boolean done;

        private Replacement(Path file) throws IOException {
            target = file.toAbsolutePath();
            dir = target.getParent();
            Files.createDirectories(dir);
            tmp = createSibling(dir, target.getFileName().toString());
            try {
                copyPermissions(target, tmp);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(tmp);
                throw e;
            }
        }

        /** The temporary file to write (it exists, empty). */
        public Path tmp() {
            return tmp;
        }

        /** fsync of the temporary file, atomic rename over the target, fsync of the directory. */
        public void commit() throws IOException {
            if (done) {
                throw new IllegalStateException("already committed or closed: " + target);
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                FaultPoints.reached("atomic-write:before-fsync", target);
                ch.force(true);
            }
            FaultPoints.reached("atomic-write:before-rename", target);
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot replace " + target + " atomically: the file system of " + dir
                        + " does not support atomic renames (" + e.getMessage() + ")", e);
            }
            done = true;
            FaultPoints.reached("atomic-write:after-rename", target);
            fsyncDirectory(dir);
        }

        /** Removes the temporary file unless committed. */
        @Override
        public void close() throws IOException {
            if (!done) {
                done = true;
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static Path createSibling(Path dir, String name) throws IOException {
        // keep the name's end (its suffix) but stay well under the usual 255-byte limit of a file name
        String tail = name.length() > 100 ? name.substring(name.length() - 100) : name;
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve(".tmp." + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1) + "."
                    + tail);
            try {
                // no file attributes: the process's umask decides the mode, as for any other file it creates
                Files.newByteChannel(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW).close();
                return tmp;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
    }

    private static void copyPermissions(Path from, Path to) throws IOException {
        PosixFileAttributeView src = Files.getFileAttributeView(from, PosixFileAttributeView.class);
        if (src == null || !Files.isRegularFile(from, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Set<PosixFilePermission> perms;
        try {
            perms = src.readAttributes().permissions();
        } catch (IOException e) {
            return; // unreadable attributes: the new file keeps the umask's mode
        }
        Files.setPosixFilePermissions(to, perms);
    }

    /**
     * {@code fsync} of a directory, which makes a rename in it durable. Where the platform cannot open a directory
     * (Windows) or a file system refuses to sync one, nothing more can be done: the rename itself is already atomic
     * and complete, so that is not reported as a failed write.
     */
    public static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // see above: durability of the rename is best effort where the platform offers no directory fsync
        }
    }
}

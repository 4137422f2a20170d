package io.hvp4j.io;

import io.hvp4j.InvalidInputException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.ThreadLocalRandom;

/** File plumbing shared by the readers and writers: opening, exact reads, error messages, atomic writes. */
final class IoSupport {
    /** Largest chunk handed to one channel read or write (a ByteBuffer holds at most 2^31-1 bytes). */
    private static final int CHUNK = 1 << 26;

    private IoSupport() {
    }

    /** Opens {@code file} for reading; a directory or a missing/unreadable file becomes an InvalidInputException. */
    static FileChannel openRead(Path file) {
        try {
            BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
            if (attrs.isDirectory()) {
                throw new InvalidInputException("cannot read " + file + ": is a directory");
            }
            if (!attrs.isRegularFile()) {
                throw new InvalidInputException("cannot read " + file + ": not a regular file");
            }
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw readError(file, e);
        }
    }

    static InvalidInputException readError(Path file, IOException e) {
        return new InvalidInputException("cannot read " + file + ": " + describe(e), e);
    }

    static InvalidInputException writeError(Path file, IOException e) {
        return new InvalidInputException("cannot write " + file + ": " + describe(e), e);
    }

    private static String describe(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.replace('\n', ' ');
    }

    /** Reads exactly {@code n} bytes at {@code position} into a new array (n is small: headers only). */
    static byte[] readBytes(FileChannel ch, Path file, long position, int n) throws IOException {
        byte[] out = new byte[n];
        ByteBuffer bb = ByteBuffer.wrap(out);
        long pos = position;
        while (bb.hasRemaining()) {
            int r = ch.read(bb, pos);
            if (r < 0) {
                throw new InvalidInputException(file + ": file shrank while it was being read");
            }
            pos += r;
        }
        return out;
    }

    /** Fills {@code dst} completely with the bytes of the file starting at {@code position}. */
    static void readFully(FileChannel ch, Path file, long position, MemorySegment dst) throws IOException {
        long size = dst.byteSize();
        long done = 0;
        while (done < size) {
            int len = (int) Math.min(CHUNK, size - done);
            ByteBuffer bb = dst.asSlice(done, len).asByteBuffer();
            while (bb.hasRemaining()) {
                int r = ch.read(bb, position + done + bb.position());
                if (r < 0) {
                    throw new InvalidInputException(file + ": file shrank while it was being read");
                }
            }
            done += len;
        }
    }

    /** Writes all of {@code src} at the channel's current position. */
    static void writeFully(FileChannel ch, MemorySegment src) throws IOException {
        long size = src.byteSize();
        long done = 0;
        while (done < size) {
            int len = (int) Math.min(CHUNK, size - done);
            ByteBuffer bb = src.asSlice(done, len).asByteBuffer();
            while (bb.hasRemaining()) {
                ch.write(bb);
            }
            done += len;
        }
    }

    static void writeFully(FileChannel ch, byte[] src) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(src);
        while (bb.hasRemaining()) {
            ch.write(bb);
        }
    }

    /** Allocates {@code bytes} (possibly 0) aligned to 64 bytes. */
    static MemorySegment allocate(Arena arena, long bytes) {
        return arena.allocate(Math.max(bytes, 1), 64).asSlice(0, bytes);
    }

    @FunctionalInterface
    interface ChannelWriter {
        void write(FileChannel ch) throws IOException;
    }

    /**
     * Writes a file atomically: the content goes to a fresh temporary file in the same directory, which is
     * forced to disk and then renamed over {@code file}. On any failure the temporary file is removed and
     * {@code file} is left as it was. A symbolic link is followed (the file it names is replaced, the link stays),
     * and an existing file that is not a regular file (a device such as {@code /dev/null}, a named pipe) is written
     * to directly, never replaced.
     */
    static void atomicWrite(Path file, ChannelWriter body) {
        Path target = followLinks(file.toAbsolutePath());
        if (Files.exists(target) && !Files.isRegularFile(target) && !Files.isDirectory(target)) {
            try (FileChannel ch = FileChannel.open(target, StandardOpenOption.WRITE)) {
                body.write(ch);
            } catch (IOException e) {
                throw writeError(file, e);
            }
            return;
        }
        Path dir = target.getParent();
        if (target.getFileName() == null || dir == null) {
            throw new InvalidInputException("cannot write " + file + ": not a file name");
        }
        if (Files.isDirectory(target)) {
            throw new InvalidInputException("cannot write " + file + ": is a directory");
        }
        Path realDir = realPath(dir);
        removeAbandoned(dir, realDir, target.getFileName().toString());
        Path tmp = null, key = null;
        try {
            FileChannel ch = null;
            for (int attempt = 0; ch == null; attempt++) {
                tmp = dir.resolve("." + target.getFileName() + "."
                        + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + ".tmp");
                try {
                    ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                    key = realDir.resolve(tmp.getFileName());
                    WRITING.add(key);
                } catch (FileAlreadyExistsException e) {
                    tmp = null;
                    if (attempt >= 10) {
                        throw e;
                    }
                }
            }
            try (FileChannel c = ch) {
                // Locked until after the rename (a POSIX rename of an open file is fine): removeAbandoned tells a
                // live writer's file from a dead one's by the lock. Best effort: some file systems have no locks.
                try {
                    c.lock();
                } catch (IOException | UnsupportedOperationException noLocks) {
                    // the age rule of removeAbandoned still spares this file for a minute
                }
                body.write(c);
                c.force(true);
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    throw new IOException("the file system cannot rename atomically", e);
                }
            }
            tmp = null;
            syncDirectory(dir);
        } catch (IOException e) {
            throw writeError(file, e);
        } finally {
            if (key != null) {
                WRITING.remove(key);
            }
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: the original error matters more
                }
            }
        }
    }

    /** {@code dir} with links resolved, so that one directory has one spelling in {@link #WRITING}. */
    private static Path realPath(Path dir) {
        try {
            return dir.toRealPath();
        } catch (IOException e) {
            return dir.toAbsolutePath().normalize();
        }
    }

    /** The path a chain of symbolic links ends at (the path itself when it is not a link); at most 40 links. */
    private static Path followLinks(Path path) {
        Path p = path;
        for (int i = 0; i < 40 && Files.isSymbolicLink(p); i++) {
            try {
                Path link = Files.readSymbolicLink(p);
                p = p.resolveSibling(link).normalize();
            } catch (IOException e) {
                throw writeError(path, e);
            }
        }
        if (Files.isSymbolicLink(p)) {
            throw new InvalidInputException("cannot write " + path + ": too many levels of symbolic links");
        }
        return p;
    }

    /**
     * Deletes temporary files of {@link #atomicWrite} for {@code name} that a killed process left in {@code dir}
     * (a checkpoint's can be as large as the file it replaces). A live writer holds a lock on its file, which the
     * operating system releases when the process dies; files younger than a minute are also spared, for the moment
     * between creating a file and locking it. Best effort: errors are ignored.
     */
    static void removeAbandoned(Path dir, Path realDir, String name) {
        String prefix = "." + name + ".";
        long now = System.currentTimeMillis();
        try (var entries = Files.newDirectoryStream(dir, p -> {
            String f = p.getFileName().toString();
            return f.startsWith(prefix) && f.endsWith(".tmp")
                    && f.substring(prefix.length(), f.length() - 4).matches("[0-9a-f]{1,16}");
        })) {
            for (Path stale : entries) {
                try {
                    // This JVM's own writers: probing their lock would close a descriptor and drop it (POSIX).
                    if (WRITING.contains(realDir.resolve(stale.getFileName())) || !Files.isRegularFile(stale, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                            || now - Files.getLastModifiedTime(stale).toMillis() < ABANDONED_AFTER_MS) {
                        continue;
                    }
                    try (FileChannel c = FileChannel.open(stale, StandardOpenOption.WRITE);
                         java.nio.channels.FileLock lock = c.tryLock()) {
                        if (lock != null) {
                            Files.deleteIfExists(stale);
                        }
                    }
                } catch (IOException | java.nio.channels.OverlappingFileLockException ignored) {
                    // in use by this JVM, or gone: leave it
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // an unreadable directory: the write itself will report it
        }
    }

    /** The temporary files this JVM is writing now. */
    private static final java.util.Set<Path> WRITING = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Temporary files younger than this are never treated as abandoned. */
    static final long ABANDONED_AFTER_MS = 60_000;

    /** Makes the rename durable where the platform allows opening a directory (Linux); silently skipped elsewhere. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // not supported on this platform / file system
        }
    }
}

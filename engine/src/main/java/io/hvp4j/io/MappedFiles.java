package io.hvp4j.io;

import io.hvp4j.InvalidInputException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The one place where data readers decide to map files instead of reading them, and where they get temporary
 * file-backed memory for data that must be converted first (CSV text, gzip-compressed IDX).
 *
 * <p>A data set whose tensor would take at least {@link #threshold()} bytes is not held in memory: a file that
 * already holds the bytes (an {@code .npy} in the run's dtype, an uncompressed IDX file) is mapped read-only;
 * otherwise the converted bytes are written into a {@linkplain #temporary temporary file} that is mapped. Either
 * way the data reach the products batch by batch through the page cache, and the Java heap (and the direct
 * memory limit, which also bounds {@link Arena#allocate}) never holds the whole set.
 *
 * <p>Temporary files go to {@code java.io.tmpdir}. Each is unlinked as soon as it is mapped, so nothing is left
 * behind even when the JVM is killed; its disk space returns when the arena that owns the mapping closes (where
 * the file system refuses to delete a mapped file, it is deleted when the JVM exits).
 */
public final class MappedFiles {
    /** System property: data of at least this many bytes are mapped instead of read (default 64 MiB). */
    public static final String THRESHOLD_PROPERTY = "hvp4j.mapBytes";
    /** The older name of {@link #THRESHOLD_PROPERTY}, still honoured when the new one is not set. */
    public static final String LEGACY_THRESHOLD_PROPERTY = "hvp4j.npy.mapBytes";
    private static final long DEFAULT_THRESHOLD = 64L << 20;

    private MappedFiles() {
    }

    /**
     * Bytes from which data are mapped: {@value #THRESHOLD_PROPERTY}, else {@value #LEGACY_THRESHOLD_PROPERTY},
     * else 64 MiB (an unparsable value counts as unset).
     *
     * @return the threshold in bytes
     */
    public static long threshold() {
        for (String key : new String[] {THRESHOLD_PROPERTY, LEGACY_THRESHOLD_PROPERTY}) {
            String v = System.getProperty(key);
            if (v != null) {
                try {
                    return Long.parseLong(v.trim());
                } catch (NumberFormatException e) {
                    // fall through to the next name, then the default
                }
            }
        }
        return DEFAULT_THRESHOLD;
    }

    /** Whether data of {@code bytes} bytes should be mapped rather than held in memory. */
    static boolean large(long bytes) {
        return bytes >= threshold();
    }

    /** Maps {@code bytes} bytes of {@code ch} from {@code offset} read-only for the life of {@code arena}. */
    static MemorySegment mapReadOnly(FileChannel ch, long offset, long bytes, Arena arena) throws IOException {
        return ch.map(FileChannel.MapMode.READ_ONLY, offset, bytes, arena);
    }

    /**
     * A zero-filled, writable, file-backed segment of {@code bytes} bytes in a new temporary file of
     * {@code java.io.tmpdir}, mapped for the life of {@code arena}. The file is unlinked right after mapping.
     *
     * @param what names the data in messages (e.g. "data.csv (converted to f32)")
     * @throws InvalidInputException when the temporary directory has less usable space than {@code bytes}
     *                               (checked first: running out of disk under a mapping cannot be reported
     *                               cleanly) or the file cannot be created
     */
    static MemorySegment temporary(long bytes, String what, Arena arena) {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"));
        Path file = null;
        try {
            long free = Files.getFileStore(dir).getUsableSpace();
            if (free < bytes) {
                throw new InvalidInputException(what + ": needs a temporary file of " + bytes + " bytes but " + dir
                        + " has only " + free + " bytes free (set -Djava.io.tmpdir to another directory)");
            }
            file = Files.createTempFile(dir, "hvp4j-data-", ".bin");
            MemorySegment seg;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                // Mapping past the end grows the file (sparse); the pages are zero until written.
                seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, Math.max(bytes, 1), arena).asSlice(0, bytes);
            }
            delete(file);
            return seg;
        } catch (IOException e) {
            if (file != null) {
                delete(file);
            }
            throw new InvalidInputException(what + ": cannot create a temporary file in " + dir + ": "
                    + e.getMessage(), e);
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            file.toFile().deleteOnExit(); // e.g. Windows, which keeps mapped files
        }
    }
}

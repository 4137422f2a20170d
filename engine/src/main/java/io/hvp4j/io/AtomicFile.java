package io.hvp4j.io;

import io.hvp4j.InvalidInputException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Atomic file replacement for every writer of hvp4j (arrays, weights, checkpoints): the content goes to a fresh
 * temporary file in the target's directory, which is forced to disk ({@link FileChannel#force}), renamed over
 * the target with an atomic move, and the directory is forced too where the platform allows. A reader, or a
 * process killed at any moment, sees the old file or the new one, never a mixture; on failure the temporary
 * file is removed and the target is left as it was. A symbolic link is followed: the file it names is replaced
 * and the link stays. A target that exists and is not a regular file (a device such as {@code /dev/null}, a named
 * pipe) is written to directly, since replacing it would destroy it; that write is not atomic.
 */
public final class AtomicFile {
    private AtomicFile() {
    }

    /** Writes the content through the channel it is given (positioned at 0). */
    @FunctionalInterface
    public interface Body {
        /**
         * Writes the content.
         *
         * @param channel the temporary file, positioned at 0
         * @throws IOException when writing fails
         */
        void write(FileChannel channel) throws IOException;
    }

    /**
     * Replaces {@code file} atomically with what {@code body} writes.
     *
     * @param file the file to replace
     * @param body writes the content
     * @throws InvalidInputException when the file cannot be written (missing directory, permissions, a file
     *                               system without atomic rename, ...), with a one-line message naming it
     */
    public static void write(Path file, Body body) {
        IoSupport.atomicWrite(file, body::write);
    }

    /**
     * Replaces {@code file} atomically with {@code bytes}.
     *
     * @param file  the file to replace
     * @param bytes the whole content
     * @throws InvalidInputException as {@link #write(Path, Body)}
     */
    public static void write(Path file, byte[] bytes) {
        write(file, ch -> {
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        });
    }
}

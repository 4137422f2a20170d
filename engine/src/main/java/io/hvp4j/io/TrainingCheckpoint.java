package io.hvp4j.io;

import io.hvp4j.InvalidInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The resumable state of a training run: the parameters and momentum buffer after {@code epochsDone} epochs, the
 * run's fingerprint (a canonical text of every argument that determines the trajectory) and a text log (e.g. the
 * metric rows written so far), so that a resumed run can refuse a checkpoint of different arguments and rewrite
 * its outputs exactly.
 *
 * <p>Format (little-endian): {@code "HVP4JTR1"}, version 1 (int), fingerprint (int length + UTF-8), epochsDone
 * (int), P (int), P doubles of parameters, P doubles of momentum, log (int length + UTF-8), CRC-32C of everything
 * before it (long), {@code "HVP4JEND"}. Written atomically (temporary file, fsync, rename, fsync of the
 * directory); a damaged or truncated file is refused with {@link InvalidInputException}.
 */
public final class TrainingCheckpoint {
    private static final byte[] MAGIC = "HVP4JTR1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "HVP4JEND".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final long MAX_BYTES = 1L << 31;

    private TrainingCheckpoint() {
    }

    /** A saved state. Arrays are not copied. */
    public record State(String fingerprint, int epochsDone, double[] parameters, double[] momentum, String log) {
        public State {
            if (parameters.length != momentum.length || epochsDone < 0) {
                throw new IllegalArgumentException("inconsistent training state");
            }
        }
    }

    /** Writes {@code state} to {@code file} atomically. */
    public static void write(Path file, State state) {
        byte[] fp = state.fingerprint().getBytes(StandardCharsets.UTF_8);
        byte[] log = state.log().getBytes(StandardCharsets.UTF_8);
        int p = state.parameters().length;
        long size = 8L + 4 + 4 + fp.length + 4 + 4 + 16L * p + 4 + log.length + 8 + 8;
        if (size > MAX_BYTES) {
            throw new InvalidInputException("training state of " + size + " bytes is too large for a checkpoint");
        }
        ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(VERSION).putInt(fp.length).put(fp).putInt(state.epochsDone()).putInt(p);
        for (double x : state.parameters()) b.putDouble(x);
        for (double x : state.momentum()) b.putDouble(x);
        b.putInt(log.length).put(log);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putLong(crc.getValue()).put(END);
        IoSupport.atomicWrite(file, ch -> IoSupport.writeFully(ch, b.array()));
    }

    /** Reads and validates a checkpoint. */
    public static State read(Path file) {
        byte[] all;
        try {
            long n = Files.size(file);
            if (n > MAX_BYTES) {
                throw bad(file, "too large (" + n + " bytes)");
            }
            try (FileChannel ch = IoSupport.openRead(file)) {
                all = IoSupport.readBytes(ch, file, 0, (int) n);
            }
        } catch (IOException e) {
            throw IoSupport.readError(file, e);
        }
        if (all.length < MAGIC.length + 4 + 8 + 8) {
            throw bad(file, "truncated (" + all.length + " bytes)");
        }
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[8];
        b.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw bad(file, "not an hvp4j training checkpoint");
        }
        int end = all.length - 16;
        CRC32C crc = new CRC32C();
        crc.update(all, 0, end);
        if (ByteBuffer.wrap(all, end, 8).order(ByteOrder.LITTLE_ENDIAN).getLong() != crc.getValue()
                || !java.util.Arrays.equals(java.util.Arrays.copyOfRange(all, end + 8, all.length), END)) {
            throw bad(file, "checksum mismatch (damaged or truncated)");
        }
        try {
            int version = b.getInt();
            if (version != VERSION) {
                throw bad(file, "unsupported version " + version);
            }
            String fp = string(b, end, file);
            int epochs = b.getInt();
            int p = b.getInt();
            if (epochs < 0 || p < 0 || 16L * p > end - b.position()) {
                throw bad(file, "inconsistent sizes");
            }
            double[] theta = new double[p], mom = new double[p];
            for (int i = 0; i < p; i++) theta[i] = b.getDouble();
            for (int i = 0; i < p; i++) mom[i] = b.getDouble();
            String log = string(b, end, file);
            if (b.position() != end) {
                throw bad(file, "trailing bytes");
            }
            return new State(fp, epochs, theta, mom, log);
        } catch (java.nio.BufferUnderflowException e) {
            throw bad(file, "truncated record");
        }
    }

    private static String string(ByteBuffer b, int end, Path file) {
        int n = b.getInt();
        if (n < 0 || n > end - b.position()) {
            throw bad(file, "bad string length " + n);
        }
        byte[] s = new byte[n];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static InvalidInputException bad(Path file, String why) {
        return new InvalidInputException("checkpoint " + file + ": " + why);
    }
}

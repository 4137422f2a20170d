package io.hvp4j.spectral;

import io.hvp4j.InvalidInputException;
import io.hvp4j.Progress;
import io.hvp4j.io.AtomicFile;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * The dense {@code n × n} float64 matrix of a {@link SymmetricOperator}, assembled from block products
 * {@code A·[e_j … e_{j+k-1}]} (k columns of the identity at a time), stored off-heap.
 *
 * <p>After assembly the asymmetry {@code ‖A − Aᵀ‖_F / ‖A‖_F} is measured (0 for an exactly symmetric result;
 * curvature products are symmetric only to rounding) and the matrix is replaced by {@code (A + Aᵀ)/2}, which
 * the eigensolvers need.
 *
 * <p><b>Checkpoints.</b> With {@link Options#checkpoint} set, the columns done so far are written every
 * {@link Options#checkpointEverySeconds} seconds (stretched to at least four times the last write's duration,
 * so that writing costs at most ~20 % of the time) and/or every {@link Options#checkpointEveryColumns} columns,
 * when the assembly is aborted by an exception (from the operator or the progress callback), and once complete.
 * A write is atomic (temporary file in the same directory, fsync, rename, fsync of the directory). A later call
 * with the same checkpoint path and the same {@link Options#fingerprint} (the caller's description of the operator
 * and everything that determines its values) loads the stored columns and computes only the rest, with the same
 * block boundaries as the first run, so the result is bit-identical to an uninterrupted assembly (for an operator
 * that is itself deterministic). A checkpoint for another fingerprint or dimension, or one that fails its
 * CRC-32C checksum or size check, is refused with {@link InvalidInputException}; it is never overwritten silently.
 *
 * <p>File format (version 1): a 64-byte little-endian header {@code "HVP4JCK1"}, version, data byte order
 * (1 little, 2 big), n, block size, columns stored, a reserved int, SHA-256 of the UTF-8 fingerprint; then the
 * stored columns, {@code columns × n} doubles in the machine's byte order (column j = {@code A·e_j}); then the
 * CRC-32C of everything before it (8 bytes) and {@code "HVP4JEND"}.
 */
public final class DenseAssembly {
    /** Largest n accepted (an n × n f64 matrix of ~16 GiB, and n² below 2^31 for pure-Java solvers). */
    public static final int MAX_DIMENSION = 46_000;
    /** Columns per product unless the operator or the options allow fewer. */
    public static final int DEFAULT_BLOCK = 32;

    static final byte[] MAGIC = "HVP4JCK1".getBytes(StandardCharsets.US_ASCII);
    static final byte[] END = "HVP4JEND".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER_BYTES = 64;
    static final int TRAILER_BYTES = 16;
    private static final long IO_CHUNK = 1L << 26;

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DenseAssembly.class);

    private DenseAssembly() {
    }

    /** Options of an assembly (mutable builder; the defaults need no checkpoint file). */
    public static final class Options {
        int maxBlock = DEFAULT_BLOCK;
        Path checkpoint;
        String fingerprint = "";
        int checkpointEveryColumns;
        double checkpointEverySeconds = 30;
        Progress progress;

        /** Options with every default. */
        public Options() {
        }

        /**
         * Most columns per product (further capped by the operator's {@code maxBlock()} and n).
         *
         * @param k at least 1
         * @return these options
         */
        public Options maxBlock(int k) {
            if (k < 1) {
                throw new IllegalArgumentException("block size must be positive, got " + k);
            }
            maxBlock = k;
            return this;
        }

        /**
         * Where the checkpoint goes.
         *
         * @param file the checkpoint file, or null for none
         * @return these options
         */
        public Options checkpoint(Path file) {
            checkpoint = file;
            return this;
        }

        /**
         * Identifies the operator and its arguments; a checkpoint is only resumed for the same string.
         *
         * @param f the fingerprint
         * @return these options
         */
        public Options fingerprint(String f) {
            fingerprint = Objects.requireNonNull(f, "fingerprint");
            return this;
        }

        /**
         * Also write a checkpoint after every this many new columns.
         *
         * @param columns the interval, or 0 for by time only
         * @return these options
         */
        public Options checkpointEveryColumns(int columns) {
            if (columns < 0) {
                throw new IllegalArgumentException("negative checkpoint interval");
            }
            checkpointEveryColumns = columns;
            return this;
        }

        /**
         * Write a checkpoint when this many seconds have passed since the last one.
         *
         * @param seconds the interval, or negative for never by time
         * @return these options
         */
        public Options checkpointEverySeconds(double seconds) {
            checkpointEverySeconds = seconds;
            return this;
        }

        /**
         * Told the columns done so far after each block; may throw to abort (a checkpoint is written first).
         *
         * @param p the progress sink, or null
         * @return these options
         */
        public Options progress(Progress p) {
            progress = p;
            return this;
        }
    }

    /**
     * The assembled, symmetrized matrix.
     *
     * @param matrix         {@code n × n} f64, symmetric, allocated in the caller's arena
     * @param asymmetry      {@code ‖A − Aᵀ‖_F / ‖A‖_F} before symmetrization (0 for the zero matrix)
     * @param resumedColumns columns loaded from the checkpoint (0 without one)
     * @param block          columns per product used
     * @param checkpointsWritten checkpoint files written by this call
     */
    public record Result(Tensor matrix, double asymmetry, int resumedColumns, int block, int checkpointsWritten) {
    }

    /**
     * Assembles an operator densely with default options.
     *
     * @param op    the operator (n at most {@link #MAX_DIMENSION})
     * @param arena owns the matrix
     * @return the matrix
     */
    public static Result assemble(SymmetricOperator op, Arena arena) {
        return assemble(op, arena, new Options());
    }

    /**
     * Assembles an operator densely.
     *
     * @param op      the operator (n at most {@link #MAX_DIMENSION})
     * @param arena   owns the matrix
     * @param options block, checkpoint, progress
     * @return the matrix
     */
    public static Result assemble(SymmetricOperator op, Arena arena, Options options) {
        int n = op.dimension();
        if (n > MAX_DIMENSION) {
            throw new InvalidInputException("dense assembly is limited to n <= " + MAX_DIMENSION + " (an n×n f64"
                    + " matrix of " + String.format(java.util.Locale.ROOT, "%.1f", (double) n * n * 8 / (1L << 30))
                    + " GiB was requested for " + op.description() + " with n = " + n + ")");
        }
        if (n < 1) {
            return new Result(Tensor.allocate(arena, DType.F64, 0, 0), 0, 0, 1, 0);
        }
        int block = Math.max(1, Math.min(Math.min(options.maxBlock, op.maxBlock()), n));
        // Stored as M[j][i] = (A e_j)_i, so that the first c columns of A are the first c·n elements.
        Tensor m = Tensor.allocate(arena, DType.F64, n, n);
        byte[] fingerprintHash = sha256(options.fingerprint);
        int done = 0;
        if (options.checkpoint != null) {
            Stored s = readCheckpoint(options.checkpoint, n, fingerprintHash, m.segment());
            if (s != null) {
                done = s.columns;
                if (s.block != block) {
                    if (s.block > op.maxBlock() || s.block > n) {
                        throw new InvalidInputException("checkpoint " + options.checkpoint + " was written with "
                                + s.block + " columns per product, more than this operator allows ("
                                + op.maxBlock() + "); delete it to start over");
                    }
                    block = s.block; // same block boundaries as the first run: same bits
                }
            }
        }
        int resumed = done;
        if (resumed > 0) {
            LOG.info("resuming {}: {} of {} columns from checkpoint {}", op.description(), resumed, n,
                    options.checkpoint);
        }
        LOG.debug("assembling {} densely: n = {}, {} columns per product", op.description(), n, block);
        int saved = done;
        int written = 0;
        long lastSave = System.nanoTime();
        double lastWriteSeconds = 0;
        if (options.progress != null) {
            options.progress.update(done, n);
        }
        try (Arena tmp = Arena.ofShared()) { // shared: a multi-threaded backend reads these on its workers
            Tensor vFull = Tensor.allocate(tmp, op.dtype(), n, block);
            Tensor oFull = Tensor.allocate(tmp, op.dtype(), n, block);
            MemorySegment seg = m.segment();
            try {
                while (done < n) {
                    int kc = Math.min(block, n - done);
                    Tensor v = kc == block ? vFull : vFull.view(0, n, kc);
                    Tensor o = kc == block ? oFull : oFull.view(0, n, kc);
                    v.zero();
                    for (int c = 0; c < kc; c++) {
                        v.set(done + c, c, 1.0);
                    }
                    op.apply(v, o);
                    for (int i = 0; i < n; i++) {
                        for (int c = 0; c < kc; c++) {
                            seg.setAtIndex(ValueLayout.JAVA_DOUBLE, (long) (done + c) * n + i, o.get(i, c));
                        }
                    }
                    done += kc;
                    if (options.checkpoint != null && done < n) {
                        double since = (System.nanoTime() - lastSave) / 1e9;
                        boolean byColumns = options.checkpointEveryColumns > 0
                                && done - saved >= options.checkpointEveryColumns;
                        boolean byTime = options.checkpointEverySeconds >= 0
                                && since >= Math.max(options.checkpointEverySeconds, 4 * lastWriteSeconds);
                        if (byColumns || byTime) {
                            long t0 = System.nanoTime();
                            writeCheckpoint(options.checkpoint, n, block, done, fingerprintHash, seg);
                            lastWriteSeconds = (System.nanoTime() - t0) / 1e9;
                            LOG.debug("checkpoint {}: {} of {} columns ({} s to write)", options.checkpoint, done, n,
                                    lastWriteSeconds);
                            lastSave = System.nanoTime();
                            saved = done;
                            written++;
                        }
                    }
                    if (options.progress != null) {
                        options.progress.update(done, n);
                    }
                }
            } catch (RuntimeException | Error e) {
                if (options.checkpoint != null && done > saved) {
                    try {
                        writeCheckpoint(options.checkpoint, n, block, done, fingerprintHash, seg);
                    } catch (RuntimeException | Error w) {
                        e.addSuppressed(w);
                    }
                }
                throw e;
            }
        }
        if (options.checkpoint != null && done > saved) {
            writeCheckpoint(options.checkpoint, n, block, done, fingerprintHash, m.segment());
            written++;
        }
        double asym = symmetrize(m.segment(), n);
        return new Result(m, asym, resumed, block, written);
    }

    /**
     * Measures {@code ‖M − Mᵀ‖_F / ‖M‖_F} of the row-major {@code n × n} matrix in {@code seg} and replaces
     * it by {@code (M + Mᵀ)/2}. Deterministic (fixed summation order).
     */
    static double symmetrize(MemorySegment seg, int n) {
        final int b = 64;
        double diff = 0, norm = 0;
        for (int i0 = 0; i0 < n; i0 += b) {
            int i1 = Math.min(n, i0 + b);
            for (int j0 = i0; j0 < n; j0 += b) {
                int j1 = Math.min(n, j0 + b);
                for (int i = i0; i < i1; i++) {
                    for (int j = Math.max(j0, i); j < j1; j++) {
                        long ij = (long) i * n + j;
                        double x = seg.getAtIndex(ValueLayout.JAVA_DOUBLE, ij);
                        if (i == j) {
                            norm += x * x;
                            continue;
                        }
                        long ji = (long) j * n + i;
                        double y = seg.getAtIndex(ValueLayout.JAVA_DOUBLE, ji);
                        double d = x - y;
                        diff += 2 * d * d;
                        norm += x * x + y * y;
                        double s = 0.5 * (x + y);
                        seg.setAtIndex(ValueLayout.JAVA_DOUBLE, ij, s);
                        seg.setAtIndex(ValueLayout.JAVA_DOUBLE, ji, s);
                    }
                }
            }
        }
        return norm == 0 ? 0 : Math.sqrt(diff) / Math.sqrt(norm);
    }

    // ------------------------------------------------------------------------------------------ checkpoints

    private record Stored(int columns, int block) {
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    private static int orderFlag() {
        return ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? 1 : 2;
    }

    private static ByteBuffer header(int n, int block, int columns, byte[] hash) {
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        h.put(MAGIC).putInt(VERSION).putInt(orderFlag()).putInt(n).putInt(block).putInt(columns).putInt(0)
                .put(hash);
        return h.flip();
    }

    /** Writes the first {@code columns} columns atomically ({@link AtomicFile}: temporary file, fsync, rename). */
    static void writeCheckpoint(Path file, int n, int block, int columns, byte[] hash, MemorySegment data) {
        AtomicFile.write(file, c -> {
            CRC32C crc = new CRC32C();
            ByteBuffer h = header(n, block, columns, hash);
            crc.update(h.duplicate());
            writeAll(c, h);
            long bytes = (long) columns * n * 8;
            for (long off = 0; off < bytes; off += IO_CHUNK) {
                ByteBuffer chunk = data.asSlice(off, Math.min(IO_CHUNK, bytes - off)).asByteBuffer();
                crc.update(chunk.duplicate());
                writeAll(c, chunk);
            }
            ByteBuffer t = ByteBuffer.allocate(TRAILER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            t.putLong(crc.getValue()).put(END).flip();
            writeAll(c, t);
        });
    }

    private static void writeAll(FileChannel c, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            c.write(b);
        }
    }

    /**
     * Loads a checkpoint into {@code dst} (its first {@code columns·n} doubles); null when the file does not
     * exist. Refuses foreign, mismatching or damaged files.
     */
    private static Stored readCheckpoint(Path file, int n, byte[] hash, MemorySegment dst) {
        String what = "checkpoint " + file;
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = c.size();
            if (size < HEADER_BYTES + TRAILER_BYTES) {
                throw new InvalidInputException(what + " is damaged or not a checkpoint (" + size
                        + " bytes); delete it to start over");
            }
            ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            readAll(c, h, 0);
            h.flip();
            byte[] magic = new byte[8];
            h.get(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new InvalidInputException(what + " is not an hvp4j checkpoint; delete it or choose another file");
            }
            int version = h.getInt(), order = h.getInt(), sn = h.getInt(), block = h.getInt(), columns = h.getInt();
            h.getInt();
            byte[] storedHash = new byte[32];
            h.get(storedHash);
            if (version != VERSION) {
                throw new InvalidInputException(what + " has format version " + version + ", not " + VERSION
                        + "; delete it to start over");
            }
            if (order != orderFlag()) {
                throw new InvalidInputException(what + " was written on a machine of the other byte order");
            }
            if (sn != n || !MessageDigest.isEqual(storedHash, hash)) {
                throw new InvalidInputException(what + " was written for another operator or other arguments"
                        + (sn != n ? " (n = " + sn + ", now " + n + ")" : " (fingerprint differs)")
                        + "; delete it or choose another --checkpoint file");
            }
            if (columns < 0 || columns > n || block < 1
                    || size != HEADER_BYTES + (long) columns * n * 8 + TRAILER_BYTES) {
                throw new InvalidInputException(what + " is damaged (its size " + size + " does not match its header);"
                        + " delete it to start over");
            }
            CRC32C crc = new CRC32C();
            h.rewind();
            crc.update(h);
            long bytes = (long) columns * n * 8;
            for (long off = 0; off < bytes; off += IO_CHUNK) {
                ByteBuffer chunk = dst.asSlice(off, Math.min(IO_CHUNK, bytes - off)).asByteBuffer();
                readAll(c, chunk, HEADER_BYTES + off);
                chunk.flip();
                crc.update(chunk);
            }
            ByteBuffer t = ByteBuffer.allocate(TRAILER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            readAll(c, t, HEADER_BYTES + bytes);
            t.flip();
            long stored = t.getLong();
            byte[] end = new byte[8];
            t.get(end);
            if (stored != crc.getValue() || !Arrays.equals(end, END)) {
                dst.asSlice(0, bytes).fill((byte) 0);
                throw new InvalidInputException(what + " is corrupted (checksum mismatch); delete it to start over");
            }
            return new Stored(columns, block);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new InvalidInputException("cannot read " + what + ": " + e.getMessage(), e);
        }
    }

    private static void readAll(FileChannel c, ByteBuffer b, long position) throws IOException {
        long pos = position;
        while (b.hasRemaining()) {
            int r = c.read(b, pos);
            if (r < 0) {
                throw new IOException("unexpected end of file");
            }
            pos += r;
        }
    }
}

package io.hvp4j.io;

import io.hvp4j.InvalidInputException;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutation fuzzing of the IDX reader through every entry point (header, read, readLabels, imageRows,
 * classification), in memory and on the mapped/temporary-file path: every input either reads (and every value
 * read is consumed) or fails with InvalidInputException. Besides the byte-level mutations of {@link Mutator}, a
 * third of the mutants are header lies: huge, zero or negative dimensions, other type codes and dimension
 * counts; for gzip seeds the lie is made inside the compressed stream and, half the time, chosen so that the
 * declared size agrees with the gzip trailer modulo 2^32 (the only check the trailer allows before decompressing).
 */
class IdxFuzzTest {
    private static final int ITERATIONS = 4000;

    @TempDir
    Path dir;

    private static List<byte[]> seeds() throws IOException {
        List<byte[]> raw = List.of(
                IdxTest.idx(0x08, new int[] {3, 4, 4}, IdxTest.images(3, 4, 4)),
                IdxTest.idx(0x08, new int[] {3}, new byte[] {0, 2, 1}),
                IdxTest.idx(0x0C, new int[] {3}, new byte[] {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2}),
                IdxTest.idx(0x0D, new int[] {2, 2}, ByteBuffer.allocate(16).putFloat(1.5f).putFloat(-2)
                        .putFloat(0).putFloat(3).array()),
                IdxTest.idx(0x0B, new int[] {3, 1, 2}, new byte[12]));
        List<byte[]> seeds = new ArrayList<>(raw);
        for (byte[] b : raw) {
            seeds.add(IdxTest.gzip(b));
        }
        return seeds;
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS) // a hang in a reader fails instead of stalling CI
    void mutatedFilesReadOrFailCleanly() throws Exception {
        List<byte[]> seeds = seeds();
        Path images = Files.write(dir.resolve("images-idx3-ubyte"), seeds.get(0));
        Path labels = Files.write(dir.resolve("labels-idx1-ubyte"), seeds.get(1));
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        String oldTmp = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", tmp.toString());
        Mutator m = new Mutator(0x5eed_0006L);
        FuzzLoop.Counts c;
        try {
            c = FuzzLoop.run(ITERATIONS, m, seeds, dir.resolve("fuzz-idx"), (seed, it) -> mutate(seed, m),
                    (p, it) -> {
                        // Every fourth iteration takes the mapped (raw) or temporary-file (gzip) path.
                        if (it % 4 == 3) {
                            MapThreshold.with(1, () -> readAll(p, it / 4, images, labels));
                        } else {
                            readAll(p, it / 4, images, labels);
                        }
                    });
            try (var left = Files.list(tmp)) {
                assertEquals(0, left.count(), "temporary files left behind");
            }
        } finally {
            System.setProperty("java.io.tmpdir", oldTmp);
        }
        assertTrue(c.ok() > ITERATIONS / 20, "too few mutants read successfully: " + c);
        assertTrue(c.rejected() > ITERATIONS / 2, "too few mutants rejected: " + c);
    }

    @Test
    void aGzipHeaderThatAgreesWithTheTrailerModulo2To32IsRefusedBeforeAllocating() throws IOException {
        // 3 int32 labels under a header that declares 2^30 + 3: 2^32 + 12 bytes, 12 modulo 2^32, as ISIZE says.
        byte[] raw = IdxTest.idx(0x0C, new int[] {(1 << 30) + 3}, new byte[12]);
        Path p = Files.write(dir.resolve("lie-idx1-int.gz"), IdxTest.gzip(raw));
        for (Runnable r : List.<Runnable>of(() -> Idx.header(p), () -> Idx.read(p), () -> Idx.readLabels(p, 5))) {
            String msg = IdxTest.message(r);
            assertTrue(msg.contains("more than a gzip file of"), msg);
        }
    }

    /** One entry point of the reader, chosen by {@code k}, on {@code p}; every value read is touched. */
    private static void readAll(Path p, int k, Path images, Path labels) {
        try (Arena arena = Arena.ofConfined()) {
            switch (k % 6) {
                case 0 -> {
                    Idx.Header h = Idx.header(p);
                    assertTrue(h.items() > 0 && h.itemElements() > 0);
                }
                case 1 -> consume(Idx.read(p).values());
                case 2 -> consume(Idx.read(p, 2).values());
                case 3 -> {
                    long s = 0;
                    for (int y : Idx.readLabels(p, 1 + k % 4)) {
                        s += y;
                    }
                    sink = s;
                }
                case 4 -> {
                    Idx.Header h = Idx.header(p);
                    int n = Math.min(h.items(), 2);
                    // Flattened when an item is small, else resized to 2 x 2 (refused for non-3-D files).
                    int d = h.itemElements() <= 64 ? (int) h.itemElements() : 4;
                    DType dt = k % 12 < 6 ? DType.F64 : DType.F32;
                    Dataset.Rows rows = Idx.imageRows(p, n, d, arena, dt);
                    Tensor t = Tensor.allocate(arena, dt, rows.rows(), rows.cols());
                    rows.copy(0, t);
                    consume(t.toDoubleArray());
                }
                default -> {
                    // The mutant as images with valid labels, or as labels with valid images.
                    boolean asImages = k % 12 < 6;
                    Dataset ds = Idx.classification(asImages ? p : images, asImages ? labels : p, 2, 4, 3, arena,
                            DType.F32);
                    consume(ds.inputs().toDoubleArray());
                    consume(ds.targets().toDoubleArray());
                }
            }
        }
    }

    private static volatile double sink;

    /** Touches every value (so that mapped bytes are really read). */
    private static void consume(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        sink = s;
    }

    /** A byte-level mutation, or (a third of the time) a header lie, made inside the gzip stream for gzip seeds. */
    static byte[] mutate(byte[] seed, Mutator m) {
        Random rnd = m.random();
        boolean gz = (seed[0] & 0xFF) == 0x1F;
        if (rnd.nextInt(3) != 0) {
            // The header of a raw file is at most 4 + 4 * 3 bytes here; a gzip file is all "header".
            return m.mutate(seed, gz ? seed.length : 16, 0, 0);
        }
        try {
            byte[] raw = gz ? new GZIPInputStream(new ByteArrayInputStream(seed)).readAllBytes() : seed;
            byte[] lied = lie(raw, rnd);
            return gz ? IdxTest.gzip(lied) : lied;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] lie(byte[] raw, Random rnd) {
        byte[] b = raw.clone();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
        int ndims = b[3] & 0xFF;
        long payload = b.length - 4L - 4L * ndims;
        int field = rnd.nextInt(ndims);
        switch (rnd.nextInt(6)) {
            case 0 -> b[2] = (byte) new int[] {0x00, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0xFF}
                    [rnd.nextInt(11)];
            case 1 -> b[3] = (byte) new int[] {0, 1, 2, 3, 4, 8, 9, 200, 255}[rnd.nextInt(9)];
            case 2 -> b[rnd.nextInt(2)] = (byte) (1 + rnd.nextInt(255));
            case 3 -> bb.putInt(4 + 4 * field, new int[] {0, -1, Integer.MIN_VALUE, Integer.MAX_VALUE,
                    1 << 30, 65536, bb.getInt(4 + 4 * field) + 1}[rnd.nextInt(7)]);
            default -> {
                // Dimensions whose declared size equals the real one plus a multiple of 2^32: a gzip trailer
                // (ISIZE, the size modulo 2^32) cannot tell them apart.
                int elemBytes = switch (b[2]) {
                    case 0x0B -> 2;
                    case 0x0C, 0x0D -> 4;
                    case 0x0E -> 8;
                    default -> 1;
                };
                long item = 1;
                for (int i = 1; i < ndims; i++) {
                    item *= bb.getInt(4 + 4 * i);
                }
                long unit = item * elemBytes;
                if ((1L << 32) % unit == 0 && (1L << 32) / unit + payload / unit <= Integer.MAX_VALUE) {
                    bb.putInt(4, (int) ((1L << 32) / unit + payload / unit));
                } else if (ndims >= 2) { // e.g. (1, 65536, 65536) over an empty payload
                    int[] dims = new int[ndims];
                    java.util.Arrays.fill(dims, 1);
                    dims[ndims - 2] = 65536;
                    dims[ndims - 1] = 65536 / elemBytes;
                    b = IdxTest.idx(b[2], dims, new byte[0]);
                }
            }
        }
        return b;
    }
}

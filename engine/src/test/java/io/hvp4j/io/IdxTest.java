package io.hvp4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IDX files the tests write themselves (raw and gzip), their validation, and the §A.9 preprocessing. */
class IdxTest {
    @TempDir
    Path dir;

    /** Where Debian's {@code dataset-fashion-mnist} package installs Fashion-MNIST. */
    static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

    /** An IDX file: magic, type, dims, then {@code payload} as given. */
    static byte[] idx(int type, int[] dims, byte[] payload) {
        ByteBuffer bb = ByteBuffer.allocate(4 + 4 * dims.length + payload.length).order(ByteOrder.BIG_ENDIAN);
        bb.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) {
            bb.putInt(d);
        }
        return bb.put(payload).array();
    }

    static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(out)) {
            g.write(b);
        }
        return out.toByteArray();
    }

    Path write(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    /** {@code n} images of {@code rows × cols} with pixel {@code (i·7 + r·cols + c) mod 256}. */
    static byte[] images(int n, int rows, int cols) {
        byte[] b = new byte[n * rows * cols];
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    b[(i * rows + r) * cols + c] = (byte) ((i * 7 + r * cols + c) % 256);
                }
            }
        }
        return b;
    }

    static String message(Runnable r) {
        return assertThrows(InvalidInputException.class, r::run).getMessage();
    }

    @Test
    void readsEveryElementTypeRawAndGzip() throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(6 * 8).order(ByteOrder.BIG_ENDIAN);
        double[] values = {-3, 0, 1.5, 2, 7, -1e300};
        // type, bytes per element, the values it can hold exactly
        Object[][] cases = {
            {0x08, new double[] {0, 255, 1, 128, 7, 3}},
            {0x09, new double[] {-128, 127, 1, -1, 7, 3}},
            {0x0B, new double[] {-32768, 32767, 1, -1, 7, 3}},
            {0x0C, new double[] {Integer.MIN_VALUE, Integer.MAX_VALUE, 1, -1, 7, 3}},
            {0x0D, new double[] {-3, 0, 1.5, 2, 7, 1e30f}},
            {0x0E, values},
        };
        for (Object[] c : cases) {
            int type = (int) c[0];
            double[] v = (double[]) c[1];
            bb.clear();
            for (double x : v) {
                switch (type) {
                    case 0x08, 0x09 -> bb.put((byte) (int) x);
                    case 0x0B -> bb.putShort((short) x);
                    case 0x0C -> bb.putInt((int) x);
                    case 0x0D -> bb.putFloat((float) x);
                    default -> bb.putDouble(x);
                }
            }
            byte[] payload = Arrays.copyOf(bb.array(), bb.position());
            byte[] file = idx(type, new int[] {3, 2}, payload);
            for (boolean gz : new boolean[] {false, true}) {
                // Named without .gz: the format is recognised by its magic bytes.
                Path p = write("t" + type + gz + ".idx", gz ? gzip(file) : file);
                Idx.Array a = Idx.read(p);
                assertArrayEquals(new int[] {3, 2}, a.dims());
                assertArrayEquals(v, a.values(), "type " + type + " gzip " + gz);
                assertEquals(gz, Idx.header(p).gzip());
                // The first item only.
                Idx.Array first = Idx.read(p, 1);
                assertArrayEquals(new int[] {1, 2}, first.dims());
                assertArrayEquals(Arrays.copyOf(v, 2), first.values());
            }
        }
    }

    @Test
    void labelsAndTheirValidation() throws IOException {
        Path labels = write("labels.gz", gzip(idx(0x08, new int[] {5}, new byte[] {3, 1, 4, 1, 5})));
        assertArrayEquals(new int[] {3, 1, 4}, Idx.readLabels(labels, 3));
        assertArrayEquals(new int[] {3, 1, 4, 1, 5}, Idx.readLabels(labels, 100));
        Path floats = write("floats", idx(0x0D, new int[] {1}, new byte[4]));
        assertTrue(message(() -> Idx.readLabels(floats, 1)).contains("1-D integer label file"));
        Path twoD = write("twod", idx(0x08, new int[] {1, 2}, new byte[2]));
        assertTrue(message(() -> Idx.readLabels(twoD, 1)).contains("1-D integer label file"));
    }

    @Test
    void rejectsMalformedFilesBeforeAllocating() throws IOException {
        byte[] good = idx(0x08, new int[] {2, 3}, new byte[6]);
        // Truncated and trailing data: caught from the header and the file length.
        Path shortFile = write("short", Arrays.copyOf(good, good.length - 1));
        String m = message(() -> Idx.read(shortFile));
        assertTrue(m.contains("declares dimensions [2, 3]") && m.contains("truncated"), m);
        Path longFile = write("long", Arrays.copyOf(good, good.length + 3));
        assertTrue(message(() -> Idx.header(longFile)).contains("trailing data"));
        // A huge declared size is refused without allocating it.
        Path huge = write("huge", idx(0x0E, new int[] {100_000, 100_000}, new byte[8]));
        assertTrue(message(() -> Idx.read(huge)).contains("but the file has"));
        Path overflow = write("overflow", idx(0x0E, new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE,
            Integer.MAX_VALUE, 4}, new byte[0]));
        assertTrue(message(() -> Idx.header(overflow)).contains("more than 2^63 bytes"));
        // Magic, type, dimension count, zero or "negative" (≥ 2^31) dimensions.
        byte[] badMagic = good.clone();
        badMagic[1] = 1;
        assertTrue(message(() -> Idx.header(writeUnchecked("magic", badMagic))).contains("not an IDX file"));
        byte[] badType = good.clone();
        badType[2] = 0x0A;
        assertTrue(message(() -> Idx.header(writeUnchecked("type", badType))).contains("unknown IDX element type"));
        assertTrue(message(() -> Idx.header(writeUnchecked("nd0", idx(0x08, new int[0], new byte[0]))))
                .contains("0 dimensions"));
        assertTrue(message(() -> Idx.header(writeUnchecked("nd9", idx(0x08, new int[9], new byte[0]))))
                .contains("9 dimensions"));
        assertTrue(message(() -> Idx.header(writeUnchecked("zero", idx(0x08, new int[] {0, 3}, new byte[0]))))
                .contains("dimension 0 is 0"));
        assertTrue(message(() -> Idx.header(writeUnchecked("neg", idx(0x08, new int[] {2, -1}, new byte[0]))))
                .contains("dimension 1 is 4294967295"));
        assertTrue(message(() -> Idx.header(writeUnchecked("tiny", new byte[] {0, 0, 8})))
                .contains("too short"));
        assertTrue(message(() -> Idx.header(writeUnchecked("hdr", new byte[] {0, 0, 8, 2, 0, 0, 0, 1})))
                .contains("truncated in its IDX header"));
        // Missing file and directory.
        assertTrue(message(() -> Idx.header(dir.resolve("absent"))).contains("no such file"));
        assertTrue(message(() -> Idx.header(dir)).contains("is a directory"));
    }

    @Test
    void rejectsDamagedGzip() throws IOException {
        byte[] gz = gzip(idx(0x08, new int[] {4, 4}, images(1, 4, 4)));
        // The trailer's length disagrees with the header.
        byte[] wrongSize = gzip(idx(0x08, new int[] {4, 4}, new byte[15]));
        assertTrue(message(() -> Idx.header(writeUnchecked("ws.gz", wrongSize))).contains("gzip trailer records"));
        // Cut in the middle: the trailer is then garbage or the stream ends early.
        byte[] cut = Arrays.copyOf(gz, gz.length - 10);
        String m = message(() -> Idx.read(writeUnchecked("cut.gz", cut)));
        assertTrue(m.contains("cut.gz"), m);
        // A corrupted body with an intact trailer: the decompressor or its CRC fails.
        byte[] corrupt = gz.clone();
        corrupt[gz.length / 2] ^= 0x55;
        m = message(() -> Idx.read(writeUnchecked("corrupt.gz", corrupt)));
        assertTrue(m.contains("corrupt.gz"), m);
        // Only the gzip magic: too short.
        assertTrue(message(() -> Idx.header(writeUnchecked("magic.gz", new byte[] {0x1f, (byte) 0x8b, 8})))
                .contains("truncated gzip"));
    }

    Path writeUnchecked(String name, byte[] content) {
        try {
            return write(name, content);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void nearestIndicesAsPyTorch() {
        // torch.nn.functional.interpolate(mode="nearest"): floor(i * in/out) in float32.
        assertArrayEquals(new int[] {0, 3, 7, 10, 14, 17, 21, 24}, Idx.nearestIndices(28, 8));
        assertArrayEquals(new int[] {0, 5, 11, 16, 22}, Idx.nearestIndices(28, 5));
        assertArrayEquals(new int[] {0, 7, 14, 21}, Idx.nearestIndices(28, 4));
        assertArrayEquals(new int[] {0, 0, 1, 1, 2, 2}, Idx.nearestIndices(3, 6)); // upsampling
        assertArrayEquals(new int[] {0, 1, 2}, Idx.nearestIndices(3, 3));
    }

    @Test
    void preprocessingScalesResizesAndFlattens() throws IOException {
        int n = 3, side = 28;
        Path img = write("img", gzip(idx(0x08, new int[] {n, side, side}, images(n, side, side))));
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = Idx.preprocessImages(Idx.read(img, 2), 2, 64, arena, DType.F64);
            assertEquals(2, x.rows());
            assertEquals(64, x.cols());
            int[] idx = Idx.nearestIndices(28, 8);
            for (int i = 0; i < 2; i++) {
                for (int a = 0; a < 8; a++) {
                    for (int b = 0; b < 8; b++) {
                        double expected = ((i * 7 + idx[a] * side + idx[b]) % 256) / 255.0;
                        assertEquals(expected, x.get(i, a * 8 + b));
                        assertTrue(x.get(i, a * 8 + b) >= 0 && x.get(i, a * 8 + b) <= 1);
                    }
                }
            }
            Idx.Array a = Idx.read(img);
            assertTrue(message(() -> Idx.preprocessImages(a, 3, 63, arena, DType.F64)).contains("perfect square"));
            assertTrue(message(() -> Idx.preprocessImages(a, 4, 64, arena, DType.F64)).contains("3 are available"));
            Path labels = write("lab", idx(0x08, new int[] {n}, new byte[] {2, 0, 9}));
            Dataset ds = Idx.classification(img, labels, 3, 25, 10, arena, DType.F64);
            assertEquals(3, ds.size());
            assertEquals(25, ds.inputDimension());
            assertEquals(10, ds.outputDimension());
            assertEquals(1.0, ds.targets().get(0, 2));
            assertEquals(1.0, ds.targets().get(2, 9));
            Path fewLabels = write("few", idx(0x08, new int[] {2}, new byte[] {1, 1}));
            assertTrue(message(() -> Idx.classification(img, fewLabels, 2, 25, 10, arena, DType.F64))
                    .contains("has 3 images but"));
            assertTrue(message(() -> Idx.classification(img, labels, 4, 25, 10, arena, DType.F64))
                    .contains("asked for 4 samples"));
            assertTrue(message(() -> Idx.classification(img, labels, 3, 25, 5, arena, DType.F64))
                    .contains("label 9"));
            assertTrue(message(() -> Idx.preprocessImages(Idx.read(labels), 1, 4, arena, DType.F64))
                    .contains("unsigned-byte images"));
        }
    }

    /** Runs on Fashion-MNIST when Debian's dataset-fashion-mnist package is installed (CI may install it). */
    @Test
    void fashionMnistWhenInstalled() {
        Path images = find("train-images-idx3-ubyte"), labels = find("train-labels-idx1-ubyte");
        Assumptions.assumeTrue(images != null && labels != null, "Fashion-MNIST not found in " + FASHION_MNIST
                + " (install the Debian package dataset-fashion-mnist to run this test)");
        Idx.Header h = Idx.header(images);
        assertEquals(Idx.ElementType.UNSIGNED_BYTE, h.type());
        assertArrayEquals(new int[] {60000, 28, 28}, h.dims());
        assertArrayEquals(new int[] {60000}, Idx.header(labels).dims());
        try (Arena arena = Arena.ofConfined()) {
            Dataset ds = Idx.classification(images, labels, 100, 64, 10, arena, DType.F64);
            assertEquals(100, ds.size());
            double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
            for (long i = 0; i < ds.inputs().size(); i++) {
                min = Math.min(min, ds.inputs().get(i));
                max = Math.max(max, ds.inputs().get(i));
            }
            assertEquals(0.0, min);
            assertTrue(max > 0.5 && max <= 1.0, "max " + max);
            int[] y = Idx.readLabels(labels, 60000);
            int[] counts = new int[10];
            for (int v : y) counts[v]++;
            assertArrayEquals(new int[] {6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000}, counts);
        }
    }

    static Path find(String stem) {
        for (String name : new String[] {stem + ".gz", stem}) {
            Path p = FASHION_MNIST.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    @Test
    void largeImageFilesAreStreamedFromMappedBytes() throws Exception {
        int n = 40, side = 28;
        byte[] raw = idx(0x08, new int[] {n, side, side}, images(n, side, side));
        Path plain = write("big-idx3-ubyte", raw);
        Path gz = write("big-idx3-ubyte.gz", gzip(raw));
        Path labels = write("big-idx1-ubyte", idx(0x08, new int[] {n}, new byte[n]));
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        String oldTmp = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", tmp.toString());
        try (Arena arena = Arena.ofShared(); VectorBackend be = new VectorBackend(1)) {
            for (int d : new int[] {side * side, 64}) {
                for (DType dt : DType.values()) {
                    Tensor expected = Idx.preprocessImages(Idx.read(plain), 30, d, arena, dt);
                    Dataset stored = Idx.classification(plain, labels, 30, d, 10, arena, dt);
                    org.junit.jupiter.api.Assertions.assertFalse(stored.streamed());
                    assertArrayEquals(expected.toDoubleArray(), stored.inputs().toDoubleArray());
                    Dataset[] streamed = new Dataset[2];
                    MapThreshold.with(1, () -> {
                        streamed[0] = Idx.classification(plain, labels, 30, d, 10, arena, dt);
                        streamed[1] = Idx.classification(gz, labels, 30, d, 10, arena, dt);
                    });
                    // The decompressed copy is unlinked as soon as it is mapped.
                    try (var left = Files.list(tmp)) {
                        assertEquals(0, left.count());
                    }
                    for (Dataset s : streamed) {
                        assertTrue(s.streamed());
                        Tensor scratch = Tensor.allocate(arena, dt, 7, d);
                        assertArrayEquals(expected.rowSlice(11, 7).toDoubleArray(),
                                s.inputRows(11, 7, scratch).toDoubleArray());
                        assertArrayEquals(expected.toDoubleArray(), s.inputs().toDoubleArray());
                        assertArrayEquals(expected.rowSlice(0, 5).toDoubleArray(),
                                s.head(5, arena, "head").inputs().toDoubleArray());
                        // Batches converted on demand give the same bits as the stored tensor.
                        assertEquals(gradient(stored, be, dt), gradient(s, be, dt));
                    }
                }
            }
            Path floats = write("floats-idx1", idx(0x0D, new int[] {1}, new byte[4]));
            assertTrue(message(() -> Idx.imageRows(floats, 1, 1, arena, DType.F64)).contains("unsigned-byte images"));
            assertTrue(message(() -> Idx.imageRows(plain, 41, 64, arena, DType.F64)).contains("40 are available"));
            Path flat = write("flat-idx2-ubyte", idx(0x08, new int[] {2, 6}, new byte[12]));
            assertEquals(6, Idx.imageRows(flat, 2, 6, arena, DType.F64).cols());
            assertTrue(message(() -> Idx.imageRows(flat, 2, 4, arena, DType.F64)).contains("not 4"));
        } finally {
            System.setProperty("java.io.tmpdir", oldTmp);
        }
    }

    /** Loss and gradient of a small tanh network over {@code data} in batches of 8 rows. */
    private static java.util.List<Double> gradient(Dataset data, VectorBackend be, DType dt) {
        Mlp mlp = new Mlp(new int[] {data.inputDimension(), 5, 10}, Activation.TANH, true);
        try (Arena arena = Arena.ofConfined();
             MlpObjective f = new MlpObjective(mlp, Loss.CE, Loss.Reduction.MEAN, data, be, dt, 8, 1)) {
            Tensor theta = Tensor.allocate(arena, dt, mlp.parameterCount(), 1);
            for (int i = 0; i < mlp.parameterCount(); i++) theta.set(i, Math.sin(i) * 0.1);
            f.setParameters(theta);
            Tensor g = Tensor.allocate(arena, dt, mlp.parameterCount(), 1);
            java.util.List<Double> out = new java.util.ArrayList<>();
            out.add(f.gradient(g));
            for (double v : g.toDoubleArray()) out.add(v);
            return out;
        }
    }
}

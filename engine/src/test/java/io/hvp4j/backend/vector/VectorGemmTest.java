package io.hvp4j.backend.vector;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks VectorGemm against a triple loop in double. Tolerance per element:
 * {@code 2 (k+2) eps (|alpha| sum_p |a_ip b_pj| + |beta c_ij|)}, the standard forward error bound of a length-k
 * dot product plus the final scaling, with eps the unit roundoff of the precision under test.
 */
class VectorGemmTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    private static WorkerPool pool1;
    private static WorkerPool pool2;
    private static VectorGemm gemm1;
    private static VectorGemm gemm2;

    @BeforeAll
    static void setUp() {
        pool1 = new WorkerPool(1);
        pool2 = new WorkerPool(2);
        gemm1 = new VectorGemm(pool1);
        gemm2 = new VectorGemm(pool2);
    }

    @AfterAll
    static void tearDown() {
        pool1.close();
        pool2.close();
    }

    /** alpha, beta pairs; beta == 0 runs with a NaN-filled C. */
    private static final double[][] SCALES = {{1, 0}, {1, 1}, {0.75, -0.5}, {0, -0.5}, {-1.25, 0}};

    static Stream<Arguments> cases() {
        int[][] shapes = {
            {1, 1, 1}, {2, 2, 2}, {7, 7, 7}, {33, 33, 33}, {257, 257, 257},
            {33, 7, 257}, {1, 300, 5}, {300, 1, 17}, {5, 3, 1},
            // blocked path with several k-blocks, m-blocks and edge tiles; skinny shapes that swap or split n
            {150, 40, 600}, {256, 10, 512}, {10, 512, 256}, {97, 2100, 9}, {20, 3, 300},
        };
        List<Arguments> out = new ArrayList<>();
        int v = 0;
        for (int[] s : shapes) {
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                for (boolean dbl : new boolean[] {false, true}) {
                    for (int threads = 1; threads <= 2; threads++) {
                        double[] ab = SCALES[v % SCALES.length];
                        int pad = v % 3 == 0 ? 0 : 1 + v % 5;
                        v++;
                        out.add(Arguments.of(s[0], s[1], s[2], ta, tb, dbl, threads, ab[0], ab[1], pad));
                    }
                }
            }
        }
        // ragged tails of the 6- and 4-row tiles (m mod 6 and mod 4 = 0..5) and of the 2-vector width (n mod 8,
        // 16), one and several k-blocks with an odd last step (k = 513: kc 512 + 1, kc 256 x 2 + 1)
        for (int m : new int[] {6, 7, 11, 13, 16, 18}) {
            for (int n : new int[] {16, 17, 23}) {
                for (int k : new int[] {63, 513}) {
                    for (int t = 0; t < 4; t++) {
                        for (boolean dbl : new boolean[] {false, true}) {
                            double[] ab = SCALES[v % SCALES.length];
                            v++;
                            out.add(Arguments.of(m, n, k, (t & 1) != 0, (t & 2) != 0, dbl, 1 + v % 2, ab[0], ab[1],
                                    v % 3));
                        }
                    }
                }
            }
        }
        // every alpha/beta pair on a blocked and a direct shape
        for (double[] ab : SCALES) {
            for (int[] s : new int[][] {{37, 45, 300}, {3, 4, 5}}) {
                for (boolean dbl : new boolean[] {false, true}) {
                    out.add(Arguments.of(s[0], s[1], s[2], true, false, dbl, 2, ab[0], ab[1], 2));
                    out.add(Arguments.of(s[0], s[1], s[2], false, true, dbl, 1, ab[0], ab[1], 0));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}x{1}x{2} tA={3} tB={4} f64={5} t={6} alpha={7} beta={8} pad={9}")
    @MethodSource("cases")
    void matchesReference(int m, int n, int k, boolean ta, boolean tb, boolean dbl, int threads, double alpha,
                          double beta, int pad) {
        VectorGemm g = threads == 1 ? gemm1 : gemm2;
        SplittableRandom rnd = new SplittableRandom(31L * m + 7L * n + k + (ta ? 1000 : 0) + (tb ? 2000 : 0));
        int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
        int lda = Math.max(1, ac) + pad, ldb = Math.max(1, bc) + pad, ldc = n + pad;
        int es = dbl ? 8 : 4;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment a = arena.allocate((long) Math.max(1, ar) * lda * es);
            MemorySegment b = arena.allocate((long) Math.max(1, br) * ldb * es);
            MemorySegment c = arena.allocate((long) m * ldc * es);
            double[] av = fill(a, (long) ar * lda, dbl, rnd);
            double[] bv = fill(b, (long) br * ldb, dbl, rnd);
            double[] cv = fill(c, (long) m * ldc, dbl, rnd);
            if (beta == 0) {
                for (long i = 0; i < (long) m * ldc; i++) {
                    set(c, i, Double.NaN, dbl);
                }
            }
            if (dbl) {
                g.dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            } else {
                g.sgemm(ta, tb, m, n, k, (float) alpha, a, lda, b, ldb, (float) beta, c, ldc);
            }
            double eps = dbl ? 0x1p-53 : 0x1p-24;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < ldc; j++) {
                    double got = get(c, (long) i * ldc + j, dbl);
                    if (j >= n) {
                        // padding columns are untouched
                        double old = beta == 0 ? Double.NaN : cv[i * ldc + j];
                        assertEquals(old, got, 0, "padding changed at " + i + "," + j);
                        continue;
                    }
                    double sum = 0, abs = 0;
                    for (int p = 0; p < k; p++) {
                        double x = av[ta ? p * lda + i : i * lda + p];
                        double y = bv[tb ? j * ldb + p : p * ldb + j];
                        sum += x * y;
                        abs += Math.abs(x * y);
                    }
                    double c0 = beta == 0 ? 0 : cv[i * ldc + j];
                    double want = alpha * sum + beta * c0;
                    double tol = 2 * (k + 2) * eps * (Math.abs(alpha) * abs + Math.abs(beta * c0)) + 1e-300;
                    if (!(Math.abs(got - want) <= tol)) {
                        fail("C[" + i + "," + j + "] = " + got + ", want " + want + " (tol " + tol + ")");
                    }
                }
            }
        }
    }

    @Test
    void oneAndTwoThreadsGiveIdenticalBits() {
        int[][] shapes = {{257, 257, 257}, {256, 10, 512}, {10, 512, 256}, {512, 100, 300}, {150, 40, 600}};
        SplittableRandom rnd = new SplittableRandom(5);
        try (Arena arena = Arena.ofShared()) {
            for (int[] s : shapes) {
                int m = s[0], n = s[1], k = s[2];
                for (int t = 0; t < 4; t++) {
                    boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                    for (boolean dbl : new boolean[] {false, true}) {
                        int es = dbl ? 8 : 4;
                        MemorySegment a = arena.allocate((long) m * k * es);
                        MemorySegment b = arena.allocate((long) k * n * es);
                        fill(a, (long) m * k, dbl, rnd);
                        fill(b, (long) k * n, dbl, rnd);
                        MemorySegment c0 = arena.allocate((long) m * n * es);
                        fill(c0, (long) m * n, dbl, rnd);
                        MemorySegment c1 = arena.allocate(c0.byteSize());
                        MemorySegment c2 = arena.allocate(c0.byteSize());
                        c1.copyFrom(c0);
                        c2.copyFrom(c0);
                        int lda = ta ? m : k, ldb = tb ? k : n;
                        if (dbl) {
                            gemm1.dgemm(ta, tb, m, n, k, 0.7, a, lda, b, ldb, 0.3, c1, n);
                            gemm2.dgemm(ta, tb, m, n, k, 0.7, a, lda, b, ldb, 0.3, c2, n);
                        } else {
                            gemm1.sgemm(ta, tb, m, n, k, 0.7f, a, lda, b, ldb, 0.3f, c1, n);
                            gemm2.sgemm(ta, tb, m, n, k, 0.7f, a, lda, b, ldb, 0.3f, c2, n);
                        }
                        assertArrayEquals(c1.toArray(ValueLayout.JAVA_BYTE), c2.toArray(ValueLayout.JAVA_BYTE),
                                "bits differ for " + m + "x" + n + "x" + k + " t=" + t + " f64=" + dbl);
                    }
                }
            }
        }
    }

    /** The tile by vector width: 4 rows with 128-bit vectors, 6 at 512 bits and at 256 on x86 (fenced there). */
    @Test
    void tileFollowsTheVectorWidth() {
        assertEquals(4, VectorGemm.tileRows(128, null));
        assertEquals(VectorGemm.isX86(System.getProperty("os.arch")) ? 6 : 4, VectorGemm.tileRows(256, null));
        assertEquals(6, VectorGemm.tileRows(512, null));
        assertEquals(4, VectorGemm.tileRows(256, "4"));
        assertEquals(4, VectorGemm.tileRows(512, "4"));
        assertThrows(IllegalStateException.class, () -> VectorGemm.tileRows(128, "6"));
        assertThrows(IllegalStateException.class, () -> VectorGemm.tileRows(256, "5"));
        assertEquals("4x2", VectorGemm.kernelName(4, 256));
        boolean x86 = VectorGemm.isX86(System.getProperty("os.arch"));
        assertEquals(x86 ? "6x2-fenced" : "6x2", VectorGemm.kernelName(6, 256),
                "fences only where 256 bits mean 16 registers");
        assertTrue(VectorGemm.isX86("amd64") && VectorGemm.isX86("x86_64") && !VectorGemm.isX86("aarch64"));
        assertEquals(x86 && VectorGemm.MR == 6 && FloatVector.SPECIES_PREFERRED.vectorBitSize() < 512,
                VectorGemm.FENCED);
        assertEquals("6x2", VectorGemm.kernelName(6, 512));
        int bits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        assertEquals(VectorGemm.tileRows(bits, System.getProperty(VectorGemm.ROWS_PROPERTY)), VectorGemm.MR);
    }

    /**
     * Kernel selection and bits across vector widths and tiles: child JVMs take the tile their vectors call for and
     * give C the same bits as here ({@link GemmWidthProbe}: k within every path's kc, so every element of C is the
     * same FMA chain). Runs: half this JVM's width ({@code -XX:MaxVectorSize}); on an AVX-512 x86 also
     * {@code -XX:UseAVX=2} and {@code -XX:MaxVectorSize=32}, which must take the 256-bit path (the fenced 6-row
     * kernel, 256-bit transposes); and the other tile at this width through {@link VectorGemm#ROWS_PROPERTY}.
     */
    @Test
    void narrowerVectorsAndOtherTilesGiveTheSameBits() throws Exception {
        int bits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        String here = GemmWidthProbe.digest();
        List<List<String>> runs = new ArrayList<>();
        if (bits >= 256) {
            runs.add(List.of("-XX:MaxVectorSize=" + bits / 16));
            runs.add(List.of("-D" + VectorGemm.ROWS_PROPERTY + "=" + (VectorGemm.MR == 4 ? 6 : 4)));
        }
        String arch = System.getProperty("os.arch");
        if (bits >= 512 && (arch.equals("amd64") || arch.equals("x86_64"))) {
            runs.add(List.of("-XX:UseAVX=2"));
            runs.add(List.of("-XX:MaxVectorSize=32"));
            runs.add(List.of("-XX:MaxVectorSize=32", "-D" + VectorGemm.ROWS_PROPERTY + "=4"));
        }
        String java = ProcessHandle.current().info().command().orElseThrow();
        for (List<String> flags : runs) {
            List<String> cmd = new ArrayList<>(List.of(java));
            cmd.addAll(flags);
            cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                    GemmWidthProbe.class.getName()));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child " + flags + " timed out");
            assertEquals(0, p.exitValue(), out);
            String line = out.lines().filter(l -> l.startsWith("lanes=")).findFirst()
                    .orElseThrow(() -> new AssertionError(out));
            int lanes = Integer.parseInt(line.substring(6, line.indexOf(' ')));
            String rows = flags.stream().filter(f -> f.startsWith("-D")).map(f -> f.substring(f.indexOf('=') + 1))
                    .findFirst().orElse(null);
            if (flags.stream().anyMatch(f -> f.startsWith("-XX:"))) {
                assertTrue(lanes < bits / 32, flags + " should narrow the vectors: " + line);
            }
            int wantRows = VectorGemm.tileRows(32 * lanes, rows);
            String want = " mr=" + wantRows + " kernel=" + VectorGemm.kernelName(wantRows, 32 * lanes) + " ";
            assertTrue(line.contains(want), flags + " should take" + want + ": " + line);
            if (lanes == 8) {
                assertTrue(line.contains(" side=8/4 "), flags + " should take the 256-bit transposes: " + line);
                if (rows == null && VectorGemm.isX86(arch)) {
                    assertTrue(line.contains(" mr=6 kernel=6x2-fenced "), flags + " should take the fenced 6-row tile: "
                            + line);
                }
            }
            assertEquals("digest=" + here, line.substring(line.indexOf("digest=")), flags + ": " + line);
        }
    }

    @Test
    void emptyAndZeroKCases() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment a = arena.allocate(64);
            MemorySegment b = arena.allocate(64);
            MemorySegment c = arena.allocate(4 * 6);
            for (int i = 0; i < 6; i++) {
                c.setAtIndex(F, i, Float.NaN);
            }
            gemm2.sgemm(false, false, 0, 3, 4, 1f, a, 4, b, 3, 0f, c, 3);
            gemm2.sgemm(false, false, 2, 0, 4, 1f, a, 4, b, 1, 0f, c, 1);
            assertTrue(Float.isNaN(c.getAtIndex(F, 0)), "m or n == 0 must not touch C");
            gemm2.sgemm(false, false, 2, 3, 0, 1f, a, 1, b, 3, 0f, c, 3);
            for (int i = 0; i < 6; i++) {
                assertEquals(0f, c.getAtIndex(F, i), "k == 0, beta == 0 clears C");
            }
            MemorySegment d = arena.allocate(8 * 4);
            for (int i = 0; i < 4; i++) {
                d.setAtIndex(D, i, i + 1);
            }
            gemm2.dgemm(true, true, 2, 2, 0, 1, a, 2, b, 1, 2, d, 2);
            assertEquals(8.0, d.getAtIndex(D, 3));
        }
    }

    @Test
    void rejectsBadArgumentsAndClosedSegments() {
        Arena arena = Arena.ofShared();
        MemorySegment a = arena.allocate(4L * 300 * 300);
        MemorySegment b = arena.allocate(4L * 300 * 300);
        MemorySegment c = arena.allocate(4L * 300 * 300);
        assertThrows(IllegalArgumentException.class,
                () -> gemm1.sgemm(false, false, 4, 4, 4, 1f, a, 3, b, 4, 0f, c, 4));
        assertThrows(IllegalArgumentException.class,
                () -> gemm1.sgemm(false, false, 400, 400, 400, 1f, a, 400, b, 400, 0f, c, 400));
        assertThrows(IllegalArgumentException.class,
                () -> gemm1.sgemm(false, false, -1, 4, 4, 1f, a, 4, b, 4, 0f, c, 4));
        arena.close();
        assertThrows(IllegalStateException.class,
                () -> gemm2.sgemm(false, false, 300, 300, 300, 1f, a, 300, b, 300, 0f, c, 300));
        assertThrows(IllegalStateException.class,
                () -> gemm1.dgemm(false, false, 3, 3, 3, 1, a, 3, b, 3, 0, c, 3));
    }

    @Test
    void autoArenaSegmentsWorkFromWorkers() {
        MemorySegment a = Arena.ofAuto().allocate(8L * 200 * 200);
        MemorySegment b = Arena.ofAuto().allocate(8L * 200 * 200);
        MemorySegment c = Arena.ofAuto().allocate(8L * 200 * 200);
        for (int i = 0; i < 200 * 200; i++) {
            a.setAtIndex(D, i, i % 200 == i / 200 ? 1 : 0);
            b.setAtIndex(D, i, i);
        }
        gemm2.dgemm(false, false, 200, 200, 200, 1, a, 200, b, 200, 0, c, 200);
        for (int i = 0; i < 200 * 200; i++) {
            assertEquals(i, c.getAtIndex(D, i), 0);
        }
    }

    private static double[] fill(MemorySegment s, long count, boolean dbl, SplittableRandom rnd) {
        double[] v = new double[(int) count];
        for (int i = 0; i < count; i++) {
            double x = rnd.nextDouble(-1, 1);
            if (!dbl) {
                x = (float) x;
            }
            v[i] = x;
            set(s, i, x, dbl);
        }
        return v;
    }

    private static void set(MemorySegment s, long i, double x, boolean dbl) {
        if (dbl) {
            s.setAtIndex(D, i, x);
        } else {
            s.setAtIndex(F, i, (float) x);
        }
    }

    private static double get(MemorySegment s, long i, boolean dbl) {
        return dbl ? s.getAtIndex(D, i) : s.getAtIndex(F, i);
    }
}

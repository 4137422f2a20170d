package io.hvp4j.cuda;

import static io.hvp4j.cuda.GpuTests.random;
import static io.hvp4j.cuda.GpuTests.relMaxError;
import static io.hvp4j.cuda.GpuTests.toDevice;
import static io.hvp4j.cuda.GpuTests.toHost;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.backend.ScalarBackend;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every kernel of the CUDA backend against {@link ScalarBackend} (double intermediates, rounded once), on odd
 * shapes that exercise tile edges, the unvectorized load path (views at odd offsets) and grid-stride loops.
 * Tolerances: GEMM within the FMA accumulation bound {@code (k+2)·ε·max Σ|a||b|}; element-wise results a few
 * ulps of the dtype (CUDA's libm vs StrictMath, at most 2 ulps in double; 32 for σ'', a difference of close
 * terms); reductions {@code n·ε} relative to {@code Σ|x|}. Skipped, with the reason, where no GPU is usable.
 */
@Tag("gpu")
class CudaBackendTest {
    static CudaBackend cuda;
    static final ScalarBackend REF = new ScalarBackend();

    @BeforeAll
    static void open() {
        cuda = GpuTests.openIfUsable();
    }

    @org.junit.jupiter.api.BeforeEach
    void device() {
        GpuTests.requireDevice(cuda);
    }

    @AfterAll
    static void close() {
        if (cuda != null) cuda.close();
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void gemmAllTransposesAlphaBeta(DType dt) {
        try (Arena arena = Arena.ofShared()) {
            for (int tile : new int[] {64, 128, 0}) {
                cuda.forceGemmTile(tile);
                for (int[] s : new int[][] {{1, 1, 1}, {5, 7, 3}, {64, 64, 64}, {65, 130, 17}, {200, 33, 129},
                        {3, 300, 500}, {257, 129, 9}}) {
                    for (int ta = 0; ta < 2; ta++) {
                        for (int tb = 0; tb < 2; tb++) {
                            for (int offset = 0; offset < 2; offset++) {
                                checkGemm(arena, dt, s[0], s[1], s[2], ta == 1, tb == 1, offset, "tile " + tile);
                            }
                        }
                    }
                }
            }
        } finally {
            cuda.forceGemmTile(0);
        }
    }

    /**
     * One GEMM against the reference, with beta 0 (C full of NaN, which must not propagate) and beta −0.5;
     * offset 1 views the operands one element into a buffer, so that vector loads are not allowed.
     */
    private static void checkGemm(Arena arena, DType dt, int m, int n, int k, boolean tA, boolean tB, int offset,
                                  String label) {
        Tensor a = random(arena, dt, 1, m * k + 1, 10 + m, 1).view(offset, tA ? k : m, tA ? m : k);
        Tensor b = random(arena, dt, 1, k * n + 1, 20 + n, 1).view(offset, tB ? n : k, tB ? k : n);
        Tensor c0 = random(arena, dt, m, n, 30 + k, 1);
        for (double beta : new double[] {0, -0.5}) {
            Tensor expected = Tensor.allocate(arena, dt, m, n);
            expected.copyFrom(c0);
            REF.gemm(tA, tB, 0.75, a, b, beta, expected);
            Tensor cDev = beta == 0 ? cuda.allocate(arena, dt, m, n) : toDevice(cuda, arena, c0);
            if (beta == 0) fillNaN(arena, cDev);
            cuda.gemm(tA, tB, 0.75, toDevice(cuda, arena, a), toDevice(cuda, arena, b), beta, cDev);
            Tensor got = toHost(cuda, arena, cDev);
            // |error| <= (k+2)·ε·(|alpha|·Σ_p|a||b| + |beta||c|), the FMA accumulation bound.
            Tensor magnitude = Tensor.allocate(arena, dt, m, n);
            magnitude.copyFrom(abs(arena, c0));
            REF.gemm(tA, tB, 0.75, abs(arena, a), abs(arena, b), Math.abs(beta), magnitude);
            String what = dt + " gemm " + (tA ? "T" : "N") + (tB ? "T" : "N") + " " + m + "x" + n + "x" + k
                    + " offset " + offset + " beta " + beta + " " + label;
            for (long i = 0; i < got.size(); i++) {
                double err = Math.abs(got.get(i) - expected.get(i));
                double bound = (k + 2) * dt.epsilon() * magnitude.get(i) + Double.MIN_NORMAL;
                assertTrue(err <= bound, what + " element " + i + ": " + err + " > " + bound);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void gemmTilesGiveTheSameBits(DType dt) {
        try (Arena arena = Arena.ofShared()) {
            Tensor a = toDevice(cuda, arena, random(arena, dt, 300, 517, 1, 1));
            Tensor b = toDevice(cuda, arena, random(arena, dt, 517, 260, 2, 1));
            double[][] results = new double[2][];
            int[] tiles = {64, 128};
            for (int t = 0; t < 2; t++) {
                cuda.forceGemmTile(tiles[t]);
                Tensor c = cuda.allocate(arena, dt, 300, 260);
                cuda.gemm(false, false, 1, a, b, 0, c);
                results[t] = toHost(cuda, arena, c).toDoubleArray();
            }
            assertArrayEquals(results[0], results[1]);
        } finally {
            cuda.forceGemmTile(0);
        }
    }

    private static Tensor abs(Arena arena, Tensor t) {
        Tensor a = Tensor.allocate(arena, t.dtype(), t.rows(), t.cols());
        for (long i = 0; i < t.size(); i++) a.set(i, Math.abs(t.get(i)));
        return a;
    }

    private static void fillNaN(Arena arena, Tensor dev) {
        Tensor nan = Tensor.allocate(arena, dev.dtype(), dev.rows(), dev.cols());
        for (long i = 0; i < nan.size(); i++) nan.set(i, Double.NaN);
        cuda.upload(nan, dev);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void elementwiseAndBlockedKernels(DType dt) {
        double ulp = 8 * dt.epsilon();
        try (Arena arena = Arena.ofShared()) {
            for (int[] shape : new int[][] {{1, 1}, {3, 7}, {257, 129}, {300, 301}}) {
                int r = shape[0], n = shape[1], k = 3;
                Tensor z = random(arena, dt, r, n, 1, 4);
                Tensor zd = toDevice(cuda, arena, z);
                for (Activation act : Activation.values()) {
                    Tensor[] e = {Tensor.allocate(arena, dt, r, n), Tensor.allocate(arena, dt, r, n), Tensor.allocate(arena, dt, r, n)};
                    Tensor[] g = {cuda.allocate(arena, dt, r, n), cuda.allocate(arena, dt, r, n), cuda.allocate(arena, dt, r, n)};
                    REF.evaluate(act, z, e[0], e[1], e[2]);
                    cuda.evaluate(act, zd, g[0], g[1], g[2]);
                    for (int i = 0; i < 3; i++) {
                        double err = relMaxError(toHost(cuda, arena, g[i]), e[i]);
                        assertTrue(err <= (i == 2 ? 32 : 4) * ulp, act + " derivative " + i + ": " + err);
                    }
                    cuda.evaluate(act, zd, g[0], null, null); // d1, d2 not wanted
                    assertTrue(relMaxError(toHost(cuda, arena, g[0]), e[0]) <= 4 * ulp, act + " value only");
                }
                Tensor d1 = random(arena, dt, r, n, 2, 1), d2 = random(arena, dt, r, n, 3, 1), g = random(arena, dt, r, n, 4, 1);
                Tensor zDot = random(arena, dt, r, k * n, 5, 1), gDot = random(arena, dt, r, k * n, 6, 1);
                Tensor exp = Tensor.allocate(arena, dt, r, k * n);
                Tensor out = cuda.allocate(arena, dt, r, k * n);
                REF.broadcastMultiply(d1, zDot, exp);
                cuda.broadcastMultiply(toDevice(cuda, arena, d1), toDevice(cuda, arena, zDot), out);
                assertTrue(relMaxError(toHost(cuda, arena, out), exp) <= ulp, "broadcastMultiply");
                REF.elementwiseBackwardTangent(d1, d2, g, zDot, gDot, exp);
                Tensor gDotDev = toDevice(cuda, arena, gDot);
                cuda.elementwiseBackwardTangent(toDevice(cuda, arena, d1), toDevice(cuda, arena, d2), toDevice(cuda, arena, g),
                        toDevice(cuda, arena, zDot), gDotDev, gDotDev); // out aliases gDot
                assertTrue(relMaxError(toHost(cuda, arena, gDotDev), exp) <= 2 * ulp, "elementwiseBackwardTangent");

                Tensor v = random(arena, dt, 1, n, 7, 1);
                Tensor c = random(arena, dt, r, n, 8, 1);
                Tensor cDev = toDevice(cuda, arena, c);
                REF.addToRows(v, c);
                cuda.addToRows(toDevice(cuda, arena, v), cDev);
                assertTrue(relMaxError(toHost(cuda, arena, cDev), c) <= ulp, "addToRows");

                Tensor sums = random(arena, dt, 1, n, 9, 1);
                Tensor sumsDev = toDevice(cuda, arena, sums);
                REF.columnSums(0.5, c, -2, sums);
                cuda.columnSums(0.5, cDev, -2, sumsDev);
                assertTrue(relMaxError(toHost(cuda, arena, sumsDev), sums) <= r * ulp, "columnSums");

                Tensor f = random(arena, dt, r, n, 10, 5);
                Tensor fDev = toDevice(cuda, arena, f);
                Tensor p = Tensor.allocate(arena, dt, r, n), pDev = cuda.allocate(arena, dt, r, n);
                REF.softmaxRows(f, p);
                cuda.softmaxRows(fDev, pDev);
                assertTrue(relMaxError(toHost(cuda, arena, pDev), p) <= n * ulp, "softmaxRows");
                Tensor y = Tensor.allocate(arena, dt, r, n);
                REF.softmaxRows(random(arena, dt, r, n, 11, 2), y); // probability targets
                double ce = REF.crossEntropySum(f, y), ceDev = cuda.crossEntropySum(fDev, toDevice(cuda, arena, y));
                assertTrue(Math.abs(ce - ceDev) <= r * n * ulp * Math.max(1, Math.abs(ce)), "crossEntropySum " + ce + " " + ceDev);
                REF.softmaxTangent(0.3, p, zDot, exp);
                cuda.softmaxTangent(0.3, pDev, toDevice(cuda, arena, zDot), out);
                assertTrue(relMaxError(toHost(cuda, arena, out), exp) <= 4 * n * ulp, "softmaxTangent");

                Tensor src = random(arena, dt, 1, r * k * n, 12, 1);
                Tensor dst = random(arena, dt, 1, r * k * n, 13, 1);
                Tensor dstDev = toDevice(cuda, arena, dst);
                REF.swapLeadingAxes(src, r, k, n, 0.5, dst);
                cuda.swapLeadingAxes(toDevice(cuda, arena, src), r, k, n, 0.5, dstDev);
                assertTrue(relMaxError(toHost(cuda, arena, dstDev), dst) <= ulp, "swapLeadingAxes");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void blas1AndDeterministicReductions(DType dt) {
        try (Arena arena = Arena.ofShared()) {
            for (int n : new int[] {1, 255, 256 * 512 + 3, 1_000_003}) {
                Tensor x = random(arena, dt, n, 1, 1, 3), y = random(arena, dt, n, 1, 2, 1);
                Tensor xd = toDevice(cuda, arena, x), yd = toDevice(cuda, arena, y);
                double abs = 0;
                for (long i = 0; i < n; i++) abs += Math.abs(x.get(i)) * (1 + Math.abs(y.get(i)));
                double tol = 1e-15 * n * abs + 1e-300;
                double dot = cuda.dot(xd, yd), sum = cuda.sum(xd), nrm = cuda.nrm2(xd);
                assertTrue(Math.abs(dot - REF.dot(x, y)) <= tol, "dot n=" + n);
                assertTrue(Math.abs(sum - REF.sum(x)) <= tol, "sum n=" + n);
                assertTrue(Math.abs(nrm - REF.nrm2(x)) <= 1e-14 * n * REF.nrm2(x), "nrm2 n=" + n);
                // Same bits on every call.
                assertEquals(Double.doubleToRawLongBits(dot), Double.doubleToRawLongBits(cuda.dot(xd, yd)));
                assertEquals(Double.doubleToRawLongBits(sum), Double.doubleToRawLongBits(cuda.sum(xd)));
                assertEquals(Double.doubleToRawLongBits(nrm), Double.doubleToRawLongBits(cuda.nrm2(xd)));

                REF.axpby(0.5, x, -1.5, y);
                cuda.axpby(0.5, xd, -1.5, yd);
                assertTrue(relMaxError(toHost(cuda, arena, yd), y) <= 8 * dt.epsilon(), "axpby");
                REF.axpy(2, x, y);
                cuda.axpy(2, xd, yd);
                assertTrue(relMaxError(toHost(cuda, arena, yd), y) <= 16 * dt.epsilon(), "axpy");
                REF.scal(-0.25, y);
                cuda.scal(-0.25, yd);
                assertTrue(relMaxError(toHost(cuda, arena, yd), y) <= 16 * dt.epsilon(), "scal");
            }
            Tensor zero = cuda.allocate(arena, dt, 7, 1);
            assertEquals(0, cuda.nrm2(zero));
            Tensor withNaN = Tensor.allocate(arena, dt, 3, 1);
            withNaN.set(1, Double.NaN);
            assertTrue(Double.isNaN(cuda.nrm2(toDevice(cuda, arena, withNaN))));
        }
    }

    @Test
    void transfersCopiesAndOwnership() {
        try (Arena arena = Arena.ofShared()) {
            Tensor h64 = random(arena, DType.F64, 5, 3, 1, 1);
            Tensor d32 = cuda.allocate(arena, DType.F32, 5, 3);
            cuda.upload(h64, d32); // converting
            Tensor back = toHost(cuda, arena, d32);
            for (long i = 0; i < 15; i++) assertEquals((float) h64.get(i), back.get(i));
            Tensor copy = cuda.allocate(arena, DType.F32, 15, 1);
            cuda.copy(d32, copy);
            assertArrayEquals(back.toDoubleArray(), toHost(cuda, arena, copy).toDoubleArray());
            cuda.zero(copy);
            assertEquals(0, cuda.nrm2(copy));
            // Views: rows 1..2 of the device tensor.
            assertArrayEquals(back.rowSlice(1, 2).toDoubleArray(), toHost(cuda, arena, d32.rowSlice(1, 2)).toDoubleArray());
            assertFalse(d32.isHost());
            assertThrows(IllegalStateException.class, () -> d32.get(0));
            assertThrows(IllegalStateException.class, d32::segment);
            assertThrows(IllegalArgumentException.class, () -> cuda.sum(back)); // host tensor into a CUDA kernel
        }
        Tensor dead;
        try (Arena arena = Arena.ofConfined()) {
            dead = cuda.allocate(arena, DType.F64, 2, 2);
        }
        assertThrows(IllegalStateException.class, () -> cuda.sum(dead));
    }
}

package io.hvp4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every non-GEMM kernel of the Vector API backend against the scalar reference, on sizes that exercise vector
 * bodies, scalar tails and the thread split (odd sizes, sizes above the parallel grain). Tolerances: a few
 * ulps of the dtype for element-wise kernels (vector tanh/exp may differ from java.lang.Math by an ulp or
 * two); reductions relative to the sum of magnitudes times the length times ε.
 */
class KernelAgreementTest {
    static final int[][] SHAPES = {{1, 1}, {3, 7}, {17, 33}, {257, 129}, {300, 301}};

    private static Tensor random(Arena arena, DType dt, int r, int c, long seed, double scale) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(arena, dt, r, c);
        for (long i = 0; i < t.size(); i++) t.set(i, scale * (2 * rng.nextDouble() - 1));
        return t;
    }

    private static void assertClose(Tensor expected, Tensor actual, double rel, String what) {
        double maxErr = 0, maxRef = 0;
        for (long i = 0; i < expected.size(); i++) {
            maxErr = Math.max(maxErr, Math.abs(expected.get(i) - actual.get(i)));
            maxRef = Math.max(maxRef, Math.abs(expected.get(i)));
        }
        assertTrue(maxErr <= rel * Math.max(maxRef, 1e-300), what + ": max error " + maxErr + " vs max " + maxRef);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void elementwiseAndBlockedKernelsAgree(DType dt) {
        double ulp = dt.epsilon() * 8;
        try (Arena arena = Arena.ofShared(); Backend s = new ScalarBackend(); Backend v = new VectorBackend(2)) {
            for (int[] shape : SHAPES) {
                int r = shape[0], n = shape[1];
                Tensor z = random(arena, dt, r, n, 1, 4);
                for (Activation act : Activation.values()) {
                    Tensor[] a = {Tensor.allocate(arena, dt, r, n), Tensor.allocate(arena, dt, r, n), Tensor.allocate(arena, dt, r, n)};
                    Tensor[] b = {Tensor.allocate(arena, dt, r, n), Tensor.allocate(arena, dt, r, n), Tensor.allocate(arena, dt, r, n)};
                    s.evaluate(act, z, a[0], a[1], a[2]);
                    v.evaluate(act, z, b[0], b[1], b[2]);
                    // σ'' of gelu and sigmoid is a difference of nearly equal terms: allow more ulps there.
                    for (int i = 0; i < 3; i++) assertClose(a[i], b[i], (i == 2 ? 32 : 4) * ulp, act + " derivative " + i);
                }
                int k = 3;
                Tensor d1 = random(arena, dt, r, n, 2, 1), d2 = random(arena, dt, r, n, 3, 1), g = random(arena, dt, r, n, 4, 1);
                Tensor zd = random(arena, dt, r, k * n, 5, 1), gd = random(arena, dt, r, k * n, 6, 1);
                Tensor o1 = Tensor.allocate(arena, dt, r, k * n), o2 = Tensor.allocate(arena, dt, r, k * n);
                s.broadcastMultiply(d1, zd, o1);
                v.broadcastMultiply(d1, zd, o2);
                assertClose(o1, o2, ulp, "broadcastMultiply");
                s.elementwiseBackwardTangent(d1, d2, g, zd, gd, o1);
                v.elementwiseBackwardTangent(d1, d2, g, zd, gd, o2);
                assertClose(o1, o2, ulp, "elementwiseBackwardTangent");
                Tensor c1 = random(arena, dt, r, n, 7, 1), c2 = Tensor.allocate(arena, dt, r, n);
                c2.copyFrom(c1);
                Tensor row = random(arena, dt, 1, n, 8, 1);
                s.addToRows(row, c1);
                v.addToRows(row, c2);
                assertClose(c1, c2, ulp, "addToRows");
                Tensor cs1 = random(arena, dt, n, 1, 9, 1), cs2 = Tensor.allocate(arena, dt, n, 1);
                cs2.copyFrom(cs1);
                s.columnSums(0.5, g, -2, cs1);
                v.columnSums(0.5, g, -2, cs2);
                assertClose(cs1, cs2, ulp * r, "columnSums");
                Tensor p1 = Tensor.allocate(arena, dt, r, n), p2 = Tensor.allocate(arena, dt, r, n);
                s.softmaxRows(z, p1);
                v.softmaxRows(z, p2);
                assertClose(p1, p2, ulp, "softmaxRows");
                Tensor y = Tensor.allocate(arena, dt, r, n);
                s.softmaxRows(random(arena, dt, r, n, 10, 1), y);
                assertEquals(s.crossEntropySum(z, y), v.crossEntropySum(z, y), 1e-12 * r * n);
                s.softmaxTangent(0.7, p1, zd, o1);
                v.softmaxTangent(0.7, p1, zd, o2);
                assertClose(o1, o2, ulp, "softmaxTangent");
                for (int d2n : new int[] {1, 5, 40}) {
                    Tensor src = random(arena, dt, 1, r * 2 * d2n, 11, 1);
                    Tensor t1 = random(arena, dt, 1, r * 2 * d2n, 12, 1), t2 = Tensor.allocate(arena, dt, 1, r * 2 * d2n);
                    t2.copyFrom(t1);
                    s.swapLeadingAxes(src, r, 2, d2n, 1, t1);
                    v.swapLeadingAxes(src, r, 2, d2n, 1, t2);
                    assertClose(t1, t2, ulp, "swapLeadingAxes beta=1 d2=" + d2n);
                    s.swapLeadingAxes(src, 2, r, d2n, 0, t1);
                    v.swapLeadingAxes(src, 2, r, d2n, 0, t2);
                    assertClose(t1, t2, 0, "swapLeadingAxes beta=0 d2=" + d2n);
                }
            }
        }
    }

    /** The graph activations beyond the MLP set (silu, erf, gelu_erf, elu(α), leaky_relu(α)), same tolerances. */
    @ParameterizedTest
    @EnumSource(DType.class)
    void moreActivationsAgree(DType dt) {
        double ulp = dt.epsilon() * 8;
        java.util.List<io.hvp4j.backend.ElementwiseFunction> fs = new java.util.ArrayList<>(
                java.util.List.of(io.hvp4j.autodiff.SmoothActivation.values()));
        fs.add(io.hvp4j.autodiff.ParametricActivation.elu(1));
        fs.add(io.hvp4j.autodiff.ParametricActivation.elu(0.5));
        fs.add(io.hvp4j.autodiff.ParametricActivation.leakyRelu(0.2));
        try (Arena arena = Arena.ofShared(); Backend s = new ScalarBackend(); Backend v = new VectorBackend(2)) {
            for (int[] shape : SHAPES) {
                int r = shape[0], n = shape[1];
                // Up to |z| = 7: past erf's cut-offs (float 4, double 5.9) and its short/long series split.
                Tensor z = random(arena, dt, r, n, 1, 7);
                for (io.hvp4j.backend.ElementwiseFunction act : fs) {
                    Tensor[] a = {Tensor.allocate(arena, dt, r, n), Tensor.allocate(arena, dt, r, n), Tensor.allocate(arena, dt, r, n)};
                    Tensor[] b = {Tensor.allocate(arena, dt, r, n), Tensor.allocate(arena, dt, r, n), Tensor.allocate(arena, dt, r, n)};
                    s.evaluate(act, z, a[0], a[1], a[2]);
                    v.evaluate(act, z, b[0], b[1], b[2]);
                    for (int i = 0; i < 3; i++) assertClose(a[i], b[i], (i == 2 ? 32 : 4) * ulp, act.id() + " derivative " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void blasOneAgrees(DType dt) {
        try (Arena arena = Arena.ofShared(); Backend s = new ScalarBackend(); Backend v = new VectorBackend(2)) {
            for (int n : new int[] {1, 5, 31, 1000, 100_003}) {
                Tensor x = random(arena, dt, n, 1, 1, 3), y = random(arena, dt, n, 1, 2, 3);
                double tol = 4 * dt.epsilon() * n * 9;
                assertEquals(s.dot(x, y), v.dot(x, y), tol, "dot n=" + n);
                assertEquals(s.sum(x), v.sum(x), tol, "sum n=" + n);
                assertEquals(s.nrm2(x), v.nrm2(x), 4 * dt.epsilon() * Math.sqrt(n) * 3 * Math.sqrt(n), "nrm2 n=" + n);
                Tensor y1 = Tensor.allocate(arena, dt, n, 1), y2 = Tensor.allocate(arena, dt, n, 1);
                y1.copyFrom(y);
                y2.copyFrom(y);
                s.axpby(0.3, x, -1.5, y1);
                v.axpby(0.3, x, -1.5, y2);
                assertClose(y1, y2, 4 * dt.epsilon(), "axpby");
                s.axpy(2, x, y1);
                v.axpy(2, x, y2);
                s.scal(-0.25, y1);
                v.scal(-0.25, y2);
                assertClose(y1, y2, 8 * dt.epsilon(), "axpy+scal");
                // beta = 0 ignores NaN in y, as BLAS does.
                y2.set(0, Double.NaN);
                v.axpby(1, x, 0, y2);
                assertEquals(x.get(0), y2.get(0));
            }
            // nrm2 neither overflows nor underflows.
            Tensor big = Tensor.allocate(arena, dt, 3, 1);
            double h = dt == DType.F32 ? 1e30 : 1e300;
            big.set(0, h);
            big.set(1, h);
            assertEquals(Math.sqrt(2) * h, v.nrm2(big), 1e-6 * h);
            Tensor tiny = Tensor.allocate(arena, dt, 2, 1);
            double t = dt == DType.F32 ? 1e-30 : 1e-300;
            tiny.set(0, t);
            tiny.set(1, t);
            assertEquals(Math.sqrt(2) * t, v.nrm2(tiny), 1e-6 * t);
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void shapeAndDtypeMismatchesAreRejected(DType dt) {
        try (Arena arena = Arena.ofShared(); Backend v = new VectorBackend(2)) {
            Tensor a = Tensor.allocate(arena, dt, 3, 4), b = Tensor.allocate(arena, dt, 5, 2), c = Tensor.allocate(arena, dt, 3, 2);
            assertThrows(IllegalArgumentException.class, () -> v.gemm(false, false, 1, a, b, 0, c));
            DType other = dt == DType.F32 ? DType.F64 : DType.F32;
            Tensor x = Tensor.allocate(arena, dt, 4, 1), y = Tensor.allocate(arena, other, 4, 1);
            assertThrows(IllegalArgumentException.class, () -> v.dot(x, y));
            assertThrows(IllegalArgumentException.class, () -> v.dot(x, Tensor.allocate(arena, dt, 5, 1)));
            assertThrows(IllegalArgumentException.class, () -> v.broadcastMultiply(a, Tensor.allocate(arena, dt, 3, 7),
                    Tensor.allocate(arena, dt, 3, 7)));
        }
    }
}

package io.hvp4j.autodiff;

import static io.hvp4j.autodiff.Fixtures.relativeError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ScalarBackend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.ForwardOverReverse;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Structural facts about the assembled matrices, closed forms, precision, batching and determinism. */
class CurvatureStructureTest {

    private static double asymmetry(double[][] m) {
        double num = 0, den = 0;
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < m.length; j++) {
                num += (m[i][j] - m[j][i]) * (m[i][j] - m[j][i]);
                den += m[i][j] * m[i][j];
            }
        }
        return Math.sqrt(num / den);
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    void assembledMatricesAreSymmetricAndGaussNewtonIsPositiveSemidefinite(Loss loss) {
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
            Fixtures.Problem p = Fixtures.problem(arena, new int[] {4, 5, 4, 3}, Activation.TANH, true, loss, 7, 21);
            try (MlpObjective obj = p.objective(be, DType.F64, arena, 7, 1)) {
                for (Curvature c : Curvature.values()) {
                    double[][] m = Fixtures.dense(obj, c, -1, arena);
                    assertTrue(asymmetry(m) < 1e-12, c + " asymmetry " + asymmetry(m));
                }
                double[] ev = SymmetricEigen.eigenvalues(Fixtures.dense(obj, Curvature.GAUSS_NEWTON, -1, arena));
                double max = Math.abs(ev[ev.length - 1]);
                // PSD up to rounding: the most negative eigenvalue is within P·ε·λ_max of zero.
                assertTrue(ev[0] > -1e-13 * ev.length * max, "H_O has eigenvalue " + ev[0] + " (max " + max + ")");
                // H itself is indefinite here (H_F has both signs), so the test above is not vacuous.
                double[] evH = SymmetricEigen.eigenvalues(Fixtures.dense(obj, Curvature.FUNCTIONAL, -1, arena));
                assertTrue(evH[0] < -1e-6 && evH[evH.length - 1] > 1e-6, "H_F should be indefinite");
            }
        }
    }

    /** One linear layer, mse: H = I_out ⊗ (XᵀX/n) in the (out, in) row-major order, plus a bias row/column. */
    @ParameterizedTest
    @EnumSource(names = {"F64"})
    void singleLinearLayerMseHasTheKroneckerClosedForm(DType dtype) {
        for (boolean bias : new boolean[] {false, true}) {
            try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
                int d = 5, out = 3, n = 9;
                Fixtures.Problem p = Fixtures.problem(arena, new int[] {d, out}, Activation.RELU, bias, Loss.MSE, n, 4);
                try (MlpObjective obj = p.objective(be, dtype, arena, n, 1)) {
                    double[][] h = Fixtures.dense(obj, Curvature.HESSIAN, -1, arena);
                    int in = bias ? d + 1 : d;
                    double[][] gram = new double[in][in];
                    for (double[] x : p.x()) {
                        for (int a = 0; a < in; a++) {
                            for (int b = 0; b < in; b++) {
                                gram[a][b] += (a < d ? x[a] : 1) * (b < d ? x[b] : 1) / n;
                            }
                        }
                    }
                    Mlp mlp = p.mlp();
                    double maxErr = 0;
                    for (int o = 0; o < out; o++) {
                        for (int a = 0; a < in; a++) {
                            int ia = a < d ? mlp.weightOffset(0) + o * d + a : mlp.biasOffset(0) + o;
                            for (int o2 = 0; o2 < out; o2++) {
                                for (int b = 0; b < in; b++) {
                                    int ib = b < d ? mlp.weightOffset(0) + o2 * d + b : mlp.biasOffset(0) + o2;
                                    double expect = o == o2 ? gram[a][b] : 0;
                                    maxErr = Math.max(maxErr, Math.abs(h[ia][ib] - expect));
                                }
                            }
                        }
                    }
                    assertTrue(maxErr < 1e-14, "bias=" + bias + " max error " + maxErr);
                    double[][] f = Fixtures.dense(obj, Curvature.FUNCTIONAL, -1, arena);
                    for (double[] row : f) for (double v : row) assertEquals(0, v, 0, "H_F of a linear model");
                }
            }
        }
    }

    @Test
    void float32AgreesWithFloat64ToSinglePrecision() {
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
            Fixtures.Problem p = Fixtures.problem(arena, new int[] {20, 30, 30, 5}, Activation.GELU, true, Loss.CE, 40, 8);
            int n = p.theta().length;
            double[] v = Fixtures.randomVector(n, 5);
            try (MlpObjective o64 = p.objective(be, DType.F64, arena, 40, 1);
                 MlpObjective o32 = p.objective(be, DType.F32, arena, 40, 1)) {
                for (Curvature c : Curvature.values()) {
                    Tensor r64 = Tensor.allocate(arena, DType.F64, n, 1), r32 = Tensor.allocate(arena, DType.F32, n, 1);
                    o64.apply(c, -1, Tensor.of(arena, DType.F64, n, 1, v), r64);
                    o32.apply(c, -1, Tensor.of(arena, DType.F32, n, 1, v), r32);
                    double err = relativeError(r32.toDoubleArray(), r64.toDoubleArray());
                    // f32 carries ~6e-8 relative rounding per operation; a few hundred-term sums stay below 1e-5.
                    assertTrue(err < 1e-5, c + " f32 vs f64: " + err);
                }
            }
        }
    }

    @Test
    void scalarAndVectorBackendsAgreeToRounding() {
        try (Arena arena = Arena.ofShared(); Backend s = new ScalarBackend(); Backend vb = new VectorBackend(2)) {
            Fixtures.Problem p = Fixtures.problem(arena, new int[] {33, 17, 9}, Activation.SOFTPLUS, true, Loss.COSH, 50, 2);
            int n = p.theta().length, k = 4;
            double[] v = Fixtures.randomVector(n * k, 1);
            for (DType dt : DType.values()) {
                try (MlpObjective a = p.objective(s, dt, arena, 50, k); MlpObjective b = p.objective(vb, dt, arena, 50, k)) {
                    for (Curvature c : Curvature.values()) {
                        Tensor ra = Tensor.allocate(arena, dt, n, k), rb = Tensor.allocate(arena, dt, n, k);
                        a.apply(c, -1, Tensor.of(arena, dt, n, k, v), ra);
                        b.apply(c, -1, Tensor.of(arena, dt, n, k, v), rb);
                        double tol = dt == DType.F64 ? 1e-13 : 1e-5;
                        double err = relativeError(rb.toDoubleArray(), ra.toDoubleArray());
                        assertTrue(err < tol, dt + " " + c + " scalar vs vector: " + err);
                    }
                }
            }
        }
    }

    @Test
    void batchesAccumulateToTheFullDataSetProduct() {
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
            Fixtures.Problem p = Fixtures.problem(arena, new int[] {6, 8, 4}, Activation.TANH, true, Loss.CE, 23, 3);
            int n = p.theta().length;
            double[] v = Fixtures.randomVector(n * 2, 4);
            try (MlpObjective whole = p.objective(be, DType.F64, arena, 23, 2);
                 MlpObjective parts = p.objective(be, DType.F64, arena, 5, 2)) {
                assertEquals(5, parts.batches());
                assertEquals(whole.loss(), parts.loss(), 1e-14);
                Tensor g1 = Tensor.allocate(arena, DType.F64, n, 1), g2 = Tensor.allocate(arena, DType.F64, n, 1);
                whole.gradient(g1);
                parts.gradient(g2);
                assertTrue(relativeError(g2.toDoubleArray(), g1.toDoubleArray()) < 1e-13);
                for (Curvature c : Curvature.values()) {
                    Tensor r1 = Tensor.allocate(arena, DType.F64, n, 2), r2 = Tensor.allocate(arena, DType.F64, n, 2);
                    whole.apply(c, -1, Tensor.of(arena, DType.F64, n, 2, v), r1);
                    parts.apply(c, -1, Tensor.of(arena, DType.F64, n, 2, v), r2);
                    assertTrue(relativeError(r2.toDoubleArray(), r1.toDoubleArray()) < 1e-13, c.toString());
                }
            }
        }
    }

    @Test
    void sameSeedAndThreadsGiveIdenticalBitsAndElementwiseWorkIsThreadCountIndependent() {
        double[][] results = new double[3][];
        int[] threads = {2, 2, 1};
        for (int run = 0; run < 3; run++) {
            try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(threads[run])) {
                Fixtures.Problem p = Fixtures.problem(arena, new int[] {300, 200, 10}, Activation.TANH, true, Loss.CE, 256, 9);
                try (MlpObjective obj = p.objective(be, DType.F32, arena, 256, 4)) {
                    int n = p.theta().length;
                    Tensor out = Tensor.allocate(arena, DType.F32, n, 4);
                    obj.apply(Curvature.HESSIAN, -1, Tensor.of(arena, DType.F32, n, 4, Fixtures.randomVector(n * 4, 6)), out);
                    results[run] = out.toDoubleArray();
                }
            }
        }
        assertArrayEquals(results[0], results[1], "same seed, same threads");
        // GEMM and element-wise kernels split work without changing any element's summation order; products
        // contain no reduction over a thread split, so even the thread count leaves the bits unchanged.
        assertArrayEquals(results[0], results[2], "1 vs 2 threads");
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    void lossTangentIsTheDirectionalDerivativeOfTheValue(Loss loss) {
        try (Arena arena = Arena.ofShared(); Backend be = new ScalarBackend()) {
            int rows = 5, k = 4;
            double[] fv = Fixtures.randomVector(rows * k, 1), dv = Fixtures.randomVector(rows * k, 2);
            Tensor y = loss == Loss.CE ? Dataset.oneHot(arena, DType.F64, new int[] {0, 3, 1, 2, 2}, k)
                    : Tensor.of(arena, DType.F64, rows, k, Fixtures.randomVector(rows * k, 3));
            Loss.Rules rules = loss.rules(be, arena, DType.F64, rows, k);
            double h = 1e-6;
            double[] fp = fv.clone(), fm = fv.clone();
            for (int i = 0; i < fv.length; i++) {
                fp[i] += h * dv[i];
                fm[i] -= h * dv[i];
            }
            double vp = rules.forward(Tensor.of(arena, DType.F64, rows, k, fp), y, 0.2);
            double vm = rules.forward(Tensor.of(arena, DType.F64, rows, k, fm), y, 0.2);
            rules.forward(Tensor.of(arena, DType.F64, rows, k, fv), y, 0.2);
            Tensor g = Tensor.allocate(arena, DType.F64, rows, k);
            rules.backward(g);
            double tangent = rules.tangent(g, Tensor.of(arena, DType.F64, rows, k, dv));
            assertEquals((vp - vm) / (2 * h), tangent, 1e-8 * Math.max(1, Math.abs(tangent)));
        }
    }

    @Test
    void memoryEstimateMatchesAllocation() {
        try (Backend be = new ScalarBackend()) {
            for (Activation act : new Activation[] {Activation.RELU, Activation.TANH}) {
                for (int k : new int[] {1, 5}) {
                    Mlp mlp = new Mlp(new int[] {7, 9, 4, 3}, act, k == 1);
                    try (Arena arena = Arena.ofConfined();
                         ForwardOverReverse f = new ForwardOverReverse(mlp, Loss.MSE, be, DType.F32, 11, k)) {
                        long all = ForwardOverReverse.estimateWorkingBytes(mlp, DType.F32, 11, k);
                        long primal = f.workingBytes();
                        assertTrue(primal < all, "tangent buffers are allocated by the first product only");
                        int n = mlp.parameterCount();
                        f.setParameters(Tensor.of(arena, DType.F32, n, 1, Fixtures.randomVector(n, 1)));
                        f.forwardBackward(Tensor.of(arena, DType.F32, 11, 7, Fixtures.randomVector(77, 2)),
                                Tensor.of(arena, DType.F32, 11, 3, Fixtures.randomVector(33, 3)), 1.0, null);
                        assertEquals(primal, f.workingBytes(), "the primal pass allocates nothing");
                        f.product(Curvature.HESSIAN, -1, Tensor.of(arena, DType.F32, n, k,
                                Fixtures.randomVector(n * k, 4)), Tensor.allocate(arena, DType.F32, n, k));
                        assertEquals(all, f.workingBytes());
                    }
                }
            }
        }
    }

    @Test
    void cachedPrimalPassFollowsParameterChanges() {
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
            Fixtures.Problem p = Fixtures.problem(arena, new int[] {5, 6, 3}, Activation.TANH, true, Loss.CE, 8, 1);
            Fixtures.Problem q = Fixtures.problem(arena, new int[] {5, 6, 3}, Activation.TANH, true, Loss.CE, 8, 2);
            int n = p.theta().length;
            Tensor v = Tensor.of(arena, DType.F64, n, 1, Fixtures.randomVector(n, 3));
            try (MlpObjective reused = p.objective(be, DType.F64, arena, 8, 1);
                 MlpObjective fresh = p.objective(be, DType.F64, arena, 8, 1)) {
                Tensor a = Tensor.allocate(arena, DType.F64, n, 1), b = Tensor.allocate(arena, DType.F64, n, 1);
                reused.apply(Curvature.HESSIAN, -1, v, a);
                reused.setParameters(Tensor.of(arena, DType.F64, n, 1, q.theta()));
                reused.apply(Curvature.HESSIAN, -1, v, a);
                fresh.setParameters(Tensor.of(arena, DType.F64, n, 1, q.theta()));
                fresh.apply(Curvature.HESSIAN, -1, v, b);
                assertArrayEquals(b.toDoubleArray(), a.toDoubleArray());
            }
        }
    }

    @Test
    void forwardOnlyLossEqualsTheFullPassAndKeepsProductsCorrect() {
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
            for (Activation act : new Activation[] {Activation.RELU, Activation.TANH}) {
                Fixtures.Problem p = Fixtures.problem(arena, new int[] {5, 6, 4, 3}, act, true, Loss.CE, 9, 4);
                int n = p.theta().length;
                Tensor v = Tensor.of(arena, DType.F64, n, 1, Fixtures.randomVector(n, 5));
                // Batches of 4 rows: three batches, so that the multi-batch path is covered too.
                try (MlpObjective obj = p.objective(be, DType.F64, arena, 4, 1);
                     MlpObjective ref = p.objective(be, DType.F64, arena, 4, 1)) {
                    Tensor a = Tensor.allocate(arena, DType.F64, n, 1), b = Tensor.allocate(arena, DType.F64, n, 1);
                    ref.apply(Curvature.HESSIAN, -1, v, b);
                    // Same kernels, same order of operations: the same bits.
                    assertEquals(ref.loss(), obj.forwardLoss());
                    obj.apply(Curvature.HESSIAN, -1, v, a);
                    assertEquals(ref.forwardLoss(), obj.forwardLoss());
                    obj.apply(Curvature.HESSIAN, -1, v, a);
                    assertArrayEquals(b.toDoubleArray(), a.toDoubleArray());
                }
            }
        }
    }

    @Test
    void useAfterCloseThrowsInsteadOfReadingFreedMemory() {
        Arena arena = Arena.ofShared();
        Fixtures.Problem p = Fixtures.problem(arena, new int[] {3, 4, 2}, Activation.RELU, true, Loss.MSE, 4, 1);
        Backend be = new VectorBackend(2);
        MlpObjective obj = p.objective(be, DType.F64, arena, 4, 1);
        Tensor v = Tensor.allocate(Arena.ofAuto(), DType.F64, p.theta().length, 1);
        Tensor out = Tensor.allocate(Arena.ofAuto(), DType.F64, p.theta().length, 1);
        obj.close();
        assertThrows(IllegalStateException.class, () -> obj.apply(Curvature.HESSIAN, -1, v, out));
        Tensor x = p.data().inputs();
        arena.close();
        assertThrows(IllegalStateException.class, () -> x.get(0));
        assertThrows(IllegalStateException.class, () -> be.sum(x));
        be.close();
    }

    @Test
    void badShapesAndValuesAreRejected() {
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
            Fixtures.Problem p = Fixtures.problem(arena, new int[] {3, 4, 2}, Activation.RELU, true, Loss.CE, 4, 1);
            try (MlpObjective obj = p.objective(be, DType.F64, arena, 4, 2)) {
                int n = p.theta().length;
                Tensor nan = Tensor.allocate(arena, DType.F64, n, 1);
                nan.set(3, Double.NaN);
                assertThrows(InvalidInputException.class, () -> obj.setParameters(nan));
                assertThrows(InvalidInputException.class, () -> obj.setParameters(Tensor.allocate(arena, DType.F64, n + 1, 1)));
                Tensor ok = Tensor.allocate(arena, DType.F64, n, 1);
                assertThrows(IllegalArgumentException.class,
                        () -> obj.apply(Curvature.HESSIAN, -1, Tensor.allocate(arena, DType.F64, n - 1, 1), ok));
                assertThrows(IllegalArgumentException.class,
                        () -> obj.apply(Curvature.HESSIAN, -1, Tensor.allocate(arena, DType.F64, n, 3),
                                Tensor.allocate(arena, DType.F64, n, 3)));
                assertThrows(IllegalArgumentException.class, () -> obj.apply(Curvature.HESSIAN, 2, ok, ok));
            }
            Tensor x = Tensor.allocate(arena, DType.F64, 4, 3);
            Tensor y = Tensor.allocate(arena, DType.F64, 4, 2);
            x.set(5, Double.POSITIVE_INFINITY);
            assertThrows(InvalidInputException.class, () -> new Dataset(x, y, "test"));
            Tensor bad = Dataset.oneHot(arena, DType.F64, new int[] {0, 1, 1, 0}, 2);
            bad.set(0, 0, 0.5);
            Dataset d = new Dataset(Tensor.allocate(arena, DType.F64, 4, 3), bad, "test");
            assertThrows(InvalidInputException.class, () -> new MlpObjective(p.mlp(), Loss.CE, Loss.Reduction.MEAN, d, be,
                    DType.F64, 4, 1));
            Dataset wrongWidth = new Dataset(Tensor.allocate(arena, DType.F64, 4, 5), y, "test");
            assertThrows(InvalidInputException.class, () -> new MlpObjective(p.mlp(), Loss.MSE, Loss.Reduction.MEAN,
                    wrongWidth, be, DType.F64, 4, 1));
            assertThrows(InvalidInputException.class, () -> new Mlp(new int[] {3}, Activation.RELU, true));
            assertThrows(InvalidInputException.class, () -> new Mlp(new int[] {3, 0, 2}, Activation.RELU, true));
            assertThrows(InvalidInputException.class, () -> Activation.parse("swish"));
            assertThrows(InvalidInputException.class, () -> Loss.parse("hinge"));
            assertThrows(InvalidInputException.class, () -> Curvature.parse("fisher"));
        }
    }
}

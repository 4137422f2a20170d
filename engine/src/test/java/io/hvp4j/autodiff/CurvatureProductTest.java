package io.hvp4j.autodiff;

import static io.hvp4j.autodiff.Fixtures.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.backend.Backend;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Exactness of loss, gradient and curvature products against independent references, for every
 * activation × loss × bias, on each backend, in float64.
 *
 * <p>Tolerances: central differences with step h have truncation error O(h²) and rounding error O(ε/h);
 * with h = 1e-5 on these O(1) problems both are below 1e-9, so 1e-6 relative leaves a wide margin while any
 * wrong rule (an error of order one) fails. Identities between exact products (H = H_O + H_F, blocks vs single
 * vectors, symmetry) differ only by rounding of a few hundred terms and are held to 1e-12.
 */
class CurvatureProductTest {
    static final int[] WIDTHS = {4, 5, 3, 3};
    static final int N = 6;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String be : Backends.names()) {
            for (Activation act : Activation.values()) {
                for (Loss loss : Loss.values()) {
                    for (boolean bias : new boolean[] {true, false}) {
                        out.add(Arguments.of(be, act, loss, bias));
                    }
                }
            }
        }
        return out.stream();
    }

    private static double[] gradient(MlpObjective obj, double[] theta, Arena arena) {
        obj.setParameters(Tensor.of(arena, DType.F64, theta.length, 1, theta));
        Tensor g = Tensor.allocate(arena, DType.F64, theta.length, 1);
        obj.gradient(g);
        return g.toDoubleArray();
    }

    private static double[] apply(MlpObjective obj, Curvature c, int layer, double[] v, Arena arena) {
        Tensor vt = Tensor.of(arena, DType.F64, v.length, 1, v);
        Tensor out = Tensor.allocate(arena, DType.F64, v.length, 1);
        obj.apply(c, layer, vt, out);
        return out.toDoubleArray();
    }

    @ParameterizedTest(name = "{0} {1} {2} bias={3}")
    @MethodSource("cases")
    void lossAndGradientMatchReference(String backend, Activation act, Loss loss, boolean bias) {
        try (Arena arena = Arena.ofShared(); Backend be = Backends.create(backend)) {
            Fixtures.Problem p = Fixtures.problem(arena, WIDTHS, act, bias, loss, N, 11);
            try (MlpObjective obj = p.objective(be, DType.F64, arena, N, 1)) {
                double ref = ReferenceMlp.loss(p.mlp(), loss, p.theta(), p.x(), p.y(), p.scale());
                assertEquals(ref, obj.loss(), 1e-13 * Math.max(1, Math.abs(ref)));
                double[] g = gradient(obj, p.theta(), arena);
                double[] fd = new double[g.length];
                double h = 1e-6;
                for (int i = 0; i < g.length; i++) {
                    double[] tp = p.theta().clone(), tm = p.theta().clone();
                    tp[i] += h;
                    tm[i] -= h;
                    fd[i] = (ReferenceMlp.loss(p.mlp(), loss, tp, p.x(), p.y(), p.scale())
                            - ReferenceMlp.loss(p.mlp(), loss, tm, p.x(), p.y(), p.scale())) / (2 * h);
                }
                assertTrue(relativeError(g, fd) < 1e-7, "gradient vs FD: " + relativeError(g, fd));
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} {2} bias={3}")
    @MethodSource("cases")
    void hessianProductMatchesCentralDifferencesOfGradient(String backend, Activation act, Loss loss, boolean bias) {
        try (Arena arena = Arena.ofShared(); Backend be = Backends.create(backend)) {
            Fixtures.Problem p = Fixtures.problem(arena, WIDTHS, act, bias, loss, N, 5);
            try (MlpObjective obj = p.objective(be, DType.F64, arena, N, 1)) {
                int n = p.theta().length;
                double[] v = Fixtures.randomVector(n, 99);
                double[] hv = apply(obj, Curvature.HESSIAN, -1, v, arena);
                double h = 1e-5;
                double[] tp = p.theta().clone(), tm = p.theta().clone();
                for (int i = 0; i < n; i++) {
                    tp[i] += h * v[i];
                    tm[i] -= h * v[i];
                }
                double[] gp = gradient(obj, tp, arena), gm = gradient(obj, tm, arena);
                double[] fd = new double[n];
                for (int i = 0; i < n; i++) fd[i] = (gp[i] - gm[i]) / (2 * h);
                double err = relativeError(hv, fd);
                assertTrue(err < 1e-6, "H·v vs central differences of the gradient: " + err);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} {2} bias={3}")
    @MethodSource("cases")
    void gaussNewtonMatchesJacobianFormulaAndSplitHolds(String backend, Activation act, Loss loss, boolean bias) {
        try (Arena arena = Arena.ofShared(); Backend be = Backends.create(backend)) {
            Fixtures.Problem p = Fixtures.problem(arena, WIDTHS, act, bias, loss, N, 7);
            try (MlpObjective obj = p.objective(be, DType.F64, arena, N, 1)) {
                int n = p.theta().length, K = p.mlp().outputs();
                double[] v = Fixtures.randomVector(n, 3);
                // Reference H_O·v = scale Σ_i J_iᵀ A_i J_i v with J_i v by central differences of the outputs.
                double[] ref = new double[n];
                double h = 1e-6;
                for (int s = 0; s < N; s++) {
                    double[][] jac = new double[K][n];
                    for (int j = 0; j < n; j++) {
                        double[] tp = p.theta().clone(), tm = p.theta().clone();
                        tp[j] += h;
                        tm[j] -= h;
                        double[] fp = ReferenceMlp.outputs(p.mlp(), tp, p.x()[s]);
                        double[] fm = ReferenceMlp.outputs(p.mlp(), tm, p.x()[s]);
                        for (int c = 0; c < K; c++) jac[c][j] = (fp[c] - fm[c]) / (2 * h);
                    }
                    double[] jv = new double[K];
                    for (int c = 0; c < K; c++) for (int j = 0; j < n; j++) jv[c] += jac[c][j] * v[j];
                    double[][] a = ReferenceMlp.lossHessian(loss, ReferenceMlp.outputs(p.mlp(), p.theta(), p.x()[s]), p.y()[s]);
                    double[] ajv = new double[K];
                    for (int c = 0; c < K; c++) for (int d = 0; d < K; d++) ajv[c] += a[c][d] * jv[d];
                    for (int j = 0; j < n; j++) for (int c = 0; c < K; c++) ref[j] += p.scale() * jac[c][j] * ajv[c];
                }
                double[] ggn = apply(obj, Curvature.GAUSS_NEWTON, -1, v, arena);
                assertTrue(relativeError(ggn, ref) < 1e-6, "H_O·v vs Jacobian formula: " + relativeError(ggn, ref));
                double[] hv = apply(obj, Curvature.HESSIAN, -1, v, arena);
                double[] fv = apply(obj, Curvature.FUNCTIONAL, -1, v, arena);
                double[] sum = new double[n];
                for (int i = 0; i < n; i++) sum[i] = ggn[i] + fv[i];
                assertTrue(relativeError(sum, hv) < 1e-12, "H_O·v + H_F·v vs H·v: " + relativeError(sum, hv));
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} {2} bias={3}")
    @MethodSource("cases")
    void blocksAndLayerBlocksAgreeWithSingleProducts(String backend, Activation act, Loss loss, boolean bias) {
        try (Arena arena = Arena.ofShared(); Backend be = Backends.create(backend)) {
            Fixtures.Problem p = Fixtures.problem(arena, WIDTHS, act, bias, loss, N, 13);
            int k = 3;
            try (MlpObjective obj = p.objective(be, DType.F64, arena, N, k)) {
                int n = p.theta().length;
                for (Curvature c : Curvature.values()) {
                    double[][] cols = new double[k][];
                    double[] block = new double[n * k];
                    for (int j = 0; j < k; j++) {
                        cols[j] = Fixtures.randomVector(n, 100 + j);
                        for (int i = 0; i < n; i++) block[i * k + j] = cols[j][i];
                    }
                    Tensor vb = Tensor.of(arena, DType.F64, n, k, block);
                    Tensor ob = Tensor.allocate(arena, DType.F64, n, k);
                    obj.apply(c, -1, vb, ob);
                    for (int j = 0; j < k; j++) {
                        double[] single = apply(obj, c, -1, cols[j], arena);
                        double[] fromBlock = new double[n];
                        for (int i = 0; i < n; i++) fromBlock[i] = ob.get(i, j);
                        assertTrue(relativeError(fromBlock, single) < 1e-12, c + " block column " + j + ": "
                                + relativeError(fromBlock, single));
                    }
                    // Layer blocks: C_ll·v_l equals the layer-l rows of C·(v_l padded with zeros), for k = 1 and k.
                    for (int l = 0; l < p.mlp().layers(); l++) {
                        int off = p.mlp().layerOffset(l), m = p.mlp().layerParameterCount(l);
                        double[] padded = new double[n];
                        double[] vl = new double[m];
                        for (int i = 0; i < m; i++) padded[off + i] = vl[i] = cols[0][off + i];
                        double[] full = apply(obj, c, -1, padded, arena);
                        double[] restricted = new double[m];
                        System.arraycopy(full, off, restricted, 0, m);
                        double[] layerProduct = apply(obj, c, l, vl, arena);
                        double tol = 1e-12 * norm(full);
                        assertTrue(distance(layerProduct, restricted) <= tol,
                                c + " layer " + l + ": " + distance(layerProduct, restricted));
                        double[] lb = new double[m * k];
                        for (int i = 0; i < m; i++) for (int j = 0; j < k; j++) lb[i * k + j] = cols[j][off + i];
                        Tensor lo = Tensor.allocate(arena, DType.F64, m, k);
                        obj.apply(c, l, Tensor.of(arena, DType.F64, m, k, lb), lo);
                        double[] col0 = new double[m];
                        for (int i = 0; i < m; i++) col0[i] = lo.get(i, 0);
                        assertTrue(distance(col0, restricted) <= tol,
                                c + " layer " + l + " block: " + distance(col0, restricted));
                    }
                }
            }
        }
    }

    static double norm(double[] a) {
        double s = 0;
        for (double v : a) s += v * v;
        return Math.sqrt(s);
    }

    static double distance(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.sqrt(s);
    }
}

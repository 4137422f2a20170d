package io.hvp4j.graph;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ScalarBackend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.ForwardOverReverse;
import io.hvp4j.model.Mlp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole graphs in float64: the MLP as a graph agrees with the MLP engine; a small CNN with every first-set op
 * (convolutions with stride, padding, groups; eval BatchNorm; max and average pooling; a residual add; global average
 * pooling; a linear head) has a gradient equal to central differences of the loss, Hessian columns equal to central
 * differences of the gradient, a symmetric Hessian equal to {@code H_O + H_F}, block products equal to single ones,
 * and group products equal to the sub-blocks of the full Hessian.
 */
class GraphEngineTest {
    private static final int ROWS = 5;

    static Backend backend(String name) {
        return name.equals("scalar") ? new ScalarBackend() : new VectorBackend(2);
    }

    /** A small residual CNN: 2×6×6 input, 3 classes, about 300 parameters. */
    static Graph smallCnn() {
        GraphBuilder b = new GraphBuilder();
        Value x = b.input("x", 2, 6, 6);
        Value h = b.conv2d("stem", x, 4, 3, 1, 1, 1, 1, true);
        h = b.batchNorm("bn", h, 1e-5, new double[] {0.1, -0.2, 0.05, 0.3}, new double[] {0.5, 1.5, 0.8, 1.2});
        h = b.activation(h, Activation.TANH);
        Value r = b.conv2d("block.conv", h, 4, 3, 1, 1, 1, 2, false);
        r = b.activation(r, Activation.SOFTPLUS);
        h = b.add(h, r);
        h = b.maxPool2d(h, 2, 2, 0);
        Value s = b.conv2d("down", h, 3, 3, 2, 1, 1, 1, true);
        s = b.activation(s, Activation.SIGMOID);
        Value p = b.avgPool2d(h, 2, 1);
        p = b.globalAvgPool(p);
        s = b.globalAvgPool(s);
        Value f = b.flatten(s);
        Value out = b.linear("fc", f, 3, true);
        Value f2 = b.flatten(p);
        Value out2 = b.linear("fc2", f2, 3, false);
        return b.build(b.add(out, out2));
    }

    record Setup(Arena arena, GraphEngine engine, Tensor x, Tensor y, Tensor theta) {
        double loss(double[] th) {
            Tensor t = Tensor.of(arena, DType.F64, 1, th.length, th);
            engine.setParameters(t);
            double l = engine.forward(x, y, 1.0 / x.rows());
            engine.setParameters(theta);
            engine.forwardBackward(x, y, 1.0 / x.rows(), null);
            return l;
        }

        double[] gradient(double[] th) {
            Tensor t = Tensor.of(arena, DType.F64, 1, th.length, th);
            Tensor g = Tensor.allocate(arena, DType.F64, th.length, 1);
            engine.setParameters(t);
            engine.forwardBackward(x, y, 1.0 / x.rows(), g);
            engine.setParameters(theta);
            engine.forwardBackward(x, y, 1.0 / x.rows(), null);
            return g.toDoubleArray();
        }

        double[][] dense(Curvature c, int[] group, int n) {
            double[][] h = new double[n][];
            Tensor v = Tensor.allocate(arena, DType.F64, n, 1), out = Tensor.allocate(arena, DType.F64, n, 1);
            for (int i = 0; i < n; i++) {
                v.zero();
                v.set(i, 1);
                engine.product(c, group, v, out);
                h[i] = out.toDoubleArray();
            }
            return h;
        }
    }

    static Setup setup(Arena arena, Graph g, Loss loss, Backend be, int maxBlock, long seed) {
        GraphEngine e = new GraphEngine(g, loss, be, DType.F64, ROWS, maxBlock);
        SplittableRandom r = new SplittableRandom(seed);
        Tensor x = Tensor.allocate(arena, DType.F64, ROWS, g.inputSize());
        Tensor y = Tensor.allocate(arena, DType.F64, ROWS, g.outputSize());
        for (long i = 0; i < x.size(); i++) {
            x.set(i, r.nextGaussian());
        }
        for (int i = 0; i < ROWS; i++) {
            if (loss == Loss.CE) {
                y.set(i, r.nextInt(g.outputSize()), 1);
            } else {
                for (int c = 0; c < g.outputSize(); c++) {
                    y.set(i, c, 1.5 * r.nextGaussian());
                }
            }
        }
        double[] th = g.initialParameters(seed);
        for (int i = 0; i < th.length; i++) {
            th[i] += 0.2 * r.nextGaussian(); // away from BatchNorm's γ = 1, β = 0
        }
        Tensor theta = Tensor.of(arena, DType.F64, 1, th.length, th);
        e.setParameters(theta);
        e.forwardBackward(x, y, 1.0 / ROWS, null);
        return new Setup(arena, e, x, y, theta);
    }

    private static double relErr(double[] a, double[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "vector"})
    void cnnGradientAndHessianMatchFiniteDifferences(String backend) {
        try (Arena arena = Arena.ofShared(); Backend be = backend(backend)) {
            Graph g = smallCnn();
            Setup s = setup(arena, g, Loss.CE, be, 4, 1);
            SplittableRandom r = new SplittableRandom(5);
            int[] columns = new int[12];
            for (int t = 0; t < columns.length; t++) {
                columns[t] = r.nextInt(g.parameterCount());
            }
            // Group: the stem conv and the BatchNorm.
            checkAgainstFiniteDifferences(arena, g, s, columns, 0, r, new int[] {0, 1, 2, 3});
            s.engine.close();
        }
    }

    /**
     * The whole-graph checks on a set-up graph: gradient vs central differences of the loss, the given Hessian
     * columns vs central differences of the gradient (error relative to {@code max(|column|, floor·max|H|)}),
     * symmetric H and Gauss–Newton, {@code H = H_O + H_F}, a positive Gauss–Newton quadratic form (CE), a block of
     * 4 equal to single products, and the group's products equal to its sub-block of H. Returns {H, H_O, H_F}.
     */
    static double[][][] checkAgainstFiniteDifferences(Arena arena, Graph g, Setup s, int[] columns, double floor,
                                                    SplittableRandom r, int[] group) {
        int P = g.parameterCount();
        double[] th = s.theta.toDoubleArray();
        double[] grad = s.gradient(th);
        double h = 1e-5;
        double[] fd = new double[P];
        for (int i = 0; i < P; i++) {
            double[] p = th.clone(), m = th.clone();
            p[i] += h;
            m[i] -= h;
            fd[i] = (s.loss(p) - s.loss(m)) / (2 * h);
        }
        // Central differences: truncation ~h²·|ℓ'''| ≈ 1e-10, roundoff ~1e-16/h ≈ 1e-11 of the loss.
        assertTrue(relErr(grad, fd) < 1e-7, "gradient vs FD: " + relErr(grad, fd));
        double[][] hess = s.dense(Curvature.HESSIAN, null, P);
        double maxAbs = 0;
        for (double[] row : hess) {
            for (double e : row) {
                maxAbs = Math.max(maxAbs, Math.abs(e));
            }
        }
        for (int i : columns) {
            double[] p = th.clone(), m = th.clone();
            p[i] += h;
            m[i] -= h;
            double[] gp = s.gradient(p), gm = s.gradient(m), col = new double[P];
            double err = 0, norm = 0;
            for (int j = 0; j < P; j++) {
                col[j] = (gp[j] - gm[j]) / (2 * h);
                err += (hess[i][j] - col[j]) * (hess[i][j] - col[j]);
                norm += col[j] * col[j];
            }
            err = Math.sqrt(err) / Math.max(Math.max(Math.sqrt(norm), floor * maxAbs), 1e-300);
            assertTrue(err < 1e-6, "Hessian column " + i + " vs FD: " + err);
        }
        double[][] ggn = s.dense(Curvature.GAUSS_NEWTON, null, P), fun = s.dense(Curvature.FUNCTIONAL, null, P);
        double asym = 0, split = 0;
        for (int i = 0; i < P; i++) {
            for (int j = 0; j < P; j++) {
                asym = Math.max(asym, Math.abs(hess[i][j] - hess[j][i]));
                asym = Math.max(asym, Math.abs(ggn[i][j] - ggn[j][i]));
                split = Math.max(split, Math.abs(hess[i][j] - ggn[i][j] - fun[i][j]));
            }
        }
        // Exact identities up to rounding: 1e-12 of the largest entry.
        assertTrue(asym <= 1e-12 * maxAbs, "asymmetry " + asym);
        assertTrue(split <= 1e-12 * maxAbs, "H - H_O - H_F = " + split);
        double vGv = 0;
        double[] v = new double[P];
        for (int i = 0; i < P; i++) {
            v[i] = r.nextGaussian();
        }
        for (int i = 0; i < P; i++) {
            for (int j = 0; j < P; j++) {
                vGv += v[i] * ggn[i][j] * v[j];
            }
        }
        assertTrue(vGv > 0, "Gauss-Newton of CE is positive semi-definite, got vGv = " + vGv);
        // A block of 4 vectors equals 4 single products.
        Tensor V = Tensor.allocate(arena, DType.F64, P, 4), out = Tensor.allocate(arena, DType.F64, P, 4);
        for (long i = 0; i < V.size(); i++) {
            V.set(i, r.nextGaussian());
        }
        s.engine.product(Curvature.HESSIAN, null, V, out);
        for (int j = 0; j < 4; j++) {
            double[] expect = new double[P];
            for (int a = 0; a < P; a++) {
                for (int b2 = 0; b2 < P; b2++) {
                    expect[a] += hess[a][b2] * V.get(b2, j);
                }
            }
            double[] got = new double[P];
            for (int a = 0; a < P; a++) {
                got[a] = out.get(a, j);
            }
            assertTrue(relErr(got, expect) < 1e-12, "block column " + j + ": " + relErr(got, expect));
        }
        // Group products are the sub-blocks of the full Hessian.
        int n = 0;
        for (int i : group) {
            n += g.parameters().get(i).shape().intSize();
        }
        int off = (int) g.offset(group[0]);
        double[][] sub = s.dense(Curvature.HESSIAN, group, n);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                worst = Math.max(worst, Math.abs(sub[i][j] - hess[off + i][off + j]));
            }
        }
        assertTrue(worst <= 1e-12 * maxAbs, "group block differs by " + worst);
        return new double[][][] {hess, ggn, fun};
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "vector"})
    void mlpGraphAgreesWithTheMlpEngine(String backend) {
        try (Arena arena = Arena.ofShared(); Backend be = backend(backend)) {
            int[] widths = {6, 7, 5, 3};
            Mlp mlp = new Mlp(widths, Activation.TANH, true);
            GraphBuilder b = new GraphBuilder();
            Value h = b.input("x", widths[0]);
            for (int l = 0; l < 3; l++) {
                h = b.linear(String.valueOf(2 * l), h, widths[l + 1], true);
                if (l < 2) {
                    h = b.activation(h, Activation.TANH);
                }
            }
            Graph g = b.build(h);
            assertEquals(mlp.parameterCount(), g.parameterCount());
            assertEquals("0.weight", g.parameters().get(0).name());
            Setup s = setup(arena, g, Loss.CE, be, 3, 2);
            try (ForwardOverReverse f = new ForwardOverReverse(mlp, Loss.CE, be, DType.F64, ROWS, 3)) {
                f.setParameters(s.theta.reshape(g.parameterCount(), 1));
                int P = g.parameterCount();
                Tensor g1 = Tensor.allocate(arena, DType.F64, P, 1), g2 = Tensor.allocate(arena, DType.F64, P, 1);
                double l1 = f.forwardBackward(s.x, s.y, 1.0 / ROWS, g1);
                double l2 = s.engine.forwardBackward(s.x, s.y, 1.0 / ROWS, g2);
                assertEquals(l1, l2, 1e-14 * Math.abs(l1));
                assertTrue(relErr(g2.toDoubleArray(), g1.toDoubleArray()) < 1e-14);
                Tensor V = Tensor.allocate(arena, DType.F64, P, 3);
                SplittableRandom r = new SplittableRandom(3);
                for (long i = 0; i < V.size(); i++) {
                    V.set(i, r.nextGaussian());
                }
                for (Curvature c : Curvature.values()) {
                    Tensor o1 = Tensor.allocate(arena, DType.F64, P, 3), o2 = Tensor.allocate(arena, DType.F64, P, 3);
                    f.product(c, -1, V, o1);
                    s.engine.product(c, null, V, o2);
                    assertTrue(relErr(o2.toDoubleArray(), o1.toDoubleArray()) < 1e-13, c + " differs");
                    // Layer 1 (parameters 2 and 3 of the graph).
                    int n = mlp.layerParameterCount(1);
                    Tensor v1 = V.view((long) mlp.layerOffset(1) * 3, n, 3);
                    Tensor a1 = Tensor.allocate(arena, DType.F64, n, 3), a2 = Tensor.allocate(arena, DType.F64, n, 3);
                    f.product(c, 1, v1, a1);
                    s.engine.product(c, new int[] {2, 3}, v1, a2);
                    assertTrue(relErr(a2.toDoubleArray(), a1.toDoubleArray()) < 1e-13, c + " layer block differs");
                }
            }
            s.engine.close();
        }
    }

    @Test
    void badInputGetsClearErrors() {
        GraphBuilder b = new GraphBuilder();
        Value x = b.input("x", 3, 8, 8);
        GraphBuilder b0 = new GraphBuilder();
        Value x0 = b0.input("x", 3, 8, 8);
        Value w = b0.parameter("w", Shape.of(4, 5), 1);
        var e = assertThrows(io.hvp4j.InvalidInputException.class,
                () -> b0.apply("fc", io.hvp4j.graph.ops.Linear.INSTANCE, x0, w));
        assertTrue(e.getMessage().contains("Linear"), e.getMessage());
        assertThrows(io.hvp4j.InvalidInputException.class, () -> b.conv2d("c", x, 4, 11, 1, 0, 1, 1, true));
        assertThrows(io.hvp4j.InvalidInputException.class, () -> b.conv2d("c", x, 4, 3, 1, 0, 1, 2, true));
        Value c = b.conv2d("conv", x, 4, 3, 1, 1, 1, 1, true);
        assertThrows(io.hvp4j.InvalidInputException.class, () -> b.add(c, b.maxPool2d(c, 2, 2, 0)));
        assertThrows(io.hvp4j.InvalidInputException.class, () -> b.conv2d("conv", c, 4, 3, 1, 1, 1, 1, true));
        Graph g = b.build(b.linear("fc", b.flatten(b.globalAvgPool(c)), 2, true));
        try (Arena arena = Arena.ofShared(); Backend be = new ScalarBackend();
             GraphEngine e2 = new GraphEngine(g, Loss.CE, be, DType.F64, 4, 1)) {
            Tensor bad = Tensor.allocate(arena, DType.F64, 2, 10), y = Tensor.allocate(arena, DType.F64, 2, 2);
            assertThrows(io.hvp4j.InvalidInputException.class, () -> e2.forwardBackward(bad, y, 1, null));
            Tensor v = Tensor.allocate(arena, DType.F64, g.parameterCount(), 1);
            assertThrows(IllegalStateException.class, () -> e2.product(Curvature.HESSIAN, null, v, v));
            e2.close();
            assertThrows(IllegalStateException.class, () -> e2.setParameters(v));
        }
    }
}

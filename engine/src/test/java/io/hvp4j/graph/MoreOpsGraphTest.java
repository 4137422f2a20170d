package io.hvp4j.graph;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A whole graph through {@link GraphEngine} with the second op set: train-mode BatchNorm (the batch is coupled, so
 * the loss is not a sum over samples: finite differences of the batch loss are the reference), broadcasting
 * Sub/Mul/Div with batched and parameter operands, ReduceMean/ReduceSum, Dropout, and the new activations.
 * Checked along random directions: directional derivatives of the loss, blocks {@code H·V} against central
 * differences of the gradient, {@code uᵀHv = vᵀHu}, and {@code H·V = H_O·V + H_F·V}.
 */
class MoreOpsGraphTest {
    private static final int K = 3;

    static Graph graph() {
        GraphBuilder b = new GraphBuilder();
        Value x = b.input("x", 2, 4, 4);
        Value h = b.conv2d("conv", x, 3, 3, 1, 1, 1, 1, true);
        h = b.batchNormTrain("bn", h, 1e-5);
        h = b.activation(h, "gelu_erf");
        Value scale = b.parameter("scale", Shape.of(3, 1, 1), 1);
        h = b.mul(h, scale);
        h = b.sub(h, b.reduceMean(h, true, 1, 2));
        Value gate = b.activation(b.conv2d("gate", x, 3, 1, 1, 0, 1, 1, false), "silu");
        h = b.add(h, b.mul(h, gate));
        Value den = b.constant("den", Shape.of(3, 1, 1), new double[] {1.5, 2, 0.8});
        h = b.div(h, b.add(b.activation(b.reduceSum(b.mul(h, h), true, 0), "softplus"), den));
        h = b.activation(h, "elu(0.7)");
        h = b.dropout(b.flatten(h), 0.3);
        Value out = b.linear("fc", h, 3, true);
        return b.build(b.activation(out, "leaky_relu(0.2)"));
    }

    private static double[] axpy(double[] th, double t, Tensor v, int col) {
        double[] p = th.clone();
        for (int i = 0; i < p.length; i++) {
            p[i] += t * v.get(i, col);
        }
        return p;
    }

    private static double maxDiff(double[] a, double[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    private static double[] column(Tensor t, int j) {
        double[] c = new double[t.rows()];
        for (int i = 0; i < c.length; i++) {
            c[i] = t.get(i, j);
        }
        return c;
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "vector"})
    void productsMatchFiniteDifferencesAlongRandomDirections(String backend) {
        try (Arena arena = Arena.ofShared(); Backend be = GraphEngineTest.backend(backend)) {
            Graph g = graph();
            GraphEngineTest.Setup s = GraphEngineTest.setup(arena, g, Loss.CE, be, K, 3);
            int P = g.parameterCount();
            double[] th = s.theta().toDoubleArray();
            double[] grad = s.gradient(th);
            SplittableRandom r = new SplittableRandom(9);
            Tensor V = Tensor.allocate(arena, DType.F64, P, K);
            for (long i = 0; i < V.size(); i++) {
                V.set(i, r.nextGaussian());
            }
            Tensor hv = Tensor.allocate(arena, DType.F64, P, K), go = Tensor.allocate(arena, DType.F64, P, K),
                    gf = Tensor.allocate(arena, DType.F64, P, K);
            s.engine().product(Curvature.HESSIAN, null, V, hv);
            s.engine().product(Curvature.GAUSS_NEWTON, null, V, go);
            s.engine().product(Curvature.FUNCTIONAL, null, V, gf);
            double h = 1e-5;
            for (int j = 0; j < K; j++) {
                double[] vj = column(V, j);
                double dir = (s.loss(axpy(th, h, V, j)) - s.loss(axpy(th, -h, V, j))) / (2 * h), gv = 0;
                for (int i = 0; i < P; i++) {
                    gv += grad[i] * vj[i];
                }
                assertTrue(Math.abs(dir - gv) <= 1e-7 * Math.max(1, Math.abs(gv)), "gradient along v" + j);
                double[] gp = s.gradient(axpy(th, h, V, j)), gm = s.gradient(axpy(th, -h, V, j)), fd = new double[P];
                double scale = 0;
                for (int i = 0; i < P; i++) {
                    fd[i] = (gp[i] - gm[i]) / (2 * h);
                    scale = Math.max(scale, Math.abs(fd[i]));
                }
                double[] hj = column(hv, j);
                assertTrue(maxDiff(hj, fd) <= 1e-6 * scale, "H v" + j + " vs FD: " + maxDiff(hj, fd) / scale);
                double[] split = new double[P];
                for (int i = 0; i < P; i++) {
                    split[i] = go.get(i, j) + gf.get(i, j);
                }
                assertTrue(maxDiff(hj, split) <= 1e-12 * scale, "H v - H_O v - H_F v, column " + j);
                for (int i = 0; i < j; i++) {
                    double a = 0, b = 0;
                    for (int e = 0; e < P; e++) {
                        a += V.get(e, i) * hv.get(e, j);
                        b += V.get(e, j) * hv.get(e, i);
                    }
                    assertTrue(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a)), "u'Hv != v'Hu: " + a + " vs " + b);
                }
            }
            s.engine().close();
        }
    }

    /** Every Hessian column against finite differences, and the shared whole-graph checks (group: bn and scale). */
    @ParameterizedTest
    @ValueSource(strings = {"scalar", "vector"})
    void everyHessianColumnMatchesFiniteDifferences(String backend) {
        try (Arena arena = Arena.ofShared(); Backend be = GraphEngineTest.backend(backend)) {
            Graph g = graph();
            GraphEngineTest.Setup s = GraphEngineTest.setup(arena, g, Loss.CE, be, 4, 4);
            int[] columns = java.util.stream.IntStream.range(0, g.parameterCount()).toArray();
            GraphEngineTest.checkAgainstFiniteDifferences(arena, g, s, columns, 1e-4, new SplittableRandom(3),
                    new int[] {2, 3, 4});
            s.engine().close();
        }
    }
}

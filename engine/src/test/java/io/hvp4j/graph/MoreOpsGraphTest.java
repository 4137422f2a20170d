package io.hvp4j.graph;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.graph.Graph.Value;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A whole graph through {@link GraphEngine} with the second op set: train-mode BatchNorm (the batch is coupled, so
 * the loss is not a sum over samples: finite differences of the batch loss are the reference), broadcasting
 * Sub/Mul/Div with batched and parameter operands, ReduceMean/ReduceSum, Dropout, and the new activations.
 * Gradient and Hessian columns against f64 central differences; symmetry and {@code H = H_O + H_F}.
 */
class MoreOpsGraphTest {
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
    void gradientAndHessianMatchFiniteDifferences(String backend) {
        try (Arena arena = Arena.ofShared(); Backend be = GraphEngineTest.backend(backend)) {
            Graph g = graph();
            GraphEngineTest.Setup s = GraphEngineTest.setup(arena, g, Loss.CE, be, 2, 3);
            int P = g.parameterCount();
            double[] th = s.theta().toDoubleArray();
            double[] grad = s.gradient(th);
            double h = 1e-5;
            double[] fd = new double[P];
            for (int i = 0; i < P; i++) {
                double[] p = th.clone(), m = th.clone();
                p[i] += h;
                m[i] -= h;
                fd[i] = (s.loss(p) - s.loss(m)) / (2 * h);
            }
            assertTrue(relErr(grad, fd) < 1e-7, "gradient vs FD: " + relErr(grad, fd));
            double[][] hess = s.dense(Curvature.HESSIAN, null, P);
            SplittableRandom r = new SplittableRandom(5);
            for (int t = 0; t < 10; t++) {
                int i = t < 4 ? g.parameters().get(0).shape().intSize() + 3 + t : r.nextInt(P); // bn.weight, bn.bias[0] first
                double[] p = th.clone(), m = th.clone();
                p[i] += h;
                m[i] -= h;
                double[] gp = s.gradient(p), gm = s.gradient(m), col = new double[P];
                for (int j = 0; j < P; j++) {
                    col[j] = (gp[j] - gm[j]) / (2 * h);
                }
                assertTrue(relErr(hess[i], col) < 1e-6, "Hessian column " + i + " vs FD: " + relErr(hess[i], col));
            }
            double[][] ggn = s.dense(Curvature.GAUSS_NEWTON, null, P), fun = s.dense(Curvature.FUNCTIONAL, null, P);
            double maxAbs = 0, asym = 0, split = 0;
            for (int i = 0; i < P; i++) {
                for (int j = 0; j < P; j++) {
                    maxAbs = Math.max(maxAbs, Math.abs(hess[i][j]));
                    asym = Math.max(asym, Math.abs(hess[i][j] - hess[j][i]));
                    asym = Math.max(asym, Math.abs(ggn[i][j] - ggn[j][i]));
                    split = Math.max(split, Math.abs(hess[i][j] - ggn[i][j] - fun[i][j]));
                }
            }
            assertTrue(asym <= 1e-12 * maxAbs, "asymmetry " + asym);
            assertTrue(split <= 1e-12 * maxAbs, "H - H_O - H_F = " + split);
            s.engine().close();
        }
    }
}

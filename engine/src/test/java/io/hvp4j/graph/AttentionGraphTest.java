package io.hvp4j.graph;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.graph.GraphEngineTest.Setup;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A one-head self-attention block as a whole graph in float64: LayerNorm → Linear q, k, v over a {@code (T, d)}
 * sequence → {@code q·kᵀ/√d} (MatMul with a permuted k, scaled by a constant matrix: activation × constant) →
 * Softmax → MatMul with v → Linear → residual Add, plus a token-mixing parameter × activation MatMul → flatten →
 * Linear head. Gradient and Hessian columns equal central differences, H is symmetric and equals
 * {@code H_O + H_F}, blocks equal single products, group products are sub-blocks of H.
 */
class AttentionGraphTest {
    private static final int T = 3, D = 4, K = 3;

    static Graph attention() {
        GraphBuilder b = new GraphBuilder();
        Value x = b.input("x", T, D);
        Value h = b.layerNorm("ln", x, new int[] {D}, 1e-5);
        Value q = b.linear("attn.q", h, D, true);
        Value k = b.linear("attn.k", h, D, true);
        Value v = b.linear("attn.v", h, D, true);
        double[] scale = new double[T * T];
        for (int i = 0; i < T; i++) {
            scale[i * T + i] = 1 / Math.sqrt(D);
        }
        Value s = b.matmul(b.matmul(q, b.permute(k, 1, 0)), b.constant("scale", Shape.of(T, T), scale));
        Value a = b.softmax(s, -1);
        Value o = b.linear("attn.proj", b.matmul(a, v), D, true);
        Value r = b.add(x, o);
        Value mix = b.parameter("mix", Shape.of(T, T), 0.5);
        r = b.add(r, b.matmul(mix, h));
        return b.build(b.linear("head", b.flatten(r), K, true));
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
    void attentionGradientAndHessianMatchFiniteDifferences(String backend) {
        try (Arena arena = Arena.ofShared(); Backend be = GraphEngineTest.backend(backend)) {
            Graph g = attention();
            assertEquals("ln.weight", g.parameters().get(0).name());
            Setup s = GraphEngineTest.setup(arena, g, Loss.CE, be, 4, 3);
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
            // As in GraphEngineTest: truncation ~h²·|ℓ'''| ≈ 1e-10, roundoff ~1e-16/h ≈ 1e-11 of the loss.
            assertTrue(relErr(grad, fd) < 1e-7, "gradient vs FD: " + relErr(grad, fd));
            double[][] hess = s.dense(Curvature.HESSIAN, null, P);
            double hMax = 0;
            for (double[] row : hess) {
                for (double e : row) {
                    hMax = Math.max(hMax, Math.abs(e));
                }
            }
            // Every Hessian column (each parameter of every op) against central differences of the gradient. The
            // softmax is invariant to k's bias (it adds q_i·b to a whole row of scores), so those columns are zero
            // in exact arithmetic: errors are measured against max(|column|, 1e-3·max|H|) as the scale.
            for (int i = 0; i < P; i++) {
                double[] p = th.clone(), m = th.clone();
                p[i] += h;
                m[i] -= h;
                double[] gp = s.gradient(p), gm = s.gradient(m), col = new double[P];
                for (int j = 0; j < P; j++) {
                    col[j] = (gp[j] - gm[j]) / (2 * h);
                }
                double err = 0, norm = 0;
                for (int j = 0; j < P; j++) {
                    err += (hess[i][j] - col[j]) * (hess[i][j] - col[j]);
                    norm += col[j] * col[j];
                }
                err = Math.sqrt(err) / Math.max(Math.sqrt(norm), 1e-3 * hMax);
                assertTrue(err < 1e-6, "Hessian column " + i + " vs FD: " + err);
            }
            double[][] ggn = s.dense(Curvature.GAUSS_NEWTON, null, P), fun = s.dense(Curvature.FUNCTIONAL, null, P);
            double maxAbs = 0, asym = 0, split = 0, funMax = 0;
            for (int i = 0; i < P; i++) {
                for (int j = 0; j < P; j++) {
                    maxAbs = Math.max(maxAbs, Math.abs(hess[i][j]));
                    asym = Math.max(asym, Math.abs(hess[i][j] - hess[j][i]));
                    asym = Math.max(asym, Math.abs(ggn[i][j] - ggn[j][i]));
                    split = Math.max(split, Math.abs(hess[i][j] - ggn[i][j] - fun[i][j]));
                    funMax = Math.max(funMax, Math.abs(fun[i][j]));
                }
            }
            // Exact identities up to rounding: 1e-12 of the largest entry.
            assertTrue(asym <= 1e-12 * maxAbs, "asymmetry " + asym);
            assertTrue(split <= 1e-12 * maxAbs, "H - H_O - H_F = " + split);
            assertTrue(funMax > 1e-3 * maxAbs, "the block has second-order terms: |H_F| = " + funMax);
            SplittableRandom r = new SplittableRandom(5);
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
            s.engine().product(Curvature.HESSIAN, null, V, out);
            for (int j = 0; j < 4; j++) {
                double[] expect = new double[P], got = new double[P];
                for (int a = 0; a < P; a++) {
                    for (int b2 = 0; b2 < P; b2++) {
                        expect[a] += hess[a][b2] * V.get(b2, j);
                    }
                    got[a] = out.get(a, j);
                }
                assertTrue(relErr(got, expect) < 1e-12, "block column " + j + ": " + relErr(got, expect));
            }
            // Group products are sub-blocks of H: the LayerNorm and q (inputs of the softmax's second-order terms).
            int[] group = {0, 1, 2, 3};
            int n = 0;
            for (int i : group) {
                n += g.parameters().get(i).shape().intSize();
            }
            double[][] sub = s.dense(Curvature.HESSIAN, group, n);
            double worst = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    worst = Math.max(worst, Math.abs(sub[i][j] - hess[i][j]));
                }
            }
            assertTrue(worst <= 1e-12 * maxAbs, "group block differs by " + worst);
            s.engine().close();
        }
    }
}

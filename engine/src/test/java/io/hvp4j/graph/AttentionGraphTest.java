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

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "vector"})
    void attentionGradientAndHessianMatchFiniteDifferences(String backend) {
        try (Arena arena = Arena.ofShared(); Backend be = GraphEngineTest.backend(backend)) {
            Graph g = attention();
            assertEquals("ln.weight", g.parameters().get(0).name());
            Setup s = GraphEngineTest.setup(arena, g, Loss.CE, be, 4, 3);
            int P = g.parameterCount();
            // Every Hessian column (each parameter of every op). The softmax is invariant to k's bias (it adds q_i·b
            // to a whole row of scores), so those columns are zero in exact arithmetic: the column error is taken
            // relative to max(|column|, 1e-3·max|H|). Group: the LayerNorm and q, inputs of second-order terms.
            int[] columns = new int[P];
            for (int i = 0; i < P; i++) {
                columns[i] = i;
            }
            double[][][] hgf = GraphEngineTest.checkAgainstFiniteDifferences(arena, g, s, columns, 1e-3,
                    new SplittableRandom(5), new int[] {0, 1, 2, 3});
            double hMax = 0, fMax = 0;
            for (int i = 0; i < P; i++) {
                for (int j = 0; j < P; j++) {
                    hMax = Math.max(hMax, Math.abs(hgf[0][i][j]));
                    fMax = Math.max(fMax, Math.abs(hgf[2][i][j]));
                }
            }
            assertTrue(fMax > 1e-3 * hMax, "the block has second-order terms: max|H_F| = " + fMax);
            s.engine().close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "vector"})
    void float32AgreesWithFloat64(String backend) {
        try (Arena arena = Arena.ofShared(); Backend be = GraphEngineTest.backend(backend)) {
            Graph g = attention();
            Setup s = GraphEngineTest.setup(arena, g, Loss.CE, be, 2, 4);
            int P = g.parameterCount(), rows = s.x().rows();
            try (GraphEngine e = new GraphEngine(g, Loss.CE, be, DType.F32, rows, 2)) {
                Tensor x = Tensor.allocate(arena, DType.F32, rows, g.inputSize());
                Tensor y = Tensor.allocate(arena, DType.F32, rows, g.outputSize());
                x.copyFrom(s.x());
                y.copyFrom(s.y());
                e.setParameters(s.theta());
                Tensor g32 = Tensor.allocate(arena, DType.F64, P, 1), g64 = Tensor.allocate(arena, DType.F64, P, 1);
                e.forwardBackward(x, y, 1.0 / rows, g32);
                s.engine().forwardBackward(s.x(), s.y(), 1.0 / rows, g64);
                Tensor v = Tensor.of(arena, DType.F64, P, 2, new SplittableRandom(9).doubles(2L * P, -1, 1).toArray());
                Tensor h32 = Tensor.allocate(arena, DType.F64, P, 2), h64 = Tensor.allocate(arena, DType.F64, P, 2);
                e.product(Curvature.HESSIAN, null, v, h32);
                s.engine().product(Curvature.HESSIAN, null, v, h64);
                // f32 rounding (6e-8) amplified by the network's conditioning: 1e-4 relative.
                assertTrue(relErr(g32, g64) < 1e-4, "f32 gradient: " + relErr(g32, g64));
                assertTrue(relErr(h32, h64) < 1e-4, "f32 Hessian product: " + relErr(h32, h64));
            }
            s.engine().close();
        }
    }

    private static double relErr(Tensor a, Tensor b) {
        double num = 0, den = 0;
        for (long i = 0; i < a.size(); i++) {
            num += (a.get(i) - b.get(i)) * (a.get(i) - b.get(i));
            den += b.get(i) * b.get(i);
        }
        return Math.sqrt(num / den);
    }
}

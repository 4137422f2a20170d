package io.hvp4j.graph;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.graph.GraphEngineTest.Setup;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.ForwardOverReverse;
import io.hvp4j.model.Mlp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The graph engine's third-order pass on whole graphs in float64: {@code d3 = D³L[v, v, ·] = ∇(vᵀHv)} against the
 * central difference of exact HVPs {@code (H(θ+εv)v − H(θ−εv)v)/(2ε)} (the HVPs are checked against finite
 * differences of gradients in {@link GraphEngineTest}), Richardson-extrapolated over ε and ε/2 (truncation O(ε⁴);
 * a plain difference at {@code ε = 1e−4·‖θ‖/‖v‖} leaves 1e−5 on LeNet-5), with {@code ε = 1e−4·‖θ‖/‖v‖} and
 * relative error ≤ 1e−6 as the MLP engine's check (rounding ~1e−16/ε relative); {@code hv} equals the HVP and the returned
 * value {@code vᵀHv}; a direction on one module gives the same result through the group form, the full form
 * (zero parameter tensors skipped) and the all-parameters form; the MLP as a graph agrees with the MLP engine.
 */
class GraphThirdOrderTest {
    private static double relErr(double[] a, double[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
    }

    private static double norm(double[] a) {
        double s = 0;
        for (double x : a) {
            s += x * x;
        }
        return Math.sqrt(s);
    }

    /** A random direction on the parameters {@code group} (all when null), zero elsewhere. */
    private static double[] direction(Graph g, int[] group, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[g.parameterCount()];
        for (int i = 0; i < g.parameters().size(); i++) {
            boolean in = group == null;
            for (int j : group == null ? new int[0] : group) {
                in |= j == i;
            }
            if (in) {
                long off = g.offset(i);
                for (int e = 0; e < g.parameters().get(i).shape().intSize(); e++) {
                    v[(int) off + e] = r.nextGaussian();
                }
            }
        }
        return v;
    }

    /** H(θ)·v by the engine's product, at parameters {@code th}; leaves the engine at the set-up's θ. */
    private static double[] hvp(Setup s, double[] th, Tensor v) {
        Arena a = s.arena();
        int P = th.length;
        Tensor out = Tensor.allocate(a, DType.F64, P, 1);
        s.engine().setParameters(Tensor.of(a, DType.F64, 1, P, th));
        s.engine().forwardBackward(s.x(), s.y(), 1.0 / s.x().rows(), null);
        s.engine().product(Curvature.HESSIAN, null, v, out);
        s.engine().setParameters(s.theta());
        s.engine().forwardBackward(s.x(), s.y(), 1.0 / s.x().rows(), null);
        return out.toDoubleArray();
    }

    static double[] check(Setup s, double[] v, String what) {
        return check(s, v, what, 1e-4);
    }

    /**
     * Runs the pass for {@code v} (full form) and checks hv, vᵀHv and d3 against central differences of HVPs with
     * step {@code ε = epsFactor·‖θ‖/‖v‖}, Richardson-extrapolated.
     */
    static double[] check(Setup s, double[] v, String what, double epsFactor) {
        Arena a = s.arena();
        int P = v.length;
        Tensor vt = Tensor.of(a, DType.F64, P, 1, v);
        Tensor hv = Tensor.allocate(a, DType.F64, P, 1), d3 = Tensor.allocate(a, DType.F64, P, 1);
        double quad = s.engine().thirdOrder(vt, hv, d3);
        double[] th = s.theta().toDoubleArray();
        double[] ref = hvp(s, th, vt);
        assertTrue(relErr(hv.toDoubleArray(), ref) < 1e-13, what + ": H·v of the third-order pass differs from the"
                + " product by " + relErr(hv.toDoubleArray(), ref));
        double vhv = 0;
        for (int i = 0; i < P; i++) {
            vhv += v[i] * ref[i];
        }
        assertEquals(vhv, quad, 1e-12 * Math.abs(vhv), what + ": vᵀHv");
        double eps = epsFactor * norm(th) / norm(v);
        double[] wide = centralDifference(s, th, v, vt, eps), narrow = centralDifference(s, th, v, vt, eps / 2);
        double[] fd = new double[P];
        for (int i = 0; i < P; i++) {
            fd[i] = (4 * narrow[i] - wide[i]) / 3;
        }
        double err = relErr(d3.toDoubleArray(), fd);
        assertTrue(err <= 1e-6, what + ": d3 vs central differences of HVPs, relative error " + err);
        return d3.toDoubleArray();
    }

    private static double[] centralDifference(Setup s, double[] th, double[] v, Tensor vt, double eps) {
        int P = th.length;
        double[] p = th.clone(), m = th.clone();
        for (int i = 0; i < P; i++) {
            p[i] += eps * v[i];
            m[i] -= eps * v[i];
        }
        double[] hp = hvp(s, p, vt), hm = hvp(s, m, vt), fd = new double[P];
        for (int i = 0; i < P; i++) {
            fd[i] = (hp[i] - hm[i]) / (2 * eps);
        }
        return fd;
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "vector"})
    void smallCnnWithEveryFirstSetOp(String backend) {
        try (Arena arena = Arena.ofShared(); Backend be = GraphEngineTest.backend(backend)) {
            Graph g = GraphEngineTest.smallCnn();
            Setup s = GraphEngineTest.setup(arena, g, Loss.CE, be, 2, 1);
            check(s, direction(g, null, 3), "small CNN");
            s.engine().close();
        }
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    void secondOpSetGraphEveryLoss(Loss loss) {
        try (Arena arena = Arena.ofShared(); Backend be = GraphEngineTest.backend("vector")) {
            Graph g = MoreOpsGraphTest.graph();
            Setup s = GraphEngineTest.setup(arena, g, loss, be, 1, 4);
            check(s, direction(g, null, 5), "train-mode BatchNorm, arithmetic, reductions (" + loss.id() + ")");
            s.engine().close();
        }
    }

    @Test
    void attentionGraph() {
        try (Arena arena = Arena.ofShared(); Backend be = GraphEngineTest.backend("vector")) {
            Graph g = AttentionGraphTest.attention();
            Setup s = GraphEngineTest.setup(arena, g, Loss.CE, be, 1, 3);
            check(s, direction(g, null, 7), "attention");
            s.engine().close();
        }
    }

    @Test
    void lenet5MiddleLayerDirectionEqualsGroupAndAllParameterForms() {
        try (Arena arena = Arena.ofShared(); Backend be = GraphEngineTest.backend("vector")) {
            Graph g = Models.lenet5(10);
            Setup s = GraphEngineTest.setup(arena, g, Loss.CE, be, 1, 8);
            int[] conv2 = {2, 3};
            assertEquals("conv2.weight", g.parameters().get(2).name());
            double[] v = direction(g, conv2, 9);
            double[] d3 = check(s, v, "LeNet-5, direction on conv2");
            int P = g.parameterCount();
            // d3 is over all parameters: conv1, before the direction's module, gets a nonzero part.
            double conv1 = 0;
            for (int i = 0; i < (int) g.offset(2); i++) {
                conv1 = Math.max(conv1, Math.abs(d3[i]));
            }
            assertTrue(conv1 > 0, "d3 reaches the parameters before the direction");
            int n = 0;
            for (int i : conv2) {
                n += g.parameters().get(i).shape().intSize();
            }
            Tensor vg = Tensor.of(arena, DType.F64, n, 1, java.util.Arrays.copyOfRange(v, (int) g.offset(2),
                    (int) g.offset(2) + n));
            Tensor hv = Tensor.allocate(arena, DType.F64, P, 1), t = Tensor.allocate(arena, DType.F64, P, 1);
            s.engine().thirdOrder(conv2, vg, hv, t);
            assertTrue(relErr(t.toDoubleArray(), d3) == 0, "group form gives other bits than the full form");
            // All parameters carrying (zero) tangents: the same numbers up to rounding.
            s.engine().thirdOrder(null, Tensor.of(arena, DType.F64, P, 1, v), hv, t);
            assertTrue(relErr(t.toDoubleArray(), d3) < 1e-13, "all-parameters form: " + relErr(t.toDoubleArray(), d3));
            s.engine().close();
        }
    }

    @Test
    void resnet8() {
        try (Arena arena = Arena.ofShared(); Backend be = GraphEngineTest.backend("vector")) {
            Graph g = Models.resnet8(4, 3, true, true);
            Setup s = GraphEngineTest.setup(arena, g, Loss.CE, be, 1, 2);
            // ReLU: H jumps where a unit's pre-activation crosses 0, so the step must be small enough that none of
            // the ~10⁵ units crosses (ε = 1e−7·‖θ‖/‖v‖; rounding then ~1e−16/1e−7 of the HVPs, below the tolerance).
            check(s, direction(g, null, 11), "ResNet-8 (width 4)", 1e-7);
            s.engine().close();
        }
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    void mlpGraphAgreesWithTheMlpEngine(Loss loss) {
        try (Arena arena = Arena.ofShared(); Backend be = GraphEngineTest.backend("vector")) {
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
            Setup s = GraphEngineTest.setup(arena, g, loss, be, 1, 2);
            int P = g.parameterCount();
            try (ForwardOverReverse f = new ForwardOverReverse(mlp, loss, be, DType.F64, s.x().rows(), 1)) {
                f.setParameters(s.theta().reshape(P, 1));
                f.forwardBackward(s.x(), s.y(), 1.0 / s.x().rows(), null);
                Tensor v = Tensor.of(arena, DType.F64, P, 1, direction(g, null, 4));
                Tensor h1 = Tensor.allocate(arena, DType.F64, P, 1), t1 = Tensor.allocate(arena, DType.F64, P, 1);
                Tensor h2 = Tensor.allocate(arena, DType.F64, P, 1), t2 = Tensor.allocate(arena, DType.F64, P, 1);
                double q1 = f.thirdOrder(v, h1, t1), q2 = s.engine().thirdOrder(v, h2, t2);
                assertEquals(q1, q2, 1e-13 * Math.abs(q1));
                assertTrue(relErr(h2.toDoubleArray(), h1.toDoubleArray()) < 1e-13);
                assertTrue(relErr(t2.toDoubleArray(), t1.toDoubleArray()) < 1e-13, loss + ": d3 differs by "
                        + relErr(t2.toDoubleArray(), t1.toDoubleArray()));
            }
            s.engine().close();
        }
    }

    @Test
    void anOpWithoutThirdOrderRulesIsNamed() {
        Op square = new Op() {
            @Override
            public String type() {
                return "Square";
            }

            @Override
            public Shape outputShape(Shape[] in, boolean[] batched) {
                return in[0];
            }

            @Override
            public void forward(OpContext c) {
            }

            @Override
            public void tangent(OpContext c) {
            }

            @Override
            public void backward(OpContext c) {
            }

            @Override
            public void tangentOfBackward(OpContext c, boolean secondOrder) {
            }
        };
        var e = assertThrows(InvalidInputException.class, () -> square.secondTangent(new OpContext()));
        assertTrue(e.getMessage().contains("Square"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> square.secondTangentOfBackward(new OpContext()));
    }

    @Test
    void needsThePrimalPassAndRightSizes() {
        try (Arena arena = Arena.ofShared(); Backend be = GraphEngineTest.backend("scalar")) {
            Graph g = GraphEngineTest.smallCnn();
            Setup s = GraphEngineTest.setup(arena, g, Loss.CE, be, 1, 1);
            int P = g.parameterCount();
            Tensor v = Tensor.allocate(arena, DType.F64, P, 1), small = Tensor.allocate(arena, DType.F64, P - 1, 1);
            assertThrows(IllegalArgumentException.class, () -> s.engine().thirdOrder(v, small, v));
            s.engine().invalidate();
            assertThrows(IllegalStateException.class, () -> s.engine().thirdOrder(v, v, v));
            s.engine().close();
        }
    }
}

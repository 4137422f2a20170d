package io.hvp4j.graph;

import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ScalarBackend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-op rule harness: a subclass provides {@code static Stream<Arguments> cases()} (see {@link #c} and
 * {@link #onBothBackends}) and inherits these checks of each op's rules in isolation, in float64, against independent references:
 * <ul>
 *   <li>tangent = the JVP by central finite differences of forward (step 1e-5);</li>
 *   <li>backward = the transpose of the tangent: {@code ⟨G, J·ẋ⟩ = ⟨Jᵀ·G, ẋ⟩} per input;</li>
 *   <li>tangent of backward = central finite differences of backward along {@code (ẋ, Ġ)} (second order), and the
 *       transpose of the tangent applied to Ġ without second-order terms (Gauss–Newton);</li>
 *   <li>third order (Taylor mode along one direction, inputs on the curve {@code x + tẋ + ½t²ẍ}, parameters with
 *       {@code ẍ = 0}, the output adjoint on {@code g + tġ + ½t²g̈}): the second tangent = central finite
 *       differences in t of the tangent rule, and the second tangent of backward = central finite differences in t
 *       of the tangent-of-backward rule (both already checked above), Richardson-extrapolated (truncation O(h⁴)),
 *       same tolerance.</li>
 * </ul>
 * Tolerance: 1e-7 relative to the largest entry for FD checks (FD truncation ~h² = 1e-10 of the third derivative,
 * roundoff ~1e-16/h = 1e-11, both scaled by the entries), 1e-12 for the exact dot-product identity.
 */
abstract class OpRulesHarness {
    /** An op, its input shapes, which inputs are batched, which carry tangents, and positive-only inputs. */
    record Case(String name, Op op, Shape[] shapes, boolean[] batched, boolean[] differentiable, boolean[] positive) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** A case: spec pairs of (shape, kind) with kind x (batched), p (parameter), const, const+ (positive constant). */
    static Case c(String name, Op op, Object... spec) {
        int n = spec.length / 2;
        Shape[] s = new Shape[n];
        boolean[] b = new boolean[n], d = new boolean[n], p = new boolean[n];
        for (int i = 0; i < n; i++) {
            s[i] = (Shape) spec[2 * i];
            String kind = (String) spec[2 * i + 1];
            b[i] = kind.equals("x");
            d[i] = kind.equals("x") || kind.equals("p");
            p[i] = kind.equals("const+");
        }
        return new Case(name, op, s, b, d, p);
    }

    /** Both backends for every case. */
    static Stream<Arguments> onBothBackends(List<Case> cs) {
        List<Arguments> args = new ArrayList<>();
        for (Case c : cs) {
            args.add(Arguments.of(c, "scalar"));
            args.add(Arguments.of(c, "vector"));
        }
        return args.stream();
    }

    private static final int ROWS = 3, K = 2;
    private static final double H = 1e-5;

    private static final class Fixture {
        final Arena arena = Arena.ofShared(); // shared: the ops split their work over the backend's threads
        final Case c;
        final Backend be;
        final Shape out;
        final Tensor[] in, inDot, state;
        final Tensor scratch;
        final int outN;

        Fixture(Case c, Backend be, long seed) {
            this.c = c;
            this.be = be;
            this.out = c.op.outputShape(c.shapes, c.batched);
            outN = out.intSize();
            SplittableRandom r = new SplittableRandom(seed);
            int m = c.shapes.length;
            in = new Tensor[m];
            inDot = new Tensor[m];
            for (int i = 0; i < m; i++) {
                int n = c.shapes[i].intSize();
                in[i] = random(r, c.batched[i] ? ROWS : 1, n, c.positive[i]);
                inDot[i] = c.differentiable[i] ? random(r, c.batched[i] ? ROWS : 1, K * n, false) : null;
            }
            long[] ss = c.op.stateSizes(c.shapes, out);
            state = new Tensor[ss.length];
            for (int j = 0; j < ss.length; j++) {
                state[j] = Tensor.allocate(arena, DType.F64, ROWS, (int) ss[j]);
            }
            long scr = c.op.scratchSize(c.shapes, out, ROWS, K, be.threads());
            scratch = Tensor.allocate(arena, DType.F64, 1, (int) Math.max(1, scr));
        }

        Tensor random(SplittableRandom r, int rows, int cols, boolean positive) {
            Tensor t = Tensor.allocate(arena, DType.F64, rows, cols);
            for (long i = 0; i < t.size(); i++) {
                t.set(i, positive ? 0.5 + r.nextDouble() : r.nextGaussian());
            }
            return t;
        }

        Tensor zeros(int rows, int cols) {
            return Tensor.allocate(arena, DType.F64, rows, cols);
        }

        OpContext ctx(Tensor[] inputs, int k) {
            OpContext x = new OpContext();
            x.be = be;
            x.dtype = DType.F64;
            x.rows = ROWS;
            x.k = k;
            x.inShape = c.shapes;
            x.batched = c.batched;
            x.outShape = out;
            x.in = inputs;
            x.inDot = new Tensor[inputs.length];
            x.inGrad = new Tensor[inputs.length];
            x.inGradDot = new Tensor[inputs.length];
            x.state = state;
            x.scratch = scratch;
            x.out = zeros(ROWS, outN);
            return x;
        }

        /** Forward at {@code in + t·(tangent j of input i)} (all differentiable inputs when i < 0). */
        OpContext forwardAt(int i, int j, double t) {
            Tensor[] moved = new Tensor[in.length];
            for (int a = 0; a < in.length; a++) {
                moved[a] = zeros(in[a].rows(), in[a].cols());
                moved[a].copyFrom(in[a]);
                if ((i < 0 || a == i) && inDot[a] != null && t != 0) {
                    Tensor piece = piece(inDot[a], j, K);
                    for (long e = 0; e < moved[a].size(); e++) {
                        moved[a].set(e, moved[a].get(e) + t * piece.get(e));
                    }
                }
            }
            OpContext x = ctx(moved, 1);
            c.op.forward(x);
            return x;
        }

        /** Random second tangents of the batched differentiable inputs (parameters move linearly: null). */
        Tensor[] secondTangents(SplittableRandom r) {
            Tensor[] dd = new Tensor[in.length];
            for (int a = 0; a < in.length; a++) {
                if (inDot[a] != null && c.batched[a]) {
                    dd[a] = random(r, ROWS, in[a].cols(), false);
                }
            }
            return dd;
        }

        /** Forward at {@code in + t·ẋ + ½t²·ẍ} (ẋ tangent 0 of each input); the context's inDot is {@code ẋ + t·ẍ}. */
        OpContext onCurve(Tensor[] dd, double t) {
            Tensor[] moved = new Tensor[in.length], vel = new Tensor[in.length];
            for (int a = 0; a < in.length; a++) {
                moved[a] = zeros(in[a].rows(), in[a].cols());
                moved[a].copyFrom(in[a]);
                if (inDot[a] == null) {
                    continue;
                }
                Tensor v = piece(inDot[a], 0, K);
                vel[a] = zeros(v.rows(), v.cols());
                for (long e = 0; e < v.size(); e++) {
                    double acc = dd[a] == null ? 0 : dd[a].get(e);
                    moved[a].set(e, moved[a].get(e) + t * v.get(e) + 0.5 * t * t * acc);
                    vel[a].set(e, v.get(e) + t * acc);
                }
            }
            OpContext x = ctx(moved, 1);
            c.op.forward(x);
            x.inDot = vel;
            x.outDot = zeros(ROWS, outN);
            c.op.tangent(x);
            return x;
        }

        /** {@code a + t·b + ½t²·c} (c may be null). */
        Tensor along(Tensor a, Tensor b, Tensor cc, double t) {
            Tensor r = zeros(a.rows(), a.cols());
            for (long e = 0; e < r.size(); e++) {
                r.set(e, a.get(e) + t * b.get(e) + (cc == null ? 0 : 0.5 * t * t * cc.get(e)));
            }
            return r;
        }

        /** Tangent j of a blocked tensor ({@code rows × (k·n)} per row, or {@code 1 × (k·n)}) as {@code rows × n}. */
        Tensor piece(Tensor block, int j, int k) {
            int n = block.cols() / k;
            Tensor p = zeros(block.rows(), n);
            for (int r = 0; r < block.rows(); r++) {
                for (int e = 0; e < n; e++) {
                    p.set(r, e, block.get(r, j * n + e));
                }
            }
            return p;
        }
    }

    private static Backend backend(String name) {
        return name.equals("scalar") ? new ScalarBackend() : new VectorBackend(2);
    }

    private static double maxAbs(Tensor t) {
        double m = 0;
        for (long i = 0; i < t.size(); i++) {
            m = Math.max(m, Math.abs(t.get(i)));
        }
        return m;
    }

    private static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
        double scale = Math.max(1e-3, maxAbs(expected)), worst = 0;
        for (long i = 0; i < expected.size(); i++) {
            worst = Math.max(worst, Math.abs(expected.get(i) - actual.get(i)));
        }
        assertTrue(worst <= tol * scale, what + ": max error " + worst + " > " + tol + " × " + scale);
    }

    private static double dot(Tensor a, Tensor b) {
        double s = 0;
        for (long i = 0; i < a.size(); i++) {
            s += a.get(i) * b.get(i);
        }
        return s;
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void tangentIsTheFiniteDifferenceJvp(Case c, String backend) {
        try (Backend be = backend(backend)) {
            Fixture f = new Fixture(c, be, 1);
            OpContext base = f.forwardAt(-1, 0, 0);
            base.k = K;
            base.inDot = f.inDot.clone();
            base.outDot = f.zeros(ROWS, K * f.outN);
            c.op.tangent(base);
            for (int j = 0; j < K; j++) {
                Tensor plus = f.forwardAt(-1, j, H).out, minus = f.forwardAt(-1, j, -H).out;
                Tensor fd = f.zeros(ROWS, f.outN);
                for (long e = 0; e < fd.size(); e++) {
                    fd.set(e, (plus.get(e) - minus.get(e)) / (2 * H));
                }
                assertClose(fd, f.piece(base.outDot, j, K), 1e-7, c + " tangent " + j);
            }
        }
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void backwardIsTheTransposeOfTheTangent(Case c, String backend) {
        try (Backend be = backend(backend)) {
            Fixture f = new Fixture(c, be, 2);
            OpContext x = f.forwardAt(-1, 0, 0);
            Tensor g = f.random(new SplittableRandom(7), ROWS, f.outN, false);
            x.outGrad = g;
            for (int i = 0; i < f.in.length; i++) {
                if (f.inDot[i] != null) {
                    x.inGrad[i] = f.zeros(f.in[i].rows(), f.in[i].cols());
                }
            }
            c.op.backward(x);
            for (int i = 0; i < f.in.length; i++) {
                if (f.inDot[i] == null) {
                    continue;
                }
                OpContext t = f.forwardAt(-1, 0, 0);
                Tensor one = f.piece(f.inDot[i], 0, K);
                t.inDot[i] = one;
                t.outDot = f.zeros(ROWS, f.outN);
                c.op.tangent(t);
                double lhs = dot(g, t.outDot), rhs = dot(x.inGrad[i], one);
                assertTrue(Math.abs(lhs - rhs) <= 1e-12 * Math.max(1, Math.abs(lhs)),
                        c + " input " + i + ": <G, J x> = " + lhs + " but <J^T G, x> = " + rhs);
            }
        }
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void tangentOfBackwardIsTheFiniteDifferenceOfBackward(Case c, String backend) {
        try (Backend be = backend(backend)) {
            Fixture f = new Fixture(c, be, 3);
            SplittableRandom r = new SplittableRandom(11);
            Tensor g = f.random(r, ROWS, f.outN, false), gDot = f.random(r, ROWS, K * f.outN, false);
            for (boolean second : new boolean[] {true, false}) {
                OpContext x = f.forwardAt(-1, 0, 0);
                x.k = K;
                x.inDot = f.inDot.clone();
                x.outGrad = g;
                x.outGradDot = gDot;
                for (int i = 0; i < f.in.length; i++) {
                    if (f.inDot[i] != null) {
                        x.inGradDot[i] = f.zeros(f.in[i].rows(), K * f.in[i].cols());
                    }
                }
                // The tangent-of-backward rule may read outDot (none of the first-set ops does); give it the real one.
                x.outDot = f.zeros(ROWS, K * f.outN);
                c.op.tangent(x);
                c.op.tangentOfBackward(x, second);
                for (int j = 0; j < K; j++) {
                    Tensor gj = f.piece(gDot, j, K);
                    Tensor[] plus = second ? backwardAt(f, j, H, g, gj) : backwardAt(f, -2, 0, gj, null);
                    Tensor[] minus = second ? backwardAt(f, j, -H, g, gj) : null;
                    for (int i = 0; i < f.in.length; i++) {
                        if (f.inDot[i] == null) {
                            continue;
                        }
                        Tensor expected = plus[i];
                        if (second) {
                            expected = f.zeros(plus[i].rows(), plus[i].cols());
                            for (long e = 0; e < expected.size(); e++) {
                                expected.set(e, (plus[i].get(e) - minus[i].get(e)) / (2 * H));
                            }
                        }
                        assertClose(expected, f.piece(x.inGradDot[i], j, K), second ? 1e-7 : 1e-12,
                                c + (second ? " tangent of backward " : " Gauss-Newton backward ") + j + " input " + i);
                    }
                }
            }
        }
    }

    /** Input adjoints of backward at {@code in + t·ẋ_j} with output adjoint {@code g + t·gj} (j = -2: at in, g only). */
    private static Tensor[] backwardAt(Fixture f, int j, double t, Tensor g, Tensor gj) {
        OpContext x = j == -2 ? f.forwardAt(-1, 0, 0) : f.forwardAt(-1, j, t);
        Tensor og = f.zeros(ROWS, f.outN);
        for (long e = 0; e < og.size(); e++) {
            og.set(e, g.get(e) + (gj == null ? 0 : t * gj.get(e)));
        }
        x.outGrad = og;
        Tensor[] res = new Tensor[f.in.length];
        for (int i = 0; i < f.in.length; i++) {
            if (f.inDot[i] != null) {
                res[i] = f.zeros(f.in[i].rows(), f.in[i].cols());
                x.inGrad[i] = res[i];
            }
        }
        f.c.op.backward(x);
        return res;
    }

    /**
     * Central difference in t of {@code rule(t)}, Richardson-extrapolated ({@code (4D(h/2) − D(h))/3}, truncation
     * O(h⁴)): the third-order rules carry up to the fifth derivative of the op into the O(h²) error of a plain
     * central difference, large for {@code 1/b} near a small divisor.
     */
    private static Tensor[] derivative(Fixture f, java.util.function.DoubleFunction<Tensor[]> rule) {
        Tensor[] p = rule.apply(H), m = rule.apply(-H), p2 = rule.apply(H / 2), m2 = rule.apply(-H / 2);
        Tensor[] d = new Tensor[p.length];
        for (int i = 0; i < p.length; i++) {
            if (p[i] == null) {
                continue;
            }
            d[i] = f.zeros(p[i].rows(), p[i].cols());
            for (long e = 0; e < d[i].size(); e++) {
                double wide = (p[i].get(e) - m[i].get(e)) / (2 * H), narrow = (p2[i].get(e) - m2[i].get(e)) / H;
                d[i].set(e, (4 * narrow - wide) / 3);
            }
        }
        return d;
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void secondTangentIsTheFiniteDifferenceOfTheTangent(Case c, String backend) {
        try (Backend be = backend(backend)) {
            Fixture f = new Fixture(c, be, 4);
            Tensor[] dd = f.secondTangents(new SplittableRandom(13));
            OpContext x = f.onCurve(dd, 0);
            x.inDDot = dd;
            x.outDDot = f.zeros(ROWS, f.outN);
            c.op.secondTangent(x);
            Tensor fd = derivative(f, t -> new Tensor[] {f.onCurve(dd, t).outDot})[0];
            assertClose(fd, x.outDDot, 1e-7, c + " second tangent");
        }
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void secondTangentOfBackwardIsTheFiniteDifferenceOfTheTangentOfBackward(Case c, String backend) {
        try (Backend be = backend(backend)) {
            Fixture f = new Fixture(c, be, 5);
            SplittableRandom r = new SplittableRandom(17);
            Tensor[] dd = f.secondTangents(r);
            Tensor g = f.random(r, ROWS, f.outN, false), gd = f.random(r, ROWS, f.outN, false);
            Tensor gdd = f.random(r, ROWS, f.outN, false);
            OpContext x = f.onCurve(dd, 0);
            x.inDDot = dd;
            x.outDDot = f.zeros(ROWS, f.outN);
            c.op.secondTangent(x);
            x.outGrad = g;
            x.outGradDot = gd;
            x.outGradDDot = gdd;
            x.inGradDDot = new Tensor[f.in.length];
            for (int i = 0; i < f.in.length; i++) {
                if (f.inDot[i] != null) {
                    x.inGradDDot[i] = f.zeros(f.in[i].rows(), f.in[i].cols());
                }
            }
            c.op.secondTangentOfBackward(x);
            Tensor[] fd = derivative(f, t -> tangentOfBackwardOnCurve(f, dd, t, g, gd, gdd));
            for (int i = 0; i < f.in.length; i++) {
                if (f.inDot[i] != null) {
                    assertClose(fd[i], x.inGradDDot[i], 1e-7,
                            c + " second tangent of backward, input " + i);
                }
            }
        }
    }

    /** The tangent-of-backward rule (k = 1, second order) at curve parameter t, adjoint {@code g + tġ + ½t²g̈}. */
    private static Tensor[] tangentOfBackwardOnCurve(Fixture f, Tensor[] dd, double t, Tensor g, Tensor gd,
                                                     Tensor gdd) {
        OpContext x = f.onCurve(dd, t);
        x.outGrad = f.along(g, gd, gdd, t);
        x.outGradDot = f.along(gd, gdd, null, t);
        Tensor[] res = new Tensor[f.in.length];
        for (int i = 0; i < f.in.length; i++) {
            if (f.inDot[i] != null) {
                res[i] = f.zeros(f.in[i].rows(), f.in[i].cols());
                x.inGradDot[i] = res[i];
            }
        }
        f.c.op.tangentOfBackward(x, true);
        return res;
    }
}

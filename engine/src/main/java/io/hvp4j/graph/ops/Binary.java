package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Op;
import io.hvp4j.graph.OpContext;
import io.hvp4j.graph.Shape;
import io.hvp4j.memory.Tensor;

/**
 * Element-wise {@code y = a ∘ b} for {@code ∘} one of {@code + − × ÷}, with NumPy/ONNX broadcasting over the
 * per-sample shape ({@link Broadcast}); either operand may be batched or unbatched (a parameter or constant, then
 * also broadcast over the batch), at least one batched. Adjoints of broadcast operands are summed over the
 * broadcast axes (and the batch, when unbatched).
 *
 * <p>Rules, with {@code g} the output adjoint and {@code ġ} its tangent:
 * <ul>
 *   <li>{@code Add}, {@code Sub}: linear, {@code ġa = ġ}, {@code ġb = ±ġ}.</li>
 *   <li>{@code Mul}: {@code ẏ = ȧ·b + a·ḃ}; {@code ġa = b·ġ + ḃ·g}, {@code ġb = a·ġ + ȧ·g} (the mixed a–b term).</li>
 *   <li>{@code Div}: {@code ẏ = ȧ/b − a·ḃ/b²}; {@code ga = g/b}, {@code gb = −a·g/b²};
 *       {@code ġa = ġ/b − g·ḃ/b²}, {@code ġb = −a·ġ/b² − ȧ·g/b² + 2a·g·ḃ/b³} (the a–b and b–b terms).</li>
 * </ul>
 * Gauss–Newton products drop the terms carrying {@code g} (the second-order ones). No state is kept: the rules read
 * the inputs. A zero divisor gives infinities as in PyTorch.
 *
 * <p>Third order, from the partial derivatives of {@code y(a, b)} up to third order ({@link #partials}):
 * {@code ÿ = y_a·ä + y_b·b̈ + y_aa·ȧ² + 2y_ab·ȧḃ + y_bb·ḃ²} and, with {@code y_a' = y_aa·ȧ + y_ab·ḃ} and
 * {@code y_a'' = y_aaa·ȧ² + 2y_aab·ȧḃ + y_abb·ḃ² + y_aa·ä + y_ab·b̈} (likewise for b),
 * {@code g̈a = y_a·g̈ + 2y_a'·ġ + y_a''·g}, summed over broadcast axes as the adjoints.
 */
public final class Binary implements Op {
    public enum Kind { ADD, SUB, MUL, DIV }

    public static final Binary ADD = new Binary(Kind.ADD);
    public static final Binary SUB = new Binary(Kind.SUB);
    public static final Binary MUL = new Binary(Kind.MUL);
    public static final Binary DIV = new Binary(Kind.DIV);

    private final Kind kind;

    private Binary(Kind kind) {
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    @Override
    public String type() {
        return switch (kind) {
            case ADD -> "Add";
            case SUB -> "Sub";
            case MUL -> "Mul";
            case DIV -> "Div";
        };
    }

    @Override
    public boolean linear() {
        return kind == Kind.ADD || kind == Kind.SUB;
    }

    @Override
    public Shape outputShape(Shape[] in, boolean[] batched) {
        if (in.length != 2) {
            throw new InvalidInputException(type() + " takes two inputs, got " + in.length);
        }
        return Broadcast.shape(type(), in, batched);
    }

    private double apply(double a, double b) {
        return switch (kind) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
        };
    }

    /** ∂y/∂a at (a, b). */
    private double da(double a, double b) {
        return switch (kind) {
            case ADD, SUB -> 1;
            case MUL -> b;
            case DIV -> 1 / b;
        };
    }

    /** ∂y/∂b at (a, b). */
    private double db(double a, double b) {
        return switch (kind) {
            case ADD -> 1;
            case SUB -> -1;
            case MUL -> a;
            case DIV -> -a / (b * b);
        };
    }

    /**
     * {@code p = (y_a, y_b, y_aa, y_ab, y_bb, y_aaa, y_aab, y_abb, y_bbb)} at {@code (a, b)}: the partial derivatives
     * the third-order rules need.
     */
    private void partials(double a, double b, double[] p) {
        java.util.Arrays.fill(p, 0);
        p[0] = da(a, b);
        p[1] = db(a, b);
        if (kind == Kind.MUL) {
            p[3] = 1;
        } else if (kind == Kind.DIV) {
            double b2 = b * b, b3 = b2 * b;
            p[3] = -1 / b2;
            p[4] = 2 * a / b3;
            p[7] = 2 / b3;
            p[8] = -6 * a / (b3 * b);
        }
    }

    /** The operands' index maps and sizes for one rule call. */
    private record Layout(int n, int na, int nb, int[] ma, int[] mb, boolean ba, boolean bb) {
        static Layout of(OpContext c) {
            Shape out = c.outShape();
            return new Layout(out.intSize(), c.inShape(0).intSize(), c.inShape(1).intSize(),
                    Broadcast.map(c.inShape(0), out), Broadcast.map(c.inShape(1), out), c.batched(0), c.batched(1));
        }
    }

    /** Reads row {@code r} of an input into {@code dst} when it is batched, or its only row when {@code r == 0}. */
    private static void operand(Planes io, Tensor t, boolean batched, int r, double[] dst) {
        if (batched || r == 0) {
            io.read(t, batched ? (long) r * dst.length : 0, dst.length, dst);
        }
    }

    @Override
    public void forward(OpContext c) {
        Layout l = Layout.of(c);
        Planes io = new Planes();
        double[] av = new double[l.na], bv = new double[l.nb], y = new double[l.n];
        for (int r = 0; r < c.rows(); r++) {
            operand(io, c.in(0), l.ba, r, av);
            operand(io, c.in(1), l.bb, r, bv);
            for (int e = 0; e < l.n; e++) {
                y[e] = apply(av[l.ma[e]], bv[l.mb[e]]);
            }
            io.write(y, l.n, c.out(), (long) r * l.n);
        }
    }

    @Override
    public void tangent(OpContext c) {
        Layout l = Layout.of(c);
        int k = c.k();
        Planes io = new Planes();
        Tensor ad = c.inDot(0), bd = c.inDot(1);
        double[] av = new double[l.na], bv = new double[l.nb], y = new double[l.n];
        double[] adv = new double[l.na], bdv = new double[l.nb];
        for (int r = 0; r < c.rows(); r++) {
            operand(io, c.in(0), l.ba, r, av);
            operand(io, c.in(1), l.bb, r, bv);
            for (int j = 0; j < k; j++) {
                if (ad != null) {
                    io.read(ad, (l.ba ? (long) r * k + j : j) * l.na, l.na, adv);
                }
                if (bd != null) {
                    io.read(bd, (l.bb ? (long) r * k + j : j) * l.nb, l.nb, bdv);
                }
                for (int e = 0; e < l.n; e++) {
                    int ia = l.ma[e], ib = l.mb[e];
                    double v = 0;
                    if (ad != null) {
                        v += da(av[ia], bv[ib]) * adv[ia];
                    }
                    if (bd != null) {
                        v += db(av[ia], bv[ib]) * bdv[ib];
                    }
                    y[e] = v;
                }
                io.write(y, l.n, c.outDot(), ((long) r * k + j) * l.n);
            }
        }
    }

    /**
     * Where one input's adjoint (or its k tangents) accumulates: a batched input's piece {@code (r, j)} is summed in
     * a buffer of one sample and written after it; an unbatched input's k pieces are summed over all rows and
     * written at the end.
     */
    private static final class Sink {
        final Tensor t;
        final boolean batched;
        final int n, k;
        final double[] acc;

        Sink(Tensor t, boolean batched, int n, int k) {
            this.t = t;
            this.batched = batched;
            this.n = n;
            this.k = k;
            this.acc = t == null ? null : new double[batched ? n : k * n];
        }

        /** Offset of piece j in {@link #acc}; clears it first for a batched input. */
        int begin(int j) {
            if (batched) {
                java.util.Arrays.fill(acc, 0);
                return 0;
            }
            return j * n;
        }

        void end(Planes io, int r, int j) {
            if (batched) {
                io.write(acc, n, t, ((long) r * k + j) * n);
            }
        }

        void finish(Planes io) {
            if (!batched) {
                io.write(acc, k * n, t, 0);
            }
        }
    }

    @Override
    public void backward(OpContext c) {
        adjoint(c, c.outGrad(), c.inGrad(0), c.inGrad(1), 1, false);
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        adjoint(c, c.outGradDot(), c.inGradDot(0), c.inGradDot(1), c.k(), secondOrder && !linear());
    }

    /**
     * {@code ga = Σ ∂y/∂a·gp}, {@code gb = Σ ∂y/∂b·gp} over the elements each input element reaches (and the rows,
     * when unbatched) for the {@code k} pieces of {@code gp}; with {@code second}, plus the terms that carry the
     * primal adjoint g along ȧ, ḃ (class Javadoc).
     */
    private void adjoint(OpContext c, Tensor gp, Tensor gaT, Tensor gbT, int k, boolean second) {
        Layout l = Layout.of(c);
        Planes io = new Planes();
        Tensor ad = second ? c.inDot(0) : null, bd = second ? c.inDot(1) : null;
        Sink sa = new Sink(gaT, l.ba, l.na, k), sb = new Sink(gbT, l.bb, l.nb, k);
        double[] av = new double[l.na], bv = new double[l.nb], g = new double[l.n], gpv = new double[l.n];
        double[] adv = new double[l.na], bdv = new double[l.nb];
        for (int r = 0; r < c.rows(); r++) {
            operand(io, c.in(0), l.ba, r, av);
            operand(io, c.in(1), l.bb, r, bv);
            if (second) {
                io.read(c.outGrad(), (long) r * l.n, l.n, g);
            }
            for (int j = 0; j < k; j++) {
                io.read(gp, ((long) r * k + j) * l.n, l.n, gpv);
                if (ad != null) {
                    io.read(ad, (l.ba ? (long) r * k + j : j) * l.na, l.na, adv);
                }
                if (bd != null) {
                    io.read(bd, (l.bb ? (long) r * k + j : j) * l.nb, l.nb, bdv);
                }
                int oa = sa.acc == null ? 0 : sa.begin(j), ob = sb.acc == null ? 0 : sb.begin(j);
                for (int e = 0; e < l.n; e++) {
                    int ia = l.ma[e], ib = l.mb[e];
                    double a = av[ia], b = bv[ib];
                    double a1 = ad == null ? 0 : adv[ia], b1 = bd == null ? 0 : bdv[ib];
                    if (sa.acc != null) {
                        double v = da(a, b) * gpv[e];
                        if (second) {
                            // ∂²y/∂a∂b·ḃ·g: Mul 1, Div −1/b².
                            v += (kind == Kind.MUL ? 1 : -1 / (b * b)) * b1 * g[e];
                        }
                        sa.acc[oa + ia] += v;
                    }
                    if (sb.acc != null) {
                        double v = db(a, b) * gpv[e];
                        if (second) {
                            // ∂²y/∂b∂a·ȧ·g + ∂²y/∂b²·ḃ·g: Mul 1 and 0, Div −1/b² and 2a/b³.
                            v += kind == Kind.MUL ? a1 * g[e] : (-a1 + 2 * a * b1 / b) * g[e] / (b * b);
                        }
                        sb.acc[ob + ib] += v;
                    }
                }
                if (sa.acc != null) {
                    sa.end(io, r, j);
                }
                if (sb.acc != null) {
                    sb.end(io, r, j);
                }
            }
        }
        if (sa.acc != null) {
            sa.finish(io);
        }
        if (sb.acc != null) {
            sb.finish(io);
        }
    }

    /** Input {@code t}'s row {@code r} (k = 1) into {@code dst}, or zeros when {@code t} is null. */
    private static void orZero(Planes io, Tensor t, boolean batched, int r, double[] dst) {
        io.readOrZero(t, batched ? (long) r * dst.length : 0, dst.length, dst);
    }

    @Override
    public void secondTangent(OpContext c) {
        Layout l = Layout.of(c);
        Planes io = new Planes();
        double[] av = new double[l.na], bv = new double[l.nb], ad = new double[l.na], bd = new double[l.nb];
        double[] add = new double[l.na], bdd = new double[l.nb], y = new double[l.n], p = new double[9];
        for (int r = 0; r < c.rows(); r++) {
            operand(io, c.in(0), l.ba, r, av);
            operand(io, c.in(1), l.bb, r, bv);
            orZero(io, c.inDot(0), l.ba, r, ad);
            orZero(io, c.inDot(1), l.bb, r, bd);
            orZero(io, c.inDDot(0), l.ba, r, add);
            orZero(io, c.inDDot(1), l.bb, r, bdd);
            for (int e = 0; e < l.n; e++) {
                int ia = l.ma[e], ib = l.mb[e];
                partials(av[ia], bv[ib], p);
                double a1 = ad[ia], b1 = bd[ib];
                y[e] = p[0] * add[ia] + p[1] * bdd[ib] + p[2] * a1 * a1 + 2 * p[3] * a1 * b1 + p[4] * b1 * b1;
            }
            io.write(y, l.n, c.outDDot(), (long) r * l.n);
        }
    }

    @Override
    public void secondTangentOfBackward(OpContext c) {
        Layout l = Layout.of(c);
        Planes io = new Planes();
        Sink sa = new Sink(c.inGradDDot(0), l.ba, l.na, 1), sb = new Sink(c.inGradDDot(1), l.bb, l.nb, 1);
        double[] av = new double[l.na], bv = new double[l.nb], ad = new double[l.na], bd = new double[l.nb];
        double[] add = new double[l.na], bdd = new double[l.nb], p = new double[9];
        double[] g = new double[l.n], gd = new double[l.n], gdd = new double[l.n];
        for (int r = 0; r < c.rows(); r++) {
            operand(io, c.in(0), l.ba, r, av);
            operand(io, c.in(1), l.bb, r, bv);
            orZero(io, c.inDot(0), l.ba, r, ad);
            orZero(io, c.inDot(1), l.bb, r, bd);
            orZero(io, c.inDDot(0), l.ba, r, add);
            orZero(io, c.inDDot(1), l.bb, r, bdd);
            io.read(c.outGrad(), (long) r * l.n, l.n, g);
            io.read(c.outGradDot(), (long) r * l.n, l.n, gd);
            io.read(c.outGradDDot(), (long) r * l.n, l.n, gdd);
            int oa = sa.acc == null ? 0 : sa.begin(0), ob = sb.acc == null ? 0 : sb.begin(0);
            for (int e = 0; e < l.n; e++) {
                int ia = l.ma[e], ib = l.mb[e];
                partials(av[ia], bv[ib], p);
                double a1 = ad[ia], b1 = bd[ib], a2 = add[ia], b2 = bdd[ib];
                if (sa.acc != null) {
                    double d1 = p[2] * a1 + p[3] * b1;
                    double d2 = p[5] * a1 * a1 + 2 * p[6] * a1 * b1 + p[7] * b1 * b1 + p[2] * a2 + p[3] * b2;
                    sa.acc[oa + ia] += p[0] * gdd[e] + 2 * d1 * gd[e] + d2 * g[e];
                }
                if (sb.acc != null) {
                    double d1 = p[3] * a1 + p[4] * b1;
                    double d2 = p[6] * a1 * a1 + 2 * p[7] * a1 * b1 + p[8] * b1 * b1 + p[3] * a2 + p[4] * b2;
                    sb.acc[ob + ib] += p[1] * gdd[e] + 2 * d1 * gd[e] + d2 * g[e];
                }
            }
            if (sa.acc != null) {
                sa.end(io, r, 0);
            }
            if (sb.acc != null) {
                sb.end(io, r, 0);
            }
        }
        if (sa.acc != null) {
            sa.finish(io);
        }
        if (sb.acc != null) {
            sb.finish(io);
        }
    }
}

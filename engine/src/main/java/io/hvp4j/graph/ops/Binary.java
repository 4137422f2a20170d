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

    /** The operands' index maps and sizes for one rule call. */
    private record Layout(int n, int na, int nb, int[] ma, int[] mb, boolean ba, boolean bb) {
        static Layout of(OpContext c) {
            Shape out = c.outShape();
            return new Layout(out.intSize(), c.inShape(0).intSize(), c.inShape(1).intSize(),
                    Broadcast.map(c.inShape(0), out), Broadcast.map(c.inShape(1), out), c.batched(0), c.batched(1));
        }
    }

    @Override
    public void forward(OpContext c) {
        Layout l = Layout.of(c);
        Tensor a = c.in(0), b = c.in(1), y = c.out();
        for (int r = 0; r < c.rows(); r++) {
            long a0 = l.ba ? (long) r * l.na : 0, b0 = l.bb ? (long) r * l.nb : 0, y0 = (long) r * l.n;
            for (int e = 0; e < l.n; e++) {
                y.set(y0 + e, apply(a.get(a0 + l.ma[e]), b.get(b0 + l.mb[e])));
            }
        }
    }

    @Override
    public void tangent(OpContext c) {
        Layout l = Layout.of(c);
        int k = c.k();
        Tensor a = c.in(0), b = c.in(1), ad = c.inDot(0), bd = c.inDot(1), yd = c.outDot();
        for (int r = 0; r < c.rows(); r++) {
            long a0 = l.ba ? (long) r * l.na : 0, b0 = l.bb ? (long) r * l.nb : 0;
            for (int j = 0; j < k; j++) {
                long ad0 = (l.ba ? (long) r * k + j : j) * l.na, bd0 = (l.bb ? (long) r * k + j : j) * l.nb;
                long y0 = ((long) r * k + j) * l.n;
                for (int e = 0; e < l.n; e++) {
                    double av = a.get(a0 + l.ma[e]), bv = b.get(b0 + l.mb[e]), v = 0;
                    if (ad != null) {
                        v += da(av, bv) * ad.get(ad0 + l.ma[e]);
                    }
                    if (bd != null) {
                        v += db(av, bv) * bd.get(bd0 + l.mb[e]);
                    }
                    yd.set(y0 + e, v);
                }
            }
        }
    }

    @Override
    public void backward(OpContext c) {
        Layout l = Layout.of(c);
        Tensor a = c.in(0), b = c.in(1), g = c.outGrad(), ga = c.inGrad(0), gb = c.inGrad(1);
        if (ga != null) {
            c.backend().zero(ga);
        }
        if (gb != null) {
            c.backend().zero(gb);
        }
        for (int r = 0; r < c.rows(); r++) {
            long a0 = l.ba ? (long) r * l.na : 0, b0 = l.bb ? (long) r * l.nb : 0, g0 = (long) r * l.n;
            for (int e = 0; e < l.n; e++) {
                double av = a.get(a0 + l.ma[e]), bv = b.get(b0 + l.mb[e]), gv = g.get(g0 + e);
                if (ga != null) {
                    long at = a0 + l.ma[e];
                    ga.set(at, ga.get(at) + da(av, bv) * gv);
                }
                if (gb != null) {
                    long at = b0 + l.mb[e];
                    gb.set(at, gb.get(at) + db(av, bv) * gv);
                }
            }
        }
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        Layout l = Layout.of(c);
        int k = c.k();
        boolean second = secondOrder && !linear();
        Tensor a = c.in(0), b = c.in(1), g = c.outGrad(), gd = c.outGradDot();
        Tensor ad = second ? c.inDot(0) : null, bd = second ? c.inDot(1) : null;
        Tensor gad = c.inGradDot(0), gbd = c.inGradDot(1);
        if (gad != null) {
            c.backend().zero(gad);
        }
        if (gbd != null) {
            c.backend().zero(gbd);
        }
        for (int r = 0; r < c.rows(); r++) {
            long a0 = l.ba ? (long) r * l.na : 0, b0 = l.bb ? (long) r * l.nb : 0;
            for (int j = 0; j < k; j++) {
                long ad0 = (l.ba ? (long) r * k + j : j) * l.na, bd0 = (l.bb ? (long) r * k + j : j) * l.nb;
                long g0 = (long) r * l.n, gd0 = ((long) r * k + j) * l.n;
                for (int e = 0; e < l.n; e++) {
                    double av = a.get(a0 + l.ma[e]), bv = b.get(b0 + l.mb[e]), gdv = gd.get(gd0 + e);
                    double adv = ad == null ? 0 : ad.get(ad0 + l.ma[e]), bdv = bd == null ? 0 : bd.get(bd0 + l.mb[e]);
                    double gv = second ? g.get(g0 + e) : 0;
                    if (gad != null) {
                        double v = da(av, bv) * gdv;
                        if (second) {
                            // ∂²y/∂a∂b·ḃ·g: Mul 1, Div −1/b².
                            v += (kind == Kind.MUL ? 1 : -1 / (bv * bv)) * bdv * gv;
                        }
                        long at = ad0 + l.ma[e];
                        gad.set(at, gad.get(at) + v);
                    }
                    if (gbd != null) {
                        double v = db(av, bv) * gdv;
                        if (second) {
                            // ∂²y/∂b∂a·ȧ·g + ∂²y/∂b²·ḃ·g: Mul 1 and 0, Div −1/b² and 2a/b³.
                            v += kind == Kind.MUL ? adv * gv : (-adv + 2 * av * bdv / bv) * gv / (bv * bv);
                        }
                        long at = bd0 + l.mb[e];
                        gbd.set(at, gbd.get(at) + v);
                    }
                }
            }
        }
    }
}

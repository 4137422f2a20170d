package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Op;
import io.hvp4j.graph.OpContext;
import io.hvp4j.graph.Shape;
import io.hvp4j.memory.Tensor;

/**
 * {@code torch.softmax(x, dim)} over one axis of the per-sample shape (a graph op, e.g. attention weights; the
 * loss keeps its own softmax). With the per-sample shape split as {@code (outer, L, inner)} around the axis, every
 * slice {@code y = softmax(x)} of length {@code L} is independent. The forward rule keeps {@code y}. Over the last
 * axis, forward and the first-order rules are the backend's row softmax kernels; the second-order terms and other
 * axes are loops over heap copies of each sample ({@link Planes}).
 *
 * <p>Rules per slice, with {@code ⟨·,·⟩} the sum along the axis:
 * <ul>
 *   <li>tangent {@code ẏ = y⊙(ẋ − ⟨y, ẋ⟩)}; backward {@code gx = y⊙(g − ⟨y, g⟩)} (the Jacobian is symmetric);</li>
 *   <li>tangent of backward {@code ġx = y⊙(ġ − ⟨y, ġ⟩) + ẏ⊙(g − ⟨y, g⟩) − y·⟨ẏ, g⟩}: the first term is the
 *       backward of {@code ġ} (Gauss–Newton), the other two carry the primal adjoint {@code g} (second order),
 *       with {@code ẏ} recomputed from {@code ẋ}.</li>
 *   <li>third order (Taylor mode, one direction): {@code ÿ = ẏ⊙(ẋ − ⟨y, ẋ⟩) + y⊙(ẍ − ⟨ẏ, ẋ⟩ − ⟨y, ẍ⟩)};
 *       {@code g̈x = ÿ⊙(g − s₀) + 2ẏ⊙(ġ − s₁) + y⊙(g̈ − s₂)} with {@code s₀ = ⟨y, g⟩} and its derivatives
 *       {@code s₁ = ⟨ẏ, g⟩ + ⟨y, ġ⟩}, {@code s₂ = ⟨ÿ, g⟩ + 2⟨ẏ, ġ⟩ + ⟨y, g̈⟩}.</li>
 * </ul>
 */
public final class Softmax implements Op {
    private final int axis;

    /** Softmax over per-sample axis {@code axis} (negative counts from the end; torch's {@code dim} is axis + 1). */
    public Softmax(int axis) {
        this.axis = axis;
    }

    @Override
    public String type() {
        return "Softmax";
    }

    @Override
    public Shape outputShape(Shape[] in, boolean[] batched) {
        if (in.length != 1 || !batched[0]) {
            throw new InvalidInputException("Softmax takes one batched input");
        }
        int r = in[0].rank();
        if (axis < -r || axis >= r) {
            throw new InvalidInputException("Softmax: axis " + axis + " is out of range for per-sample shape " + in[0]);
        }
        return in[0];
    }

    @Override
    public long[] stateSizes(Shape[] in, Shape out) {
        return new long[] {out.size()};
    }

    /** {@code {outer, L, inner}} of the per-sample shape around the axis. */
    private int[] split(Shape s) {
        int a = axis < 0 ? axis + s.rank() : axis;
        int outer = 1, inner = 1;
        for (int i = 0; i < a; i++) {
            outer *= s.dim(i);
        }
        for (int i = a + 1; i < s.rank(); i++) {
            inner *= s.dim(i);
        }
        return new int[] {outer, s.dim(a), inner};
    }

    @Override
    public void forward(OpContext c) {
        int[] d = split(c.inShape(0));
        int L = d[1], inner = d[2], n = c.inShape(0).intSize();
        if (inner == 1) {
            // The last axis: the backend's row softmax over rows·outer rows.
            int rows = c.rows() * d[0];
            c.backend().softmaxRows(c.in(0).reshape(rows, L), c.out().reshape(rows, L));
            c.backend().copy(c.out(), c.state(0));
            return;
        }
        Planes io = new Planes();
        double[] x = new double[n], y = new double[n];
        for (int r = 0; r < c.rows(); r++) {
            io.read(c.in(0), (long) r * n, n, x);
            for (int o = 0; o < d[0]; o++) {
                for (int i = 0; i < inner; i++) {
                    int at = o * L * inner + i;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int l = 0; l < L; l++) {
                        max = Math.max(max, x[at + l * inner]);
                    }
                    double sum = 0;
                    for (int l = 0; l < L; l++) {
                        y[at + l * inner] = Math.exp(x[at + l * inner] - max);
                        sum += y[at + l * inner];
                    }
                    for (int l = 0; l < L; l++) {
                        y[at + l * inner] /= sum;
                    }
                }
            }
            io.write(y, n, c.out(), (long) r * n);
            io.write(y, n, c.state(0), (long) r * n);
        }
    }

    @Override
    public void tangent(OpContext c) {
        jvp(c, c.inDot(0), c.outDot());
    }

    @Override
    public void backward(OpContext c) {
        if (c.inGrad(0) != null) {
            jvp(c, c.outGrad(), c.inGrad(0));
        }
    }

    /** {@code out = y⊙(t − ⟨y, t⟩)} for blocks of {@code t.cols()/n} tangents (the Jacobian and its transpose). */
    private void jvp(OpContext c, Tensor t, Tensor out) {
        int[] d = split(c.inShape(0));
        int L = d[1], inner = d[2], n = c.inShape(0).intSize(), k = t.cols() / n;
        Tensor y = c.state(0);
        if (inner == 1) {
            // The last axis: the backend's blocked softmax tangent, per sample and tangent unless outer = 1.
            if (d[0] == 1) {
                c.backend().softmaxTangent(1, y, t, out);
                return;
            }
            for (int r = 0; r < c.rows(); r++) {
                for (int j = 0; j < k; j++) {
                    long at = ((long) r * k + j) * n;
                    c.backend().softmaxTangent(1, y.view((long) r * n, d[0], L), t.view(at, d[0], L),
                            out.view(at, d[0], L));
                }
            }
            return;
        }
        Planes io = new Planes();
        double[] ys = new double[n], ts = new double[n];
        for (int r = 0; r < c.rows(); r++) {
            io.read(y, (long) r * n, n, ys);
            for (int j = 0; j < k; j++) {
                long at = ((long) r * k + j) * n;
                io.read(t, at, n, ts);
                for (int o = 0; o < d[0]; o++) {
                    for (int i = 0; i < inner; i++) {
                        int a0 = o * L * inner + i;
                        double s = 0;
                        for (int l = 0; l < L; l++) {
                            s += ys[a0 + l * inner] * ts[a0 + l * inner];
                        }
                        for (int l = 0; l < L; l++) {
                            int e = a0 + l * inner;
                            ts[e] = ys[e] * (ts[e] - s);
                        }
                    }
                }
                io.write(ts, n, out, at);
            }
        }
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        Tensor gxDot = c.inGradDot(0);
        if (gxDot == null) {
            return;
        }
        jvp(c, c.outGradDot(), gxDot);
        Tensor xDot = c.inDot(0);
        if (!secondOrder || xDot == null) {
            return;
        }
        // + ẏ⊙(g − ⟨y, g⟩) − y·⟨ẏ, g⟩ with ẏ = y⊙(ẋ − a), a = ⟨y, ẋ⟩.
        int[] d = split(c.inShape(0));
        int L = d[1], inner = d[2], n = c.inShape(0).intSize(), k = c.k();
        Planes io = new Planes();
        double[] y = new double[n], g = new double[n], xd = new double[n], out = new double[n];
        for (int r = 0; r < c.rows(); r++) {
            io.read(c.state(0), (long) r * n, n, y);
            io.read(c.outGrad(), (long) r * n, n, g);
            for (int j = 0; j < k; j++) {
                long at = ((long) r * k + j) * n;
                io.read(xDot, at, n, xd);
                io.read(gxDot, at, n, out);
                for (int o = 0; o < d[0]; o++) {
                    for (int i = 0; i < inner; i++) {
                        int a0 = o * L * inner + i;
                        double a = 0, s = 0;
                        for (int l = 0; l < L; l++) {
                            int e = a0 + l * inner;
                            a += y[e] * xd[e];
                            s += y[e] * g[e];
                        }
                        double yDotG = 0;
                        for (int l = 0; l < L; l++) {
                            int e = a0 + l * inner;
                            yDotG += y[e] * (xd[e] - a) * g[e];
                        }
                        for (int l = 0; l < L; l++) {
                            int e = a0 + l * inner;
                            out[e] += y[e] * (xd[e] - a) * (g[e] - s) - y[e] * yDotG;
                        }
                    }
                }
                io.write(out, n, gxDot, at);
            }
        }
    }

    /**
     * For sample {@code r}: reads {@code y}, {@code ẋ}, {@code ẍ} (zeros when null) and fills {@code yd = ẏ},
     * {@code ydd = ÿ} slice by slice.
     */
    private void secondOutput(OpContext c, int r, Planes io, double[] y, double[] xd, double[] xdd, double[] yd,
                              double[] ydd) {
        int[] d = split(c.inShape(0));
        int L = d[1], inner = d[2], n = c.inShape(0).intSize();
        long at = (long) r * n;
        io.read(c.state(0), at, n, y);
        io.readOrZero(c.inDot(0), at, n, xd);
        io.readOrZero(c.inDDot(0), at, n, xdd);
        for (int o = 0; o < d[0]; o++) {
            for (int i = 0; i < inner; i++) {
                int a0 = o * L * inner + i;
                double a = 0, c2 = 0;
                for (int l = 0; l < L; l++) {
                    int e = a0 + l * inner;
                    a += y[e] * xd[e];
                    c2 += y[e] * xdd[e];
                }
                double b = 0;
                for (int l = 0; l < L; l++) {
                    int e = a0 + l * inner;
                    yd[e] = y[e] * (xd[e] - a);
                    b += yd[e] * xd[e];
                }
                for (int l = 0; l < L; l++) {
                    int e = a0 + l * inner;
                    ydd[e] = yd[e] * (xd[e] - a) + y[e] * (xdd[e] - b - c2);
                }
            }
        }
    }

    @Override
    public void secondTangent(OpContext c) {
        int n = c.inShape(0).intSize();
        Planes io = new Planes();
        double[] y = new double[n], xd = new double[n], xdd = new double[n], yd = new double[n], ydd = new double[n];
        for (int r = 0; r < c.rows(); r++) {
            secondOutput(c, r, io, y, xd, xdd, yd, ydd);
            io.write(ydd, n, c.outDDot(), (long) r * n);
        }
    }

    @Override
    public void secondTangentOfBackward(OpContext c) {
        Tensor gx = c.inGradDDot(0);
        if (gx == null) {
            return;
        }
        int[] d = split(c.inShape(0));
        int L = d[1], inner = d[2], n = c.inShape(0).intSize();
        Planes io = new Planes();
        double[] y = new double[n], xd = new double[n], xdd = new double[n], yd = new double[n], ydd = new double[n];
        double[] g = new double[n], gd = new double[n], gdd = new double[n], out = new double[n];
        for (int r = 0; r < c.rows(); r++) {
            long at = (long) r * n;
            secondOutput(c, r, io, y, xd, xdd, yd, ydd);
            io.read(c.outGrad(), at, n, g);
            io.read(c.outGradDot(), at, n, gd);
            io.read(c.outGradDDot(), at, n, gdd);
            for (int o = 0; o < d[0]; o++) {
                for (int i = 0; i < inner; i++) {
                    int a0 = o * L * inner + i;
                    double s0 = 0, s1 = 0, s2 = 0;
                    for (int l = 0; l < L; l++) {
                        int e = a0 + l * inner;
                        s0 += y[e] * g[e];
                        s1 += yd[e] * g[e] + y[e] * gd[e];
                        s2 += ydd[e] * g[e] + 2 * yd[e] * gd[e] + y[e] * gdd[e];
                    }
                    for (int l = 0; l < L; l++) {
                        int e = a0 + l * inner;
                        out[e] = ydd[e] * (g[e] - s0) + 2 * yd[e] * (gd[e] - s1) + y[e] * (gdd[e] - s2);
                    }
                }
            }
            io.write(out, n, gx, at);
        }
    }
}

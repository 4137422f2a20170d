package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Op;
import io.hvp4j.graph.OpContext;
import io.hvp4j.graph.Shape;
import io.hvp4j.memory.Tensor;

import java.util.Arrays;

/**
 * {@code torch.nn.LayerNorm(normalized_shape, eps)}: every slice of the last {@code d} per-sample axes (size
 * {@code L}) is normalised by its own mean and (biased) variance, {@code x̂ = (x − μ)·s} with
 * {@code s = 1/√(σ² + ε)}, then {@code y = γ⊙x̂ + β}. Inputs: {@code x} (batched), and optionally the parameters
 * {@code γ} (weight) and {@code β} (bias) of shape {@code normalized_shape} ({@code elementwise_affine}; a weight
 * without bias is {@code bias=False}). The forward rule keeps {@code x̂} and {@code s}. The loops run slice by slice
 * over heap buffers ({@link Planes}).
 *
 * <p>Rules per slice, {@code ⟨·⟩} the mean over the slice, {@code P(h) = h − ⟨h⟩ − x̂⟨h⊙x̂⟩}:
 * <ul>
 *   <li>tangent: {@code ẋ̂ = s·(ẋ − a − x̂·b)} with {@code a = ⟨ẋ⟩}, {@code b = ⟨x̂⊙ẋ⟩};
 *       {@code ẏ = γ⊙ẋ̂ + γ̇⊙x̂ + β̇};</li>
 *   <li>backward: {@code gx = s·P(γ⊙g)}, {@code gγ = Σ g⊙x̂}, {@code gβ = Σ g} (sums over samples and slices);</li>
 *   <li>tangent of backward, with {@code h = γ⊙G} and {@code gx = s·P(h)} from the primal adjoint {@code G}:
 *       {@code ġx = s·P(γ⊙ġ) + [s·P(γ̇⊙G) − s·b·gx − s·(ẋ̂⟨h⊙x̂⟩ + x̂⟨h⊙ẋ̂⟩)]},
 *       {@code ġγ = Σ ġ⊙x̂ + [Σ G⊙ẋ̂]}, {@code ġβ = Σ ġ}. The bracketed terms carry {@code G} (they come from
 *       {@code ṡ = −s²·b}, {@code ẋ̂} and {@code γ̇}) and are dropped for Gauss–Newton products.</li>
 * </ul>
 * The third-order rules are {@link NormalizationTaylor}'s, slice by slice.
 */
public final class LayerNorm implements Op {
    private final int[] normalized;
    private final double eps;

    public LayerNorm(int[] normalizedShape, double eps) {
        if (normalizedShape.length == 0) {
            throw new InvalidInputException("LayerNorm: normalized_shape is empty");
        }
        for (int d : normalizedShape) {
            if (d < 1) {
                throw new InvalidInputException("LayerNorm: normalized_shape " + Arrays.toString(normalizedShape)
                        + " has a non-positive dimension");
            }
        }
        if (!(eps > 0)) {
            throw new InvalidInputException("LayerNorm: eps must be positive, got " + eps);
        }
        this.normalized = normalizedShape.clone();
        this.eps = eps;
    }

    @Override
    public String type() {
        return "LayerNorm";
    }

    @Override
    public Shape outputShape(Shape[] in, boolean[] batched) {
        if (in.length < 1 || in.length > 3 || !batched[0] || (in.length > 1 && batched[1])
                || (in.length > 2 && batched[2])) {
            throw new InvalidInputException("LayerNorm takes a batched input and optionally a weight and a bias");
        }
        Shape x = in[0], ns = Shape.of(normalized);
        int d = normalized.length;
        if (x.rank() < d) {
            throw new InvalidInputException("LayerNorm: normalized_shape " + ns + " has more axes than input " + x);
        }
        for (int i = 0; i < d; i++) {
            if (x.dim(x.rank() - d + i) != normalized[i]) {
                throw new InvalidInputException("LayerNorm: input " + x + " does not end in normalized_shape " + ns);
            }
        }
        for (int i = 1; i < in.length; i++) {
            if (!in[i].equals(ns)) {
                throw new InvalidInputException("LayerNorm: " + (i == 1 ? "weight " : "bias ") + in[i]
                        + " must have shape " + ns);
            }
        }
        return x;
    }

    private int slice() {
        return Shape.of(normalized).intSize();
    }

    @Override
    public long[] stateSizes(Shape[] in, Shape out) {
        return new long[] {out.size(), out.size() / slice()};
    }

    /** Elements {@code [0, n)} of a parameter (or its k tangents) as an array; {@code fill} when absent. */
    private static double[] param(Planes io, Tensor t, int n, double fill) {
        double[] a = new double[n];
        if (t == null) {
            Arrays.fill(a, fill);
        } else {
            io.read(t, 0, n, a);
        }
        return a;
    }

    @Override
    public void forward(OpContext c) {
        int L = slice(), n = c.inShape(0).intSize(), O = n / L;
        Planes io = new Planes();
        double[] gamma = param(io, c.inputs() > 1 ? c.in(1) : null, L, 1);
        double[] beta = param(io, c.inputs() > 2 ? c.in(2) : null, L, 0);
        double[] x = new double[L], xh = new double[L], y = new double[L];
        Tensor st = c.state(1);
        for (long s = 0; s < (long) c.rows() * O; s++) {
            long at = s * L;
            io.read(c.in(0), at, L, x);
            double mu = 0;
            for (int l = 0; l < L; l++) {
                mu += x[l];
            }
            mu /= L;
            double var = 0;
            for (int l = 0; l < L; l++) {
                var += (x[l] - mu) * (x[l] - mu);
            }
            double inv = 1 / Math.sqrt(var / L + eps);
            st.set(s, inv);
            for (int l = 0; l < L; l++) {
                xh[l] = (x[l] - mu) * inv;
                y[l] = gamma[l] * xh[l] + beta[l];
            }
            io.write(xh, L, c.state(0), at);
            io.write(y, L, c.out(), at);
        }
    }

    @Override
    public void tangent(OpContext c) {
        int L = slice(), n = c.inShape(0).intSize(), O = n / L, k = c.k();
        Planes io = new Planes();
        double[] gamma = param(io, c.inputs() > 1 ? c.in(1) : null, L, 1);
        Tensor xd = c.inDot(0), gd = c.inputs() > 1 ? c.inDot(1) : null, bd = c.inputs() > 2 ? c.inDot(2) : null;
        double[] gammaDot = param(io, gd, k * L, 0), betaDot = param(io, bd, k * L, 0);
        double[] xh = new double[L], xdot = new double[L], hDot = new double[L], yd = new double[L];
        Tensor st = c.state(1);
        for (int r = 0; r < c.rows(); r++) {
            for (int o = 0; o < O; o++) {
                long h0 = (long) r * n + (long) o * L;
                io.read(c.state(0), h0, L, xh);
                for (int j = 0; j < k; j++) {
                    long at = ((long) r * k + j) * n + (long) o * L;
                    if (xd != null) {
                        io.read(xd, at, L, xdot);
                        normalTangent(xdot, xh, st.get((long) r * O + o), L, hDot);
                    }
                    for (int l = 0; l < L; l++) {
                        yd[l] = (xd == null ? 0 : gamma[l] * hDot[l]) + gammaDot[j * L + l] * xh[l] + betaDot[j * L + l];
                    }
                    io.write(yd, L, c.outDot(), at);
                }
            }
        }
    }

    /** {@code out = ẋ̂ = s·(ẋ − ⟨ẋ⟩ − x̂⟨x̂⊙ẋ⟩)} of one slice; returns {@code b = ⟨x̂⊙ẋ⟩}. */
    private static double normalTangent(double[] xd, double[] xh, double s, int L, double[] out) {
        double a = 0, b = 0;
        for (int l = 0; l < L; l++) {
            a += xd[l];
            b += xd[l] * xh[l];
        }
        a /= L;
        b /= L;
        for (int l = 0; l < L; l++) {
            out[l] = s * (xd[l] - a - xh[l] * b);
        }
        return b;
    }

    /** {@code out = s·P(h)} of one slice: {@code s·(h − ⟨h⟩ − x̂⟨h⊙x̂⟩)} ({@code out} may be {@code h}); returns {@code ⟨h⊙x̂⟩}. */
    private static double project(double[] h, double[] xh, double s, int L, double[] out) {
        double m = 0, mx = 0;
        for (int l = 0; l < L; l++) {
            m += h[l];
            mx += h[l] * xh[l];
        }
        m /= L;
        mx /= L;
        for (int l = 0; l < L; l++) {
            out[l] = s * (h[l] - m - xh[l] * mx);
        }
        return mx;
    }

    @Override
    public void backward(OpContext c) {
        int L = slice(), n = c.inShape(0).intSize(), O = n / L;
        Planes io = new Planes();
        double[] gamma = param(io, c.inputs() > 1 ? c.in(1) : null, L, 1);
        double[] g = new double[L], xh = new double[L], h = new double[L], sg = new double[L], sb = new double[L];
        Tensor st = c.state(1), gX = c.inGrad(0);
        for (int r = 0; r < c.rows(); r++) {
            for (int o = 0; o < O; o++) {
                long at = (long) r * n + (long) o * L;
                io.read(c.outGrad(), at, L, g);
                io.read(c.state(0), at, L, xh);
                for (int l = 0; l < L; l++) {
                    h[l] = gamma[l] * g[l];
                    sg[l] += g[l] * xh[l];
                    sb[l] += g[l];
                }
                if (gX != null) {
                    project(h, xh, st.get((long) r * O + o), L, h);
                    io.write(h, L, gX, at);
                }
            }
        }
        writeParams(io, c.inputs() > 1 ? c.inGrad(1) : null, c.inputs() > 2 ? c.inGrad(2) : null, sg, sb);
    }

    private static void writeParams(Planes io, Tensor gGamma, Tensor gBeta, double[] sg, double[] sb) {
        if (gGamma != null) {
            io.write(sg, sg.length, gGamma, 0);
        }
        if (gBeta != null) {
            io.write(sb, sb.length, gBeta, 0);
        }
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        int L = slice(), n = c.inShape(0).intSize(), O = n / L, k = c.k();
        Planes io = new Planes();
        double[] gamma = param(io, c.inputs() > 1 ? c.in(1) : null, L, 1);
        Tensor st = c.state(1), gX = c.inGradDot(0);
        Tensor xd = secondOrder ? c.inDot(0) : null, gd = secondOrder && c.inputs() > 1 ? c.inDot(1) : null;
        double[] gammaDot = gd == null ? null : param(io, gd, k * L, 0);
        boolean second = xd != null || gammaDot != null;
        double[] sg = new double[k * L], sb = new double[k * L];
        double[] xh = new double[L], G = new double[L], h = new double[L], gx = new double[L], gdot = new double[L];
        double[] out = new double[L], tmp = new double[L], xdot = new double[L], xhDot = new double[L];
        for (int r = 0; r < c.rows(); r++) {
            for (int o = 0; o < O; o++) {
                long h0 = (long) r * n + (long) o * L;
                double s = st.get((long) r * O + o);
                io.read(c.state(0), h0, L, xh);
                double hx = 0;
                if (second) {
                    // Primal G, h = γ⊙G and gx = s·P(h), shared by the k tangents.
                    io.read(c.outGrad(), h0, L, G);
                    for (int l = 0; l < L; l++) {
                        h[l] = gamma[l] * G[l];
                    }
                    hx = project(h, xh, s, L, gx);
                }
                for (int j = 0; j < k; j++) {
                    long at = ((long) r * k + j) * n + (long) o * L;
                    io.read(c.outGradDot(), at, L, gdot);
                    for (int l = 0; l < L; l++) {
                        sg[j * L + l] += gdot[l] * xh[l];
                        sb[j * L + l] += gdot[l];
                        out[l] = gamma[l] * gdot[l];
                    }
                    if (gX != null) {
                        project(out, xh, s, L, out);
                        if (gammaDot != null) {
                            for (int l = 0; l < L; l++) {
                                tmp[l] = gammaDot[j * L + l] * G[l];
                            }
                            project(tmp, xh, s, L, tmp);
                            for (int l = 0; l < L; l++) {
                                out[l] += tmp[l];
                            }
                        }
                    }
                    if (xd != null) {
                        io.read(xd, at, L, xdot);
                        double b = normalTangent(xdot, xh, s, L, xhDot);
                        double hxd = 0;
                        for (int l = 0; l < L; l++) {
                            sg[j * L + l] += G[l] * xhDot[l];
                            hxd += h[l] * xhDot[l];
                        }
                        hxd /= L;
                        if (gX != null) {
                            for (int l = 0; l < L; l++) {
                                out[l] -= s * (b * gx[l] + xhDot[l] * hx + xh[l] * hxd);
                            }
                        }
                    }
                    if (gX != null) {
                        io.write(out, L, gX, at);
                    }
                }
            }
        }
        writeParams(io, c.inputs() > 1 ? c.inGradDot(1) : null, c.inputs() > 2 ? c.inGradDot(2) : null, sg, sb);
    }

    @Override
    public void secondTangent(OpContext c) {
        int L = slice(), n = c.inShape(0).intSize(), O = n / L;
        Planes io = new Planes();
        double[] gamma = param(io, c.inputs() > 1 ? c.in(1) : null, L, 1);
        double[] gammaDot = param(io, c.inputs() > 1 ? c.inDot(1) : null, L, 0);
        double[] xh = new double[L], xd = new double[L], xdd = new double[L], y = new double[L];
        NormalizationTaylor t = new NormalizationTaylor(L);
        for (long sl = 0; sl < (long) c.rows() * O; sl++) {
            long at = sl * L;
            io.read(c.state(0), at, L, xh);
            io.readOrZero(c.inDot(0), at, L, xd);
            io.readOrZero(c.inDDot(0), at, L, xdd);
            t.normalized(xh, c.state(1).get(sl), xd, xdd, L);
            t.output(gamma, gammaDot, L, y);
            io.write(y, L, c.outDDot(), at);
        }
    }

    @Override
    public void secondTangentOfBackward(OpContext c) {
        int L = slice(), n = c.inShape(0).intSize(), O = n / L;
        Planes io = new Planes();
        double[] gamma = param(io, c.inputs() > 1 ? c.in(1) : null, L, 1);
        double[] gammaDot = param(io, c.inputs() > 1 ? c.inDot(1) : null, L, 0);
        Tensor gX = c.inGradDDot(0), gGamma = c.inputs() > 1 ? c.inGradDDot(1) : null;
        double[] xh = new double[L], xd = new double[L], xdd = new double[L], out = new double[L];
        double[] g = new double[L], gd = new double[L], gdd = new double[L], term = new double[L];
        double[] sg = new double[L], sb = new double[L];
        NormalizationTaylor t = new NormalizationTaylor(L);
        for (long sl = 0; sl < (long) c.rows() * O; sl++) {
            long at = sl * L;
            double s = c.state(1).get(sl);
            io.read(c.state(0), at, L, xh);
            io.readOrZero(c.inDot(0), at, L, xd);
            io.readOrZero(c.inDDot(0), at, L, xdd);
            io.read(c.outGrad(), at, L, g);
            io.read(c.outGradDot(), at, L, gd);
            io.read(c.outGradDDot(), at, L, gdd);
            t.normalized(xh, s, xd, xdd, L);
            t.adjoint(xh, s, gamma, gammaDot, g, gd, gdd, L, out, term);
            for (int l = 0; l < L; l++) {
                sg[l] += term[l];
                sb[l] += gdd[l];
            }
            if (gX != null) {
                io.write(out, L, gX, at);
            }
        }
        writeParams(io, gGamma, c.inputs() > 2 ? c.inGradDDot(2) : null, sg, sb);
    }
}

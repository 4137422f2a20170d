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
 * without bias is {@code bias=False}). The forward rule keeps {@code x̂} and {@code s}.
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

    /** {@code γ} as an array (ones when absent). */
    private static double[] gamma(OpContext c, int L) {
        double[] g = new double[L];
        if (c.inputs() > 1) {
            for (int l = 0; l < L; l++) {
                g[l] = c.in(1).get(l);
            }
        } else {
            Arrays.fill(g, 1);
        }
        return g;
    }

    @Override
    public void forward(OpContext c) {
        int L = slice(), n = c.inShape(0).intSize(), O = n / L;
        double[] gamma = gamma(c, L);
        Tensor x = c.in(0), y = c.out(), xh = c.state(0), st = c.state(1), beta = c.inputs() > 2 ? c.in(2) : null;
        for (long s = 0; s < (long) c.rows() * O; s++) {
            long at = s * L;
            double mu = 0;
            for (int l = 0; l < L; l++) {
                mu += x.get(at + l);
            }
            mu /= L;
            double var = 0;
            for (int l = 0; l < L; l++) {
                double e = x.get(at + l) - mu;
                var += e * e;
            }
            double inv = 1 / Math.sqrt(var / L + eps);
            st.set(s, inv);
            for (int l = 0; l < L; l++) {
                double h = (x.get(at + l) - mu) * inv;
                xh.set(at + l, h);
                y.set(at + l, gamma[l] * h + (beta == null ? 0 : beta.get(l)));
            }
        }
    }

    @Override
    public void tangent(OpContext c) {
        int L = slice(), n = c.inShape(0).intSize(), O = n / L, k = c.k();
        double[] gamma = gamma(c, L);
        Tensor xd = c.inDot(0), gd = c.inputs() > 1 ? c.inDot(1) : null, bd = c.inputs() > 2 ? c.inDot(2) : null;
        Tensor yd = c.outDot(), xh = c.state(0), st = c.state(1);
        double[] hDot = new double[L];
        for (int r = 0; r < c.rows(); r++) {
            for (int j = 0; j < k; j++) {
                for (int o = 0; o < O; o++) {
                    long h0 = (long) r * n + (long) o * L, at = ((long) r * k + j) * n + (long) o * L;
                    if (xd != null) {
                        normalTangent(xd, at, xh, h0, st.get((long) r * O + o), L, hDot);
                    }
                    for (int l = 0; l < L; l++) {
                        double v = xd == null ? 0 : gamma[l] * hDot[l];
                        if (gd != null) {
                            v += gd.get((long) j * L + l) * xh.get(h0 + l);
                        }
                        if (bd != null) {
                            v += bd.get((long) j * L + l);
                        }
                        yd.set(at + l, v);
                    }
                }
            }
        }
    }

    /** {@code out = ẋ̂ = s·(ẋ − ⟨ẋ⟩ − x̂⟨x̂⊙ẋ⟩)} of one slice; returns {@code b = ⟨x̂⊙ẋ⟩}. */
    private static double normalTangent(Tensor xd, long at, Tensor xh, long h0, double s, int L, double[] out) {
        double a = 0, b = 0;
        for (int l = 0; l < L; l++) {
            double v = xd.get(at + l);
            a += v;
            b += v * xh.get(h0 + l);
        }
        a /= L;
        b /= L;
        for (int l = 0; l < L; l++) {
            out[l] = s * (xd.get(at + l) - a - xh.get(h0 + l) * b);
        }
        return b;
    }

    /** {@code out = s·P(h)} of one slice: {@code s·(h − ⟨h⟩ − x̂⟨h⊙x̂⟩)}; returns {@code ⟨h⊙x̂⟩}. */
    private static double project(double[] h, Tensor xh, long h0, double s, int L, double[] out) {
        double m = 0, mx = 0;
        for (int l = 0; l < L; l++) {
            m += h[l];
            mx += h[l] * xh.get(h0 + l);
        }
        m /= L;
        mx /= L;
        for (int l = 0; l < L; l++) {
            out[l] = s * (h[l] - m - xh.get(h0 + l) * mx);
        }
        return mx;
    }

    @Override
    public void backward(OpContext c) {
        int L = slice(), n = c.inShape(0).intSize(), O = n / L;
        double[] gamma = gamma(c, L), h = new double[L], gx = new double[L];
        double[] sg = new double[L], sb = new double[L];
        Tensor g = c.outGrad(), xh = c.state(0), st = c.state(1), gX = c.inGrad(0);
        for (int r = 0; r < c.rows(); r++) {
            for (int o = 0; o < O; o++) {
                long at = (long) r * n + (long) o * L;
                for (int l = 0; l < L; l++) {
                    double gv = g.get(at + l);
                    h[l] = gamma[l] * gv;
                    sg[l] += gv * xh.get(at + l);
                    sb[l] += gv;
                }
                if (gX != null) {
                    project(h, xh, at, st.get((long) r * O + o), L, gx);
                    for (int l = 0; l < L; l++) {
                        gX.set(at + l, gx[l]);
                    }
                }
            }
        }
        writeParams(c, c.inputs() > 1 ? c.inGrad(1) : null, c.inputs() > 2 ? c.inGrad(2) : null, sg, sb);
    }

    private static void writeParams(OpContext c, Tensor gGamma, Tensor gBeta, double[] sg, double[] sb) {
        for (int i = 0; i < sg.length; i++) {
            if (gGamma != null) {
                gGamma.set(i, sg[i]);
            }
            if (gBeta != null) {
                gBeta.set(i, sb[i]);
            }
        }
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        int L = slice(), n = c.inShape(0).intSize(), O = n / L, k = c.k();
        double[] gamma = gamma(c, L);
        Tensor gd = c.outGradDot(), G = c.outGrad(), xh = c.state(0), st = c.state(1), gX = c.inGradDot(0);
        Tensor xd = secondOrder ? c.inDot(0) : null, gammaDot = secondOrder && c.inputs() > 1 ? c.inDot(1) : null;
        boolean second = xd != null || gammaDot != null;
        double[] sg = new double[k * L], sb = new double[k * L];
        double[] h = new double[L], hh = new double[L], out = new double[L], tmp = new double[L];
        double[] xhDot = new double[L], gx = new double[L];
        for (int r = 0; r < c.rows(); r++) {
            for (int o = 0; o < O; o++) {
                long h0 = (long) r * n + (long) o * L;
                double s = st.get((long) r * O + o);
                double hx = 0;
                if (second) {
                    // Primal h = γ⊙G and gx = s·P(h), shared by the k tangents.
                    for (int l = 0; l < L; l++) {
                        h[l] = gamma[l] * G.get(h0 + l);
                    }
                    hx = project(h, xh, h0, s, L, gx);
                }
                for (int j = 0; j < k; j++) {
                    long at = ((long) r * k + j) * n + (long) o * L;
                    for (int l = 0; l < L; l++) {
                        double v = gd.get(at + l);
                        hh[l] = gamma[l] * v;
                        sg[j * L + l] += v * xh.get(h0 + l);
                        sb[j * L + l] += v;
                    }
                    if (gX != null) {
                        project(hh, xh, h0, s, L, out);
                    }
                    if (gammaDot != null && gX != null) {
                        for (int l = 0; l < L; l++) {
                            tmp[l] = gammaDot.get((long) j * L + l) * G.get(h0 + l);
                        }
                        project(tmp, xh, h0, s, L, tmp);
                        for (int l = 0; l < L; l++) {
                            out[l] += tmp[l];
                        }
                    }
                    if (xd != null) {
                        double b = normalTangent(xd, at, xh, h0, s, L, xhDot);
                        double hxd = 0;
                        for (int l = 0; l < L; l++) {
                            double gv = G.get(h0 + l);
                            sg[j * L + l] += gv * xhDot[l];
                            hxd += h[l] * xhDot[l];
                        }
                        hxd /= L;
                        if (gX != null) {
                            for (int l = 0; l < L; l++) {
                                out[l] -= s * (b * gx[l] + xhDot[l] * hx + xh.get(h0 + l) * hxd);
                            }
                        }
                    }
                    if (gX != null) {
                        for (int l = 0; l < L; l++) {
                            gX.set(at + l, out[l]);
                        }
                    }
                }
            }
        }
        writeParams(c, c.inputs() > 1 ? c.inGradDot(1) : null, c.inputs() > 2 ? c.inGradDot(2) : null, sg, sb);
    }
}

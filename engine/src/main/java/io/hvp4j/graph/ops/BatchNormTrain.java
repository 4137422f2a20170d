package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Op;
import io.hvp4j.graph.OpContext;
import io.hvp4j.graph.Shape;
import io.hvp4j.memory.Tensor;

/**
 * {@code torch.nn.BatchNorm1d/2d} in train mode: {@code y = γ·x̂ + β}, {@code x̂ = (x − μ)·s},
 * {@code s = 1/√(σ² + ε)}, with the batch statistics of the forward pass: per channel (axis 0 of a sample) the mean
 * {@code μ} and the biased variance {@code σ²} over the {@code m = rows·H·W} values of that channel in the batch.
 * Inputs: {@code x}, {@code γ}, {@code β}. The running statistics PyTorch updates as a side effect are not part of
 * the function and are not kept.
 *
 * <p><b>The samples are coupled</b>: every output depends on every input of its channel in the batch, so the loss is
 * not a sum of per-sample terms and its Hessian is that of the whole batch, not a sum of per-sample Hessians (a
 * product over a batch of B samples differs from the sum of products over its parts). All rules treat the batch as
 * one: with {@code ⟨u⟩} the channel mean over the batch and {@code P(u) = u − ⟨u⟩ − x̂·⟨u·x̂⟩},
 * <ul>
 *   <li>tangent: {@code ẋ̂ = s·P(ẋ) = s(ẋ − ⟨ẋ⟩) − a·x̂} with {@code a = s·⟨x̂ẋ⟩}; {@code ẏ = γẋ̂ + γ̇x̂ + β̇};</li>
 *   <li>backward ({@code x → x̂} has the symmetric Jacobian {@code s·P}): {@code h = γg},
 *       {@code gx = s·P(h)}, {@code gγ = Σ g·x̂}, {@code gβ = Σ g};</li>
 *   <li>tangent of backward: {@code ḣ = γġ + γ̇g},
 *       {@code ġx = s·P(ḣ) − a·s·P(h) − s·(ẋ̂·⟨h·x̂⟩ + x̂·⟨h·ẋ̂⟩)} (from {@code ṡ = −a·s}),
 *       {@code ġγ = Σ ġ·x̂ + Σ g·ẋ̂}, {@code ġβ = Σ ġ}.</li>
 * </ul>
 * The Gauss–Newton form drops every term carrying the primal adjoint {@code g}: {@code ġx = s·P(γġ)},
 * {@code ġγ = Σ ġ·x̂}. The forward rule keeps {@code x̂} and {@code s} (in row 0 of its second state buffer).
 * The third-order rules are {@link NormalizationTaylor}'s, channel by channel over the whole batch.
 */
public final class BatchNormTrain implements Op {
    private final double eps;

    public BatchNormTrain(double eps) {
        if (!(eps > 0)) {
            throw new InvalidInputException("BatchNorm: eps must be positive, got " + eps);
        }
        this.eps = eps;
    }

    @Override
    public String type() {
        return "BatchNorm";
    }

    @Override
    public Shape outputShape(Shape[] in, boolean[] batched) {
        if (in.length != 3 || !batched[0] || batched[1] || batched[2]) {
            throw new InvalidInputException("BatchNorm (train) takes a batched input, a weight and a bias");
        }
        long C = in[0].dim(0);
        if (in[1].size() != C || in[2].size() != C) {
            throw new InvalidInputException("BatchNorm (train): weight " + in[1] + " and bias " + in[2] + " must have "
                    + C + " elements, one per channel of the input " + in[0]);
        }
        return in[0];
    }

    @Override
    public long[] stateSizes(Shape[] in, Shape out) {
        return new long[] {out.size(), in[0].dim(0)};
    }

    @Override
    public void forward(OpContext c) {
        Shape sh = c.inShape(0);
        int C = sh.dim(0), S = (int) (sh.size() / C), rows = c.rows();
        long m = (long) rows * S;
        if (m < 2) {
            throw new InvalidInputException("BatchNorm (train): needs more than one value per channel, got a batch of "
                    + rows + " with " + S + " values per channel and sample");
        }
        Tensor x = c.in(0), y = c.out(), xh = c.state(0), inv = c.state(1);
        for (int ch = 0; ch < C; ch++) {
            double sum = 0;
            for (int r = 0; r < rows; r++) {
                long at = ((long) r * C + ch) * S;
                for (int p = 0; p < S; p++) {
                    sum += x.get(at + p);
                }
            }
            double mu = sum / m, ss = 0;
            for (int r = 0; r < rows; r++) {
                long at = ((long) r * C + ch) * S;
                for (int p = 0; p < S; p++) {
                    double d = x.get(at + p) - mu;
                    ss += d * d;
                }
            }
            double s = 1 / Math.sqrt(ss / m + eps), g = c.in(1).get(ch), b = c.in(2).get(ch);
            inv.set(ch, s);
            for (int r = 0; r < rows; r++) {
                long at = ((long) r * C + ch) * S;
                for (int p = 0; p < S; p++) {
                    double h = (x.get(at + p) - mu) * s;
                    xh.set(at + p, h);
                    y.set(at + p, g * h + b);
                }
            }
        }
    }

    @Override
    public void tangent(OpContext c) {
        Shape sh = c.inShape(0);
        int C = sh.dim(0), S = (int) (sh.size() / C), k = c.k(), rows = c.rows();
        double m = (double) rows * S;
        Tensor xd = c.inDot(0), gd = c.inDot(1), bd = c.inDot(2), yd = c.outDot(), xh = c.state(0);
        for (int j = 0; j < k; j++) {
            for (int ch = 0; ch < C; ch++) {
                double s = c.state(1).get(ch), gamma = c.in(1).get(ch);
                double gj = gd == null ? 0 : gd.get((long) j * C + ch), bj = bd == null ? 0 : bd.get((long) j * C + ch);
                double mx = 0, a = 0;
                if (xd != null) {
                    double sx = 0, sxx = 0;
                    for (int r = 0; r < rows; r++) {
                        long at = (((long) r * k + j) * C + ch) * S, h0 = ((long) r * C + ch) * S;
                        for (int p = 0; p < S; p++) {
                            double v = xd.get(at + p);
                            sx += v;
                            sxx += v * xh.get(h0 + p);
                        }
                    }
                    mx = sx / m;
                    a = s * sxx / m;
                }
                for (int r = 0; r < rows; r++) {
                    long at = (((long) r * k + j) * C + ch) * S, h0 = ((long) r * C + ch) * S;
                    for (int p = 0; p < S; p++) {
                        double h = xh.get(h0 + p), v = bj + gj * h;
                        if (xd != null) {
                            v += gamma * (s * (xd.get(at + p) - mx) - a * h);
                        }
                        yd.set(at + p, v);
                    }
                }
            }
        }
    }

    @Override
    public void backward(OpContext c) {
        adjoint(c, c.outGrad(), c.inGrad(0), c.inGrad(1), c.inGrad(2), 1, false);
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        adjoint(c, c.outGradDot(), c.inGradDot(0), c.inGradDot(1), c.inGradDot(2), c.k(), secondOrder);
    }

    /**
     * The backward rule applied to {@code gp} (k pieces per row: the adjoint, or its tangents), plus, when
     * {@code second}, the terms that carry the primal adjoint {@code g} along {@code ẋ}, {@code γ̇} (class Javadoc).
     */
    private static void adjoint(OpContext c, Tensor gp, Tensor gx, Tensor gGamma, Tensor gBeta, int k,
                                boolean second) {
        Shape sh = c.inShape(0);
        int C = sh.dim(0), S = (int) (sh.size() / C), rows = c.rows();
        double m = (double) rows * S;
        Tensor xh = c.state(0), g = c.outGrad();
        Tensor xd = second ? c.inDot(0) : null, gamd = second ? c.inDot(1) : null;
        for (int j = 0; j < k; j++) {
            for (int ch = 0; ch < C; ch++) {
                double s = c.state(1).get(ch), gamma = c.in(1).get(ch);
                double gammaDot = gamd == null ? 0 : gamd.get((long) j * C + ch);
                // Channel sums over the batch: Σġ, Σġx̂; with second-order terms also Σg, Σgx̂, Σẋ, Σx̂ẋ, Σgẋ.
                double sp = 0, spx = 0, sg = 0, sgx = 0, sx = 0, sxx = 0, sgxd = 0;
                for (int r = 0; r < rows; r++) {
                    long at = (((long) r * k + j) * C + ch) * S, h0 = ((long) r * C + ch) * S;
                    for (int p = 0; p < S; p++) {
                        double h = xh.get(h0 + p), v = gp.get(at + p);
                        sp += v;
                        spx += v * h;
                        if (second) {
                            double gv = g.get(h0 + p);
                            sg += gv;
                            sgx += gv * h;
                            if (xd != null) {
                                double d = xd.get(at + p);
                                sx += d;
                                sxx += d * h;
                                sgxd += gv * d;
                            }
                        }
                    }
                }
                double mx = sx / m, a = s * sxx / m;
                // Σ g·ẋ̂ with ẋ̂ = s(ẋ − ⟨ẋ⟩) − a·x̂.
                double sgXhatDot = s * (sgxd - mx * sg) - a * sgx;
                if (gGamma != null) {
                    gGamma.set((long) j * C + ch, spx + sgXhatDot);
                }
                if (gBeta != null) {
                    gBeta.set((long) j * C + ch, sp);
                }
                if (gx == null) {
                    continue;
                }
                // ḣ = γ·ġ + γ̇·g: its channel means ⟨ḣ⟩, ⟨ḣx̂⟩; h = γ·g: ⟨h⟩, ⟨hx̂⟩, ⟨hẋ̂⟩.
                double mhd = (gamma * sp + gammaDot * sg) / m, mhdx = (gamma * spx + gammaDot * sgx) / m;
                double mh = gamma * sg / m, mhx = gamma * sgx / m, mhXhatDot = gamma * sgXhatDot / m;
                for (int r = 0; r < rows; r++) {
                    long at = (((long) r * k + j) * C + ch) * S, h0 = ((long) r * C + ch) * S;
                    for (int p = 0; p < S; p++) {
                        double h = xh.get(h0 + p);
                        double gv = second ? g.get(h0 + p) : 0;
                        double hd = gamma * gp.get(at + p) + gammaDot * gv;
                        double v = s * (hd - mhd - h * mhdx);
                        if (second) {
                            double hv = gamma * gv;
                            double xhd = xd == null ? -a * h : s * (xd.get(at + p) - mx) - a * h;
                            v -= a * s * (hv - mh - h * mhx) + s * (xhd * mhx + h * mhXhatDot);
                        }
                        gx.set(at + p, v);
                    }
                }
            }
        }
    }

    /** A channel's {@code rows·S} values of {@code t} (sample-major), or zeros when {@code t} is null. */
    private static void gather(Planes io, Tensor t, int rows, int C, int ch, int S, double[] buf, double[] dst) {
        if (t == null) {
            java.util.Arrays.fill(dst, 0);
            return;
        }
        for (int r = 0; r < rows; r++) {
            io.read(t, ((long) r * C + ch) * S, S, buf);
            System.arraycopy(buf, 0, dst, r * S, S);
        }
    }

    private static void scatter(Planes io, double[] src, int rows, int C, int ch, int S, double[] buf, Tensor t) {
        for (int r = 0; r < rows; r++) {
            System.arraycopy(src, r * S, buf, 0, S);
            io.write(buf, S, t, ((long) r * C + ch) * S);
        }
    }

    @Override
    public void secondTangent(OpContext c) {
        Shape sh = c.inShape(0);
        int C = sh.dim(0), S = (int) (sh.size() / C), rows = c.rows(), m = rows * S;
        Planes io = new Planes();
        double[] buf = new double[S], xh = new double[m], xd = new double[m], xdd = new double[m], y = new double[m];
        double[] gamma = new double[m], gammaDot = new double[m];
        NormalizationTaylor t = new NormalizationTaylor(m);
        for (int ch = 0; ch < C; ch++) {
            gather(io, c.state(0), rows, C, ch, S, buf, xh);
            gather(io, c.inDot(0), rows, C, ch, S, buf, xd);
            gather(io, c.inDDot(0), rows, C, ch, S, buf, xdd);
            java.util.Arrays.fill(gamma, c.in(1).get(ch));
            java.util.Arrays.fill(gammaDot, c.inDot(1) == null ? 0 : c.inDot(1).get(ch));
            t.normalized(xh, c.state(1).get(ch), xd, xdd, m);
            t.output(gamma, gammaDot, m, y);
            scatter(io, y, rows, C, ch, S, buf, c.outDDot());
        }
    }

    @Override
    public void secondTangentOfBackward(OpContext c) {
        Shape sh = c.inShape(0);
        int C = sh.dim(0), S = (int) (sh.size() / C), rows = c.rows(), m = rows * S;
        Planes io = new Planes();
        double[] buf = new double[S], xh = new double[m], xd = new double[m], xdd = new double[m];
        double[] g = new double[m], gd = new double[m], gdd = new double[m], out = new double[m], term = new double[m];
        double[] gamma = new double[m], gammaDot = new double[m];
        Tensor gx = c.inGradDDot(0), gGamma = c.inGradDDot(1), gBeta = c.inGradDDot(2);
        NormalizationTaylor t = new NormalizationTaylor(m);
        for (int ch = 0; ch < C; ch++) {
            double s = c.state(1).get(ch);
            gather(io, c.state(0), rows, C, ch, S, buf, xh);
            gather(io, c.inDot(0), rows, C, ch, S, buf, xd);
            gather(io, c.inDDot(0), rows, C, ch, S, buf, xdd);
            gather(io, c.outGrad(), rows, C, ch, S, buf, g);
            gather(io, c.outGradDot(), rows, C, ch, S, buf, gd);
            gather(io, c.outGradDDot(), rows, C, ch, S, buf, gdd);
            java.util.Arrays.fill(gamma, c.in(1).get(ch));
            java.util.Arrays.fill(gammaDot, c.inDot(1) == null ? 0 : c.inDot(1).get(ch));
            t.normalized(xh, s, xd, xdd, m);
            t.adjoint(xh, s, gamma, gammaDot, g, gd, gdd, m, out, term);
            if (gx != null) {
                scatter(io, out, rows, C, ch, S, buf, gx);
            }
            double sg = 0, sb = 0;
            for (int l = 0; l < m; l++) {
                sg += term[l];
                sb += gdd[l];
            }
            if (gGamma != null) {
                gGamma.set(ch, sg);
            }
            if (gBeta != null) {
                gBeta.set(ch, sb);
            }
        }
    }
}

package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.Backend;
import io.hvp4j.graph.Op;
import io.hvp4j.graph.OpContext;
import io.hvp4j.graph.Shape;
import io.hvp4j.memory.Tensor;

/**
 * {@code torch.nn.Linear} / ONNX {@code Gemm} with a transposed weight: {@code y = x Wᵀ + b} over the last axis of
 * {@code x}, which has shape {@code (..., in)}; inputs {@code x} (batched), {@code W} {@code (out, in)} and
 * optionally {@code b} {@code (out,)}. With {@code m} positions per sample (the product of the leading axes) the
 * rows of all positions form one GEMM; blocks of {@code k} tangents are one more GEMM each, as in the MLP engine.
 * Bilinear in {@code (x, W)}: the third-order rules have only the cross terms ({@code Ẅ = 0}),
 * {@code ÿ = ẍWᵀ + 2ẋẆᵀ}; {@code g̈x = g̈W + 2ġẆ}, {@code g̈W = g̈ᵀx + 2ġᵀẋ + gᵀẍ}, {@code g̈b = Σ g̈}.
 */
public final class Linear implements Op {
    public static final Linear INSTANCE = new Linear();

    private Linear() {
    }

    @Override
    public String type() {
        return "Linear";
    }

    @Override
    public Shape outputShape(Shape[] in, boolean[] batched) {
        if (in.length < 2 || in.length > 3 || !batched[0] || batched[1] || (in.length == 3 && batched[2])) {
            throw new InvalidInputException("Linear takes a batched input, a weight and an optional bias");
        }
        Shape w = in[1];
        if (w.rank() != 2 || in[0].dim(-1) != w.dim(1)) {
            throw new InvalidInputException("Linear: input " + in[0] + " does not match weight " + w
                    + " (the input's last axis must equal the weight's second axis)");
        }
        if (in.length == 3 && (in[2].rank() != 1 || in[2].dim(0) != w.dim(0))) {
            throw new InvalidInputException("Linear: bias " + in[2] + " does not match weight " + w);
        }
        int[] d = in[0].dims();
        d[d.length - 1] = w.dim(0);
        return Shape.of(d);
    }

    @Override
    public long scratchSize(Shape[] in, Shape out, int rows, int k, int threads) {
        long outF = in[1].dim(0), inF = in[1].dim(1), m = in[0].size() / inF;
        long s = 2L * k * outF * inF;
        if (m > 1) {
            s += 2L * rows * m * k * Math.max(inF, outF);
        }
        return s;
    }

    private static boolean hasBias(OpContext c) {
        return c.inputs() == 3;
    }

    @Override
    public void forward(OpContext c) {
        Backend be = c.backend();
        int outF = c.inShape(1).dim(0), inF = c.inShape(1).dim(1);
        int rm = (int) (c.rows() * (c.inShape(0).size() / inF));
        Tensor z = c.out().reshape(rm, outF);
        be.gemm(false, true, 1, c.in(0).reshape(rm, inF), w(c, c.in(1)), 0, z);
        if (hasBias(c)) {
            be.addToRows(c.in(2), z);
        }
    }

    private static Tensor w(OpContext c, Tensor flat) {
        return flat.reshape(c.inShape(1).dim(0), c.inShape(1).dim(1));
    }

    @Override
    public void tangent(OpContext c) {
        Backend be = c.backend();
        int outF = c.inShape(1).dim(0), inF = c.inShape(1).dim(1), k = c.k(), rows = c.rows();
        int m = (int) (c.inShape(0).size() / inF);
        Tensor zDot = c.outDot();
        double beta = 0;
        if (c.inDot(0) != null) {
            be.gemm(false, true, 1, c.inDot(0).reshape(rows * k * m, inF), w(c, c.in(1)), 0,
                    zDot.reshape(rows * k * m, outF));
            beta = 1;
        }
        Tensor wDot = c.inDot(1);
        Tensor bDot = hasBias(c) ? c.inDot(2) : null;
        if (wDot != null || bDot != null) {
            // X Ẇ_jᵀ for all j: one GEMM into (rows·m) × (k·out), position-major.
            Tensor t = m == 1 ? zDot.reshape(rows, k * outF) : c.scratch(2L * k * outF * inF, rows * m, k * outF);
            double b0 = m == 1 ? beta : 0;
            if (wDot != null) {
                be.gemm(false, true, 1, c.in(0).reshape(rows * m, inF), wDot.reshape(k * outF, inF), b0, t);
                b0 = 1;
            } else if (b0 == 0) {
                be.zero(t);
            }
            if (bDot != null) {
                be.addToRows(bDot.reshape(1, k * outF), t);
            }
            if (m > 1) {
                toTangentMajor(be, t, rows, m, k, outF, beta, zDot);
            }
        }
    }

    /** {@code (rows, m, k, n)} to {@code (rows, k, m, n)}, {@code dst = src' + beta·dst}. */
    static void toTangentMajor(Backend be, Tensor src, int rows, int m, int k, int n, double beta, Tensor dst) {
        int per = m * k * n;
        Tensor s = src.reshape(1, rows * per), d = dst.reshape(1, rows * per);
        for (int r = 0; r < rows; r++) {
            be.swapLeadingAxes(s.view((long) r * per, 1, per), m, k, n, beta, d.view((long) r * per, 1, per));
        }
    }

    @Override
    public void backward(OpContext c) {
        Backend be = c.backend();
        int outF = c.inShape(1).dim(0), inF = c.inShape(1).dim(1);
        int rm = (int) (c.rows() * (c.inShape(0).size() / inF));
        Tensor g = c.outGrad().reshape(rm, outF);
        if (c.inGrad(1) != null) {
            be.gemm(true, false, 1, g, c.in(0).reshape(rm, inF), 0, w(c, c.inGrad(1)));
        }
        if (hasBias(c) && c.inGrad(2) != null) {
            be.columnSums(1, g, 0, c.inGrad(2).reshape(outF, 1));
        }
        if (c.inGrad(0) != null) {
            be.gemm(false, false, 1, g, w(c, c.in(1)), 0, c.inGrad(0).reshape(rm, inF));
        }
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        Backend be = c.backend();
        int outF = c.inShape(1).dim(0), inF = c.inShape(1).dim(1), k = c.k(), rows = c.rows();
        int m = (int) (c.inShape(0).size() / inF);
        long wk = (long) k * outF * inF;
        Tensor gDot = c.outGradDot();
        Tensor g = c.outGrad().reshape(rows * m, outF);
        Tensor xDot = secondOrder ? c.inDot(0) : null;
        // Position-major copies (rows·m) × (k·n) of Ġ and Ẋ when m > 1.
        Tensor gDotPm = gDot.reshape(rows, k * m * outF);
        Tensor xDotPm = xDot == null ? null : xDot.reshape(rows, k * m * inF);
        if (m > 1) {
            Tensor sG = c.scratch(2 * wk, rows * m, k * outF);
            toTangentMajor(be, gDot, rows, k, m, outF, 0, sG);
            gDotPm = sG;
            if (xDot != null && c.inGradDot(1) != null) {
                Tensor sX = c.scratch(2 * wk + (long) rows * m * k * Math.max(inF, outF), rows * m, k * inF);
                toTangentMajor(be, xDot, rows, k, m, inF, 0, sX);
                xDotPm = sX;
            }
        }
        Tensor dWDot = c.inGradDot(1);
        if (dWDot != null) {
            Tensor dW = dWDot.reshape(k * outF, inF);
            be.gemm(true, false, 1, gDotPm.reshape(rows * m, k * outF), c.in(0).reshape(rows * m, inF), 0, dW);
            if (xDot != null) {
                if (k == 1) {
                    be.gemm(true, false, 1, g, xDotPm.reshape(rows * m, inF), 1, dW);
                } else {
                    Tensor t = c.scratch(0, outF, k * inF);
                    be.gemm(true, false, 1, g, xDotPm.reshape(rows * m, k * inF), 0, t);
                    be.swapLeadingAxes(t, outF, k, inF, 1, dW);
                }
            }
        }
        if (hasBias(c) && c.inGradDot(2) != null) {
            be.columnSums(1, gDotPm.reshape(rows * m, k * outF), 0, c.inGradDot(2).reshape(k * outF, 1));
        }
        Tensor gXDot = c.inGradDot(0);
        if (gXDot != null) {
            be.gemm(false, false, 1, gDot.reshape(rows * k * m, outF), w(c, c.in(1)), 0,
                    gXDot.reshape(rows * k * m, inF));
            Tensor wDot = secondOrder ? c.inDot(1) : null;
            if (wDot != null) {
                Tensor byRow = k == 1 ? wDot.reshape(outF, inF) : c.scratch(0, outF, k * inF);
                if (k > 1) {
                    be.swapLeadingAxes(wDot, k, outF, inF, 0, byRow);
                }
                if (m == 1) {
                    be.gemm(false, false, 1, g, byRow, 1, gXDot.reshape(rows, k * inF));
                } else {
                    Tensor t = c.scratch(wk, rows * m, k * inF);
                    be.gemm(false, false, 1, g, byRow, 0, t);
                    toTangentMajor(be, t, rows, m, k, inF, 1, gXDot);
                }
            }
        }
    }

    @Override
    public void secondTangent(OpContext c) {
        Backend be = c.backend();
        int outF = c.inShape(1).dim(0), inF = c.inShape(1).dim(1);
        int rm = (int) (c.rows() * (c.inShape(0).size() / inF));
        Tensor y = c.outDDot().reshape(rm, outF);
        Tensor xd = c.inDot(0), xdd = c.inDDot(0), wd = c.inDot(1);
        double beta = 0;
        if (xdd != null) {
            be.gemm(false, true, 1, xdd.reshape(rm, inF), w(c, c.in(1)), 0, y);
            beta = 1;
        }
        if (xd != null && wd != null) {
            be.gemm(false, true, 2, xd.reshape(rm, inF), w(c, wd), beta, y);
            beta = 1;
        }
        if (beta == 0) {
            be.zero(y);
        }
    }

    @Override
    public void secondTangentOfBackward(OpContext c) {
        Backend be = c.backend();
        int outF = c.inShape(1).dim(0), inF = c.inShape(1).dim(1);
        int rm = (int) (c.rows() * (c.inShape(0).size() / inF));
        Tensor g = c.outGrad().reshape(rm, outF), gd = c.outGradDot().reshape(rm, outF);
        Tensor gdd = c.outGradDDot().reshape(rm, outF);
        Tensor xd = c.inDot(0), xdd = c.inDDot(0), wd = c.inDot(1);
        if (c.inGradDDot(1) != null) {
            Tensor dW = w(c, c.inGradDDot(1));
            be.gemm(true, false, 1, gdd, c.in(0).reshape(rm, inF), 0, dW);
            if (xd != null) {
                be.gemm(true, false, 2, gd, xd.reshape(rm, inF), 1, dW);
            }
            if (xdd != null) {
                be.gemm(true, false, 1, g, xdd.reshape(rm, inF), 1, dW);
            }
        }
        if (hasBias(c) && c.inGradDDot(2) != null) {
            be.columnSums(1, gdd, 0, c.inGradDDot(2).reshape(outF, 1));
        }
        if (c.inGradDDot(0) != null) {
            Tensor gx = c.inGradDDot(0).reshape(rm, inF);
            be.gemm(false, false, 1, gdd, w(c, c.in(1)), 0, gx);
            if (wd != null) {
                be.gemm(false, false, 2, gd, w(c, wd), 1, gx);
            }
        }
    }
}

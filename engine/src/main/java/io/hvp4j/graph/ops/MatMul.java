package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.Backend;
import io.hvp4j.graph.Op;
import io.hvp4j.graph.OpContext;
import io.hvp4j.graph.Shape;
import io.hvp4j.memory.Tensor;

import java.util.Arrays;

/**
 * {@code torch.matmul} / ONNX {@code MatMul} of two per-sample stacks of matrices {@code C = A·B}: {@code A} of
 * shape {@code (..., m, n)} and {@code B} of shape {@code (..., n, p)} give {@code C} of shape {@code (..., m, p)}.
 * Either both inputs are batched (activation × activation, e.g. {@code q·kᵀ} in attention) with the same leading
 * axes, or one of them is a parameter or constant of rank 2 (parameter × activation {@code W·x}, activation ×
 * parameter {@code x·W}), used by every matrix of every sample.
 *
 * <p>Rules: {@code Ċ = Ȧ·B + A·Ḃ}; {@code G_A = G·Bᵀ}, {@code G_B = Aᵀ·G} (summed over samples and matrices for
 * a parameter); tangent of backward {@code Ġ_A = Ġ·Bᵀ + G·Ḃᵀ}, {@code Ġ_B = Aᵀ·Ġ + Ȧᵀ·G}, where the terms in
 * {@code G} (the primal adjoint) are the second-order ones that the Gauss–Newton products drop. Each product is
 * one backend GEMM per matrix (per sample, tangent and leading index); {@code x·W} forward and backward are one
 * GEMM over all rows. Third order (bilinear, so only cross terms; an unbatched input has no second tangent):
 * {@code C̈ = Ä·B + A·B̈ + 2Ȧ·Ḃ}; {@code g̈A = g̈·Bᵀ + 2ġ·Ḃᵀ + G·B̈ᵀ}, {@code g̈B = Aᵀ·g̈ + 2Ȧᵀ·ġ + Äᵀ·G}, one
 * GEMM per matrix and term.
 */
public final class MatMul implements Op {
    public static final MatMul INSTANCE = new MatMul();

    private MatMul() {
    }

    @Override
    public String type() {
        return "MatMul";
    }

    @Override
    public Shape outputShape(Shape[] in, boolean[] batched) {
        if (in.length != 2 || !(batched[0] || batched[1])) {
            throw new InvalidInputException("MatMul takes two inputs, at least one of them batched");
        }
        Shape a = in[0], b = in[1];
        if (a.rank() < 2 || b.rank() < 2) {
            throw new InvalidInputException("MatMul: inputs " + a + " and " + b + " must have at least 2 axes");
        }
        if (a.dim(-1) != b.dim(-2)) {
            throw new InvalidInputException("MatMul: " + a + " @ " + b + ": inner dimensions " + a.dim(-1) + " and "
                    + b.dim(-2) + " differ");
        }
        int[] lead;
        if (batched[0] && batched[1]) {
            int[] la = Arrays.copyOf(a.dims(), a.rank() - 2), lb = Arrays.copyOf(b.dims(), b.rank() - 2);
            if (!Arrays.equals(la, lb)) {
                throw new InvalidInputException("MatMul: leading axes of " + a + " and " + b + " differ");
            }
            lead = la;
        } else {
            Shape p = batched[0] ? b : a, x = batched[0] ? a : b;
            if (p.rank() != 2) {
                throw new InvalidInputException("MatMul: the unbatched input " + p + " must be a matrix (2 axes)");
            }
            lead = Arrays.copyOf(x.dims(), x.rank() - 2);
        }
        int[] d = Arrays.copyOf(lead, lead.length + 2);
        d[lead.length] = a.dim(-2);
        d[lead.length + 1] = b.dim(-1);
        return Shape.of(d);
    }

    /** The sizes of one product: {@code m, n, p} and the matrices per sample {@code q}. */
    private record Dims(int m, int n, int p, int q) {
        static Dims of(OpContext c) {
            Shape a = c.inShape(0), b = c.inShape(1);
            int m = a.dim(-2), n = a.dim(-1), p = b.dim(-1);
            Shape x = c.batched(0) ? a : b;
            return new Dims(m, n, p, (int) (x.size() / ((long) x.dim(-2) * x.dim(-1))));
        }
    }

    /**
     * Matrix {@code (r, j, q)} of a value laid out as in {@link Op}: a batched value holds {@code k} tangents per
     * sample, each {@code Q} matrices; an unbatched one holds {@code k} tangents of one matrix (r, q ignored).
     */
    private static Tensor mat(Tensor t, boolean batched, int r, int j, int k, int q, int Q, int rows, int cols) {
        long size = (long) rows * cols;
        long off = batched ? ((((long) r * k + j) * Q) + q) * size : j * size;
        return t.view(off, rows, cols);
    }

    @Override
    public void forward(OpContext c) {
        Dims d = Dims.of(c);
        Backend be = c.backend();
        if (!c.batched(1)) {
            // x·W: all rows at once.
            int rm = c.rows() * d.q * d.m;
            be.gemm(false, false, 1, c.in(0).reshape(rm, d.n), c.in(1).reshape(d.n, d.p), 0,
                    c.out().reshape(rm, d.p));
            return;
        }
        for (int r = 0; r < c.rows(); r++) {
            for (int q = 0; q < d.q; q++) {
                be.gemm(false, false, 1, a(c, c.in(0), r, 0, 1, q, d), b(c, c.in(1), r, 0, 1, q, d), 0,
                        mat(c.out(), true, r, 0, 1, q, d.q, d.m, d.p));
            }
        }
    }

    private static Tensor a(OpContext c, Tensor t, int r, int j, int k, int q, Dims d) {
        return mat(t, c.batched(0), r, j, k, q, d.q, d.m, d.n);
    }

    private static Tensor b(OpContext c, Tensor t, int r, int j, int k, int q, Dims d) {
        return mat(t, c.batched(1), r, j, k, q, d.q, d.n, d.p);
    }

    @Override
    public void tangent(OpContext c) {
        Dims d = Dims.of(c);
        Backend be = c.backend();
        int k = c.k();
        Tensor aDot = c.inDot(0), bDot = c.inDot(1), cDot = c.outDot();
        boolean fused = aDot != null && !c.batched(1);
        if (fused) {
            // Ȧ·W for all samples and tangents at once.
            int rm = c.rows() * k * d.q * d.m;
            be.gemm(false, false, 1, aDot.reshape(rm, d.n), c.in(1).reshape(d.n, d.p), 0, cDot.reshape(rm, d.p));
        }
        for (int r = 0; r < c.rows(); r++) {
            for (int j = 0; j < k; j++) {
                for (int q = 0; q < d.q; q++) {
                    Tensor out = mat(cDot, true, r, j, k, q, d.q, d.m, d.p);
                    double beta = fused ? 1 : 0;
                    if (aDot != null && !fused) {
                        be.gemm(false, false, 1, a(c, aDot, r, j, k, q, d), b(c, c.in(1), r, 0, 1, q, d), 0, out);
                        beta = 1;
                    }
                    if (bDot != null) {
                        be.gemm(false, false, 1, a(c, c.in(0), r, 0, 1, q, d), b(c, bDot, r, j, k, q, d), beta, out);
                    }
                }
            }
        }
    }

    @Override
    public void backward(OpContext c) {
        adjoints(c, c.outGrad(), 1, c.inGrad(0), c.inGrad(1), null, null);
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        adjoints(c, c.outGradDot(), c.k(), c.inGradDot(0), c.inGradDot(1),
                secondOrder ? c.inDot(0) : null, secondOrder ? c.inDot(1) : null);
    }

    /**
     * {@code gA = g·Bᵀ (+ G·Ḃᵀ)} and {@code gB = Aᵀ·g (+ Ȧᵀ·G)} for {@code k} adjoints {@code g}; the terms in
     * parentheses (primal adjoint {@code G}) come only with non-null {@code aDot}/{@code bDot}. A parameter's
     * adjoint sums over samples and matrices.
     */
    private static void adjoints(OpContext c, Tensor g, int k, Tensor gA, Tensor gB, Tensor aDot, Tensor bDot) {
        Dims d = Dims.of(c);
        Backend be = c.backend();
        Tensor G = c.outGrad();
        boolean xw = !c.batched(1);
        if (gA != null && xw) {
            // g·Wᵀ for all samples and tangents at once.
            int rm = c.rows() * k * d.q * d.m;
            be.gemm(false, true, 1, g.reshape(rm, d.p), c.in(1).reshape(d.n, d.p), 0, gA.reshape(rm, d.n));
        }
        if (gB != null && xw && k == 1 && aDot == null) {
            // Aᵀ·g over all rows at once.
            int rm = c.rows() * d.q * d.m;
            be.gemm(true, false, 1, c.in(0).reshape(rm, d.n), g.reshape(rm, d.p), 0, gB.reshape(d.n, d.p));
            gB = null;
        }
        for (int r = 0; r < c.rows(); r++) {
            for (int j = 0; j < k; j++) {
                for (int q = 0; q < d.q; q++) {
                    Tensor gm = mat(g, true, r, j, k, q, d.q, d.m, d.p);
                    Tensor Gm = mat(G, true, r, 0, 1, q, d.q, d.m, d.p);
                    // A parameter's adjoint accumulates over (r, q): overwrite only at the first.
                    if (gA != null && !xw) {
                        Tensor out = a(c, gA, r, j, k, q, d);
                        double beta = c.batched(0) || (r == 0 && q == 0) ? 0 : 1;
                        be.gemm(false, true, 1, gm, b(c, c.in(1), r, 0, 1, q, d), beta, out);
                        if (bDot != null) {
                            be.gemm(false, true, 1, Gm, b(c, bDot, r, j, k, q, d), 1, out);
                        }
                    }
                    if (gB != null) {
                        Tensor out = b(c, gB, r, j, k, q, d);
                        double beta = c.batched(1) || (r == 0 && q == 0) ? 0 : 1;
                        be.gemm(true, false, 1, a(c, c.in(0), r, 0, 1, q, d), gm, beta, out);
                        if (aDot != null) {
                            be.gemm(true, false, 1, a(c, aDot, r, j, k, q, d), Gm, 1, out);
                        }
                    }
                    if (gA != null && xw && bDot != null) {
                        be.gemm(false, true, 1, Gm, b(c, bDot, r, j, k, q, d), 1, a(c, gA, r, j, k, q, d));
                    }
                }
            }
        }
    }

    @Override
    public void secondTangent(OpContext c) {
        Dims d = Dims.of(c);
        Backend be = c.backend();
        Tensor aD = c.inDot(0), bD = c.inDot(1), aDD = c.inDDot(0), bDD = c.inDDot(1);
        for (int r = 0; r < c.rows(); r++) {
            for (int q = 0; q < d.q; q++) {
                Tensor out = mat(c.outDDot(), true, r, 0, 1, q, d.q, d.m, d.p);
                double beta = 0;
                if (aDD != null) {
                    be.gemm(false, false, 1, a(c, aDD, r, 0, 1, q, d), b(c, c.in(1), r, 0, 1, q, d), 0, out);
                    beta = 1;
                }
                if (bDD != null) {
                    be.gemm(false, false, 1, a(c, c.in(0), r, 0, 1, q, d), b(c, bDD, r, 0, 1, q, d), beta, out);
                    beta = 1;
                }
                if (aD != null && bD != null) {
                    be.gemm(false, false, 2, a(c, aD, r, 0, 1, q, d), b(c, bD, r, 0, 1, q, d), beta, out);
                    beta = 1;
                }
                if (beta == 0) {
                    be.zero(out);
                }
            }
        }
    }

    @Override
    public void secondTangentOfBackward(OpContext c) {
        Dims d = Dims.of(c);
        Backend be = c.backend();
        Tensor aD = c.inDot(0), bD = c.inDot(1), aDD = c.inDDot(0), bDD = c.inDDot(1);
        Tensor gA = c.inGradDDot(0), gB = c.inGradDDot(1);
        for (int r = 0; r < c.rows(); r++) {
            for (int q = 0; q < d.q; q++) {
                Tensor G = mat(c.outGrad(), true, r, 0, 1, q, d.q, d.m, d.p);
                Tensor gd = mat(c.outGradDot(), true, r, 0, 1, q, d.q, d.m, d.p);
                Tensor gdd = mat(c.outGradDDot(), true, r, 0, 1, q, d.q, d.m, d.p);
                // A parameter's adjoint accumulates over (r, q): overwrite only at the first.
                if (gA != null) {
                    Tensor out = a(c, gA, r, 0, 1, q, d);
                    be.gemm(false, true, 1, gdd, b(c, c.in(1), r, 0, 1, q, d),
                            c.batched(0) || (r == 0 && q == 0) ? 0 : 1, out);
                    if (bD != null) {
                        be.gemm(false, true, 2, gd, b(c, bD, r, 0, 1, q, d), 1, out);
                    }
                    if (bDD != null) {
                        be.gemm(false, true, 1, G, b(c, bDD, r, 0, 1, q, d), 1, out);
                    }
                }
                if (gB != null) {
                    Tensor out = b(c, gB, r, 0, 1, q, d);
                    be.gemm(true, false, 1, a(c, c.in(0), r, 0, 1, q, d), gdd,
                            c.batched(1) || (r == 0 && q == 0) ? 0 : 1, out);
                    if (aD != null) {
                        be.gemm(true, false, 2, a(c, aD, r, 0, 1, q, d), gd, 1, out);
                    }
                    if (aDD != null) {
                        be.gemm(true, false, 1, a(c, aDD, r, 0, 1, q, d), G, 1, out);
                    }
                }
            }
        }
    }
}

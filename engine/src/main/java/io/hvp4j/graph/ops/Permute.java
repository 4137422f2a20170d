package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.Backend;
import io.hvp4j.graph.Op;
import io.hvp4j.graph.OpContext;
import io.hvp4j.graph.Shape;
import io.hvp4j.memory.Tensor;

import java.util.Arrays;

/**
 * {@code torch.permute} of the per-sample axes (the batch axis stays first): output axis {@code i} is input axis
 * {@code axes[i]}; {@code Transpose} is the permutation that swaps two axes. Linear: the tangent is the same permutation
 * of each tangent, the backward the inverse permutation. A permutation that swaps two adjacent groups of axes
 * ({@code (..., A, B, ...) → (..., B, A, ...)}, every transpose of a matrix and of its last two axes) runs as one
 * {@link Backend#swapLeadingAxes} per sample and leading index; any other uses an index map over heap copies.
 */
public final class Permute implements Op {
    private final int[] axes;

    /** A permutation of the per-sample axes; negative entries count from the end. */
    public Permute(int... axes) {
        if (axes.length == 0) {
            throw new InvalidInputException("Permute: no axes given");
        }
        this.axes = axes.clone();
    }

    @Override
    public String type() {
        return "Permute";
    }

    @Override
    public boolean linear() {
        return true;
    }

    /** The axes as a permutation of {@code 0..rank-1}, checked. */
    private int[] perm(int rank) {
        if (axes.length != rank) {
            throw new InvalidInputException("Permute: " + axes.length + " axes " + Arrays.toString(axes)
                    + " for an input of rank " + rank);
        }
        int[] p = new int[rank];
        boolean[] seen = new boolean[rank];
        for (int i = 0; i < rank; i++) {
            int a = axes[i] < 0 ? axes[i] + rank : axes[i];
            if (a < 0 || a >= rank || seen[a]) {
                throw new InvalidInputException("Permute: axes " + Arrays.toString(axes)
                        + " are not a permutation of the " + rank + " per-sample axes");
            }
            seen[a] = true;
            p[i] = a;
        }
        return p;
    }

    @Override
    public Shape outputShape(Shape[] in, boolean[] batched) {
        if (in.length != 1 || !batched[0]) {
            throw new InvalidInputException("Permute takes one batched input");
        }
        int[] p = perm(in[0].rank());
        int[] d = new int[p.length];
        for (int i = 0; i < p.length; i++) {
            d[i] = in[0].dim(p[i]);
        }
        return Shape.of(d);
    }

    /**
     * The plan: {@code {outer, d1, d2, inner}} when the permutation swaps the adjacent axis groups of sizes
     * {@code d1} and {@code d2} (an identity has {@code d2 = 1}), or null.
     */
    private static int[] blockSwap(int[] p, int[] dims) {
        int r = p.length, a = 0;
        while (a < r && p[a] == a) {
            a++;
        }
        if (a == r) {
            return new int[] {1, 1, 1, Math.toIntExact(size(dims, 0, r))};
        }
        // p = [0..a-1, b..c-1, a..b-1, c..r-1]
        int b = p[a], c = b;
        int i = a;
        while (i < r && p[i] == c) {
            i++;
            c++;
        }
        int mid = i;
        for (int t = a; t < b; t++, i++) {
            if (i >= r || p[i] != t) {
                return null;
            }
        }
        if (i != a + (c - a) || mid - a != c - b) {
            return null;
        }
        for (; i < r; i++) {
            if (p[i] != i) {
                return null;
            }
        }
        return new int[] {Math.toIntExact(size(dims, 0, a)), Math.toIntExact(size(dims, a, b)),
                Math.toIntExact(size(dims, b, c)), Math.toIntExact(size(dims, c, r))};
    }

    private static long size(int[] dims, int from, int to) {
        long s = 1;
        for (int i = from; i < to; i++) {
            s *= dims[i];
        }
        return s;
    }

    /** {@code map[o]} = the input element of output element {@code o}. */
    private static int[] indexMap(int[] p, int[] dims) {
        int r = p.length, n = Math.toIntExact(size(dims, 0, r));
        int[] inStride = new int[r];
        for (int i = r - 1, s = 1; i >= 0; s *= dims[i], i--) {
            inStride[i] = s;
        }
        int[] map = new int[n];
        int[] idx = new int[r];
        for (int o = 0; o < n; o++) {
            int at = 0;
            for (int i = 0; i < r; i++) {
                at += idx[i] * inStride[p[i]];
            }
            map[o] = at;
            for (int i = r - 1; i >= 0; i--) {
                if (++idx[i] < dims[p[i]]) {
                    break;
                }
                idx[i] = 0;
            }
        }
        return map;
    }

    /** Permutes {@code count} samples of {@code src} into {@code dst} (inverse: from output layout to input layout). */
    private void apply(OpContext c, Tensor src, Tensor dst, int count, boolean inverse) {
        int[] dims = c.inShape(0).dims();
        int[] p = perm(dims.length);
        int n = c.inShape(0).intSize();
        Tensor s = src.reshape(1, count * n), d = dst.reshape(1, count * n);
        int[] plan = blockSwap(p, dims);
        if (plan != null) {
            Backend be = c.backend();
            int outer = plan[0], d1 = inverse ? plan[2] : plan[1], d2 = inverse ? plan[1] : plan[2], inner = plan[3];
            int block = d1 * d2 * inner;
            for (long b = 0; b < (long) count * outer; b++) {
                be.swapLeadingAxes(s.view(b * block, 1, block), d1, d2, inner, 0, d.view(b * block, 1, block));
            }
            return;
        }
        int[] map = indexMap(p, dims);
        Planes io = new Planes();
        double[] from = new double[n], to = new double[n];
        for (long r = 0; r < count; r++) {
            io.read(s, r * n, n, from);
            for (int o = 0; o < n; o++) {
                if (inverse) {
                    to[map[o]] = from[o];
                } else {
                    to[o] = from[map[o]];
                }
            }
            io.write(to, n, d, r * n);
        }
    }

    @Override
    public void forward(OpContext c) {
        apply(c, c.in(0), c.out(), c.rows(), false);
    }

    @Override
    public void tangent(OpContext c) {
        apply(c, c.inDot(0), c.outDot(), c.rows() * c.k(), false);
    }

    @Override
    public void backward(OpContext c) {
        if (c.inGrad(0) != null) {
            apply(c, c.outGrad(), c.inGrad(0), c.rows(), true);
        }
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        if (c.inGradDot(0) != null) {
            apply(c, c.outGradDot(), c.inGradDot(0), c.rows() * c.k(), true);
        }
    }
}

package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Op;
import io.hvp4j.graph.OpContext;
import io.hvp4j.graph.Shape;
import io.hvp4j.memory.Tensor;

import java.util.Arrays;

/**
 * {@code ReduceSum} / {@code ReduceMean} over axes of the sample ({@code x.sum(dim, keepdim)} with the batch axis
 * excluded: axis 0 is the first per-sample axis; negative axes count from the end; no axes means all of them).
 * Without keepdims the reduced axes disappear (a full reduction gives one value per sample). Linear.
 */
public final class Reduce implements Op {
    public enum Mode { SUM, MEAN }

    private final Mode mode;
    private final boolean keepdims;
    private final int[] axes;

    public Reduce(Mode mode, boolean keepdims, int... axes) {
        this.mode = mode;
        this.keepdims = keepdims;
        this.axes = axes.clone();
    }

    @Override
    public String type() {
        return mode == Mode.SUM ? "ReduceSum" : "ReduceMean";
    }

    @Override
    public boolean linear() {
        return true;
    }

    /** Which axes of a sample of rank {@code rank} are reduced. */
    private boolean[] reduced(int rank) {
        boolean[] red = new boolean[rank];
        if (axes.length == 0) {
            Arrays.fill(red, true);
        }
        for (int a : axes) {
            int ax = a < 0 ? a + rank : a;
            if (ax < 0 || ax >= rank) {
                throw new InvalidInputException(type() + ": axis " + a + " is out of range for a sample of rank "
                        + rank + " (the batch axis is not counted)");
            }
            if (red[ax]) {
                throw new InvalidInputException(type() + ": axis " + a + " is given twice");
            }
            red[ax] = true;
        }
        return red;
    }

    /** The output with the reduced axes kept as 1. */
    private Shape kept(Shape in) {
        boolean[] red = reduced(in.rank());
        int[] d = in.dims();
        for (int a = 0; a < d.length; a++) {
            if (red[a]) {
                d[a] = 1;
            }
        }
        return Shape.of(d);
    }

    @Override
    public Shape outputShape(Shape[] in, boolean[] batched) {
        if (in.length != 1 || !batched[0]) {
            throw new InvalidInputException(type() + " takes one batched input");
        }
        Shape k = kept(in[0]);
        if (keepdims) {
            return k;
        }
        boolean[] red = reduced(in[0].rank());
        return Shape.of(java.util.stream.IntStream.range(0, red.length).filter(a -> !red[a])
                .map(a -> in[0].dim(a)).toArray());
    }

    private double scale(OpContext c) {
        return mode == Mode.SUM ? 1 : (double) c.outShape().size() / c.inShape(0).size();
    }

    /** {@code out[r, map[i]] = scale · Σ x[r, i]} for {@code pieces} pieces per row (k tangents or 1). */
    private void reduce(OpContext c, Tensor x, Tensor y, int pieces) {
        int[] map = Broadcast.map(kept(c.inShape(0)), c.inShape(0));
        int n = c.inShape(0).intSize(), m = c.outShape().intSize();
        double s = scale(c);
        double[] acc = new double[m];
        for (long p = 0; p < (long) c.rows() * pieces; p++) {
            Arrays.fill(acc, 0);
            for (int i = 0; i < n; i++) {
                acc[map[i]] += x.get(p * n + i);
            }
            for (int o = 0; o < m; o++) {
                y.set(p * m + o, s * acc[o]);
            }
        }
    }

    /** {@code gx[r, i] = scale · g[r, map[i]]} (the transpose). */
    private void spread(OpContext c, Tensor g, Tensor gx, int pieces) {
        int[] map = Broadcast.map(kept(c.inShape(0)), c.inShape(0));
        int n = c.inShape(0).intSize(), m = c.outShape().intSize();
        double s = scale(c);
        for (long p = 0; p < (long) c.rows() * pieces; p++) {
            for (int i = 0; i < n; i++) {
                gx.set(p * n + i, s * g.get(p * m + map[i]));
            }
        }
    }

    @Override
    public void forward(OpContext c) {
        reduce(c, c.in(0), c.out(), 1);
    }

    @Override
    public void tangent(OpContext c) {
        reduce(c, c.inDot(0), c.outDot(), c.k());
    }

    @Override
    public void backward(OpContext c) {
        spread(c, c.outGrad(), c.inGrad(0), 1);
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        spread(c, c.outGradDot(), c.inGradDot(0), c.k());
    }
}

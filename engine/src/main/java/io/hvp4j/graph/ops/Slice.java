package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Op;
import io.hvp4j.graph.OpContext;
import io.hvp4j.graph.Shape;
import io.hvp4j.memory.Tensor;

/**
 * {@code x[:, ..., start:end:step, ...]} along one per-sample axis (ONNX {@code Slice} with one axis, PyTorch
 * {@code x.narrow}, {@code chunk}, {@code split}): output element {@code o} is input element {@code map[o]}, with
 * {@code start} already clamped and {@code end} exclusive, {@code step ≥ 1}. Linear: the tangent is the same
 * gather, the adjoint scatters back into zeros (the unselected elements get no adjoint).
 */
public final class Slice implements Op {
    private final int axis, start, end, step;

    /** Elements {@code start, start + step, ... < end} of per-sample axis {@code axis} (not negative). */
    public Slice(int axis, int start, int end, int step) {
        if (axis < 0 || start < 0 || step < 1 || end <= start) {
            throw new InvalidInputException("Slice: axis " + axis + ", start " + start + ", end " + end + ", step "
                    + step + " out of range (an empty slice or a negative step is not supported)");
        }
        this.axis = axis;
        this.start = start;
        this.end = end;
        this.step = step;
    }

    @Override
    public String type() {
        return "Slice";
    }

    @Override
    public boolean linear() {
        return true;
    }

    @Override
    public Shape outputShape(Shape[] in, boolean[] batched) {
        if (in.length != 1 || !batched[0]) {
            throw new InvalidInputException("Slice takes one batched input");
        }
        if (axis >= in[0].rank() || end > in[0].dim(axis)) {
            throw new InvalidInputException("Slice: axis " + axis + " [" + start + ", " + end + ") is outside "
                    + in[0]);
        }
        int[] d = in[0].dims();
        d[axis] = (end - start + step - 1) / step;
        return Shape.of(d);
    }

    /** {@code map[o]}: the input element (within a sample) of output element {@code o}. */
    private int[] indexMap(Shape in, Shape out) {
        int[] d = in.dims();
        int inner = 1;
        for (int i = axis + 1; i < d.length; i++) {
            inner *= d[i];
        }
        int len = out.dim(axis), outer = out.intSize() / (len * inner);
        int[] map = new int[out.intSize()];
        int o = 0;
        for (int a = 0; a < outer; a++) {
            for (int j = 0; j < len; j++) {
                int base = (a * d[axis] + start + j * step) * inner;
                for (int i = 0; i < inner; i++) {
                    map[o++] = base + i;
                }
            }
        }
        return map;
    }

    /** Gathers (or, {@code inverse}, scatters into zeros) {@code count} samples from {@code src} into {@code dst}. */
    private void apply(OpContext c, Tensor src, Tensor dst, int count, boolean inverse) {
        int n = c.inShape(0).intSize(), m = c.outShape().intSize();
        int[] map = indexMap(c.inShape(0), c.outShape());
        int from = inverse ? m : n, to = inverse ? n : m;
        Tensor s = src.reshape(1, count * from), d = dst.reshape(1, count * to);
        Planes io = new Planes();
        double[] a = new double[from], b = new double[to];
        for (long r = 0; r < count; r++) {
            io.read(s, r * from, from, a);
            if (inverse) {
                java.util.Arrays.fill(b, 0);
                for (int o = 0; o < m; o++) {
                    b[map[o]] = a[o];
                }
            } else {
                for (int o = 0; o < m; o++) {
                    b[o] = a[map[o]];
                }
            }
            io.write(b, to, d, r * to);
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

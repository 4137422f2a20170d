package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.Backend;
import io.hvp4j.graph.Op;
import io.hvp4j.graph.OpContext;
import io.hvp4j.graph.Shape;
import io.hvp4j.memory.Tensor;

/**
 * {@code y = a + b} for two batched inputs of one shape (a residual add), or a batched {@code a} and an unbatched
 * {@code b} of the same per-sample shape (added to every sample). Linear: no second-order terms.
 */
public final class Add implements Op {
    public static final Add INSTANCE = new Add();

    private Add() {
    }

    @Override
    public String type() {
        return "Add";
    }

    @Override
    public boolean linear() {
        return true;
    }

    @Override
    public Shape outputShape(Shape[] in, boolean[] batched) {
        if (in.length != 2 || !batched[0]) {
            throw new InvalidInputException("Add takes two inputs, the first batched");
        }
        if (!in[0].equals(in[1]) && in[0].size() != in[1].size()) {
            throw new InvalidInputException("Add: shapes " + in[0] + " and " + in[1] + " differ");
        }
        return in[0];
    }

    @Override
    public void forward(OpContext c) {
        Backend be = c.backend();
        be.copy(c.in(0), c.out());
        if (c.batched(1)) {
            be.axpy(1, c.in(1), c.out());
        } else {
            be.addToRows(c.in(1), c.out());
        }
    }

    @Override
    public void tangent(OpContext c) {
        Backend be = c.backend();
        Tensor out = c.outDot();
        boolean written = false;
        if (c.inDot(0) != null) {
            be.copy(c.inDot(0), out);
            written = true;
        }
        Tensor b = c.inDot(1);
        if (b != null) {
            if (c.batched(1)) {
                if (written) {
                    be.axpy(1, b, out);
                } else {
                    be.copy(b, out);
                }
            } else {
                if (!written) {
                    be.zero(out);
                }
                be.addToRows(b, out);
            }
        }
    }

    @Override
    public void backward(OpContext c) {
        adjoint(c, c.outGrad(), c.inGrad(0), c.inGrad(1), 1);
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        adjoint(c, c.outGradDot(), c.inGradDot(0), c.inGradDot(1), c.k());
    }

    private static void adjoint(OpContext c, Tensor g, Tensor ga, Tensor gb, int k) {
        Backend be = c.backend();
        if (ga != null) {
            be.copy(g, ga);
        }
        if (gb != null) {
            if (c.batched(1)) {
                be.copy(g, gb);
            } else {
                // Σ over samples, for each of the k tangents: column sums of rows × (k·n).
                be.columnSums(1, g, 0, gb.reshape((int) gb.size(), 1));
            }
        }
    }
}

package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Op;
import io.hvp4j.graph.OpContext;
import io.hvp4j.graph.Shape;

/**
 * {@code torch.flatten(x, 1)} / {@code x.reshape(N, ...)}: the same elements per sample with another shape (a
 * copy: the executor keeps one buffer per value).
 */
public final class Reshape implements Op {
    private final Shape target;

    /** A reshape to {@code target} per sample; {@code null} flattens to one axis. */
    public Reshape(Shape target) {
        this.target = target;
    }

    @Override
    public String type() {
        return target == null ? "Flatten" : "Reshape";
    }

    @Override
    public boolean linear() {
        return true;
    }

    @Override
    public Shape outputShape(Shape[] in, boolean[] batched) {
        if (in.length != 1 || !batched[0]) {
            throw new InvalidInputException(type() + " takes one batched input");
        }
        if (target == null) {
            return Shape.of(in[0].intSize());
        }
        if (target.size() != in[0].size()) {
            throw new InvalidInputException("Reshape: cannot reshape " + in[0] + " to " + target);
        }
        return target;
    }

    @Override
    public void forward(OpContext c) {
        c.backend().copy(c.in(0), c.out());
    }

    @Override
    public void tangent(OpContext c) {
        c.backend().copy(c.inDot(0), c.outDot());
    }

    @Override
    public void backward(OpContext c) {
        c.backend().copy(c.outGrad(), c.inGrad(0));
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        c.backend().copy(c.outGradDot(), c.inGradDot(0));
    }
}

package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.ElementwiseFunction;
import io.hvp4j.graph.Op;
import io.hvp4j.graph.OpContext;
import io.hvp4j.graph.Shape;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Elementwise;

import java.lang.foreign.MemorySegment;

/**
 * An element-wise activation {@code y = σ(x)} ({@link ElementwiseFunction}: relu, tanh, gelu, ...). The forward rule
 * keeps {@code σ'(x)} and, unless σ is piecewise linear, {@code σ''(x)}; the other rules are one multiply (-add)
 * per element of each tangent. The third-order rules ({@link Elementwise}'s Taylor rules) also need
 * {@code σ'''(x)}, evaluated from the input row by row.
 */
public final class Activation implements Op {
    private final ElementwiseFunction f;

    public Activation(ElementwiseFunction f) {
        this.f = f;
    }

    public ElementwiseFunction function() {
        return f;
    }

    @Override
    public String type() {
        return f.id();
    }

    @Override
    public Shape outputShape(Shape[] in, boolean[] batched) {
        if (in.length != 1 || !batched[0]) {
            throw new InvalidInputException("activation " + f.id() + " takes one batched input");
        }
        return in[0];
    }

    @Override
    public long[] stateSizes(Shape[] in, Shape out) {
        return f.piecewiseLinear() ? new long[] {out.size()} : new long[] {out.size(), out.size()};
    }

    @Override
    public void forward(OpContext c) {
        c.backend().evaluate(f, c.in(0), c.out(), c.state(0), f.piecewiseLinear() ? null : c.state(1));
    }

    @Override
    public void tangent(OpContext c) {
        c.backend().broadcastMultiply(c.state(0), c.inDot(0), c.outDot());
    }

    @Override
    public void backward(OpContext c) {
        c.backend().broadcastMultiply(c.state(0), c.outGrad(), c.inGrad(0));
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        if (secondOrder && !f.piecewiseLinear() && c.inDot(0) != null) {
            c.backend().elementwiseBackwardTangent(c.state(0), c.state(1), c.outGrad(), c.inDot(0), c.outGradDot(),
                    c.inGradDot(0));
        } else {
            c.backend().broadcastMultiply(c.state(0), c.outGradDot(), c.inGradDot(0));
        }
    }

    private Tensor d2(OpContext c) {
        return f.piecewiseLinear() ? null : c.state(1);
    }

    @Override
    public void secondTangent(OpContext c) {
        if (c.inDot(0) == null) {
            c.backend().zero(c.outDDot());
        } else {
            Elementwise.secondTangent(c.state(0), d2(c), c.inDot(0), c.inDDot(0), c.outDDot());
        }
    }

    @Override
    public void secondTangentOfBackward(OpContext c) {
        Tensor out = c.inGradDDot(0);
        if (out == null) {
            return;
        }
        if (c.inDot(0) == null) {
            c.backend().broadcastMultiply(c.state(0), c.outGradDDot(), out);
            return;
        }
        int n = c.outShape().intSize();
        Tensor d3 = f.piecewiseLinear() ? null : Tensor.wrap(MemorySegment.ofArray(new double[n]), DType.F64, 1, n);
        Tensor d2 = d2(c);
        for (int r = 0; r < c.rows(); r++) {
            long at = (long) r * n;
            if (d3 != null) {
                Elementwise.thirdDerivative(f, c.in(0).view(at, 1, n), d3);
            }
            Elementwise.secondTangentOfBackward(c.state(0).view(at, 1, n), d2 == null ? null : d2.view(at, 1, n), d3,
                    c.outGrad().view(at, 1, n), c.inDot(0).view(at, 1, n), c.inDDot(0).view(at, 1, n),
                    c.outGradDot().view(at, 1, n), c.outGradDDot().view(at, 1, n), out.view(at, 1, n));
        }
    }
}

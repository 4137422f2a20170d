package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Op;
import io.hvp4j.graph.OpContext;
import io.hvp4j.graph.Shape;

/**
 * {@code nn.Identity}, and {@code nn.Dropout(p)} in eval mode, where it is the identity (the Hessian of a network
 * with dropout is analysed at its eval-mode function, as PyHessian does). Linear: a copy in every rule.
 */
public final class Identity implements Op {
    private final String type;
    private final double p;

    private Identity(String type, double p) {
        this.type = type;
        this.p = p;
    }

    public static Identity identity() {
        return new Identity("Identity", 0);
    }

    /** Dropout with drop probability {@code p} in [0, 1), evaluated in eval mode. */
    public static Identity dropout(double p) {
        if (!(p >= 0 && p < 1)) {
            throw new InvalidInputException("Dropout: the probability must be in [0, 1), got " + p);
        }
        return new Identity("Dropout", p);
    }

    /** The drop probability (0 for Identity); unused in eval mode. */
    public double probability() {
        return p;
    }

    @Override
    public String type() {
        return type;
    }

    @Override
    public boolean linear() {
        return true;
    }

    @Override
    public Shape outputShape(Shape[] in, boolean[] batched) {
        if (in.length != 1 || !batched[0]) {
            throw new InvalidInputException(type + " takes one batched input");
        }
        return in[0];
    }

    // The rules are Reshape's: a copy.
    private static final Reshape COPY = new Reshape(null);

    @Override
    public void forward(OpContext c) {
        COPY.forward(c);
    }

    @Override
    public void tangent(OpContext c) {
        COPY.tangent(c);
    }

    @Override
    public void backward(OpContext c) {
        COPY.backward(c);
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        COPY.tangentOfBackward(c, secondOrder);
    }
}

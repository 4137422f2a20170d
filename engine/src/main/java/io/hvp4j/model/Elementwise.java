package io.hvp4j.model;

import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ElementwiseFunction;
import io.hvp4j.memory.Tensor;

/**
 * The four rules of an element-wise op {@code A = σ(Z)}. The forward pass keeps {@code σ'(Z)} and
 * {@code σ''(Z)}; the other three rules use only those, so they cost a multiply-add per element.
 */
public final class Elementwise {
    private Elementwise() {
    }

    /** Forward: {@code A = σ(Z)}, keeping {@code D1 = σ'(Z)} and {@code D2 = σ''(Z)} (null to skip). */
    public static void forward(Backend be, ElementwiseFunction f, Tensor z, Tensor a, Tensor d1, Tensor d2) {
        be.evaluate(f, z, a, d1, d2);
    }

    /** Tangent, blocked: {@code Ȧ = D1 ⊙ Ż}. */
    public static void tangent(Backend be, Tensor d1, Tensor zDot, Tensor aDot) {
        be.broadcastMultiply(d1, zDot, aDot);
    }

    /** Backward: {@code G_Z = D1 ⊙ G_A}. */
    public static void backward(Backend be, Tensor d1, Tensor gA, Tensor gZ) {
        be.broadcastMultiply(d1, gA, gZ);
    }

    /**
     * Tangent of backward, blocked: {@code Ġ_Z = D2 ⊙ Ż ⊙ G_A + D1 ⊙ Ġ_A}; with {@code zDot} or {@code d2}
     * null (no input tangent, a piecewise-linear σ, or Gauss–Newton) only {@code D1 ⊙ Ġ_A}.
     */
    public static void tangentOfBackward(Backend be, Tensor d1, Tensor d2, Tensor gA, Tensor zDot, Tensor gADot,
                                         Tensor gZDot) {
        if (zDot == null || d2 == null) {
            be.broadcastMultiply(d1, gADot, gZDot);
        } else {
            be.elementwiseBackwardTangent(d1, d2, gA, zDot, gADot, gZDot);
        }
    }

    // Second-order (Taylor) rules for one tangent direction v pushed twice, x(θ + εv) = x + εẋ + ½ε²ẍ: they give
    // the gradient of vᵀH(θ)v, D³L[v, v, ·] (docs/theory.md §C.6). Plain loops: the GEMMs of the dense rules dominate.

    /** {@code D3 = σ'''(Z)} element by element. */
    public static void thirdDerivative(ElementwiseFunction f, Tensor z, Tensor d3) {
        for (long i = 0, n = z.size(); i < n; i++) {
            d3.set(i, f.d3(z.get(i)));
        }
    }

    /** Second-order tangent of the forward rule: {@code Ä = D2 ⊙ Ż² + D1 ⊙ Z̈} ({@code d2} null: σ'' ≡ 0). */
    public static void secondTangent(Tensor d1, Tensor d2, Tensor zDot, Tensor zDDot, Tensor aDDot) {
        for (long i = 0, n = zDot.size(); i < n; i++) {
            double zd = zDot.get(i);
            double v = d1.get(i) * zDDot.get(i);
            if (d2 != null) {
                v += d2.get(i) * zd * zd;
            }
            aDDot.set(i, v);
        }
    }

    /**
     * Second-order tangent of the backward rule {@code G_Z = σ'(Z) ⊙ G_A}:
     * {@code G̈_Z = D3⊙Ż²⊙G_A + D2⊙Z̈⊙G_A + 2·D2⊙Ż⊙Ġ_A + D1⊙G̈_A} ({@code d2}/{@code d3} null: zero).
     */
    public static void secondTangentOfBackward(Tensor d1, Tensor d2, Tensor d3, Tensor gA, Tensor zDot, Tensor zDDot,
                                               Tensor gADot, Tensor gADDot, Tensor gZDDot) {
        for (long i = 0, n = zDot.size(); i < n; i++) {
            double zd = zDot.get(i), g = gA.get(i);
            double v = d1.get(i) * gADDot.get(i);
            if (d2 != null) {
                v += d2.get(i) * (zDDot.get(i) * g + 2 * zd * gADot.get(i));
            }
            if (d3 != null) {
                v += d3.get(i) * zd * zd * g;
            }
            gZDDot.set(i, v);
        }
    }
}

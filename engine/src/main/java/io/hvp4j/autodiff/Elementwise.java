package io.hvp4j.autodiff;

import io.hvp4j.backend.Backend;
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
}

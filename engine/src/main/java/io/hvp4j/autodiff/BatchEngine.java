package io.hvp4j.autodiff;

import io.hvp4j.memory.Tensor;

/**
 * One-batch derivatives of a loss, the part an objective needs of any engine (the MLP engine, the graph engine):
 * parameters, the primal pass with its gradient, the forward pass alone, and the working memory. Curvature
 * products differ per engine in how they name parameter blocks and stay on the engines themselves.
 */
public interface BatchEngine extends AutoCloseable {
    /** Copies {@code values} (P elements, any dtype) into the parameters and forgets the primal pass. */
    void setParameters(Tensor values);

    /** The parameters ({@code P × 1}, the engine's dtype; read only). */
    Tensor parameters();

    /** Forgets the primal pass. */
    void invalidate();

    /** Primal forward and backward pass on a batch, kept for products; fills {@code grad} unless null. */
    double forwardBackward(Tensor x, Tensor y, double scale, Tensor grad);

    /** Primal forward pass only; returns {@code scale · Σ_rows ℓ}. */
    double forward(Tensor x, Tensor y, double scale);

    /**
     * Third-order product on the kept batch for one direction {@code v} (P elements): {@code hv = H·v} and
     * {@code d3 = D³L[v, v, ·] = ∇_θ(vᵀH(θ)v)} (P elements each, scaled as the loss); returns {@code vᵀHv}. The
     * gradient of the Hessian-trace penalty that HTR training adds.
     */
    double thirdOrder(Tensor v, Tensor hv, Tensor d3);

    /** The most vectors one product takes. */
    int maxBlock();

    /** Bytes of working memory held now. */
    long workingBytes();

    @Override
    void close();
}

package io.hvp4j.autodiff;

import io.hvp4j.memory.Tensor;

/**
 * One-batch derivatives of a loss, the part an objective needs of any engine (the MLP engine, the graph engine):
 * parameters, the primal pass with its gradient, the forward pass alone, and the working memory. Curvature
 * products differ per engine in how they name parameter blocks and stay on the engines themselves.
 */
public interface BatchEngine extends AutoCloseable {
    /**
     * Sets the parameters and forgets the primal pass.
     *
     * @param values P elements, any dtype (copied)
     */
    void setParameters(Tensor values);

    /**
     * The parameters.
     *
     * @return {@code P × 1}, the engine's dtype (read only)
     */
    Tensor parameters();

    /** Forgets the primal pass. */
    void invalidate();

    /**
     * The primal forward and backward pass on a batch, kept for products.
     *
     * @param x     the batch's inputs
     * @param y     its targets
     * @param scale the reduction's scale
     * @param grad  receives the batch's gradient (added in), or null
     * @return {@code scale · Σ_rows ℓ}
     */
    double forwardBackward(Tensor x, Tensor y, double scale, Tensor grad);

    /**
     * The primal forward pass only.
     *
     * @param x     the batch's inputs
     * @param y     its targets
     * @param scale the reduction's scale
     * @return {@code scale · Σ_rows ℓ}
     */
    double forward(Tensor x, Tensor y, double scale);

    /**
     * Third-order product on the kept batch for one direction {@code v} (P elements): {@code hv = H·v} and
     * {@code d3 = D³L[v, v, ·] = ∇_θ(vᵀH(θ)v)} (P elements each, scaled as the loss); returns {@code vᵀHv}. The
     * gradient of the Hessian-trace penalty that HTR training adds.
     *
     * @param v  the direction
     * @param hv receives {@code H·v}
     * @param d3 receives {@code ∇_θ(vᵀH(θ)v)}
     * @return {@code vᵀHv}
     */
    double thirdOrder(Tensor v, Tensor hv, Tensor d3);

    /**
     * The block limit.
     *
     * @return the most vectors one product takes
     */
    int maxBlock();

    /**
     * The working memory.
     *
     * @return bytes held now
     */
    long workingBytes();

    /** Frees the working memory. */
    @Override
    void close();
}

package io.hvp4j.objective;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

import java.util.List;

/**
 * A loss over a whole data set, {@code L(θ) = scale·Σ_i ℓ(f(x_i; θ), y_i)} ({@code scale} 1/N for mean, 1 for sum),
 * with its gradient and exact curvature products: the Hessian {@code H}, the Gauss–Newton part {@code H_O} and the
 * functional part {@code H_F = H − H_O}, for all parameters or a {@link ParameterGroup}, for blocks of vectors.
 * The spectral tools (rank, Lanczos, SLQ, traces) take this interface, whatever the network.
 *
 * <p>Vectors are {@code n × k} row-major tensors (column j is vector j; {@code n = P} or the group's size; rows in
 * the flat parameter order of {@code torch.nn.utils.parameters_to_vector}), of any dtype (converted). Batches are
 * added in float64, in order, so results are deterministic for a fixed backend and thread count.
 *
 * <p>Implementations are not thread-safe and own their working memory; {@link #close} frees it.
 */
public interface Objective extends AutoCloseable {
    /**
     * The precision.
     *
     * @return the dtype the products are computed in
     */
    DType dtype();

    /**
     * The number of parameters.
     *
     * @return P
     */
    int parameterCount();

    /**
     * The block limit.
     *
     * @return the most vectors one {@link #apply} call takes
     */
    int maxBlock();

    /**
     * The batching.
     *
     * @return the number of batches one pass over the data takes
     */
    int batches();

    /**
     * The layerwise blocks.
     *
     * @return MLP layers, or the modules of a graph (parameters sharing a name prefix), in flat order
     */
    List<ParameterGroup> groups();

    /**
     * Sets the parameters (copied).
     *
     * @param theta P elements, any dtype
     * @throws io.hvp4j.InvalidInputException for a wrong size, NaN or infinity
     */
    void setParameters(Tensor theta);

    /**
     * The current parameters.
     *
     * @return θ, {@code P × 1} (read only; owned by the objective)
     */
    Tensor parameters();

    /** Forgets cached primal passes, so that the next call recomputes everything (for timing). */
    void invalidate();

    /**
     * The loss and its gradient.
     *
     * @param grad filled with the gradient (P elements, any dtype), or null for the loss alone
     * @return the loss value
     */
    double gradient(Tensor grad);

    /**
     * The loss.
     *
     * @return the loss value
     */
    default double loss() {
        return gradient(null);
    }

    /**
     * The loss by forward passes only (what an inference pass costs); forgets the cached primal pass.
     *
     * @return the loss value
     */
    double forwardLoss();

    /**
     * {@code out = C·V} over the whole data set, for all parameters ({@code group} null) or the block {@code C_SS} of
     * a group. {@code V} and {@code out}: {@code n × k}, {@code k ≤ maxBlock()}, not overlapping (an overlap
     * throws {@link IllegalArgumentException}). Not thread-safe: a second thread calling while another is inside a
     * computing call gets an {@link IllegalStateException}.
     *
     * @param curvature {@code H}, {@code H_O} or {@code H_F}
     * @param group     a parameter group, or null for all parameters
     * @param v         the vectors, as columns
     * @param out       receives the products
     */
    void apply(Curvature curvature, ParameterGroup group, Tensor v, Tensor out);

    /**
     * Over the whole data set, for one direction {@code v} (P elements): {@code hv = H·v} and
     * {@code d3 = D³L[v, v, ·] = ∇_θ(vᵀH(θ)v)}, the gradient of the Hessian-trace penalty of HTR training (P elements
     * each, any dtype, not overlapping); returns {@code vᵀHv}. Exact (a third-order forward-over-reverse pass, about
     * two HVPs per batch); on a graph, parameter tensors where {@code v} is zero carry no tangent.
     *
     * @param v  the direction
     * @param hv receives {@code H·v}
     * @param d3 receives {@code ∇_θ(vᵀH(θ)v)}
     * @return {@code vᵀHv}
     */
    double thirdOrder(Tensor v, Tensor hv, Tensor d3);

    /**
     * A string that differs whenever the products could (model, loss, data, parameters, dtype, backend, batching),
     * for checkpoints of long computations. Needs the parameters set.
     *
     * @return the fingerprint
     * @throws UnsupportedOperationException when this objective cannot describe itself
     */
    default String fingerprint() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no fingerprint");
    }

    /**
     * The working memory.
     *
     * @return bytes of off-heap working memory held now (not counting the data set and the caller's vectors)
     */
    long workingBytes();

    /**
     * Frees the working memory (not the data set, which belongs to the caller). Closing twice does nothing; a
     * computing call after it throws {@link IllegalStateException}.
     */
    @Override
    void close();
}

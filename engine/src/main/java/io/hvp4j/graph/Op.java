package io.hvp4j.graph;

/**
 * One kind of graph operation with all of its derivative rules side by side (the model is JAX's rule tables):
 * the forward rule, the tangent rule for a block of {@code k} tangents, the backward rule, and the tangent of the
 * backward rule (second order). The executor ({@link GraphEngine}) calls them with an {@link OpContext} that holds
 * the node's buffers.
 *
 * <p>Layouts: a batched value is {@code rows × n} (one sample per row, {@code n} its per-sample size in PyTorch's
 * row-major order, e.g. {@code C·H·W}); its tangent block is {@code rows × (k·n)}: each row holds the {@code k}
 * tangents of that sample one after the other, so a block of {@code k} tangents of {@code rows} samples is also
 * {@code rows·k} samples. A parameter or constant input is {@code 1 × n}; a parameter's tangent block is
 * {@code 1 × (k·n)} (tangent {@code j} is elements {@code [j·n, (j+1)·n)}), as are its adjoint ({@code 1 × n}) and
 * the adjoint's tangent.
 *
 * <p>Rules overwrite their outputs (the executor accumulates when a value has several consumers). A null input
 * tangent is a symbolic zero: its terms are skipped. A null input adjoint means the executor does not need it.
 * Implementations are stateless: all state lives in the context's buffers, whose sizes the op states in
 * {@link #stateSizes} and {@link #scratchSize}. Ops are immutable and thread-safe.
 */
public interface Op {
    /** The operator's name as in ONNX/PyTorch, e.g. {@code Conv2d}. */
    String type();

    /**
     * Checks the input shapes (per sample for batched inputs, whole for parameters and constants) and returns the
     * per-sample output shape. Throws {@link io.hvp4j.InvalidInputException} with one clear line when an input
     * shape or an attribute is not supported.
     *
     * @param batched for each input, whether it is batched (data or an activation) or not (parameter, constant)
     */
    Shape outputShape(Shape[] inputs, boolean[] batched);

    /**
     * Per-sample sizes of the buffers this node keeps from {@link #forward} for the later rules (for example
     * {@code σ'(z)}); each becomes a {@code rows × size} tensor ({@link OpContext#state}).
     */
    default long[] stateSizes(Shape[] inputs, Shape output) {
        return new long[0];
    }

    /**
     * Elements of scratch memory (shared by all nodes, overwritten freely) the rules need for {@code rows} samples
     * and blocks of {@code k} tangents, when they may split their work into up to {@code threads} concurrent parts
     * ({@link io.hvp4j.backend.Backend#parallel}), each with scratch of its own.
     */
    default long scratchSize(Shape[] inputs, Shape output, int rows, int k, int threads) {
        return 0;
    }

    /** Forward: computes the output from the inputs and fills the state buffers. */
    void forward(OpContext c);

    /** Tangent, blocked: {@code outDot = Σ_i ∂out/∂in_i · inDot_i} over the inputs whose tangent is not null. */
    void tangent(OpContext c);

    /** Backward: {@code inGrad_i = (∂out/∂in_i)ᵀ · outGrad} for every input whose adjoint is wanted (non-null). */
    void backward(OpContext c);

    /**
     * Tangent of the backward rule, blocked: {@code inGradDot_i = (∂out/∂in_i)ᵀ · outGradDot} plus, when
     * {@code secondOrder}, the terms that carry the primal adjoint {@code outGrad}
     * ({@code Σ_j ∂²out/∂in_i∂in_j[inDot_j]ᵀ · outGrad}); Gauss–Newton products pass false.
     */
    void tangentOfBackward(OpContext c, boolean secondOrder);

    /** True when the op is linear in each input separately and has no second-order terms in any input pair. */
    default boolean linear() {
        return false;
    }

    // Third-order pass (the gradient of vᵀH(θ)v that HTR training needs), Taylor mode along one direction v
    // (k = 1): every value moves as x + εẋ + ½ε²ẍ and every adjoint as g + εġ + ½ε²g̈; a rule gives the second
    // ε-derivative of its output. Parameters move linearly (θ + εv), so an unbatched input has no second tangent.

    /**
     * Second-order tangent, one direction: {@code outDDot = Σ_i ∂out/∂in_i · inDDot_i + D²out[inDot, inDot]}
     * (the second term sums over all pairs of inputs; null tangents are zeros). The default, for ops whose
     * Jacobian is constant ({@link #linear()}), is the tangent rule applied to the second tangents; any other op
     * overrides it or is refused.
     */
    default void secondTangent(OpContext c) {
        requireThirdOrder();
        boolean any = false;
        for (int i = 0; i < c.inputs(); i++) {
            any |= c.inDDot(i) != null;
        }
        if (any) {
            tangent(c.secondAsFirst());
        } else {
            c.backend().zero(c.outDDot());
        }
    }

    /**
     * Second-order tangent of the backward rule, one direction: with {@code J_i = ∂out/∂in_i} at the primal point
     * and {@code ∂J_i[u]} its derivative along input tangents {@code u},
     * {@code inGradDDot_i = J_iᵀ·g̈ + 2·∂J_i[inDot]ᵀ·ġ + ∂J_i[inDDot]ᵀ·g + ∂²J_i[inDot, inDot]ᵀ·g} with
     * {@code g = outGrad}, {@code ġ = outGradDot}, {@code g̈ = outGradDDot}: the second ε-derivative of
     * {@code inGrad_i}. Null outputs are not wanted. The default, for {@link #linear()} ops, is
     * {@code J_iᵀ·g̈} by the tangent-of-backward rule; any other op overrides it or is refused.
     */
    default void secondTangentOfBackward(OpContext c) {
        requireThirdOrder();
        tangentOfBackward(c.secondAsFirst(), false);
    }

    private void requireThirdOrder() {
        if (!linear()) {
            throw new io.hvp4j.InvalidInputException("op " + type() + " has no third-order rule (needed for the"
                    + " gradient of vᵀHv, HTR training)");
        }
    }
}

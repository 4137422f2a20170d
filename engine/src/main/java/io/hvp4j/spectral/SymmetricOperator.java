package io.hvp4j.spectral;

import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

/**
 * A symmetric linear map {@code A} on {@code R^n}, applied to blocks of vectors: {@code out = A·V} for
 * {@code V} of {@code n × k} (row-major, column j is vector j, {@code 1 ≤ k ≤ maxBlock()}). The spectral tools
 * (dense assembly, eigenvalues, rank, Lanczos, trace estimators) see curvature matrices only through this.
 *
 * <p>{@code V} and {@code out} may have any dtype; the operator computes in {@link #dtype()}. Implementations
 * are not thread-safe unless they say so.
 */
public interface SymmetricOperator {
    /**
     * The size of the vectors.
     *
     * @return n
     */
    int dimension();

    /**
     * The precision.
     *
     * @return the dtype the products are computed in
     */
    DType dtype();

    /**
     * The block limit; larger blocks must be split by the caller.
     *
     * @return the largest block one {@link #apply} call accepts
     */
    int maxBlock();

    /**
     * {@code out = A·V}.
     *
     * @param v   {@code n × k}, {@code k ≤ maxBlock()}
     * @param out {@code n × k}, not overlapping {@code v}
     */
    void apply(Tensor v, Tensor out);

    /**
     * The operator, for reports.
     *
     * @return a short description, e.g. {@code "H_O (layer 1)"}
     */
    String description();
}

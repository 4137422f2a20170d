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
    /** n. */
    int dimension();

    /** The precision the products are computed in. */
    DType dtype();

    /** The largest block one {@link #apply} call accepts; larger blocks must be split by the caller. */
    int maxBlock();

    /** {@code out = A·V}; {@code V} and {@code out} are {@code n × k}, must not overlap, {@code k ≤ maxBlock()}. */
    void apply(Tensor v, Tensor out);

    /** A short description for reports, e.g. {@code "H_O (layer 1)"}. */
    String description();
}

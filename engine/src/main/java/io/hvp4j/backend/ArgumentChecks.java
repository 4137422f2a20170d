package io.hvp4j.backend;

import io.hvp4j.memory.Tensor;

/** Shape and dtype checks shared by the backends, so that every backend rejects the same calls. */
public final class ArgumentChecks {
    private ArgumentChecks() {
    }

    /**
     * Checks that tensors share a dtype.
     *
     * @param ts tensors (nulls are skipped)
     * @throws IllegalArgumentException on a mismatch
     */
    public static void checkDType(Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null && t.dtype() != ts[0].dtype()) {
                throw new IllegalArgumentException("dtype mismatch: " + ts[0] + " vs " + t);
            }
        }
    }

    /**
     * Checks that two tensors have the same number of elements.
     *
     * @param a a tensor
     * @param b another
     * @throws IllegalArgumentException on a mismatch
     */
    public static void checkSameSize(Tensor a, Tensor b) {
        if (a.size() != b.size()) {
            throw new IllegalArgumentException("size mismatch: " + a + " vs " + b);
        }
    }

    /**
     * Checks that two tensors have the same shape.
     *
     * @param a a tensor
     * @param b another
     * @throws IllegalArgumentException on a mismatch
     */
    public static void checkSameShape(Tensor a, Tensor b) {
        if (a.rows() != b.rows() || a.cols() != b.cols()) {
            throw new IllegalArgumentException("shape mismatch: " + a + " vs " + b);
        }
    }

    /**
     * Checks the operands of {@link Backend#gemm}.
     *
     * @param transA whether {@code op(A) = Aᵀ}
     * @param transB whether {@code op(B) = Bᵀ}
     * @param a      A
     * @param b      B
     * @param c      C
     * @return {@code {m, n, k}}
     * @throws IllegalArgumentException on a dtype or shape mismatch
     */
    public static int[] checkGemm(boolean transA, boolean transB, Tensor a, Tensor b, Tensor c) {
        checkDType(a, b, c);
        int m = transA ? a.cols() : a.rows();
        int ka = transA ? a.rows() : a.cols();
        int kb = transB ? b.cols() : b.rows();
        int n = transB ? b.rows() : b.cols();
        if (ka != kb || c.rows() != m || c.cols() != n) {
            throw new IllegalArgumentException("gemm shape mismatch: op(A) " + m + "x" + ka + ", op(B) " + kb + "x"
                    + n + ", C " + c.shapeString());
        }
        return new int[] {m, n, ka};
    }

    /**
     * The checks of {@link Backend#elementwiseBackwardTangent}: one dtype; {@code d1}, {@code d2}, {@code g} of one
     * shape; {@code zDot}, {@code gDot}, {@code out} of one blocked shape over it.
     *
     * @param d1   σ′(z), {@code rows × n}
     * @param d2   σ″(z), {@code rows × n}
     * @param g    the primal adjoint, {@code rows × n}
     * @param zDot the tangents, {@code rows × (k·n)}
     * @param gDot the adjoint tangents, {@code rows × (k·n)}
     * @param out  the result, {@code rows × (k·n)}
     * @return k
     * @throws IllegalArgumentException when a dtype or shape does not fit
     */
    public static int backwardTangentBlock(Tensor d1, Tensor d2, Tensor g, Tensor zDot, Tensor gDot, Tensor out) {
        checkDType(d1, d2, g, zDot, gDot, out);
        checkSameShape(d1, d2);
        checkSameShape(d1, g);
        checkSameShape(zDot, gDot);
        checkSameShape(zDot, out);
        return blockFactor(d1, zDot);
    }

    /**
     * Checks a blocked operand of {@code rows × (k·n)} against a primal of {@code rows × n}.
     *
     * @param primal  {@code rows × n}
     * @param blocked {@code rows × (k·n)}
     * @return k
     * @throws IllegalArgumentException when the shapes do not fit
     */
    public static int blockFactor(Tensor primal, Tensor blocked) {
        if (blocked.rows() != primal.rows() || primal.cols() == 0 || blocked.cols() % primal.cols() != 0) {
            throw new IllegalArgumentException("blocked operand " + blocked + " does not match primal " + primal);
        }
        return blocked.cols() / primal.cols();
    }
}

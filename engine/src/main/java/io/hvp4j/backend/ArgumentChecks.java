package io.hvp4j.backend;

import io.hvp4j.memory.Tensor;

/** Shape and dtype checks shared by the backends, so that every backend rejects the same calls. */
public final class ArgumentChecks {
    private ArgumentChecks() {
    }

    public static void checkDType(Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null && t.dtype() != ts[0].dtype()) {
                throw new IllegalArgumentException("dtype mismatch: " + ts[0] + " vs " + t);
            }
        }
    }

    public static void checkSameSize(Tensor a, Tensor b) {
        if (a.size() != b.size()) {
            throw new IllegalArgumentException("size mismatch: " + a + " vs " + b);
        }
    }

    public static void checkSameShape(Tensor a, Tensor b) {
        if (a.rows() != b.rows() || a.cols() != b.cols()) {
            throw new IllegalArgumentException("shape mismatch: " + a + " vs " + b);
        }
    }

    /** GEMM shape check; returns {m, n, k}. */
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

    /** Checks a blocked operand of {@code rows × (k·n)} against a primal of {@code rows × n}; returns k. */
    public static int blockFactor(Tensor primal, Tensor blocked) {
        if (blocked.rows() != primal.rows() || primal.cols() == 0 || blocked.cols() % primal.cols() != 0) {
            throw new IllegalArgumentException("blocked operand " + blocked + " does not match primal " + primal);
        }
        return blocked.cols() / primal.cols();
    }
}

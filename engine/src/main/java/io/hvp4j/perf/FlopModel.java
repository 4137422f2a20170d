package io.hvp4j.perf;

import io.hvp4j.model.Mlp;

/**
 * Floating-point operation counts of the MLP products, for GFLOP/s figures: GEMM flops only (element-wise work,
 * the loss and biases are not counted), each multiply-add counted as 2.
 *
 * <p>{@code F = 2B·Σ_l in_l·out_l} is one forward pass over B samples and {@code F1} its first-layer term. The
 * gradient adds the backward pass: {@code ∂W = Gᵀ·X} for every layer ({@code F}) and {@code ∂A = G·W} for every
 * layer but the first ({@code F − F1}). One tangent pushed forward costs {@code 2F − F1} (layer 0: {@code X·Ẇᵀ};
 * the others {@code X·Ẇᵀ + Ȧ·Wᵀ}), and backward {@code 4F − 3F1} for the Hessian (layer 0: {@code Ġᵀ·X}; the
 * others {@code Ġᵀ·X + Gᵀ·Ȧ} and {@code Ġ·W + G·Ẇ}). Hence, per call and recomputing the primal pass:
 * <ul>
 *   <li>forward {@code F};</li>
 *   <li>gradient {@code 3F − F1};</li>
 *   <li>HVP {@code 9F − 5F1} = gradient + one tangent ({@code 6F − 4F1});</li>
 *   <li>Gauss–Newton product {@code 5F − 2F1}: forward, tangent forward ({@code 2F − F1}), tangent backward
 *       without the second-order terms ({@code Ġᵀ·X} and {@code Ġ·W}: {@code 2F − F1});</li>
 *   <li>functional product {@code H_F·v}: {@code 9F − 5F1}, the HVP's count (the same products; the loss's
 *       tangent term is zero but removing it saves no GEMM);</li>
 *   <li>block HVP of k vectors {@code (3F − F1) + k·(6F − 4F1)}: one primal pass shared by k tangents.</li>
 * </ul>
 * These are the counts of the engine-core issue ({@code blockHvp(1) == hvp()}), used for every GFLOP/s figure so
 * that the same work has the same count in every tool (the HVP's count includes the gradient, as PyTorch's
 * double-backward HVP computes it). What hvp4j executes differs: its products run the primal pass without the
 * weight gradients {@code ∂W} ({@code 2F − F1} instead of {@code 3F − F1}), and its Gauss–Newton product runs the
 * primal backward pass that all products share; see the {@code *Executed} methods (checked against the engine by
 * counting its GEMM calls).
 */
public final class FlopModel {
    private final double f;
    private final double f1;

    /**
     * The counts of one network and batch size.
     *
     * @param mlp   the network
     * @param batch samples per batch
     */
    public FlopModel(Mlp mlp, int batch) {
        double sum = 0;
        for (int l = 0; l < mlp.layers(); l++) {
            sum += (double) mlp.width(l) * mlp.width(l + 1);
        }
        f = 2.0 * batch * sum;
        f1 = 2.0 * batch * mlp.width(0) * mlp.width(1);
    }

    /**
     * One forward pass.
     *
     * @return {@code F}
     */
    public double f() {
        return f;
    }

    /**
     * The first layer's part of a forward pass.
     *
     * @return {@code F1}
     */
    public double f1() {
        return f1;
    }

    /**
     * A forward pass, as the tools count it.
     *
     * @return {@code F}
     */
    public double forward() {
        return f;
    }

    /**
     * A gradient, as the tools count it.
     *
     * @return {@code 3F − F1}
     */
    public double gradient() {
        return 3 * f - f1;
    }

    /**
     * A Hessian-vector product with its gradient, as the tools count it.
     *
     * @return {@code 9F − 5F1}
     */
    public double hvp() {
        return 9 * f - 5 * f1;
    }

    /**
     * A Gauss–Newton product, as the tools count it.
     *
     * @return {@code 5F − 2F1}
     */
    public double ggn() {
        return 5 * f - 2 * f1;
    }

    /**
     * What hvp4j executes for one HVP or functional product with a fresh primal pass.
     *
     * @return GEMM flops, {@code 8F − 5F1}
     */
    public double hvpExecuted() {
        return 8 * f - 5 * f1;
    }

    /**
     * What hvp4j executes for one Gauss–Newton product with a fresh primal pass.
     *
     * @return GEMM flops, {@code 6F − 3F1}
     */
    public double ggnExecuted() {
        return 6 * f - 3 * f1;
    }

    /**
     * What hvp4j executes for a block of HVPs with a fresh primal pass.
     *
     * @param k vectors in the block
     * @return GEMM flops, {@code (2F − F1) + k(6F − 4F1)}
     */
    public double blockHvpExecuted(int k) {
        return (2 * f - f1) + k * (6 * f - 4 * f1);
    }

    /**
     * A functional-part product, as the tools count it.
     *
     * @return {@code 9F − 5F1}
     */
    public double functional() {
        return 9 * f - 5 * f1;
    }

    /**
     * A block of Hessian-vector products sharing one primal pass, as the tools count it.
     *
     * @param k vectors in the block
     * @return {@code (3F − F1) + k(6F − 4F1)}
     */
    public double blockHvp(int k) {
        return (3 * f - f1) + k * (6 * f - 4 * f1);
    }

    /**
     * One GEMM {@code C = op(A)·op(B)}.
     *
     * @param m rows of C
     * @param n columns of C
     * @param k the inner dimension
     * @return {@code 2mnk}
     */
    public static double gemm(long m, long n, long k) {
        return 2.0 * m * n * k;
    }
}

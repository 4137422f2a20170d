package io.hvp4j.model;

import io.hvp4j.backend.Backend;
import io.hvp4j.memory.Tensor;

/**
 * The four rules of a dense layer {@code Z = A Wᵀ + 1bᵀ} (rows are samples, {@code W} is {@code (out, in)}).
 * Tangents come in blocks of {@code k}: a blocked activation tangent {@code Ȧ} is {@code B × (k·in)}
 * (equivalently {@code (B·k) × in}), a weight tangent block {@code Ẇ} is {@code (k·out) × in} and a bias
 * tangent block {@code k·out} elements (tangent j's pieces consecutive).
 */
public final class Dense {
    private Dense() {
    }

    /** Forward: {@code Z = A Wᵀ + 1bᵀ} ({@code b} may be null). */
    public static void forward(Backend be, Tensor a, Tensor w, Tensor b, Tensor z) {
        be.gemm(false, true, 1, a, w, 0, z);
        if (b != null) {
            be.addToRows(b, z);
        }
    }

    /**
     * Tangent: {@code Ż = Ȧ Wᵀ + A Ẇᵀ + 1ḃᵀ}, each tangent of the block. {@code aDot} null means {@code Ȧ = 0};
     * {@code wDot} null means the layer's parameters carry no tangent ({@code bDot} then ignored).
     * {@code zDot} is {@code B × (k·out)}.
     */
    public static void tangent(Backend be, Tensor a, Tensor aDot, Tensor w, Tensor wDot, Tensor bDot, Tensor zDot,
                               int k) {
        int rows = a.rows(), out = w.rows(), in = w.cols();
        double beta = 0;
        if (aDot != null) {
            be.gemm(false, true, 1, aDot.reshape(rows * k, in), w, 0, zDot.reshape(rows * k, out));
            beta = 1;
        }
        if (wDot != null) {
            be.gemm(false, true, 1, a, wDot, beta, zDot.reshape(rows, k * out));
            if (bDot != null) {
                be.addToRows(bDot, zDot.reshape(rows, k * out));
            }
            beta = 1;
        }
        if (beta == 0) {
            throw new IllegalStateException("tangent of a dense layer with neither input nor parameter tangent");
        }
    }

    /**
     * Backward: {@code ∂W = G_Zᵀ A}, {@code ∂b = 1ᵀ G_Z}, {@code G_A = G_Z W}. Null outputs are skipped.
     */
    public static void backward(Backend be, Tensor gZ, Tensor a, Tensor w, Tensor dW, Tensor dB, Tensor gA) {
        if (dW != null) {
            be.gemm(true, false, 1, gZ, a, 0, dW);
        }
        if (dB != null) {
            be.columnSums(1, gZ, 0, dB);
        }
        if (gA != null) {
            be.gemm(false, false, 1, gZ, w, 0, gA);
        }
    }

    /**
     * Tangent of backward, blocked: {@code d∂W = Ġ_Zᵀ A + G_Zᵀ Ȧ}, {@code d∂b = 1ᵀ Ġ_Z},
     * {@code Ġ_A = Ġ_Z W + G_Z Ẇ}. Null {@code gZ} drops the second-order terms (Gauss–Newton), null
     * {@code aDot}/{@code wDotByRow} mean zero tangents. Output {@code dWDot} is {@code (k·out) × in},
     * {@code dBDot} has {@code k·out} elements, {@code gADot} is {@code B × (k·in)}. {@code wDotByRow} is the
     * weight tangent block rearranged to {@code out × (k·in)}; {@code scratch} holds {@code out·k·in} elements (unused, may be null, for {@code k = 1}).
     */
    public static void tangentOfBackward(Backend be, Tensor gZDot, Tensor gZ, Tensor a, Tensor aDot, Tensor w,
                                         Tensor wDotByRow, Tensor dWDot, Tensor dBDot, Tensor gADot,
                                         Tensor scratch, int k) {
        int rows = a.rows(), out = w.rows(), in = w.cols();
        Tensor gZDotWide = gZDot.reshape(rows, k * out);
        if (dWDot != null) {
            be.gemm(true, false, 1, gZDotWide, a, 0, dWDot);
            if (gZ != null && aDot != null && k == 1) {
                // One tangent: the result is already out × in, so accumulate into dWDot (no scratch).
                be.gemm(true, false, 1, gZ, aDot.reshape(rows, in), 1, dWDot);
            } else if (gZ != null && aDot != null) {
                // G_Zᵀ Ȧ for all k tangents is one GEMM whose result is out × (k·in); reorder it to (k·out) × in.
                Tensor t = scratch.view(0, out, k * in);
                be.gemm(true, false, 1, gZ, aDot.reshape(rows, k * in), 0, t);
                be.swapLeadingAxes(t, out, k, in, 1, dWDot);
            }
        }
        if (dBDot != null) {
            be.columnSums(1, gZDotWide, 0, dBDot);
        }
        if (gADot != null) {
            be.gemm(false, false, 1, gZDot.reshape(rows * k, out), w, 0, gADot.reshape(rows * k, in));
            if (gZ != null && wDotByRow != null) {
                be.gemm(false, false, 1, gZ, wDotByRow, 1, gADot.reshape(rows, k * in));
            }
        }
    }

    /**
     * Second-order tangent for one direction ({@code k = 1}; the parameters move linearly, so {@code Ẅ = 0}):
     * {@code Z̈ = Ä Wᵀ + 2 Ȧ Ẇᵀ}. {@code aDot} and {@code aDDot} null (the first layer, whose input is data)
     * give {@code Z̈ = 0}; {@code wDot} null drops the second term.
     */
    public static void secondTangent(Backend be, Tensor aDot, Tensor aDDot, Tensor w, Tensor wDot, Tensor zDDot) {
        if (aDDot == null) {
            be.zero(zDDot);
            return;
        }
        be.gemm(false, true, 1, aDDot, w, 0, zDDot);
        if (wDot != null) {
            be.gemm(false, true, 2, aDot, wDot, 1, zDDot);
        }
    }

    /**
     * Second-order tangent of backward for one direction ({@code Ẅ = 0}):
     * {@code d²∂W = G̈_Zᵀ A + 2 Ġ_Zᵀ Ȧ + G_Zᵀ Ä}, {@code d²∂b = 1ᵀ G̈_Z}, {@code G̈_A = G̈_Z W + 2 Ġ_Z Ẇ}.
     * Null {@code aDot}/{@code aDDot} (first layer) drop their terms; null outputs are skipped.
     */
    public static void secondTangentOfBackward(Backend be, Tensor gZDDot, Tensor gZDot, Tensor gZ, Tensor a,
                                               Tensor aDot, Tensor aDDot, Tensor w, Tensor wDot, Tensor dWDDot,
                                               Tensor dBDDot, Tensor gADDot) {
        if (dWDDot != null) {
            be.gemm(true, false, 1, gZDDot, a, 0, dWDDot);
            if (aDot != null) {
                be.gemm(true, false, 2, gZDot, aDot, 1, dWDDot);
            }
            if (aDDot != null) {
                be.gemm(true, false, 1, gZ, aDDot, 1, dWDDot);
            }
        }
        if (dBDDot != null) {
            be.columnSums(1, gZDDot, 0, dBDDot);
        }
        if (gADDot != null) {
            be.gemm(false, false, 1, gZDDot, w, 0, gADDot);
            if (wDot != null) {
                be.gemm(false, false, 2, gZDot, wDot, 1, gADDot);
            }
        }
    }
}

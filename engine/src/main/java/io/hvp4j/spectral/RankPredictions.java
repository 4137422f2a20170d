package io.hvp4j.spectral;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import java.util.Optional;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * Closed-form ranks of {@code H_O}, {@code H_F} and {@code H} for deep linear networks at a generic point
 * (docs/theory.md §A.2–A.7, [SBH]).
 *
 * <ul>
 *   <li>No bias (§A.3, §A.5): with {@code K′ = K − 1} for ce and {@code K} for mse and cosh,
 *       {@code q = min(r, K′, M_1, …, M_{L−1})}, {@code s = min(r, K′)}:
 *       {@code rank H_O = q(r + K′ − q)}, {@code rank H_F = 2qΣM + 2qs − Lq²} ({@code 0} for L = 1, where the
 *       model is linear in θ), {@code rank H = 2qΣM + q(r + K′) − Lq²}; ΣM runs over hidden widths only.</li>
 *   <li>Bias in every layer (§A.7, our derivation, checked for L = 2…4 with mse and ce), only in its valid regime
 *       {@code r̃ = rank([X 1]) = r + 1} and every hidden width {@code ≥ min(r̃, K′)}:
 *       {@code q̃ = min(r̃, K′, M_l + 1)}, {@code s̃ = min(r̃, K′)}, {@code rank H_O = q(r + K′ − q) + K′},
 *       {@code rank H_F = 2q̃ΣM + 2q̃s̃ − Lq̃² + (L − 2)q̃},
 *       {@code rank H = rank H_O + rank H_F − (2q̃s̃ − q̃² − q̃)}.</li>
 * </ul>
 * Outside these settings (a non-identity activation, bias outside the regime or with L = 1 or the cosh loss)
 * there is no prediction: {@link Optional#empty()}. {@code s = min(r, K′)} holds at a generic point such as a
 * random initialization; during training the formulas are upper bounds only.
 *
 * <p>r is the numerical rank of the N × d input matrix X by the SVD convention
 * ({@code σ_max · max(N, d) · ε} of the data's dtype); see {@link #inputRank}.
 */
public final class RankPredictions {
    private RankPredictions() {
    }

    /**
     * Predicted ranks.
     *
     * @param outer      rank of {@code H_O}
     * @param functional rank of {@code H_F}
     * @param hessian    rank of {@code H}
     * @param q          the bottleneck {@code q} (§A.2)
     * @param s          {@code s = min(r, K′)} ({@code s̃} with bias)
     * @param kPrime     {@code K′}
     * @param inputRank  r
     * @param augmentedInputRank {@code r̃ = rank([X 1])} with bias, else -1
     * @param section    the spec section of the formula: {@code "A.3"} or {@code "A.7"}
     */
    public record Prediction(int outer, int functional, int hessian, int q, int s, int kPrime, int inputRank,
                             int augmentedInputRank, String section) {
    }

    /**
     * The outputs that count for the ranks.
     *
     * @param loss    the loss
     * @param outputs K
     * @return {@code K′}: {@code K − 1} for ce (softmax shift invariance, §A.5), else {@code K}
     */
    public static int effectiveOutputs(Loss loss, int outputs) {
        return loss == Loss.CE ? outputs - 1 : outputs;
    }

    /**
     * The prediction for {@code mlp} and {@code loss} with input rank {@code r} and (with bias)
     * {@code rTilde = rank([X 1])} (ignored without bias); empty outside the formulas' valid settings.
     *
     * @param mlp    the network
     * @param loss   the loss
     * @param r      the input rank
     * @param rTilde {@code rank([X 1])}, used with bias only
     * @return the predicted ranks, or empty
     */
    public static Optional<Prediction> predict(Mlp mlp, Loss loss, int r, int rTilde) {
        if (mlp.activation() != Activation.IDENTITY || r < 0) {
            return Optional.empty();
        }
        int layers = mlp.layers();
        int kp = effectiveOutputs(loss, mlp.outputs());
        int sumHidden = 0;
        int minHidden = Integer.MAX_VALUE;
        for (int l = 1; l < layers; l++) {
            sumHidden += mlp.width(l);
            minHidden = Math.min(minHidden, mlp.width(l));
        }
        int q = Math.min(Math.min(r, kp), minHidden);
        if (!mlp.hasBias()) {
            int s = Math.min(r, kp);
            int outer = q * (r + kp - q);
            if (layers == 1) {
                return Optional.of(new Prediction(outer, 0, outer, q, s, kp, r, -1, "A.3"));
            }
            int functional = 2 * q * sumHidden + 2 * q * s - layers * q * q;
            int hessian = 2 * q * sumHidden + q * (r + kp) - layers * q * q;
            return Optional.of(new Prediction(outer, functional, hessian, q, s, kp, r, -1, "A.3"));
        }
        if (layers < 2 || loss == Loss.COSH || rTilde != r + 1 || minHidden < Math.min(rTilde, kp)) {
            return Optional.empty();
        }
        int qt = Math.min(rTilde, kp);
        for (int l = 1; l < layers; l++) {
            qt = Math.min(qt, mlp.width(l) + 1);
        }
        int st = Math.min(rTilde, kp);
        int outer = q * (r + kp - q) + kp;
        int functional = 2 * qt * sumHidden + 2 * qt * st - layers * qt * qt + (layers - 2) * qt;
        int hessian = outer + functional - (2 * qt * st - qt * qt - qt);
        return Optional.of(new Prediction(outer, functional, hessian, qt, st, kp, r, rTilde, "A.7"));
    }

    /**
     * The rank deficiency {@code p − rank(H)} of a bias-free deep linear network in closed form (docs/theory.md §A.3,
     * our derivation): {@code Σ_{l=1}^{L} (M_{l−1} − q)(M_l − q) + q(d − r)} for mse and cosh; for ce
     * {@code M_L} is replaced by {@code K′ = K − 1} inside the sum and {@code M_{L−1}} is added (the softmax shift
     * invariance removes one output row of {@code W_L}). Each layer loses an {@code (M_{l−1} − q) × (M_l − q)}
     * block of directions; input directions outside the data's span cost {@code q(d − r)}. Empty outside that
     * setting (activation, bias).
     *
     * @param mlp  the network
     * @param loss the loss
     * @param r    the input rank
     * @return the deficiency, or empty
     */
    public static java.util.OptionalInt deficiency(Mlp mlp, Loss loss, int r) {
        if (mlp.activation() != Activation.IDENTITY || mlp.hasBias() || r < 0) {
            return java.util.OptionalInt.empty();
        }
        int layers = mlp.layers();
        int kp = effectiveOutputs(loss, mlp.outputs());
        int q = Math.min(r, kp);
        for (int l = 1; l < layers; l++) {
            q = Math.min(q, mlp.width(l));
        }
        long sum = (long) q * (mlp.inputs() - r);
        for (int l = 1; l <= layers; l++) {
            int out = l == layers ? kp : mlp.width(l);
            sum += (long) (mlp.width(l - 1) - q) * (out - q);
        }
        if (loss == Loss.CE) {
            sum += mlp.width(layers - 1);
        }
        return java.util.OptionalInt.of(Math.toIntExact(sum));
    }

    /**
     * The prediction for a data set's inputs; computes r (and r̃ with bias).
     *
     * @param mlp  the network
     * @param loss the loss
     * @param x    the inputs, N × d
     * @return the predicted ranks, or empty
     */
    public static Optional<Prediction> predict(Mlp mlp, Loss loss, Tensor x) {
        if (mlp.activation() != Activation.IDENTITY) {
            return Optional.empty();
        }
        int r = inputRank(x).rank();
        int rt = mlp.hasBias() ? augmentedInputRank(x).rank() : -1;
        return predict(mlp, loss, r, rt);
    }

    /**
     * The numerical rank of the {@code N × d} input matrix by the SVD convention of {@code numpy.linalg.matrix_rank}
     * (singular values of X above {@code σ_max · max(N, d) · ε}, ε of X's dtype). The singular values are computed
     * from X itself (Householder QR of row blocks, then an SVD of the small triangular factor), not from
     * {@code XᵀX}: squaring would lift the zero singular values of rank-deficient data to about
     * {@code √ε·σ_max}, far above the tolerance.
     *
     * @param x the inputs, N × d
     * @return r with its tolerance and gap
     */
    public static RankReport inputRank(Tensor x) {
        return NumericalRank.ofSingularValues(singularValues(x, false), x.rows(), x.cols(), x.dtype(),
                NumericalRank.Tolerance.DEFAULT);
    }

    /**
     * The numerical rank of {@code [X 1]} ({@code N × (d+1)}), the r̃ of §A.7.
     *
     * @param x the inputs, N × d
     * @return r̃ with its tolerance and gap
     */
    public static RankReport augmentedInputRank(Tensor x) {
        return NumericalRank.ofSingularValues(singularValues(x, true), x.rows(), x.cols() + 1, x.dtype(),
                NumericalRank.Tolerance.DEFAULT);
    }

    /** Largest min(N, d) handled by {@link #singularValues}. */
    static final int MAX_SMALL_SIDE = 16_000;
    private static final int CHUNK_ROWS = 2048;

    /** Singular values of X (or of {@code [X 1]}), by tall-skinny QR over row blocks and an SVD of R. */
    static double[] singularValues(Tensor x, boolean appendOnes) {
        int rows = x.rows(), cols = x.cols() + (appendOnes ? 1 : 0);
        boolean transpose = rows < cols;
        int m = transpose ? cols : rows, c = transpose ? rows : cols;
        if (c == 0) {
            return new double[0];
        }
        if (c > MAX_SMALL_SIDE) {
            throw new InvalidInputException("the input matrix is " + rows + "x" + cols + "; its rank is computed"
                    + " only when min(N, d) <= " + MAX_SMALL_SIDE);
        }
        DMatrixRMaj r = null;
        DMatrixRMaj last = null;
        int i = 0;
        while (i < m) {
            int top = r == null ? 0 : r.numRows;
            int take = r == null ? Math.min(m, Math.max(c, CHUNK_ROWS)) : Math.min(CHUNK_ROWS, m - i);
            DMatrixRMaj s = new DMatrixRMaj(top + take, c);
            if (r != null) {
                System.arraycopy(r.data, 0, s.data, 0, top * c);
            }
            for (int a = 0; a < take; a++) {
                for (int b = 0; b < c; b++) {
                    int row = transpose ? b : i + a, col = transpose ? i + a : b;
                    double v = col < x.cols() ? x.get(row, col) : 1.0;
                    s.data[(top + a) * c + b] = v;
                }
            }
            i += take;
            if (i >= m) {
                last = s;
                break;
            }
            QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(s.numRows, c);
            if (!qr.decompose(s)) {
                throw new ArithmeticException("QR of the input matrix failed");
            }
            r = qr.getR(null, true);
        }
        SingularValueDecomposition_F64<DMatrixRMaj> svd =
                DecompositionFactory_DDRM.svd(last.numRows, c, false, false, true);
        if (!svd.decompose(last)) {
            throw new ArithmeticException("SVD of the input matrix did not converge");
        }
        double[] sv = svd.getSingularValues();
        int k = svd.numberOfSingularValues();
        double[] out = new double[k];
        for (int j = 0; j < k; j++) {
            out[j] = Math.abs(sv[j]);
        }
        return out;
    }
}

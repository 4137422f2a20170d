package io.hvp4j.spectral;

import io.hvp4j.random.Rng;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.ScalarBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Test matrices, small networks and an independent (Jacobi) eigenvalue reference. */
final class SpectralFixtures {
    private SpectralFixtures() {
    }

    /** A small MLP objective in f64 on the scalar backend (deterministic), closed with {@code arena}'s owner. */
    static MlpObjective mlp(Arena arena, int[] widths, Activation act, boolean bias, Loss loss, int n, long seed) {
        Mlp mlp = new Mlp(widths, act, bias);
        double[] theta = Initializer.GLOROT_NORMAL.initialize(mlp, seed);
        SplittableRandom rng = new SplittableRandom(seed + 1);
        if (bias) {
            for (int l = 0; l < mlp.layers(); l++) {
                for (int o = 0; o < mlp.width(l + 1); o++) theta[mlp.biasOffset(l) + o] = 0.3 * Rng.gaussian(rng);
            }
        }
        Dataset data = Dataset.gaussian(arena, DType.F64, n, widths[0], widths[widths.length - 1], loss, seed + 2);
        MlpObjective f = new MlpObjective(mlp, loss, Loss.Reduction.MEAN, data, new ScalarBackend(), DType.F64, n, 8);
        f.setParameters(Tensor.of(arena, DType.F64, theta.length, 1, theta));
        return f;
    }

    /** The dense matrix of an operator by n unit products (column j = A·e_j), symmetrised. */
    static double[][] dense(SymmetricOperator a) {
        int n = a.dimension();
        double[][] m = new double[n][n];
        for (int j = 0; j < n; j++) {
            double[] e = new double[n];
            e[j] = 1;
            double[] c = Products.apply(a, e);
            for (int i = 0; i < n; i++) m[i][j] = c[i];
        }
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double s = 0.5 * (m[i][j] + m[j][i]);
                m[i][j] = s;
                m[j][i] = s;
            }
        }
        return m;
    }

    static SymmetricOperator diagonal(double... d) {
        double[][] m = new double[d.length][d.length];
        for (int i = 0; i < d.length; i++) m[i][i] = d[i];
        return Operators.dense(m);
    }

    /** A random orthogonal matrix (QR of a Gaussian matrix by Gram–Schmidt), rows are the vectors. */
    static double[][] orthogonal(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] q = new double[n][];
        for (int j = 0; j < n; j++) q[j] = Rng.gaussians(rng, n);
        int k = Products.orthonormalize(q, n, new double[0][], 0, 1e-12);
        if (k != n) throw new AssertionError("rank deficient");
        return q;
    }

    /** {@code Σ_i λ_i q_i q_iᵀ} for orthonormal rows q. */
    static double[][] withSpectrum(double[] lambda, long seed) {
        int n = lambda.length;
        double[][] q = orthogonal(n, seed);
        double[][] m = new double[n][n];
        for (int k = 0; k < n; k++) {
            for (int i = 0; i < n; i++) {
                double a = lambda[k] * q[k][i];
                for (int j = 0; j < n; j++) m[i][j] += a * q[k][j];
            }
        }
        for (int i = 0; i < n; i++) for (int j = 0; j < i; j++) {
            double s = 0.5 * (m[i][j] + m[j][i]);
            m[i][j] = s;
            m[j][i] = s;
        }
        return m;
    }

    /** Symmetric matrix with standard-normal entries. */
    static double[][] randomSymmetric(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] m = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                m[i][j] = Rng.gaussian(rng);
                m[j][i] = m[i][j];
            }
        }
        return m;
    }

    /** Eigenvalues ascending by cyclic Jacobi rotations (independent of {@link Tridiagonal}). */
    static double[] jacobiEigenvalues(double[][] matrix) {
        int n = matrix.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) a[i] = matrix[i].clone();
        double total = 0;
        for (double[] row : a) for (double x : row) total += x * x;
        for (int sweep = 0; sweep < 60; sweep++) {
            double off = 0;
            for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) off += a[i][j] * a[i][j];
            if (off <= 1e-34 * total) break;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    double apq = a[p][q];
                    if (apq == 0) continue;
                    // Rotation angle that annihilates a[p][q]: tan(2φ) = 2 a_pq / (a_qq − a_pp).
                    double tau = (a[q][q] - a[p][p]) / (2 * apq);
                    double t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
                    double c = 1 / Math.sqrt(1 + t * t), s = t * c;
                    for (int k = 0; k < n; k++) {
                        double x = a[k][p], y = a[k][q];
                        a[k][p] = c * x - s * y;
                        a[k][q] = s * x + c * y;
                    }
                    for (int k = 0; k < n; k++) {
                        double x = a[p][k], y = a[q][k];
                        a[p][k] = c * x - s * y;
                        a[q][k] = s * x + c * y;
                    }
                }
            }
        }
        double[] ev = new double[n];
        for (int i = 0; i < n; i++) ev[i] = a[i][i];
        Arrays.sort(ev);
        return ev;
    }

    static double trace(double[][] m) {
        double s = 0;
        for (int i = 0; i < m.length; i++) s += m[i][i];
        return s;
    }

    /** √(2(‖A‖_F² − ‖diag A‖²)/m): the exact standard error of Hutchinson with m Rademacher probes. */
    static double rademacherStandardError(double[][] m, int probes) {
        double off = 0;
        for (int i = 0; i < m.length; i++) for (int j = 0; j < m.length; j++) if (i != j) off += m[i][j] * m[i][j];
        return Math.sqrt(2 * off / probes);
    }

    static double[] matVec(double[][] m, double[] v) {
        double[] out = new double[m.length];
        for (int i = 0; i < m.length; i++) out[i] = Products.dot(m[i], v);
        return out;
    }
}

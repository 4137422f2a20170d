package io.hvp4j.spectral;

import io.hvp4j.random.Rng;
import io.hvp4j.Progress;
import io.hvp4j.memory.DType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Extreme eigenpairs of a symmetric operator by the Lanczos process with full reorthogonalisation (classical
 * Gram–Schmidt, twice, against the whole stored basis), in f64; the products run in the operator's dtype, one
 * column per {@link SymmetricOperator#apply} call.
 *
 * <p>Start vector: standard normal from {@code SplittableRandom(seed)}. After every step the tridiagonal matrix
 * {@code T_m} is diagonalised ({@link Tridiagonal}) and the residual estimates {@code |β_m·z_{m,i}|} of the
 * wanted Ritz pairs (the {@code top} largest and {@code bottom} smallest Ritz values) are compared with
 * {@code tolerance·|θ|_max}; when they all pass, the Ritz vectors are formed and their residuals
 * {@code ‖A·u − θ·u‖} computed explicitly (one more product per pair, in blocks). Those explicit residuals are
 * reported and decide the per-pair converged flag; if one fails and iterations remain the process continues.
 *
 * <p>An invariant subspace ({@code β ≈ 0}) is handled by restarting with a new random vector orthogonal to the
 * basis (coupling 0 in {@code T}); when the basis spans the whole space ({@code m = n}) the Ritz pairs are exact.
 * Deterministic for a fixed seed (and deterministic products).
 */
public final class Lanczos {
    private Lanczos() {
    }

    /** Breakdown threshold relative to the running norm estimate. */
    static final double BREAKDOWN = 1e-12;

    /**
     * Settings.
     *
     * @param top           number of largest eigenpairs wanted
     * @param bottom        number of smallest (most negative) eigenpairs wanted
     * @param maxIterations largest basis size (= products before the residual checks)
     * @param tolerance     a pair is converged when {@code ‖A·u − θ·u‖ ≤ tolerance·|θ|_max}
     * @param seed          seed of the start vector (and of restart vectors)
     */
    public record Options(int top, int bottom, int maxIterations, double tolerance, long seed) {
        /** Validates the settings ({@link IllegalArgumentException} for bad ones). */
        public Options {
            if (top < 0 || bottom < 0 || top + bottom == 0) {
                throw new IllegalArgumentException("ask for at least one eigenpair (top " + top + ", bottom "
                        + bottom + ")");
            }
            if (maxIterations < 1) {
                throw new IllegalArgumentException("maxIterations must be positive, got " + maxIterations);
            }
            if (!(tolerance > 0) || !Double.isFinite(tolerance)) {
                throw new IllegalArgumentException("tolerance must be positive, got " + tolerance);
            }
        }

        /**
         * Settings with the defaults: {@link #defaultTolerance}, up to {@code max(300, 20·(top+bottom))}
         * iterations, seed 0.
         *
         * @param top    number of largest eigenpairs wanted
         * @param bottom number of smallest eigenpairs wanted
         * @param dtype  the products' precision (sets the tolerance)
         * @return the settings
         */
        public static Options of(int top, int bottom, DType dtype) {
            return new Options(top, bottom, Math.max(300, 20 * (top + bottom)), defaultTolerance(dtype), 0);
        }

        /**
         * Another seed.
         *
         * @param s the seed
         * @return these settings with {@code s}
         */
        public Options withSeed(long s) {
            return new Options(top, bottom, maxIterations, tolerance, s);
        }

        /**
         * Another basis limit.
         *
         * @param m the largest basis size
         * @return these settings with {@code m}
         */
        public Options withMaxIterations(int m) {
            return new Options(top, bottom, m, tolerance, seed);
        }

        /**
         * Another tolerance.
         *
         * @param t the relative residual tolerance
         * @return these settings with {@code t}
         */
        public Options withTolerance(double t) {
            return new Options(top, bottom, maxIterations, t, seed);
        }
    }

    /**
     * The default tolerance.
     *
     * @param dtype the products' precision
     * @return 1e-9 for f64 products, 1e-4 for f32 (whose products carry relative errors of about 1e-7·condition)
     */
    public static double defaultTolerance(DType dtype) {
        return dtype == DType.F32 ? 1e-4 : 1e-9;
    }

    /**
     * One Ritz pair.
     *
     * @param value            Ritz value θ
     * @param vector           Ritz vector u (unit norm, f64)
     * @param residual         {@code ‖A·u − θ·u‖}, computed with one extra product
     * @param residualEstimate {@code |β_m·z_{m,i}|} from the recurrence
     * @param converged        {@code residual ≤ tolerance·|θ|_max}
     */
    public record RitzPair(double value, double[] vector, double residual, double residualEstimate,
                           boolean converged) {
    }

    /**
     * The outcome.
     *
     * @param operator   the operator's description
     * @param dimension  n
     * @param top        the largest pairs, largest first
     * @param bottom     the smallest pairs, most negative first
     * @param ritzValues all Ritz values of the final basis, ascending
     * @param iterations basis size m
     * @param products   operator-vector products used (basis plus residual checks)
     * @param restarts   invariant subspaces met (new random vectors)
     * @param thetaMax   {@code max|θ|}, the scale of the convergence test
     * @param tolerance  the relative tolerance used
     * @param converged  every reported pair converged
     */
    public record Result(String operator, int dimension, List<RitzPair> top, List<RitzPair> bottom,
                         double[] ritzValues, int iterations, int products, int restarts, double thetaMax,
                         double tolerance, boolean converged) {
    }

    /**
     * The extreme eigenpairs with default settings.
     *
     * @param a      the symmetric operator
     * @param top    number of largest eigenpairs
     * @param bottom number of smallest eigenpairs
     * @param seed   the start vector's seed
     * @return the pairs
     */
    public static Result compute(SymmetricOperator a, int top, int bottom, long seed) {
        return compute(a, top, bottom, seed, Progress.NONE);
    }

    /**
     * As {@link #compute(SymmetricOperator, int, int, long)}, telling {@code progress} the products done.
     *
     * @param a        the symmetric operator
     * @param top      number of largest eigenpairs
     * @param bottom   number of smallest eigenpairs
     * @param seed     the start vector's seed
     * @param progress told the products done (may throw to stop), or null
     * @return the pairs
     */
    public static Result compute(SymmetricOperator a, int top, int bottom, long seed, Progress progress) {
        return compute(a, Options.of(top, bottom, a.dtype()).withSeed(seed), progress);
    }

    /**
     * The extreme eigenpairs.
     *
     * @param a the symmetric operator
     * @param o the settings
     * @return the pairs
     */
    public static Result compute(SymmetricOperator a, Options o) {
        return compute(a, o, Progress.NONE);
    }

    /**
     * As {@link #compute(SymmetricOperator, Options)}, telling {@code progress} the operator-vector products done
     * out of {@code total = min(maxIterations, n) + min(top, n) + min(bottom, n)}: the products of a run that
     * builds the largest basis and checks the residuals of the wanted pairs once. Counts are capped at
     * {@code total} (a run that needs more than one explicit residual check may reach it before it returns) and
     * the last update is {@code done == total} also when convergence stopped the run early. The result is
     * bit-identical with and without a listener.
     *
     * @param a        the symmetric operator
     * @param o        the settings
     * @param progress told the products done (may throw to stop), or null
     * @return the pairs
     */
    public static Result compute(SymmetricOperator a, Options o, Progress progress) {
        int n = a.dimension();
        if (n < 1) {
            throw new IllegalArgumentException("operator of dimension " + n);
        }
        CountedOperator counted = new CountedOperator(a, progress,
                (long) Math.min(o.maxIterations(), n) + Math.min(o.top(), n) + Math.min(o.bottom(), n));
        Result r = run(counted, o);
        counted.finish();
        return r;
    }

    private static Result run(SymmetricOperator a, Options o) {
        int n = a.dimension();
        if (n < 1) {
            throw new IllegalArgumentException("operator of dimension " + n);
        }
        int top = Math.min(o.top(), n), bottom = Math.min(o.bottom(), n);
        int mMax = Math.min(o.maxIterations(), n);
        double tol = o.tolerance();
        SplittableRandom rng = new SplittableRandom(o.seed());
        double[][] q = new double[mMax + 1][];
        double[] alpha = new double[mMax];
        double[] beta = new double[mMax]; // beta[j] couples q[j] and q[j+1]
        double[] start = Rng.gaussians(rng, n);
        Products.scale(1 / Products.norm(start), start);
        q[0] = start;
        int m = 0, products = 0, restarts = 0;
        double anorm = 0;
        boolean spanned = false;
        List<RitzPair> topPairs = List.of(), bottomPairs = List.of();
        Tridiagonal.Result full = null;
        double thetaMax = 0;
        int nextCheck = 0; // after an explicit check failed, the estimates are trusted again only from here
        while (true) {
            boolean estimatesPass = false;
            while (m < mMax && !spanned) {
                double[] w = Products.apply(a, q[m]);
                products++;
                double[] h = Products.orthogonalize(w, q, m + 1, 2);
                alpha[m] = h[m];
                double b = Products.norm(w);
                anorm = Math.max(anorm, Math.sqrt(alpha[m] * alpha[m] + b * b
                        + (m > 0 ? beta[m - 1] * beta[m - 1] : 0)));
                m++;
                if (b <= BREAKDOWN * anorm || b == 0) {
                    beta[m - 1] = 0;
                    double[] next = m < n ? restartVector(rng, n, q, m) : null;
                    if (next == null) {
                        spanned = true;
                    } else {
                        q[m] = next;
                        restarts++;
                    }
                } else {
                    beta[m - 1] = b;
                    Products.scale(1 / b, w);
                    q[m] = w;
                }
                if (m >= Math.min(top + bottom, n) && m >= nextCheck && wantedEstimatesPass(alpha, beta, m, top, bottom, tol)) {
                    estimatesPass = true;
                    break;
                }
            }
            full = Tridiagonal.decompose(java.util.Arrays.copyOf(alpha, m), java.util.Arrays.copyOf(beta, m - 1));
            double[] theta = full.values();
            thetaMax = Math.max(Math.abs(theta[0]), Math.abs(theta[m - 1]));
            int nt = Math.min(top, m), nb = Math.min(bottom, m);
            int[] idx = new int[nt + nb];
            for (int i = 0; i < nt; i++) idx[i] = m - 1 - i;
            for (int i = 0; i < nb; i++) idx[nt + i] = i;
            double[][] u = new double[idx.length][];
            for (int p = 0; p < idx.length; p++) {
                u[p] = new double[n];
                for (int j = 0; j < m; j++) Products.axpy(full.vectors()[j][idx[p]], q[j], u[p]);
                Products.scale(1 / Products.norm(u[p]), u[p]);
            }
            double[][] au = new double[idx.length][n];
            Products.apply(a, u, au, idx.length);
            products += idx.length;
            List<RitzPair> tp = new ArrayList<>(), bp = new ArrayList<>();
            boolean allOk = true;
            for (int p = 0; p < idx.length; p++) {
                double th = theta[idx[p]];
                double[] r = au[p];
                Products.axpy(-th, u[p], r);
                double res = Products.norm(r);
                double est = Math.abs(beta[m - 1] * full.vectors()[m - 1][idx[p]]);
                boolean ok = res <= tol * thetaMax || (thetaMax == 0 && res == 0);
                allOk &= ok;
                RitzPair pair = new RitzPair(th, u[p], res, est, ok);
                (p < nt ? tp : bp).add(pair);
            }
            topPairs = Collections.unmodifiableList(tp);
            bottomPairs = Collections.unmodifiableList(bp);
            if (allOk || m >= mMax || spanned || !estimatesPass) {
                return new Result(a.description(), n, topPairs, bottomPairs, theta, m, products, restarts, thetaMax,
                        tol, allOk);
            }
            // The estimates passed but the explicit residuals did not: keep extending the basis.
            nextCheck = m + Math.max(5, m / 10);
        }
    }

    /** Whether the recurrence's residual estimates of the wanted pairs are below {@code tol·|θ|_max}. */
    private static boolean wantedEstimatesPass(double[] alpha, double[] beta, int m, int top, int bottom, double tol) {
        Tridiagonal.Result t = Tridiagonal.decompose(java.util.Arrays.copyOf(alpha, m),
                java.util.Arrays.copyOf(beta, m - 1), new int[] {m - 1});
        double[] theta = t.values();
        double scale = Math.max(Math.abs(theta[0]), Math.abs(theta[m - 1]));
        double b = beta[m - 1];
        for (int i = 0; i < Math.min(top, m); i++) {
            if (Math.abs(b * t.vectors()[0][m - 1 - i]) > tol * scale) return false;
        }
        for (int i = 0; i < Math.min(bottom, m); i++) {
            if (Math.abs(b * t.vectors()[0][i]) > tol * scale) return false;
        }
        return true;
    }

    /** A random unit vector orthogonal to {@code q[0..m)}, or null when none is left (the basis spans R^n). */
    static double[] restartVector(SplittableRandom rng, int n, double[][] q, int m) {
        for (int attempt = 0; attempt < 3; attempt++) {
            double[][] v = {Rng.gaussians(rng, n)};
            if (Products.orthonormalize(v, 1, q, m, 1e-10) == 1) {
                return v[0];
            }
        }
        return null;
    }
}

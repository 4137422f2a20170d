package io.hvp4j.spectral;

import io.hvp4j.random.Rng;
import io.hvp4j.Progress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Spectral density by stochastic Lanczos quadrature (Ghorbani, Krishnan, Xiao 2019; PyHessian's {@code density}).
 *
 * <p>For each of {@code probes} Rademacher vectors v (from {@code SplittableRandom(seed)}, normalised to unit
 * length), {@code steps} Lanczos steps with full reorthogonalisation give {@code T_m = Z·diag(θ)·Zᵀ}; the Gauss
 * quadrature rule of the spectral measure of A seen from v has nodes θ_i and weights {@code w_i = Z_{0i}²}, so
 * that {@code Σ_i w_i·θ_i^j = vᵀA^j v} for {@code j < 2m} (spec K6). If the Krylov space of v is invariant
 * before m steps ({@code β ≈ 0}), the rule stops there and is then exact for every power. The density estimate is
 * {@code φ(t) = (1/probes)·Σ_probes Σ_i w_i·g_σ(t − θ_i)} with a Gaussian {@code g_σ} of variance σ², which
 * integrates to 1; {@code n·∫φ} counts eigenvalues.
 */
public final class SpectralDensity {
    private SpectralDensity() {
    }

    /** Lanczos steps per probe unless given. */
    public static final int DEFAULT_STEPS = 90;
    /** Probe vectors unless given. */
    public static final int DEFAULT_PROBES = 10;
    /** Points of the density grid unless given. */
    public static final int DEFAULT_GRID = 10_000;
    /** σ² = {@value}·(θ_max − θ_min)² unless given. */
    public static final double DEFAULT_RELATIVE_VARIANCE = 1e-5;

    /**
     * The quadrature rule of one probe.
     *
     * @param nodes   ascending (Ritz values)
     * @param weights positive, summing to 1
     */
    public record Quadrature(double[] nodes, double[] weights) {
        /**
         * A moment of the rule.
         *
         * @param j the power
         * @return {@code Σ_i w_i·θ_i^j}
         */
        public double moment(int j) {
            double s = 0;
            for (int i = 0; i < nodes.length; i++) s += weights[i] * Math.pow(nodes[i], j);
            return s;
        }
    }

    /**
     * The estimate.
     *
     * @param operator   the operator's description
     * @param dimension  n, the number of eigenvalues
     * @param rules      one quadrature rule per probe
     * @param sigma2     the smoothing variance σ²
     * @param grid       equally spaced points over {@code [θ_min − pad, θ_max + pad]}, pad = {@code max(5σ, 1e-2·range)}
     * @param density    φ on the grid (integrates to about 1)
     * @param cumulative {@code n·∫_{−∞}^t φ} on the grid (exact integral of the Gaussians)
     * @param products   operator-vector products used
     */
    public record Result(String operator, int dimension, List<Quadrature> rules, double sigma2, double[] grid,
                         double[] density, double[] cumulative, int products) {
        /**
         * The spectrum's estimated lower end.
         *
         * @return the smallest node over all probes
         */
        public double minNode() {
            double m = Double.POSITIVE_INFINITY;
            for (Quadrature q : rules) m = Math.min(m, q.nodes()[0]);
            return m;
        }

        /**
         * The spectrum's estimated upper end.
         *
         * @return the largest node over all probes
         */
        public double maxNode() {
            double m = Double.NEGATIVE_INFINITY;
            for (Quadrature q : rules) m = Math.max(m, q.nodes()[q.nodes().length - 1]);
            return m;
        }

        /**
         * Counts eigenvalues in an interval from the smoothed density.
         *
         * @param lo the lower end
         * @param hi the upper end
         * @return the estimate {@code n·∫_lo^hi φ}
         */
        public double count(double lo, double hi) {
            double sigma = Math.sqrt(sigma2);
            double s = 0;
            for (Quadrature q : rules) {
                for (int i = 0; i < q.nodes().length; i++) {
                    double t = q.nodes()[i];
                    s += q.weights()[i] * (normalCdf((hi - t) / sigma) - normalCdf((lo - t) / sigma));
                }
            }
            return dimension * s / rules.size();
        }

        /**
         * Counts eigenvalues in an interval from the raw nodes (no smoothing).
         *
         * @param lo the lower end
         * @param hi the upper end
         * @return the estimated number in {@code [lo, hi]}
         */
        public double rawCount(double lo, double hi) {
            double s = 0;
            for (Quadrature q : rules) {
                for (int i = 0; i < q.nodes().length; i++) {
                    if (q.nodes()[i] >= lo && q.nodes()[i] <= hi) s += q.weights()[i];
                }
            }
            return dimension * s / rules.size();
        }

        /**
         * Counts eigenvalues near zero (smoothed).
         *
         * @param eps the half-width
         * @return the estimated number with {@code |λ| < eps}
         */
        public double countNearZero(double eps) {
            return count(-eps, eps);
        }
    }

    /**
     * The density with the default steps, probes, grid and smoothing.
     *
     * @param a    the symmetric operator
     * @param seed the probes' seed
     * @return the density
     */
    public static Result compute(SymmetricOperator a, long seed) {
        return compute(a, DEFAULT_STEPS, DEFAULT_PROBES, seed, DEFAULT_GRID, Double.NaN);
    }

    /**
     * The density of {@code a}'s spectrum by stochastic Lanczos quadrature.
     *
     * @param a          the symmetric operator
     * @param steps      Lanczos steps per probe
     * @param probes     Rademacher probe vectors
     * @param seed       the probes' seed
     * @param gridPoints points of the returned density grid
     * @param sigma2 the smoothing variance, or NaN for {@value #DEFAULT_RELATIVE_VARIANCE}·(θ_max − θ_min)²
     *               (1e−5·max(1, θ_max²) if all nodes coincide)
     * @return the density
     */
    public static Result compute(SymmetricOperator a, int steps, int probes, long seed, int gridPoints, double sigma2) {
        return compute(a, steps, probes, seed, gridPoints, sigma2, Progress.NONE);
    }

    /**
     * As {@link #compute(SymmetricOperator, int, int, long, int, double)}, telling {@code progress} the probes done.
     *
     * @param a          the symmetric operator
     * @param steps      Lanczos steps per probe
     * @param probes     Rademacher probe vectors
     * @param seed       the probes' seed
     * @param gridPoints points of the returned density grid
     * @param sigma2     the smoothing variance, or NaN for the default
     * @param progress   told the probes done (may throw to stop), or null
     * @return the density
     */
    public static Result compute(SymmetricOperator a, int steps, int probes, long seed, int gridPoints, double sigma2,
                                 Progress progress) {
        Progress pr = Progress.orNone(progress);
        if (steps < 1 || probes < 1 || gridPoints < 2) {
            throw new IllegalArgumentException("steps, probes must be positive and the grid needs 2 points (got "
                    + steps + ", " + probes + ", " + gridPoints + ")");
        }
        SplittableRandom rng = new SplittableRandom(seed);
        List<Quadrature> rules = new ArrayList<>();
        int products = 0;
        int n = a.dimension();
        for (int p = 0; p < probes; p++) {
            double[] v = Rng.rademacher(rng, n);
            Quadrature q = quadrature(a, v, steps);
            products += q.nodes().length;
            rules.add(q);
            pr.update(p + 1, probes);
        }
        rules = Collections.unmodifiableList(rules);
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (Quadrature q : rules) {
            lo = Math.min(lo, q.nodes()[0]);
            hi = Math.max(hi, q.nodes()[q.nodes().length - 1]);
        }
        double range = hi - lo;
        double s2 = sigma2;
        if (Double.isNaN(s2)) {
            s2 = range > 0 ? DEFAULT_RELATIVE_VARIANCE * range * range
                    : DEFAULT_RELATIVE_VARIANCE * Math.max(1, hi * hi);
        }
        if (!(s2 > 0) || !Double.isFinite(s2)) {
            throw new IllegalArgumentException("sigma2 must be positive, got " + sigma2);
        }
        double sigma = Math.sqrt(s2);
        double pad = Math.max(5 * sigma, 1e-2 * range);
        double g0 = lo - pad, g1 = hi + pad;
        double[] grid = new double[gridPoints];
        double[] density = new double[gridPoints];
        double[] cumulative = new double[gridPoints];
        double[] step = new double[gridPoints];
        double norm = 1 / (Math.sqrt(2 * Math.PI) * sigma * rules.size());
        for (int g = 0; g < gridPoints; g++) {
            grid[g] = g0 + (g1 - g0) * g / (gridPoints - 1);
        }
        for (Quadrature q : rules) {
            for (int i = 0; i < q.nodes().length; i++) {
                double t = q.nodes()[i], w = q.weights()[i];
                // Only grid points within 40σ contribute anything representable.
                int from = (int) Math.max(0, Math.floor((t - 40 * sigma - g0) / (g1 - g0) * (gridPoints - 1)));
                int to = (int) Math.min(gridPoints - 1, Math.ceil((t + 40 * sigma - g0) / (g1 - g0) * (gridPoints - 1)));
                for (int g = from; g <= to; g++) {
                    double z = (grid[g] - t) / sigma;
                    density[g] += w * norm * Math.exp(-0.5 * z * z);
                    cumulative[g] += w * normalCdf(z);
                }
                if (to + 1 < gridPoints) {
                    step[to + 1] += w; // Φ = 1 from here on
                }
            }
        }
        double below = 0;
        for (int g = 0; g < gridPoints; g++) {
            below += step[g];
            cumulative[g] = (cumulative[g] + below) * n / rules.size();
        }
        return new Result(a.description(), n, rules, s2, grid, density, cumulative, products);
    }

    /**
     * The Gauss quadrature rule of {@code v} (any non-zero vector; normalised here) after up to {@code steps}
     * Lanczos steps with full reorthogonalisation (fewer if the Krylov space becomes invariant).
     *
     * @param a     the symmetric operator
     * @param v     the start vector (not modified)
     * @param steps the most Lanczos steps
     * @return the rule
     */
    public static Quadrature quadrature(SymmetricOperator a, double[] v, int steps) {
        int n = a.dimension();
        if (v.length != n) {
            throw new IllegalArgumentException("vector of " + v.length + " elements for an operator of dimension " + n);
        }
        int mMax = Math.min(steps, n);
        double[][] q = new double[mMax + 1][];
        double[] alpha = new double[mMax], beta = new double[mMax];
        double nv = Products.norm(v);
        if (!(nv > 0)) {
            throw new IllegalArgumentException("the start vector is zero");
        }
        q[0] = v.clone();
        Products.scale(1 / nv, q[0]);
        int m = 0;
        double anorm = 0;
        while (m < mMax) {
            double[] w = Products.apply(a, q[m]);
            double[] h = Products.orthogonalize(w, q, m + 1, 2);
            alpha[m] = h[m];
            double b = Products.norm(w);
            anorm = Math.max(anorm, Math.sqrt(alpha[m] * alpha[m] + b * b + (m > 0 ? beta[m - 1] * beta[m - 1] : 0)));
            m++;
            if (b <= Lanczos.BREAKDOWN * anorm || b == 0) {
                break; // invariant Krylov space: the rule with m nodes is exact
            }
            beta[m - 1] = b;
            Products.scale(1 / b, w);
            q[m] = w;
        }
        Tridiagonal.Result t = Tridiagonal.decompose(java.util.Arrays.copyOf(alpha, m),
                java.util.Arrays.copyOf(beta, m - 1), new int[] {0});
        double[] w = new double[m];
        for (int i = 0; i < m; i++) w[i] = t.vectors()[0][i] * t.vectors()[0][i];
        return new Quadrature(t.values(), w);
    }

    /** Φ(z), the standard normal distribution function, to about 1e−15 absolute. */
    static double normalCdf(double z) {
        return z < 0 ? 0.5 * erfc(-z / Math.sqrt(2)) : 1 - 0.5 * erfc(z / Math.sqrt(2));
    }

    /** erfc(x) for x ≥ 0: a power series of erf for x < 3, a continued fraction beyond. */
    static double erfc(double x) {
        if (x < 0) {
            return 2 - erfc(-x);
        }
        if (x < 3) {
            // erf(x) = 2/√π · e^{−x²} · Σ_k (2x²)^k·x / (1·3·…·(2k+1)): positive terms, no cancellation.
            double term = x, sum = x, x2 = 2 * x * x;
            for (int k = 1; k < 200 && term > 1e-17 * sum; k++) {
                term *= x2 / (2 * k + 1);
                sum += term;
            }
            return 1 - 2 / Math.sqrt(Math.PI) * Math.exp(-x * x) * sum;
        }
        if (x > 27) {
            return 0;
        }
        // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), evaluated by Lentz's method.
        double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int k = 1; k < 500; k++) {
            double ak = k / 2.0;
            d = x + ak * d;
            d = d == 0 ? tiny : d;
            c = x + ak / c;
            c = c == 0 ? tiny : c;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) break;
        }
        return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
    }
}

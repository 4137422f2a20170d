package io.hvp4j.spectral;

import io.hvp4j.random.Rng;
import io.hvp4j.Progress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Power iteration with deflation, in the style of PyHessian's {@code eigenvalues()}: for each wanted pair a
 * random start vector (standard normal from {@code SplittableRandom(seed)}) is iterated as
 * {@code v ← A·v/‖A·v‖}, orthogonalised against the eigenvectors already found (deflation by projection),
 * with the Rayleigh quotient {@code θ = vᵀA·v} as the eigenvalue estimate; it stops when
 * {@code |θ_k − θ_{k−1}| ≤ relTol·(|θ_k| + 1e−300)} or after {@code maxIterations} products.
 *
 * <p>Power iteration finds the eigenvalue of largest <em>magnitude</em>. When the first pair's Rayleigh quotient
 * is negative, {@link Result#dominantNegative()} says so: the returned value is then {@code λ_min}, not
 * {@code λ_max} (docs/theory.md §C.3). Only products of one column are used. Deterministic for a fixed seed.
 */
public final class PowerIteration {
    private PowerIteration() {
    }

    /** PyHessian's default iteration limit per pair. */
    public static final int DEFAULT_MAX_ITERATIONS = 100;
    /** PyHessian's default relative change of the Rayleigh quotient that stops the iteration. */
    public static final double DEFAULT_TOLERANCE = 1e-3;

    /**
     * One eigenpair estimate.
     *
     * @param value      Rayleigh quotient θ
     * @param vector     unit vector
     * @param residual   {@code ‖A·v − θ·v‖} at the last iterate (free: from the last product)
     * @param iterations products spent on this pair
     * @param converged  the relative-change test passed before the iteration limit
     */
    public record Pair(double value, double[] vector, double residual, int iterations, boolean converged) {
        /**
         * The eigenvalue's sign.
         *
         * @return whether θ is negative
         */
        public boolean negative() {
            return value < 0;
        }
    }

    /**
     * The pairs in the order found (decreasing magnitude, as far as power iteration resolves it).
     *
     * @param operator         the operator's description
     * @param pairs            the pairs found
     * @param dominantNegative the first (dominant-magnitude) eigenvalue found is negative: the largest eigenvalue
     *                         is not the first entry
     * @param products         products used in total
     */
    public record Result(String operator, List<Pair> pairs, boolean dominantNegative, int products) {
    }

    /**
     * Pairs by power iteration with deflation, with PyHessian's defaults.
     *
     * @param a     the symmetric operator
     * @param count how many pairs
     * @param seed  the start vectors' seed
     * @return the pairs
     */
    public static Result compute(SymmetricOperator a, int count, long seed) {
        return compute(a, count, DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, seed);
    }

    /**
     * Pairs by power iteration with deflation.
     *
     * @param a             the symmetric operator
     * @param count         how many pairs
     * @param maxIterations products per pair at most
     * @param relTol        the relative change of θ that stops a pair
     * @param seed          the start vectors' seed
     * @return the pairs
     */
    public static Result compute(SymmetricOperator a, int count, int maxIterations, double relTol, long seed) {
        return compute(a, count, maxIterations, relTol, seed, Progress.NONE);
    }

    /**
     * As {@link #compute(SymmetricOperator, int, int, double, long)}, telling {@code progress} the iterations
     * done out of {@code count · maxIterations}: one unit per product, and a pair that converges before
     * {@code maxIterations} counts its remaining iterations as done, so the count rises monotonically and ends at
     * {@code done == total}. The result is bit-identical with and without a listener.
     *
     * @param a             the symmetric operator
     * @param count         how many pairs
     * @param maxIterations products per pair at most
     * @param relTol        the relative change of θ that stops a pair
     * @param seed          the start vectors' seed
     * @param progress      told the iterations done (may throw to stop), or null
     * @return the pairs
     */
    public static Result compute(SymmetricOperator a, int count, int maxIterations, double relTol, long seed,
                                 Progress progress) {
        int n = a.dimension();
        if (count < 1 || count > n) {
            throw new IllegalArgumentException("count must be in [1, " + n + "], got " + count);
        }
        if (maxIterations < 1) {
            throw new IllegalArgumentException("maxIterations must be positive, got " + maxIterations);
        }
        if (!(relTol >= 0)) {
            throw new IllegalArgumentException("relTol must be non-negative, got " + relTol);
        }
        CountedOperator counted = new CountedOperator(a, progress, (long) count * maxIterations);
        a = counted;
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] found = new double[count][];
        List<Pair> pairs = new ArrayList<>();
        int products = 0;
        for (int k = 0; k < count; k++) {
            double[] v = Rng.gaussians(rng, n);
            deflate(v, found, k);
            double nv = Products.norm(v);
            if (nv == 0) {
                v = Rng.gaussians(rng, n);
                deflate(v, found, k);
                nv = Products.norm(v);
            }
            Products.scale(1 / nv, v);
            double theta = Double.NaN, residual = Double.NaN;
            int it = 0;
            boolean converged = false;
            while (it < maxIterations) {
                double[] av = Products.apply(a, v);
                it++;
                products++;
                deflate(av, found, k); // the product restricted to the complement of the found vectors
                double t = Products.dot(v, av);
                double[] r = av.clone();
                Products.axpy(-t, v, r);
                residual = Products.norm(r);
                boolean done = it > 1 && Math.abs(t - theta) <= relTol * (Math.abs(t) + 1e-300);
                theta = t;
                double na = Products.norm(av);
                if (na == 0) { // v is in the null space of the deflated operator: θ = 0 exactly
                    converged = true;
                    break;
                }
                if (done) {
                    converged = true;
                    break;
                }
                Products.scale(1 / na, av);
                v = av;
            }
            found[k] = v;
            pairs.add(new Pair(theta, v, residual, it, converged));
            counted.skipTo((long) (k + 1) * maxIterations);
        }
        return new Result(a.description(), Collections.unmodifiableList(pairs), pairs.get(0).value() < 0, products);
    }

    /**
     * λ_max with a reliability flag (docs/theory.md §C.3, §D.4 K4).
     *
     * @param value    the Rayleigh quotient of the dominant pair
     * @param flagged  the value must not be taken as λ_max: see {@code reason}
     * @param reason   why it is flagged ({@code ""} when not)
     * @param gapRatio {@code |θ_1|/|θ_2|} of the two deflated pairs (the convergence rate of the iteration)
     * @param products products used
     */
    public record LambdaMax(double value, boolean flagged, String reason, double gapRatio, int products) {
    }

    /**
     * λ_max by power iteration with a flag rule: two pairs are computed by deflation, and the result is flagged when
     * the dominant eigenvalue is negative (power iteration then returns λ_min, not λ_max), when the magnitude gap
     * {@code |θ_1|/|θ_2|} is below {@code minGap} (convergence too slow to trust), or when the first pair did not
     * converge within {@code maxIterations}.
     *
     * @param a             the symmetric operator
     * @param maxIterations products per pair at most
     * @param relTol        the relative change of θ that stops a pair
     * @param minGap        the smallest trusted {@code |θ_1|/|θ_2|}
     * @param seed          the start vectors' seed
     * @return the estimate with its flag
     */
    public static LambdaMax lambdaMax(SymmetricOperator a, int maxIterations, double relTol, double minGap,
                                      long seed) {
        return lambdaMax(a, maxIterations, relTol, minGap, seed, Progress.NONE);
    }

    /**
     * As {@link #lambdaMax(SymmetricOperator, int, double, double, long)}, telling {@code progress} the iterations
     * done out of {@code min(2, n) · maxIterations} as {@link #compute(SymmetricOperator, int, int, double, long,
     * Progress)} does.
     *
     * @param a             the symmetric operator
     * @param maxIterations products per pair at most
     * @param relTol        the relative change of θ that stops a pair
     * @param minGap        the smallest trusted {@code |θ_1|/|θ_2|}
     * @param seed          the start vectors' seed
     * @param progress      told the iterations done (may throw to stop), or null
     * @return the estimate with its flag
     */
    public static LambdaMax lambdaMax(SymmetricOperator a, int maxIterations, double relTol, double minGap,
                                      long seed, Progress progress) {
        Result r = compute(a, Math.min(2, a.dimension()), maxIterations, relTol, seed, progress);
        Pair first = r.pairs().get(0);
        double ratio = r.pairs().size() < 2 ? Double.POSITIVE_INFINITY
                : Math.abs(first.value()) / Math.abs(r.pairs().get(1).value());
        String reason = "";
        if (r.dominantNegative()) {
            reason = "the dominant eigenvalue is negative (|λ_min| > λ_max): the value is λ_min";
        } else if (!(ratio >= minGap)) {
            reason = String.format(java.util.Locale.ROOT, "gap |θ1|/|θ2| = %.4g below %.3g", ratio, minGap);
        } else if (!first.converged()) {
            reason = "not converged in " + maxIterations + " iterations";
        }
        return new LambdaMax(first.value(), !reason.isEmpty(), reason, ratio, r.products());
    }

    private static void deflate(double[] v, double[][] found, int k) {
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < k; i++) Products.axpy(-Products.dot(found[i], v), found[i], v);
        }
    }
}

package io.hvp4j.spectral;

import io.hvp4j.random.Rng;
import io.hvp4j.objective.Objective;
import io.hvp4j.objective.ParameterGroup;
import io.hvp4j.Progress;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Trace and diagonal estimators on block products ({@code block} probes per {@link SymmetricOperator#apply}
 * call, at most the operator's {@code maxBlock()}); f64 accumulation, deterministic for a fixed seed.
 *
 * <ul>
 *   <li>{@link #exact}: {@code Σ_j e_jᵀA·e_j} from n unit products (also the exact diagonal).</li>
 *   <li>{@link #hutchinson}: {@code (1/m)·Σ_j v_jᵀA·v_j} with Rademacher or Gaussian probes; the standard error
 *       is the sample standard deviation of the m terms over √m.</li>
 *   <li>{@link #hutchPlusPlus} (Meyer, Musco, Musco, Woodruff 2021): with m products, {@code k = ⌊m/3⌋} go to a
 *       sketch {@code Q = orth(A·S)}, k to {@code tr(QᵀA·Q)} (exact on the captured range), and the rest to
 *       Hutchinson on {@code (I − QQᵀ)A(I − QQᵀ)}; the standard error is that of the Hutchinson part.</li>
 *   <li>{@link #diagonal}: {@code Σ_j v_j ⊙ A·v_j / Σ_j v_j ⊙ v_j} (Bekas, Kokiopoulou, Saad 2007).</li>
 *   <li>{@link #xtrace} (Epperly, Tropp, Webber 2024): with m products, s = m/2 probes W; {@code Q, R = qr(A·W)};
 *       for each i the Hutch++-type estimate that uses every probe but w_i for the range and w_i for the rest,
 *       computed in closed form from {@code A·Q} (leaving a column out of the QR: {@code Q_iQ_iᵀ = Q(I − s_is_iᵀ)Qᵀ}
 *       with s_i the normalized column i of {@code R^{-T}}); the estimate is their mean, its standard error the
 *       standard deviation of the s leave-one-out estimates over √s (the paper's error estimate: they are
 *       exchangeable, not independent).</li>
 * </ul>
 *
 * <p>Every estimator has an overload taking a {@link Progress}: it is told the operator-vector products done
 * (after each {@code apply} call, so in steps of at most {@code block}) out of the products the estimate will
 * use, and ends with {@code done == total}. Reporting wraps the operator and never changes what is computed: the
 * results are bit-identical with and without a listener. Static methods; thread-safe as far as the operator is
 * (the operator is used from the calling thread only).
 */
public final class TraceEstimators {
    private TraceEstimators() {
    }

    /** Probe distribution. */
    public enum Probe {
        /** Entries ±1 with equal probability. */
        RADEMACHER,
        /** Standard normal entries. */
        GAUSSIAN;

        /**
         * Parses a distribution name.
         *
         * @param s {@code rademacher} or {@code gaussian} ({@code normal}), any case
         * @return the distribution
         * @throws IllegalArgumentException for any other name
         */
        public static Probe parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "rademacher" -> RADEMACHER;
                case "gaussian", "normal" -> GAUSSIAN;
                default -> throw new IllegalArgumentException("unknown probe distribution '" + s
                        + "' (expected rademacher or gaussian)");
            };
        }
    }

    /** Estimator. */
    public enum Method {
        /** n unit products. */
        EXACT,
        /** Hutchinson's estimator. */
        HUTCHINSON,
        /** Hutch++ (Meyer et al. 2021). */
        HUTCHPP,
        /** XTrace (Epperly et al. 2024). */
        XTRACE;

        /**
         * The name in options and output.
         *
         * @return {@code exact}, {@code hutchinson}, {@code hutchpp} or {@code xtrace}
         */
        public String id() {
            return switch (this) {
                case EXACT -> "exact";
                case HUTCHINSON -> "hutchinson";
                case HUTCHPP -> "hutchpp";
                case XTRACE -> "xtrace";
            };
        }
    }

    /**
     * A trace estimate.
     *
     * @param method        how it was computed
     * @param value         the estimate
     * @param standardError its estimated standard error (0 for {@link Method#EXACT})
     * @param products      operator-vector products used
     */
    public record Estimate(Method method, double value, double standardError, int products) {
    }

    /** Default probes per {@code apply} call. */
    public static final int DEFAULT_BLOCK = 16;

    private static double[] probe(SplittableRandom rng, int n, Probe p) {
        return p == Probe.RADEMACHER ? Rng.rademacher(rng, n) : Rng.gaussians(rng, n);
    }

    private static void checkProbes(int probes, int min) {
        if (probes < min) {
            throw new IllegalArgumentException("at least " + min + " probes are needed, got " + probes);
        }
    }

    /**
     * The exact trace (and diagonal, see {@link #exactDiagonal}) by n unit products.
     *
     * @param a        the symmetric operator
     * @param block    vectors per product call
     * @return the estimate
     */
    public static Estimate exact(SymmetricOperator a, int block) {
        return exact(a, block, Progress.NONE);
    }

    /**
     * As {@link #exact(SymmetricOperator, int)}, telling {@code progress} the n unit products done.
     *
     * @param a        the symmetric operator
     * @param block    vectors per product call
     * @param progress told the products done (may throw to stop), or null
     * @return the estimate
     */
    public static Estimate exact(SymmetricOperator a, int block, Progress progress) {
        return exactOfDiagonal(exactDiagonal(a, block, progress));
    }

    /**
     * The exact diagonal by n unit products.
     *
     * @param a        the symmetric operator
     * @param block    vectors per product call
     * @return {@code diag(A)}
     */
    public static double[] exactDiagonal(SymmetricOperator a, int block) {
        return exactDiagonal(a, block, Progress.NONE);
    }

    /**
     * As {@link #exactDiagonal(SymmetricOperator, int)}, telling {@code progress} the n unit products done.
     *
     * @param a        the symmetric operator
     * @param block    vectors per product call
     * @param progress told the products done (may throw to stop), or null
     * @return {@code diag(A)}
     */
    public static double[] exactDiagonal(SymmetricOperator a, int block, Progress progress) {
        CountedOperator counted = new CountedOperator(a, progress, a.dimension());
        double[] d = exactDiagonalOf(counted, block);
        counted.finish();
        return d;
    }

    private static double[] exactDiagonalOf(SymmetricOperator a, int block) {
        int n = a.dimension();
        double[] d = new double[n];
        int b = Math.max(1, Math.min(Math.min(block, a.maxBlock()), n));
        double[][] e = new double[b][n], out = new double[b][n];
        for (int j0 = 0; j0 < n; j0 += b) {
            int kc = Math.min(b, n - j0);
            double[][] ec = kc == b ? e : java.util.Arrays.copyOf(e, kc);
            double[][] oc = kc == b ? out : java.util.Arrays.copyOf(out, kc);
            for (int j = 0; j < kc; j++) {
                java.util.Arrays.fill(ec[j], 0);
                ec[j][j0 + j] = 1;
            }
            Products.apply(a, ec, oc, kc);
            for (int j = 0; j < kc; j++) d[j0 + j] = oc[j][j0 + j];
        }
        return d;
    }

    /**
     * Hutchinson's estimator.
     *
     * @param a        the symmetric operator
     * @param probes   the number of probe vectors (at least 1)
     * @param dist     Rademacher or Gaussian probes
     * @param seed     the probes' seed
     * @param block    vectors per product call
     * @return the estimate
     */
    public static Estimate hutchinson(SymmetricOperator a, int probes, Probe dist, long seed, int block) {
        return hutchinson(a, probes, dist, seed, block, Progress.NONE);
    }

    /**
     * As {@link #hutchinson(SymmetricOperator, int, Probe, long, int)}, telling {@code progress} the probes done.
     *
     * @param a        the symmetric operator
     * @param probes   the number of probe vectors (at least 1)
     * @param dist     Rademacher or Gaussian probes
     * @param seed     the probes' seed
     * @param block    vectors per product call
     * @param progress told the products done (may throw to stop), or null
     * @return the estimate
     */
    public static Estimate hutchinson(SymmetricOperator a, int probes, Probe dist, long seed, int block,
                                      Progress progress) {
        checkProbes(probes, 1);
        CountedOperator counted = new CountedOperator(a, progress, probes);
        Estimate e = hutchinsonOf(counted, probes, dist, seed, block);
        counted.finish();
        return e;
    }

    private static Estimate hutchinsonOf(SymmetricOperator a, int probes, Probe dist, long seed, int block) {
        double[] terms = new double[probes];
        probePass(a, probes, dist, seed, block, terms, null, null);
        return new Estimate(Method.HUTCHINSON, mean(terms), standardError(terms), probes);
    }

    /**
     * One pass over {@code probes} probes from {@code seed}: {@code terms[j] = v_jᵀAv_j} (when not null) and the
     * sums {@code num += v⊙Av}, {@code den += v⊙v} of the diagonal estimate (when not null).
     */
    private static void probePass(SymmetricOperator a, int probes, Probe dist, long seed, int block, double[] terms,
                                  double[] num, double[] den) {
        int n = a.dimension();
        SplittableRandom rng = new SplittableRandom(seed);
        int b = Math.max(1, Math.min(block, probes));
        for (int j0 = 0; j0 < probes; j0 += b) {
            int kc = Math.min(b, probes - j0);
            double[][] v = new double[kc][], av = new double[kc][n];
            for (int j = 0; j < kc; j++) v[j] = probe(rng, n, dist);
            Products.apply(a, v, av, kc);
            for (int j = 0; j < kc; j++) {
                if (terms != null) {
                    terms[j0 + j] = Products.dot(v[j], av[j]);
                }
                if (num != null) {
                    for (int i = 0; i < n; i++) {
                        num[i] += v[j][i] * av[j][i];
                        den[i] += v[j][i] * v[j][i];
                    }
                }
            }
        }
    }

    /**
     * Hutchinson's trace and the diagonal estimate of the same probes.
     *
     * @param trace    the trace estimate, as {@link #hutchinson} gives it
     * @param diagonal the diagonal estimate, as {@link #diagonal} gives it for the same seed
     */
    public record TraceAndDiagonal(Estimate trace, double[] diagonal) {
    }

    /**
     * Hutchinson's trace and the diagonal estimate in one pass: each product serves both, so this costs
     * {@code probes} products, not twice that. Both are bit for bit what {@link #hutchinson} and {@link #diagonal}
     * give with the same seed; with Rademacher probes the diagonal sums to the trace estimate (up to rounding).
     *
     * @param a        the symmetric operator
     * @param probes   the number of probe vectors (at least 1)
     * @param dist     Rademacher or Gaussian probes
     * @param seed     the probes' seed
     * @param block    vectors per product call
     * @param progress told the products done (may throw to stop), or null
     * @return the trace and the diagonal
     */
    public static TraceAndDiagonal hutchinsonWithDiagonal(SymmetricOperator a, int probes, Probe dist, long seed,
                                                          int block, Progress progress) {
        checkProbes(probes, 1);
        CountedOperator counted = new CountedOperator(a, progress, probes);
        int n = a.dimension();
        double[] terms = new double[probes], num = new double[n], den = new double[n];
        probePass(counted, probes, dist, seed, block, terms, num, den);
        counted.finish();
        return new TraceAndDiagonal(new Estimate(Method.HUTCHINSON, mean(terms), standardError(terms), probes),
                ratio(num, den));
    }

    /**
     * The exact trace of a matrix with diagonal {@code d}, summed as {@link #exact} sums it.
     *
     * @param d the exact diagonal ({@link #exactDiagonal})
     * @return the estimate (standard error 0, products = d.length)
     */
    public static Estimate exactOfDiagonal(double[] d) {
        double s = 0;
        for (double x : d) s += x;
        return new Estimate(Method.EXACT, s, 0, d.length);
    }

    /**
     * Hutch++ with Rademacher probes.
     *
     * @param a        the symmetric operator
     * @param products products in total (at least 3)
     * @param seed     the probes' seed
     * @param block    vectors per product call
     * @return the estimate
     */
    public static Estimate hutchPlusPlus(SymmetricOperator a, int products, long seed, int block) {
        return hutchPlusPlus(a, products, seed, block, Progress.NONE);
    }

    /**
     * As {@link #hutchPlusPlus(SymmetricOperator, int, long, int)}, telling {@code progress} the products done.
     *
     * @param a        the symmetric operator
     * @param products products in total (at least 3)
     * @param seed     the probes' seed
     * @param block    vectors per product call
     * @param progress told the products done (may throw to stop), or null
     * @return the estimate
     */
    public static Estimate hutchPlusPlus(SymmetricOperator a, int products, long seed, int block, Progress progress) {
        checkProbes(products, 3);
        CountedOperator counted = new CountedOperator(a, progress, products);
        Estimate e = hutchPlusPlusOf(counted, products, seed, block);
        counted.finish();
        return e;
    }

    private static Estimate hutchPlusPlusOf(SymmetricOperator a, int products, long seed, int block) {
        int n = a.dimension();
        SplittableRandom rng = new SplittableRandom(seed);
        int k = Math.min(products / 3, n);
        int g = products - 2 * k;
        // Sketch: Q = orth(A·S).
        double[][] s = new double[k][], as = new double[k][n];
        for (int j = 0; j < k; j++) s[j] = Rng.rademacher(rng, n);
        Products.apply(a, s, as, block);
        int r = Products.orthonormalize(as, k, new double[0][], 0, 1e-12);
        double[][] q = java.util.Arrays.copyOf(as, r);
        // tr(QᵀAQ), exact on the captured range.
        double[][] aq = new double[r][n];
        Products.apply(a, q, aq, block);
        double low = 0;
        for (int j = 0; j < r; j++) low += Products.dot(q[j], aq[j]);
        int used = k + r;
        g = products - used; // unused sketch products (rank-deficient sketch) go to the Hutchinson part
        double[] terms = new double[Math.max(g, 0)];
        int b = Math.max(1, Math.min(block, Math.max(g, 1)));
        for (int j0 = 0; j0 < g; j0 += b) {
            int kc = Math.min(b, g - j0);
            double[][] v = new double[kc][], av = new double[kc][n];
            for (int j = 0; j < kc; j++) {
                v[j] = Rng.rademacher(rng, n);
                project(v[j], q, r);
            }
            Products.apply(a, v, av, kc);
            for (int j = 0; j < kc; j++) terms[j0 + j] = Products.dot(v[j], av[j]); // (I−QQᵀ)v is in v
        }
        double rest = g > 0 ? mean(terms) : 0;
        double se = g > 1 ? standardError(terms) : (r == n ? 0 : Double.NaN);
        return new Estimate(Method.HUTCHPP, low + rest, se, used + Math.max(g, 0));
    }

    /**
     * XTrace with {@code products} products in total (even, at least 4; s = products/2 probes). When {@code A·W}
     * is numerically rank-deficient (rank of A below s) the range is captured and the estimate is
     * {@code tr(QᵀAQ)} plus Hutchinson on the deflated probes, as in Hutch++.
     *
     * @param a        the symmetric operator
     * @param products products in total (even, at least 4)
     * @param dist     Rademacher or Gaussian probes
     * @param seed     the probes' seed
     * @param block    vectors per product call
     * @return the estimate
     */
    public static Estimate xtrace(SymmetricOperator a, int products, Probe dist, long seed, int block) {
        return xtrace(a, products, dist, seed, block, Progress.NONE);
    }

    /**
     * As {@link #xtrace(SymmetricOperator, int, Probe, long, int)}, telling {@code progress} the products done
     * out of {@code 2·min(products/2, n)}. The rank-deficient fallback uses up to rank(A) products more than that;
     * the count stops at the total (so the updates stay monotone with one total) while those finish.
     *
     * @param a        the symmetric operator
     * @param products products in total (even, at least 4)
     * @param dist     Rademacher or Gaussian probes
     * @param seed     the probes' seed
     * @param block    vectors per product call
     * @param progress told the products done (may throw to stop), or null
     * @return the estimate
     */
    public static Estimate xtrace(SymmetricOperator a, int products, Probe dist, long seed, int block,
                                  Progress progress) {
        checkProbes(products, 4);
        if (products % 2 != 0) {
            throw new IllegalArgumentException("xtrace needs an even number of products, got " + products);
        }
        CountedOperator counted = new CountedOperator(a, progress, 2L * Math.min(products / 2, a.dimension()));
        Estimate e = xtraceOf(counted, products, dist, seed, block);
        counted.finish();
        return e;
    }

    private static Estimate xtraceOf(SymmetricOperator a, int products, Probe dist, long seed, int block) {
        int n = a.dimension();
        int s = Math.min(products / 2, n);
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] w = new double[s][];
        double[][] y = new double[s][n];
        for (int j = 0; j < s; j++) w[j] = probe(rng, n, dist);
        Products.apply(a, w, y, block);
        // Householder-free QR by modified Gram–Schmidt twice, R accumulated.
        double[][] q = new double[s][];
        double[][] r = new double[s][s];
        double maxDiag = 0;
        boolean deficient = false;
        for (int j = 0; j < s; j++) {
            double[] v = y[j].clone();
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < j; i++) {
                    double c = Products.dot(q[i], v);
                    r[i][j] += c;
                    Products.axpy(-c, q[i], v);
                }
            }
            double nv = Products.norm(v);
            r[j][j] = nv;
            maxDiag = Math.max(maxDiag, nv);
            if (!(nv > 1e-12 * Math.max(maxDiag, Products.norm(y[j])))) {
                deficient = true;
                break;
            }
            Products.scale(1 / nv, v);
            q[j] = v;
        }
        if (deficient) {
            return rangeCaptured(a, w, y, s, block);
        }
        double[][] z = new double[s][n];
        Products.apply(a, q, z, block);
        double[][] t = new double[s][s]; // T = QᵀAQ
        double trT = 0;
        for (int i = 0; i < s; i++) {
            for (int j = 0; j < s; j++) t[i][j] = Products.dot(q[i], z[j]);
            trT += t[i][i];
        }
        // Columns of R^{-T}: solve Rᵀ x = e_i (forward substitution), then normalize.
        double[][] sv = new double[s][];
        for (int i = 0; i < s; i++) {
            double[] x = new double[s];
            for (int k = 0; k < s; k++) {
                double rhs = k == i ? 1 : 0;
                for (int l = 0; l < k; l++) rhs -= r[l][k] * x[l];
                x[k] = rhs / r[k][k];
            }
            Products.scale(1 / Products.norm(x), x);
            sv[i] = x;
        }
        double[] terms = new double[s];
        double[] c = new double[s], e = new double[s];
        double[] apw = new double[n];
        for (int i = 0; i < s; i++) {
            double[] si = sv[i];
            // tr(Q_iᵀ A Q_i) = tr(T) − s_iᵀ T s_i.
            double sts = 0;
            for (int k = 0; k < s; k++) {
                double row = 0;
                for (int l = 0; l < s; l++) row += t[k][l] * si[l];
                sts += si[k] * row;
            }
            // P = I − Q(I − s_is_iᵀ)Qᵀ; the term w_iᵀ P A P w_i = w_iᵀ P (A w_i − A Q (I − s_is_iᵀ) Qᵀ w_i).
            for (int k = 0; k < s; k++) c[k] = Products.dot(q[k], w[i]);
            deflate(c, si);
            System.arraycopy(y[i], 0, apw, 0, n);
            for (int k = 0; k < s; k++) Products.axpy(-c[k], z[k], apw);
            for (int k = 0; k < s; k++) e[k] = Products.dot(q[k], apw);
            deflate(e, si);
            double dot = Products.dot(w[i], apw);
            for (int k = 0; k < s; k++) dot -= e[k] * Products.dot(q[k], w[i]);
            terms[i] = trT - sts + dot;
        }
        double se = s > 1 ? standardError(terms) : Double.NaN;
        return new Estimate(Method.XTRACE, mean(terms), se, 2 * s);
    }

    /** {@code c ← (I − s sᵀ) c}. */
    private static void deflate(double[] c, double[] s) {
        Products.axpy(-Products.dot(s, c), s, c);
    }

    /** XTrace's fallback when A·W is rank-deficient: exact on the captured range plus Hutchinson on the rest. */
    private static Estimate rangeCaptured(SymmetricOperator a, double[][] w, double[][] y, int s, int block) {
        int n = a.dimension();
        double[][] basis = new double[s][];
        for (int j = 0; j < s; j++) basis[j] = y[j].clone();
        int r = Products.orthonormalize(basis, s, new double[0][], 0, 1e-12);
        double[][] q = java.util.Arrays.copyOf(basis, r);
        double[][] aq = new double[r][n];
        if (r > 0) Products.apply(a, q, aq, block);
        double low = 0;
        for (int j = 0; j < r; j++) low += Products.dot(q[j], aq[j]);
        double[][] v = new double[s][], av = new double[s][n];
        for (int j = 0; j < s; j++) {
            v[j] = w[j].clone();
            project(v[j], q, r);
        }
        Products.apply(a, v, av, block);
        double[] terms = new double[s];
        for (int j = 0; j < s; j++) terms[j] = Products.dot(v[j], av[j]);
        double se = s > 1 ? standardError(terms) : Double.NaN;
        return new Estimate(Method.XTRACE, low + mean(terms), se, s + r + s);
    }

    /** {@code v ← (I − QQᵀ)v} (twice, for accuracy). */
    private static void project(double[] v, double[][] q, int r) {
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < r; i++) Products.axpy(-Products.dot(q[i], v), q[i], v);
        }
    }

    /**
     * Hutchinson-style diagonal estimate {@code Σ v⊙Av / Σ v⊙v}.
     *
     * @param a        the symmetric operator
     * @param probes   the number of probe vectors
     * @param dist     Rademacher or Gaussian probes
     * @param seed     the probes' seed
     * @param block    vectors per product call
     * @return the estimated diagonal
     */
    public static double[] diagonal(SymmetricOperator a, int probes, Probe dist, long seed, int block) {
        return diagonal(a, probes, dist, seed, block, Progress.NONE);
    }

    /**
     * As {@link #diagonal(SymmetricOperator, int, Probe, long, int)}, telling {@code progress} the probes done.
     *
     * @param a        the symmetric operator
     * @param probes   the number of probe vectors
     * @param dist     Rademacher or Gaussian probes
     * @param seed     the probes' seed
     * @param block    vectors per product call
     * @param progress told the products done (may throw to stop), or null
     * @return the estimated diagonal
     */
    public static double[] diagonal(SymmetricOperator a, int probes, Probe dist, long seed, int block,
                                    Progress progress) {
        checkProbes(probes, 1);
        CountedOperator counted = new CountedOperator(a, progress, probes);
        double[] d = diagonalOf(counted, probes, dist, seed, block);
        counted.finish();
        return d;
    }

    private static double[] diagonalOf(SymmetricOperator a, int probes, Probe dist, long seed, int block) {
        int n = a.dimension();
        double[] num = new double[n], den = new double[n];
        probePass(a, probes, dist, seed, block, null, num, den);
        return ratio(num, den);
    }

    private static double[] ratio(double[] num, double[] den) {
        for (int i = 0; i < num.length; i++) num[i] = den[i] == 0 ? 0 : num[i] / den[i];
        return num;
    }

    /**
     * One estimate by any method.
     *
     * @param a        the symmetric operator
     * @param method   the estimator
     * @param probes   probes or products (ignored for {@link Method#EXACT})
     * @param dist     Rademacher or Gaussian probes
     * @param seed     the probes' seed
     * @param block    vectors per product call
     * @return the estimate
     */
    public static Estimate estimate(SymmetricOperator a, Method method, int probes, Probe dist, long seed, int block) {
        return estimate(a, method, probes, dist, seed, block, Progress.NONE);
    }

    /**
     * As {@link #estimate(SymmetricOperator, Method, int, Probe, long, int)}, telling {@code progress} the products
     * done.
     *
     * @param a        the symmetric operator
     * @param method   the estimator
     * @param probes   probes or products (ignored for {@link Method#EXACT})
     * @param dist     Rademacher or Gaussian probes
     * @param seed     the probes' seed
     * @param block    vectors per product call
     * @param progress told the products done (may throw to stop), or null
     * @return the estimate
     */
    public static Estimate estimate(SymmetricOperator a, Method method, int probes, Probe dist, long seed, int block,
                                    Progress progress) {
        return switch (method) {
            case EXACT -> exact(a, block, progress);
            case HUTCHINSON -> hutchinson(a, probes, dist, seed, block, progress);
            case HUTCHPP -> hutchPlusPlus(a, probes, seed, block, progress);
            case XTRACE -> xtrace(a, probes, dist, seed, block, progress);
        };
    }

    /** The products {@link #estimate} with these arguments reports as its total, for an operator of dimension n. */
    static long plannedProducts(Method method, int probes, int n) {
        return switch (method) {
            case EXACT -> n;
            case HUTCHINSON, HUTCHPP -> probes;
            case XTRACE -> 2L * Math.min(probes / 2, n);
        };
    }

    /**
     * Per-layer traces of the diagonal blocks {@code C_ll} in one run, plus their sum (= {@code tr C}, spec K1: the
     * layers partition all parameters) with the standard error {@code √Σ se_l²} (independent probes per layer:
     * layer l uses the seed {@code seed + l}).
     *
     * @param layers one estimate per parameter group, in order
     * @param total  their sum
     */
    public record Layerwise(List<Estimate> layers, Estimate total) {
    }

    /**
     * Per-layer traces of curvature {@code c} on the objective's groups.
     *
     * @param f      the objective (parameters set)
     * @param c      the curvature
     * @param method the estimator
     * @param probes probes or products per layer
     * @param dist   Rademacher or Gaussian probes
     * @param seed   layer l's probes use {@code seed + l}
     * @param block  vectors per product call
     * @return the layers' estimates and their sum
     */
    public static Layerwise layerwise(Objective f, Curvature c, Method method, int probes, Probe dist, long seed,
                                      int block) {
        return layerwise(f, c, method, probes, dist, seed, block, Progress.NONE);
    }

    /**
     * As {@link #layerwise(Objective, Curvature, Method, int, Probe, long, int)}, telling {@code progress} the
     * products done over all layers together.
     *
     * @param f        the objective (parameters set)
     * @param c        the curvature
     * @param method   the estimator
     * @param probes   probes or products per layer
     * @param dist     Rademacher or Gaussian probes
     * @param seed     layer l's probes use {@code seed + l}
     * @param block    vectors per product call
     * @param progress told the products done (may throw to stop), or null
     * @return the layers' estimates and their sum
     */
    public static Layerwise layerwise(Objective f, Curvature c, Method method, int probes, Probe dist, long seed,
                                      int block, Progress progress) {
        Progress pr = Progress.orNone(progress);
        long total = 0;
        List<ParameterGroup> groups = f.groups();
        for (ParameterGroup g : groups) {
            total += plannedProducts(method, probes, g.size());
        }
        long all = total;
        List<Estimate> out = new ArrayList<>();
        double sum = 0, var = 0;
        int products = 0;
        long before = 0;
        for (int l = 0; l < groups.size(); l++) {
            long offset = before;
            SymmetricOperator op = Operators.curvature(f, c, groups.get(l));
            Estimate e = estimate(op, method, probes, dist, seed + l, block,
                    (done, layerTotal) -> pr.update(offset + done, all));
            before += plannedProducts(method, probes, op.dimension());
            out.add(e);
            sum += e.value();
            var += e.standardError() * e.standardError();
            products += e.products();
        }
        return new Layerwise(Collections.unmodifiableList(out), new Estimate(method, sum, Math.sqrt(var), products));
    }

    static double mean(double[] x) {
        double s = 0;
        for (double v : x) s += v;
        return s / x.length;
    }

    /** Sample standard deviation over √m (NaN for one term). */
    static double standardError(double[] x) {
        int m = x.length;
        if (m < 2) {
            return Double.NaN;
        }
        double mu = mean(x), ss = 0;
        for (double v : x) ss += (v - mu) * (v - mu);
        return Math.sqrt(ss / (m - 1) / m);
    }
}

package io.hvp4j.spectral;

import io.hvp4j.random.Rng;
import io.hvp4j.Progress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Extreme eigenpairs by block Lanczos with full reorthogonalisation: the basis grows by {@code b} vectors per
 * step, each step one block product {@code A·Q_j} ({@code b} columns per {@link SymmetricOperator#apply} call, so
 * that the operator shares its primal work across the block and runs the tangents as matrix products).
 *
 * <p>Step j: {@code Z = A·Q_j}; classical Gram–Schmidt against the whole basis, twice, whose accumulated
 * coefficients are column block j of {@code T = QᵀAQ} (the block tridiagonal matrix plus the rounding-level
 * couplings the reorthogonalisation removes); the remainder {@code W} is orthonormalised inside the block into
 * {@code Q_{j+1}} (columns below {@link #DROP}·‖Z‖ are replaced by random directions orthogonal to the basis; a
 * remainder that vanishes entirely is an invariant subspace, and a fresh random block restarts the process with
 * coupling 0). Because {@code A·Q = Q·T + W·E_jᵀ}, the residual of the Ritz pair {@code (θ, Q·y)} is
 * {@code ‖W·y_j‖}, y_j the last block's components; when those estimates of every wanted pair are below
 * {@code tolerance·|θ|_max} the Ritz vectors are formed and their residuals {@code ‖A·u − θ·u‖} computed
 * explicitly with one more block product, which decide the converged flags (as in {@link Lanczos}).
 *
 * <p>Block sizes above 1 find eigenvalues of multiplicity up to b, which single-vector Lanczos in exact arithmetic
 * cannot. f64 recurrences; deterministic for a fixed seed. Not thread-safe.
 */
public final class BlockLanczos {
    private BlockLanczos() {
    }

    /** A remainder column below this fraction of its product's norm is treated as dependent. */
    static final double DROP = 1e-10;

    /**
     * Settings.
     *
     * @param top      largest eigenpairs wanted
     * @param bottom   smallest (most negative) eigenpairs wanted
     * @param block    vectors per block (at least 1)
     * @param maxBasis largest basis size
     * @param tolerance a pair is converged when {@code ‖A·u − θ·u‖ ≤ tolerance·|θ|_max}
     * @param seed     seed of the start block and of restart vectors
     */
    public record Options(int top, int bottom, int block, int maxBasis, double tolerance, long seed) {
        /** Validates the settings ({@link IllegalArgumentException} for bad ones). */
        public Options {
            if (top < 0 || bottom < 0 || top + bottom == 0) {
                throw new IllegalArgumentException("ask for at least one eigenpair (top " + top + ", bottom "
                        + bottom + ")");
            }
            if (block < 1) {
                throw new IllegalArgumentException("block must be positive, got " + block);
            }
            if (maxBasis < 1) {
                throw new IllegalArgumentException("maxBasis must be positive, got " + maxBasis);
            }
            if (!(tolerance > 0) || !Double.isFinite(tolerance)) {
                throw new IllegalArgumentException("tolerance must be positive, got " + tolerance);
            }
        }
    }

    /**
     * The extreme eigenpairs with default settings.
     *
     * @param a      the symmetric operator
     * @param top    number of largest eigenpairs
     * @param bottom number of smallest eigenpairs
     * @param block  vectors per block (capped by the operator's maximum block)
     * @param seed   the start block's seed
     * @return the pairs
     */
    public static Lanczos.Result compute(SymmetricOperator a, int top, int bottom, int block, long seed) {
        int b = Math.max(1, Math.min(block, a.maxBlock()));
        return compute(a, new Options(top, bottom, b, Math.max(300, 20 * (top + bottom) + 4 * b),
                Lanczos.defaultTolerance(a.dtype()), seed));
    }

    /**
     * The extreme eigenpairs.
     *
     * @param a the symmetric operator
     * @param o the settings
     * @return the pairs
     */
    public static Lanczos.Result compute(SymmetricOperator a, Options o) {
        return compute(a, o, Progress.NONE);
    }

    /**
     * As {@link #compute(SymmetricOperator, Options)}, telling {@code progress} the operator-vector products done
     * (after each block product) out of {@code total = min(max(maxBasis, b), n) + min(top, n) + min(bottom, n)}
     * ({@code b} the block size used): the products of a run that fills the largest basis and checks the
     * residuals of the wanted pairs once. Counts are capped at {@code total}, and the last update is
     * {@code done == total} also when convergence stopped the run early. The result is bit-identical with and
     * without a listener.
     *
     * @param a        the symmetric operator
     * @param o        the settings
     * @param progress told the products done (may throw to stop), or null
     * @return the pairs
     */
    public static Lanczos.Result compute(SymmetricOperator a, Options o, Progress progress) {
        int n = a.dimension();
        if (n < 1) {
            throw new IllegalArgumentException("operator of dimension " + n);
        }
        int b = Math.min(Math.min(o.block(), n), a.maxBlock());
        CountedOperator counted = new CountedOperator(a, progress,
                (long) Math.min(Math.max(o.maxBasis(), b), n) + Math.min(o.top(), n) + Math.min(o.bottom(), n));
        Lanczos.Result r = run(counted, o);
        counted.finish();
        return r;
    }

    private static Lanczos.Result run(SymmetricOperator a, Options o) {
        int n = a.dimension();
        if (n < 1) {
            throw new IllegalArgumentException("operator of dimension " + n);
        }
        int b = Math.min(Math.min(o.block(), n), a.maxBlock());
        int top = Math.min(o.top(), n), bottom = Math.min(o.bottom(), n);
        int mMax = Math.min(Math.max(o.maxBasis(), b), n);
        SplittableRandom rng = new SplittableRandom(o.seed());
        List<double[]> q = new ArrayList<>();
        double[][] t = new double[0][];
        int products = 0, restarts = 0;
        // Start block.
        double[][] next = randomBlock(rng, n, Math.min(b, mMax), q);
        double[][] lastW = null; // remainder of the last expansion (n-vectors), for the residual estimates
        int lastStart = 0, lastWidth = 0;
        int checkAt = Math.min(top + bottom, n);
        List<Integer> starts = new ArrayList<>();
        while (true) {
            int start = q.size();
            starts.add(start);
            int width = next.length;
            for (double[] v : next) q.add(v);
            int m = q.size();
            t = grow(t, m);
            // Z = A·Q_j.
            double[][] z = new double[width][n];
            Products.apply(a, next, z, width);
            products += width;
            double[][] basis = q.toArray(new double[0][]);
            double[] zNorm = new double[width];
            for (int c = 0; c < width; c++) {
                zNorm[c] = Products.norm(z[c]);
                double[] h = Products.orthogonalize(z[c], basis, m, 2);
                for (int i = 0; i < m; i++) {
                    t[i][start + c] = h[i];
                }
            }
            lastW = z;
            lastStart = start;
            lastWidth = width;
            boolean full = m >= mMax;
            if (!full && m >= checkAt && estimatesPass(t, m, blockOf(q.size(), starts), lastW, lastStart, lastWidth, top, bottom,
                    o.tolerance())) {
                Lanczos.Result r = finish(a, q, t, m, blockOf(q.size(), starts), lastW, lastStart, lastWidth, top, bottom, o.tolerance(), products,
                        restarts, false);
                if (r.converged()) {
                    return r;
                }
                products = r.products();
                checkAt = m + Math.max(b, m / 10);
            }
            if (full) {
                return finish(a, q, t, m, blockOf(q.size(), starts), lastW, lastStart, lastWidth, top, bottom, o.tolerance(), products, restarts,
                        m == n);
            }
            // Next block from the remainder: copies, orthonormalized inside (dependent columns dropped).
            int room = Math.min(width, mMax - m);
            double[][] cand = new double[width][];
            double maxZ = 0;
            for (int c = 0; c < width; c++) {
                cand[c] = z[c].clone();
                maxZ = Math.max(maxZ, zNorm[c]);
            }
            int kept = orthonormalizeAgainst(cand, width, q, DROP * Math.max(maxZ, Double.MIN_NORMAL));
            if (kept == 0) {
                restarts++;
                next = randomBlock(rng, n, room, q);
                if (next.length == 0) {
                    return finish(a, q, t, m, blockOf(q.size(), starts), lastW, lastStart, lastWidth, top, bottom, o.tolerance(), products,
                            restarts, true);
                }
            } else {
                next = java.util.Arrays.copyOf(cand, Math.min(kept, room));
            }
        }
    }

    /** CGS twice against the basis, then MGS twice inside; keeps columns above {@code absTol}; returns the count. */
    private static int orthonormalizeAgainst(double[][] v, int k, List<double[]> q, double absTol) {
        double[][] basis = q.toArray(new double[0][]);
        int kept = 0;
        for (int j = 0; j < k; j++) {
            double[] w = v[j];
            for (int pass = 0; pass < 2; pass++) {
                Products.orthogonalize(w, basis, basis.length, 1);
                for (int i = 0; i < kept; i++) Products.axpy(-Products.dot(v[i], w), v[i], w);
            }
            double nw = Products.norm(w);
            if (!(nw > absTol)) {
                continue;
            }
            Products.scale(1 / nw, w);
            v[j] = v[kept];
            v[kept++] = w;
        }
        return kept;
    }

    /** Up to {@code k} random unit vectors orthogonal to the basis and each other (fewer when the space is full). */
    private static double[][] randomBlock(SplittableRandom rng, int n, int k, List<double[]> q) {
        int want = Math.min(k, n - q.size());
        if (want <= 0) {
            return new double[0][];
        }
        double[][] v = new double[want][];
        for (int j = 0; j < want; j++) v[j] = Rng.gaussians(rng, n);
        int kept = orthonormalizeAgainst(v, want, q, 1e-10 * Math.sqrt(n));
        return java.util.Arrays.copyOf(v, kept);
    }

    private static int[] blockOf(int m, List<Integer> starts) {
        int[] out = new int[m];
        for (int k = 0; k < starts.size(); k++) {
            int end = k + 1 < starts.size() ? starts.get(k + 1) : m;
            for (int i = starts.get(k); i < end; i++) out[i] = k;
        }
        return out;
    }

    private static double[][] grow(double[][] t, int m) {
        double[][] out = new double[m][m];
        for (int i = 0; i < t.length; i++) System.arraycopy(t[i], 0, out[i], 0, t[i].length);
        return out;
    }

    /**
     * T's symmetric part from the recorded columns: column c holds rows up to the end of its own block, so an entry
     * between two blocks was computed once (in the later block's column) and one inside a diagonal block twice
     * (their mean is taken).
     */
    private static double[][] symmetric(double[][] t, int m, int[] blockOf) {
        double[][] s = new double[m][m];
        for (int i = 0; i < m; i++) {
            for (int j = i; j < m; j++) {
                double x = blockOf[i] == blockOf[j] ? 0.5 * (t[i][j] + t[j][i]) : t[i][j];
                s[i][j] = x;
                s[j][i] = x;
            }
        }
        return s;
    }

    private record Eig(double[] values, double[][] vectors) {
    }

    private static Eig eig(double[][] t, int m, int[] blockOf) {
        double[][] s = symmetric(t, m, blockOf);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            io.hvp4j.memory.Tensor a = io.hvp4j.memory.Tensor.allocate(arena, io.hvp4j.memory.DType.F64, m, m);
            for (int i = 0; i < m; i++) for (int j = 0; j < m; j++) a.set(i, j, s[i][j]);
            double[] values = SymmetricEigen.select(SymmetricEigen.Kind.EJML).decomposeInPlace(a, true);
            double[][] vec = new double[m][m]; // vec[row][pair]: column j is the eigenvector of values[j]
            for (int i = 0; i < m; i++) for (int j = 0; j < m; j++) vec[i][j] = a.get(i, j);
            return new Eig(values, vec);
        }
    }

    private static int[] wanted(int m, int top, int bottom) {
        int nt = Math.min(top, m), nb = Math.min(bottom, m);
        int[] idx = new int[nt + nb];
        for (int i = 0; i < nt; i++) idx[i] = m - 1 - i;
        for (int i = 0; i < nb; i++) idx[nt + i] = i;
        return idx;
    }

    /** ‖W·y_j‖ for the pair's eigenvector y (rows lastStart..lastStart+width of column p). */
    private static double estimate(double[][] w, Eig e, int p, int lastStart, int width, int n) {
        double[] r = new double[n];
        for (int c = 0; c < width; c++) Products.axpy(e.vectors()[lastStart + c][p], w[c], r);
        return Products.norm(r);
    }

    private static boolean estimatesPass(double[][] t, int m, int[] blockOf, double[][] w, int lastStart, int width, int top,
                                         int bottom, double tol) {
        Eig e = eig(t, m, blockOf);
        double scale = Math.max(Math.abs(e.values()[0]), Math.abs(e.values()[m - 1]));
        int n = w[0].length;
        for (int p : wanted(m, top, bottom)) {
            if (estimate(w, e, p, lastStart, width, n) > tol * scale) return false;
        }
        return true;
    }

    private static Lanczos.Result finish(SymmetricOperator a, List<double[]> q, double[][] t, int m, int[] blockOf, double[][] w,
                                         int lastStart, int width, int top, int bottom, double tol, int products,
                                         int restarts, boolean spanned) {
        int n = a.dimension();
        Eig e = eig(t, m, blockOf);
        double[] theta = e.values();
        double thetaMax = Math.max(Math.abs(theta[0]), Math.abs(theta[m - 1]));
        int[] idx = wanted(m, top, bottom);
        double[][] u = new double[idx.length][];
        for (int p = 0; p < idx.length; p++) {
            u[p] = new double[n];
            for (int j = 0; j < m; j++) Products.axpy(e.vectors()[j][idx[p]], q.get(j), u[p]);
            Products.scale(1 / Products.norm(u[p]), u[p]);
        }
        double[][] au = new double[idx.length][n];
        Products.apply(a, u, au, Math.max(1, Math.min(a.maxBlock(), idx.length)));
        products += idx.length;
        int nt = Math.min(top, m);
        List<Lanczos.RitzPair> tp = new ArrayList<>(), bp = new ArrayList<>();
        boolean allOk = true;
        for (int p = 0; p < idx.length; p++) {
            double th = theta[idx[p]];
            Products.axpy(-th, u[p], au[p]);
            double res = Products.norm(au[p]);
            double est = spanned ? 0 : estimate(w, e, idx[p], lastStart, width, n);
            boolean ok = res <= tol * thetaMax || (thetaMax == 0 && res == 0);
            allOk &= ok;
            (p < nt ? tp : bp).add(new Lanczos.RitzPair(th, u[p], res, est, ok));
        }
        return new Lanczos.Result(a.description(), n, Collections.unmodifiableList(tp),
                Collections.unmodifiableList(bp), theta, m, products, restarts, thetaMax, tol, allOk);
    }
}

package io.hvp4j.spectral;

import java.util.Arrays;

/**
 * Eigenvalues and eigenvectors of a real symmetric tridiagonal matrix by the implicit QL algorithm with
 * Wilkinson-type shifts (plane rotations chased from the bottom of each unreduced block to its top). Used for
 * the small projected problems of Lanczos and SLQ; f64 throughout.
 *
 * <p>The eigenvector matrix {@code Z} (column j = eigenvector j, orthonormal) is accumulated only for the rows
 * asked for, so that Lanczos can read the last components (convergence estimates) and SLQ the first ones
 * (quadrature weights) in O(m²) instead of O(m³).
 */
public final class Tridiagonal {
    /** Sweeps allowed per eigenvalue before giving up (typically 1–3 are needed). */
    static final int MAX_SWEEPS = 100;

    private Tridiagonal() {
    }

    /**
     * Eigenvalues in ascending order and the requested rows of the eigenvector matrix.
     *
     * @param values  eigenvalues, ascending
     * @param rows    the row indices asked for
     * @param vectors {@code vectors[r][j]} = component {@code rows[r]} of eigenvector j (unit norm, sign arbitrary)
     */
    public record Result(double[] values, int[] rows, double[][] vectors) {
        /**
         * One eigenvector in full (only when all rows were computed).
         *
         * @param j the eigenvalue's index
         * @return eigenvector j
         * @throws IllegalStateException when only some rows were computed
         */
        public double[] vector(int j) {
            int m = values.length;
            if (rows.length != m) {
                throw new IllegalStateException("only " + rows.length + " of " + m + " rows were computed");
            }
            double[] v = new double[m];
            for (int i = 0; i < m; i++) v[rows[i]] = vectors[i][j];
            return v;
        }
    }

    /**
     * Eigenvalues only.
     *
     * @param diagonal    m elements
     * @param offDiagonal m−1 elements
     * @return the eigenvalues, ascending
     */
    public static double[] eigenvalues(double[] diagonal, double[] offDiagonal) {
        return decompose(diagonal, offDiagonal, new int[0]).values();
    }

    /**
     * Eigenvalues and all eigenvectors.
     *
     * @param diagonal    m elements
     * @param offDiagonal m−1 elements
     * @return the decomposition
     */
    public static Result decompose(double[] diagonal, double[] offDiagonal) {
        int[] all = new int[diagonal.length];
        for (int i = 0; i < all.length; i++) all[i] = i;
        return decompose(diagonal, offDiagonal, all);
    }

    /**
     * Eigenvalues and the rows {@code rows} of the eigenvector matrix.
     *
     * @param diagonal    m elements
     * @param offDiagonal m−1 elements
     * @param rows        the rows of the eigenvector matrix wanted
     * @return the decomposition
     * @throws IllegalArgumentException on bad lengths or non-finite entries
     * @throws ArithmeticException      if the iteration does not converge (not observed for finite input)
     */
    public static Result decompose(double[] diagonal, double[] offDiagonal, int[] rows) {
        int m = diagonal.length;
        if (m == 0 ? offDiagonal.length != 0 : offDiagonal.length != m - 1) {
            throw new IllegalArgumentException("a tridiagonal matrix of order " + m + " needs " + Math.max(0, m - 1)
                    + " off-diagonal elements, got " + offDiagonal.length);
        }
        double[] d = diagonal.clone();
        double[] e = new double[Math.max(m, 1)];
        System.arraycopy(offDiagonal, 0, e, 0, offDiagonal.length);
        for (double x : d) requireFinite(x);
        for (double x : offDiagonal) requireFinite(x);
        int r = rows.length;
        double[][] z = new double[r][m];
        for (int i = 0; i < r; i++) {
            if (rows[i] < 0 || rows[i] >= m) {
                throw new IllegalArgumentException("row " + rows[i] + " out of range [0, " + m + ")");
            }
            z[i][rows[i]] = 1;
        }
        double eps = Math.ulp(1.0);
        for (int l = 0; l < m; l++) {
            int sweeps = 0;
            while (true) {
                // Find the end of the unreduced block that starts at l.
                int end = l;
                while (end < m - 1) {
                    double scale = Math.abs(d[end]) + Math.abs(d[end + 1]);
                    if (Math.abs(e[end]) <= eps * scale || Math.abs(e[end]) < Double.MIN_NORMAL) {
                        e[end] = 0;
                        break;
                    }
                    end++;
                }
                if (end == l) {
                    break;
                }
                if (++sweeps > MAX_SWEEPS) {
                    throw new ArithmeticException("tridiagonal QL did not converge for eigenvalue " + l);
                }
                // Shift: the eigenvalue of the leading 2x2 block closest to d[l].
                double g = (d[l + 1] - d[l]) / (2 * e[l]);
                double rr = Math.hypot(g, 1);
                g = d[end] - d[l] + e[l] / (g + Math.copySign(rr, g));
                double s = 1, c = 1, p = 0;
                boolean underflow = false;
                int i;
                for (i = end - 1; i >= l; i--) {
                    double f = s * e[i];
                    double b = c * e[i];
                    rr = Math.hypot(f, g);
                    e[i + 1] = rr;
                    if (rr == 0) {
                        // Deflation by underflow: undo the last partial update and restart the block.
                        d[i + 1] -= p;
                        e[end] = 0;
                        underflow = true;
                        break;
                    }
                    s = f / rr;
                    c = g / rr;
                    g = d[i + 1] - p;
                    rr = (d[i] - g) * s + 2 * c * b;
                    p = s * rr;
                    d[i + 1] = g + p;
                    g = c * rr - b;
                    for (int k = 0; k < r; k++) {
                        double[] zk = z[k];
                        double zi1 = zk[i + 1];
                        zk[i + 1] = s * zk[i] + c * zi1;
                        zk[i] = c * zk[i] - s * zi1;
                    }
                }
                if (underflow) {
                    continue;
                }
                d[l] -= p;
                e[l] = g;
                e[end] = 0;
            }
        }
        // Sort ascending, permuting the eigenvector columns with the values.
        Integer[] order = new Integer[m];
        for (int i = 0; i < m; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(d[a], d[b]));
        double[] values = new double[m];
        double[][] vectors = new double[r][m];
        for (int j = 0; j < m; j++) {
            values[j] = d[order[j]];
            for (int k = 0; k < r; k++) vectors[k][j] = z[k][order[j]];
        }
        return new Result(values, rows.clone(), vectors);
    }

    private static void requireFinite(double x) {
        if (!Double.isFinite(x)) {
            throw new IllegalArgumentException("tridiagonal matrix has a non-finite entry " + x);
        }
    }
}

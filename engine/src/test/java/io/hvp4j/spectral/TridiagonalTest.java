package io.hvp4j.spectral;

import io.hvp4j.random.Rng;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TridiagonalTest {
    /** Residuals ‖T z − λ z‖ and orthonormality of Z, relative to ‖T‖. */
    private static void checkDecomposition(double[] d, double[] e, Tridiagonal.Result r, double tol) {
        int m = d.length;
        double norm = 0;
        for (int i = 0; i < m; i++) norm = Math.max(norm, Math.abs(d[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0)
                + (i < m - 1 ? Math.abs(e[i]) : 0));
        norm = Math.max(norm, Double.MIN_NORMAL);
        for (int j = 0; j < m; j++) {
            double[] z = r.vector(j);
            for (int i = 0; i < m; i++) {
                double tz = d[i] * z[i] + (i > 0 ? e[i - 1] * z[i - 1] : 0) + (i < m - 1 ? e[i] * z[i + 1] : 0);
                assertEquals(r.values()[j] * z[i], tz, tol * norm, "residual of pair " + j);
            }
            for (int k = 0; k <= j; k++) {
                assertEquals(k == j ? 1 : 0, Products.dot(z, r.vector(k)), tol, "orthonormality " + j + "," + k);
            }
        }
        for (int j = 1; j < m; j++) assertTrue(r.values()[j - 1] <= r.values()[j], "ascending");
    }

    @Test
    void secondDifferenceMatrixHasKnownSpectrumAndSineVectors() {
        int n = 60;
        double[] d = new double[n], e = new double[n - 1];
        java.util.Arrays.fill(d, 2);
        java.util.Arrays.fill(e, -1);
        Tridiagonal.Result r = Tridiagonal.decompose(d, e);
        for (int k = 1; k <= n; k++) {
            double expected = 2 - 2 * Math.cos(k * Math.PI / (n + 1));
            assertEquals(expected, r.values()[k - 1], 1e-13, "eigenvalue " + k);
            double[] s = new double[n];
            for (int j = 0; j < n; j++) s[j] = Math.sin((j + 1) * k * Math.PI / (n + 1));
            double c = Products.dot(s, r.vector(k - 1)) / Products.norm(s);
            assertEquals(1, Math.abs(c), 1e-10, "eigenvector " + k);
        }
        checkDecomposition(d, e, r, 1e-13);
    }

    @Test
    void randomMatricesAgreeWithJacobi() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int m : new int[] {1, 2, 3, 7, 40}) {
            double[] d = Rng.gaussians(rng, m), e = Rng.gaussians(rng, Math.max(0, m - 1));
            double[][] dense = new double[m][m];
            for (int i = 0; i < m; i++) {
                dense[i][i] = d[i];
                if (i < m - 1) {
                    dense[i][i + 1] = e[i];
                    dense[i + 1][i] = e[i];
                }
            }
            Tridiagonal.Result r = Tridiagonal.decompose(d, e);
            assertArrayEquals(SpectralFixtures.jacobiEigenvalues(dense), r.values(), 1e-12, "m=" + m);
            checkDecomposition(d, e, r, 1e-13);
            assertArrayEquals(r.values(), Tridiagonal.eigenvalues(d, e), 0);
        }
    }

    @Test
    void selectedRowsEqualTheFullEigenvectorRows() {
        SplittableRandom rng = new SplittableRandom(9);
        int m = 25;
        double[] d = Rng.gaussians(rng, m), e = Rng.gaussians(rng, m - 1);
        Tridiagonal.Result all = Tridiagonal.decompose(d, e);
        Tridiagonal.Result some = Tridiagonal.decompose(d, e, new int[] {m - 1, 0});
        assertArrayEquals(all.values(), some.values(), 0);
        assertArrayEquals(all.vectors()[m - 1], some.vectors()[0], 0);
        assertArrayEquals(all.vectors()[0], some.vectors()[1], 0);
    }

    @Test
    void splitRepeatedAndGradedMatrices() {
        // Zero couplings: the diagonal, sorted.
        double[] d = {3, -1, 2, 2, 0};
        Tridiagonal.Result r = Tridiagonal.decompose(d, new double[4]);
        assertArrayEquals(new double[] {-1, 0, 2, 2, 3}, r.values(), 0);
        checkDecomposition(d, new double[4], r, 1e-15);
        // Wilkinson's W21+: pairs of nearly equal eigenvalues, largest 10.746194182903393.
        int n = 21;
        double[] w = new double[n], ones = new double[n - 1];
        for (int i = 0; i < n; i++) w[i] = Math.abs(10 - i);
        java.util.Arrays.fill(ones, 1);
        Tridiagonal.Result wr = Tridiagonal.decompose(w, ones);
        assertEquals(10.746194182903393, wr.values()[n - 1], 1e-12);
        assertEquals(10.746194182903322, wr.values()[n - 2], 1e-12);
        checkDecomposition(w, ones, wr, 1e-13);
        // Strongly graded entries.
        double[] g = new double[12], ge = new double[11];
        for (int i = 0; i < 12; i++) g[i] = Math.pow(10, -i);
        for (int i = 0; i < 11; i++) ge[i] = Math.pow(10, -i - 0.5);
        checkDecomposition(g, ge, Tridiagonal.decompose(g, ge), 1e-14);
        // Empty and 1x1.
        assertEquals(0, Tridiagonal.eigenvalues(new double[0], new double[0]).length);
        assertArrayEquals(new double[] {4.5}, Tridiagonal.eigenvalues(new double[] {4.5}, new double[0]), 0);
    }

    @Test
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> Tridiagonal.decompose(new double[3], new double[3]));
        assertThrows(IllegalArgumentException.class,
                () -> Tridiagonal.decompose(new double[] {1, Double.NaN}, new double[1]));
        assertThrows(IllegalArgumentException.class,
                () -> Tridiagonal.decompose(new double[2], new double[1], new int[] {2}));
    }
}

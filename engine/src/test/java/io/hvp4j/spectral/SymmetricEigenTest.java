package io.hvp4j.spectral;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Both eigensolvers on matrices with known spectra, and against each other. */
class SymmetricEigenTest {
    /** A test matrix and its exact eigenvalues (ascending). */
    record Known(String name, double[][] a, double[] values) {
        @Override
        public String toString() {
            return name;
        }
    }

    static double[] gaussian(SplittableRandom rng, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double u1 = rng.nextDouble(), u2 = rng.nextDouble();
            v[i] = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
        }
        return v;
    }

    /** A random orthogonal matrix (Gram–Schmidt twice on Gaussian columns), rows are vectors. */
    static double[][] orthogonal(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] q = new double[n][];
        for (int i = 0; i < n; i++) {
            double[] v = gaussian(rng, n);
            for (int pass = 0; pass < 2; pass++) {
                for (int j = 0; j < i; j++) {
                    double d = 0;
                    for (int k = 0; k < n; k++) d += v[k] * q[j][k];
                    for (int k = 0; k < n; k++) v[k] -= d * q[j][k];
                }
            }
            double nrm = 0;
            for (double x : v) nrm += x * x;
            nrm = Math.sqrt(nrm);
            for (int k = 0; k < n; k++) v[k] /= nrm;
            q[i] = v;
        }
        return q;
    }

    /** Σ_i λ_i q_i q_iᵀ. */
    static double[][] fromSpectrum(double[] lambda, double[][] q) {
        int n = lambda.length;
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) s += lambda[k] * q[k][i] * q[k][j];
                a[i][j] = s;
                a[j][i] = s;
            }
        }
        return a;
    }

    static double[] sorted(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s;
    }

    static Stream<Known> known() {
        // Diagonal with mixed signs and magnitudes.
        double[] diag = {3, -1, 0, 7.5, 1e-9, -2e3, 4, 4};
        double[][] d = new double[diag.length][diag.length];
        for (int i = 0; i < diag.length; i++) d[i][i] = diag[i];
        // Identity plus rank 3: eigenvalues 1 (n-3 times) and 1 + μ_i.
        int n = 40;
        double[] lr = new double[n];
        Arrays.fill(lr, 1.0);
        lr[0] = 1 + 50;
        lr[1] = 1 + 7;
        lr[2] = 1 + 0.25;
        double[][] lowRank = fromSpectrum(lr, orthogonal(n, 11));
        // Indefinite with a symmetric-ish spread and zeros.
        int m = 30;
        double[] ind = new double[m];
        for (int i = 0; i < m; i++) ind[i] = i % 3 == 0 ? 0 : (i % 2 == 0 ? 1 : -1) * (1 + i * 0.37);
        double[][] indefinite = fromSpectrum(ind, orthogonal(m, 12));
        // Random spectrum, random basis.
        int r = 120;
        double[] rs = gaussian(new SplittableRandom(5), r);
        double[][] random = fromSpectrum(rs, orthogonal(r, 13));
        return Stream.of(new Known("diagonal", d, sorted(diag)), new Known("identity+rank3", lowRank, sorted(lr)),
                new Known("indefinite", indefinite, sorted(ind)), new Known("random", random, sorted(rs)));
    }

    static Stream<Arguments> solversAndMatrices() {
        return known().flatMap(k -> Stream.of(Arguments.of("lapack", k), Arguments.of("ejml", k)));
    }

    static SymmetricEigen solver(String name) {
        if (name.equals("lapack")) {
            assumeTrue(SymmetricEigen.lapackAvailable(),
                    () -> "native LAPACK not available, skipping: " + SymmetricEigen.lapackUnavailableReason());
            return SymmetricEigen.lapack();
        }
        return SymmetricEigen.ejml();
    }

    static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) m = Math.max(m, Math.abs(x));
        return m;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("solversAndMatrices")
    void knownSpectrum(String name, Known k) {
        SymmetricEigen e = solver(name);
        double[] got = e.eigenvalues(k.a());
        double scale = maxAbs(k.values());
        assertEquals(k.values().length, got.length);
        for (int i = 0; i < got.length; i++) {
            assertEquals(k.values()[i], got[i], 1e-12 * scale, name + " eigenvalue " + i);
            if (i > 0) assertTrue(got[i - 1] <= got[i], "ascending");
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("solversAndMatrices")
    void eigenvectors(String name, Known k) {
        SymmetricEigen e = solver(name);
        int n = k.a().length;
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(arena, DType.F64, n, n);
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) t.set(i, j, k.a()[i][j]);
            double[] values = e.decomposeInPlace(t, true);
            double scale = Math.max(1, maxAbs(values));
            for (int j = 0; j < n; j++) {
                double norm = 0, res = 0;
                for (int i = 0; i < n; i++) {
                    double av = 0;
                    for (int p = 0; p < n; p++) av += k.a()[i][p] * t.get(p, j);
                    double d = av - values[j] * t.get(i, j);
                    res += d * d;
                    norm += t.get(i, j) * t.get(i, j);
                }
                assertEquals(1, norm, 1e-12, "unit vector " + j);
                assertTrue(Math.sqrt(res) <= 1e-11 * scale, name + " residual of pair " + j + ": " + Math.sqrt(res));
            }
            for (int a = 0; a < Math.min(n, 5); a++) {
                for (int b = a + 1; b < Math.min(n, 5); b++) {
                    double d = 0;
                    for (int i = 0; i < n; i++) d += t.get(i, a) * t.get(i, b);
                    assertEquals(0, d, 1e-11, "orthogonal " + a + "," + b);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("known")
    void bothPathsAgree(Known k) {
        assumeTrue(SymmetricEigen.lapackAvailable(),
                () -> "native LAPACK not available, skipping: " + SymmetricEigen.lapackUnavailableReason());
        double[] a = SymmetricEigen.lapack().eigenvalues(k.a());
        double[] b = SymmetricEigen.ejml().eigenvalues(k.a());
        double scale = maxAbs(a);
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], 1e-10 * scale, "eigenvalue " + i);
        }
    }

    @Test
    void inputIsKeptAndNonFiniteRejected() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.of(arena, DType.F64, 2, 2, new double[] {2, 1, 1, 2});
            for (SymmetricEigen e : solvers()) {
                double[] v = e.eigenvalues(t);
                assertEquals(1, v[0], 1e-15);
                assertEquals(3, v[1], 1e-15);
                assertEquals(2, t.get(0, 0));
                assertEquals(1, t.get(0, 1));
            }
            t.set(3, Double.NaN);
            for (SymmetricEigen e : solvers()) {
                InvalidInputException ex = assertThrows(InvalidInputException.class, () -> e.eigenvalues(t));
                assertTrue(ex.getMessage().contains("non-finite"), ex.getMessage());
            }
            assertEquals(0, SymmetricEigen.ejml().eigenvalues(new double[0][]).length);
        }
    }

    @Test
    void selection() {
        assertEquals(SymmetricEigen.Kind.LAPACK, SymmetricEigen.Kind.parse("lapack"));
        assertEquals(SymmetricEigen.Kind.EJML, SymmetricEigen.Kind.parse(" EJML "));
        assertEquals(SymmetricEigen.Kind.AUTO, SymmetricEigen.Kind.parse("auto"));
        assertThrows(InvalidInputException.class, () -> SymmetricEigen.Kind.parse("magma"));
        assertEquals("ejml", SymmetricEigen.select(SymmetricEigen.Kind.EJML).name());
        SymmetricEigen auto = SymmetricEigen.select(SymmetricEigen.Kind.AUTO);
        if (SymmetricEigen.lapackAvailable()) {
            assertTrue(auto.name().startsWith("lapack"), auto.name());
        } else {
            assertEquals("ejml", auto.name());
            InvalidInputException ex = assertThrows(InvalidInputException.class,
                    () -> SymmetricEigen.select(SymmetricEigen.Kind.LAPACK));
            assertTrue(ex.getMessage().contains("not available"), ex.getMessage());
        }
    }

    static java.util.List<SymmetricEigen> solvers() {
        return SymmetricEigen.lapackAvailable()
                ? java.util.List.of(SymmetricEigen.lapack(), SymmetricEigen.ejml())
                : java.util.List.of(SymmetricEigen.ejml());
    }

    @Test
    void libraryOverrideIsCheckedNotReplaced() {
        String reason = LapackEigen.probe("/nonexistent/libnolapack.so");
        assertTrue(reason != null && reason.contains("/nonexistent/libnolapack.so") && reason.contains("not loadable"),
                String.valueOf(reason));
        if (SymmetricEigen.lapackAvailable()) {
            // A real library without dsyevd_ (libc) is refused with that reason.
            String libc = LapackEigen.probe("libc.so.6");
            assertTrue(libc == null || libc.contains("no dsyevd_"), libc);
        }
    }
}

package io.hvp4j.spectral;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class LanczosTest {
    /** Compares the reported pairs with the exact ascending spectrum {@code ev}. */
    static void checkAgainst(double[] ev, Lanczos.Result r, int top, int bottom, double rel) {
        int n = ev.length;
        double scale = Math.max(Math.abs(ev[0]), Math.abs(ev[n - 1]));
        assertEquals(Math.min(top, r.dimension()), r.top().size());
        assertEquals(Math.min(bottom, r.dimension()), r.bottom().size());
        for (int i = 0; i < r.top().size(); i++) {
            Lanczos.RitzPair p = r.top().get(i);
            double exact = ev[Math.max(0, n - 1 - i)];
            assertEquals(exact, p.value(), rel * Math.max(Math.abs(exact), 1e-3 * scale), "top " + i);
            assertTrue(p.converged(), "top " + i + " converged");
            assertTrue(p.residual() <= r.tolerance() * r.thetaMax(), "top residual " + p.residual());
            assertEquals(1, Products.norm(p.vector()), 1e-12);
        }
        for (int i = 0; i < r.bottom().size(); i++) {
            Lanczos.RitzPair p = r.bottom().get(i);
            double exact = ev[Math.min(i, n - 1)];
            assertEquals(exact, p.value(), rel * Math.max(Math.abs(exact), 1e-3 * scale), "bottom " + i);
            assertTrue(p.converged(), "bottom " + i + " converged");
            assertTrue(p.residual() <= r.tolerance() * r.thetaMax());
        }
        assertTrue(r.converged());
    }

    @Test
    void diagonalMatrixWithKnownSpectrum() {
        int n = 400;
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = -2 + 5.0 * i / n; // bulk in [-2, 3)
        d[7] = 10;
        d[100] = 8;
        d[200] = -6;
        double[] ev = d.clone();
        java.util.Arrays.sort(ev);
        Lanczos.Result r = Lanczos.compute(SpectralFixtures.diagonal(d), 3, 2, 1);
        checkAgainst(ev, r, 3, 2, 1e-8);
        assertTrue(r.iterations() < n, "stopped early: " + r.iterations());
        // The Ritz vector of 10 is e_7.
        assertEquals(1, Math.abs(r.top().get(0).vector()[7]), 1e-9);
    }

    @Test
    void lowRankPlusIdentityAndIndefiniteMatrices() {
        int n = 120;
        double[] lambda = new double[n];
        java.util.Arrays.fill(lambda, 1);
        for (int i = 0; i < 5; i++) lambda[i] = 1 + 10.0 / (i + 1);
        double[][] a = SpectralFixtures.withSpectrum(lambda, 3);
        double[] ev = lambda.clone();
        java.util.Arrays.sort(ev);
        Lanczos.Result r = Lanczos.compute(Operators.dense(a), 5, 1, 4);
        checkAgainst(ev, r, 5, 1, 1e-8);

        double[][] b = SpectralFixtures.randomSymmetric(80, 11);
        double[] evb = SpectralFixtures.jacobiEigenvalues(b);
        Lanczos.Result rb = Lanczos.compute(Operators.dense(b), 4, 4, 2);
        checkAgainst(evb, rb, 4, 4, 1e-8);
    }

    @Test
    void invariantSubspacesRestartAndFindMultipleEigenvalues() {
        double[] d = new double[40];
        for (int i = 0; i < 40; i++) d[i] = i < 10 ? 5 : i < 30 ? 0 : -3;
        Lanczos.Result r = Lanczos.compute(SpectralFixtures.diagonal(d), 2, 2, 7);
        assertTrue(r.restarts() >= 1, "restarted");
        assertEquals(5, r.top().get(0).value(), 1e-12);
        assertEquals(5, r.top().get(1).value(), 1e-12);
        assertEquals(-3, r.bottom().get(0).value(), 1e-12);
        assertEquals(-3, r.bottom().get(1).value(), 1e-12);
        // Two distinct Ritz vectors for the double eigenvalue.
        assertEquals(0, Products.dot(r.top().get(0).vector(), r.top().get(1).vector()), 1e-10);
        assertTrue(r.converged());
    }

    @Test
    void smallDimensionUsesTheWholeSpace() {
        double[][] a = SpectralFixtures.randomSymmetric(6, 3);
        Lanczos.Result r = Lanczos.compute(Operators.dense(a), 10, 10, 5);
        double[] ev = SpectralFixtures.jacobiEigenvalues(a);
        assertEquals(6, r.iterations());
        checkAgainst(ev, r, 6, 6, 1e-12);
        assertArrayEquals(ev, r.ritzValues(), 1e-12);
        Lanczos.Result one = Lanczos.compute(SpectralFixtures.diagonal(-2.5), 1, 1, 5);
        assertEquals(-2.5, one.top().get(0).value(), 0);
        assertEquals(-2.5, one.bottom().get(0).value(), 0);
    }

    @Test
    void hessianGaussNewtonFunctionalAndLayerBlocksOfSmallNetworks() {
        try (Arena arena = Arena.ofConfined()) {
            MlpObjective tanhCe = SpectralFixtures.mlp(arena, new int[] {4, 6, 3}, Activation.TANH, true, Loss.CE, 12, 1);
            MlpObjective reluMse = SpectralFixtures.mlp(arena, new int[] {3, 5, 4, 2}, Activation.RELU, false,
                    Loss.MSE, 9, 2);
            try (tanhCe; reluMse) {
                for (MlpObjective f : new MlpObjective[] {tanhCe, reluMse}) {
                    for (Curvature c : Curvature.values()) {
                        for (int layer = -1; layer < f.mlp().layers(); layer++) {
                            SymmetricOperator op = Operators.curvature(f, c, layer);
                            // Single-vector Lanczos finds each multiple eigenvalue once (in exact arithmetic): compare
                            // with the distinct eigenvalues (the null space of these matrices is degenerate).
                            double[] all = SpectralFixtures.jacobiEigenvalues(SpectralFixtures.dense(op));
                            double[] ev = distinct(all);
                            Lanczos.Result r = Lanczos.compute(op, 3, 2, 11);
                            String what = f.mlp() + " " + op.description();
                            if (r.restarts() == 0) {
                                checkAgainst(ev, r, 3, 2, 1e-8);
                            } else {
                                // Restarts may find further copies of multiple eigenvalues: every pair must still be
                                // an exact eigenpair and the extremes must be right.
                                double scale = Math.max(Math.abs(all[0]), Math.abs(all[all.length - 1]));
                                assertEquals(all[all.length - 1], r.top().get(0).value(), 1e-8 * scale, what);
                                assertEquals(all[0], r.bottom().get(0).value(), 1e-8 * scale, what);
                                for (Lanczos.RitzPair p : concat(r.top(), r.bottom())) {
                                    double nearest = Double.POSITIVE_INFINITY;
                                    for (double x : all) nearest = Math.min(nearest, Math.abs(x - p.value()));
                                    assertTrue(nearest <= 1e-8 * Math.max(scale, 1e-300), what);
                                    assertTrue(p.converged(), what);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static java.util.List<Lanczos.RitzPair> concat(java.util.List<Lanczos.RitzPair> a,
                                                   java.util.List<Lanczos.RitzPair> b) {
        java.util.List<Lanczos.RitzPair> out = new java.util.ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /** The eigenvalues with clusters closer than 1e-9·max|λ| merged. */
    static double[] distinct(double[] ev) {
        double scale = Math.max(Math.abs(ev[0]), Math.abs(ev[ev.length - 1]));
        java.util.List<Double> out = new java.util.ArrayList<>();
        for (double x : ev) {
            if (out.isEmpty() || x - out.get(out.size() - 1) > 1e-9 * scale) out.add(x);
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    @Test
    void deterministicForAFixedSeed() {
        double[][] b = SpectralFixtures.randomSymmetric(50, 1);
        Lanczos.Result r1 = Lanczos.compute(Operators.dense(b), 2, 2, 42);
        Lanczos.Result r2 = Lanczos.compute(Operators.dense(b), 2, 2, 42);
        assertArrayEquals(r1.ritzValues(), r2.ritzValues(), 0);
        assertArrayEquals(r1.top().get(0).vector(), r2.top().get(0).vector(), 0);
        assertEquals(r1.products(), r2.products());
    }

    @Test
    void reportsUnconvergedPairsAtTheIterationLimit() {
        int n = 500;
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = 1 + i * 1e-3;
        Lanczos.Result r = Lanczos.compute(SpectralFixtures.diagonal(d),
                new Lanczos.Options(1, 1, 8, 1e-10, 3));
        assertEquals(8, r.iterations());
        assertTrue(!r.converged());
        assertTrue(!r.top().get(0).converged());
        assertTrue(r.top().get(0).residual() > 1e-10 * r.thetaMax());
    }
}

package io.hvp4j.spectral;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/** Block Lanczos against exact spectra: Jacobi eigenvalues of the dense matrices (an independent solver). */
class BlockLanczosTest {

    @Test
    void knownSpectraDiagonalLowRankPlusIdentityAndIndefinite() {
        int n = 400;
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = -2 + 5.0 * i / n;
        d[7] = 10;
        d[100] = 8;
        d[200] = -6;
        double[] ev = d.clone();
        java.util.Arrays.sort(ev);
        Lanczos.Result r = BlockLanczos.compute(SpectralFixtures.diagonal(d), 3, 2, 4, 1);
        LanczosTest.checkAgainst(ev, r, 3, 2, 1e-8);
        assertTrue(r.iterations() < n, "stopped early: " + r.iterations());
        assertEquals(1, Math.abs(r.top().get(0).vector()[7]), 1e-9);

        double[] lambda = new double[120];
        java.util.Arrays.fill(lambda, 1);
        for (int i = 0; i < 5; i++) lambda[i] = 1 + 10.0 / (i + 1);
        double[] evl = lambda.clone();
        java.util.Arrays.sort(evl);
        LanczosTest.checkAgainst(evl, BlockLanczos.compute(Operators.dense(SpectralFixtures.withSpectrum(lambda, 3)),
                5, 1, 3, 4), 5, 1, 1e-8);

        double[][] b = SpectralFixtures.randomSymmetric(80, 11);
        LanczosTest.checkAgainst(SpectralFixtures.jacobiEigenvalues(b), BlockLanczos.compute(Operators.dense(b), 4, 4,
                8, 2), 4, 4, 1e-8);
    }

    @Test
    void findsEveryCopyOfAMultipleEigenvalueUpToTheBlockSize() {
        // Eigenvalue 5 three times, -3 twice: a block of 4 holds all copies (single-vector Lanczos finds one).
        double[] d = new double[60];
        for (int i = 0; i < 60; i++) d[i] = i < 3 ? 5 : i < 5 ? -3 : Math.sin(i);
        Lanczos.Result r = BlockLanczos.compute(SpectralFixtures.diagonal(d), 4, 3, 4, 7);
        for (int i = 0; i < 3; i++) assertEquals(5, r.top().get(i).value(), 1e-10);
        assertTrue(r.top().get(3).value() < 1.0 + 1e-10);
        assertEquals(-3, r.bottom().get(0).value(), 1e-10);
        assertEquals(-3, r.bottom().get(1).value(), 1e-10);
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < i; j++) {
                assertEquals(0, Products.dot(r.top().get(i).vector(), r.top().get(j).vector()), 1e-9);
            }
        }
        assertTrue(r.converged());
    }

    @Test
    void curvatureOperatorsAndLayerBlocksOfSmallNetworks() {
        try (Arena arena = Arena.ofConfined()) {
            MlpObjective f = SpectralFixtures.mlp(arena, new int[] {4, 6, 3}, Activation.TANH, true, Loss.CE, 12, 1);
            try (f) {
                for (Curvature c : Curvature.values()) {
                    for (int layer = -1; layer < f.mlp().layers(); layer++) {
                        SymmetricOperator op = Operators.curvature(f, c, layer);
                        double[] all = SpectralFixtures.jacobiEigenvalues(SpectralFixtures.dense(op));
                        Lanczos.Result r = BlockLanczos.compute(op, 3, 2, 4, 11);
                        double scale = Math.max(Math.abs(all[0]), Math.abs(all[all.length - 1]));
                        String what = op.description();
                        for (int i = 0; i < r.top().size(); i++) {
                            assertEquals(all[all.length - 1 - i], r.top().get(i).value(), 1e-8 * scale, what);
                        }
                        for (int i = 0; i < r.bottom().size(); i++) {
                            assertEquals(all[i], r.bottom().get(i).value(), 1e-8 * scale, what);
                        }
                        assertTrue(r.converged(), what);
                    }
                }
            }
        }
    }

    @Test
    void wholeSpaceDeterminismAndBadOptions() {
        double[][] a = SpectralFixtures.randomSymmetric(6, 3);
        Lanczos.Result r = BlockLanczos.compute(Operators.dense(a), 10, 10, 4, 5);
        double[] ev = SpectralFixtures.jacobiEigenvalues(a);
        assertEquals(6, r.iterations());
        assertArrayEquals(ev, r.ritzValues(), 1e-12);
        double[][] b = SpectralFixtures.randomSymmetric(50, 4);
        Lanczos.Result x = BlockLanczos.compute(Operators.dense(b), 3, 0, 5, 9);
        Lanczos.Result y = BlockLanczos.compute(Operators.dense(b), 3, 0, 5, 9);
        assertArrayEquals(x.ritzValues(), y.ritzValues(), 0.0);
        assertThrows(IllegalArgumentException.class, () -> new BlockLanczos.Options(0, 0, 4, 10, 1e-9, 1));
        assertThrows(IllegalArgumentException.class, () -> new BlockLanczos.Options(1, 0, 0, 10, 1e-9, 1));
    }
}

package io.hvp4j.spectral;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class PowerIterationTest {
    @Test
    void topEigenvaluesWithDeflation() {
        double[] d = {1, 10, -2, 5, 0.5, 2.5, 0, 0.1};
        PowerIteration.Result r = PowerIteration.compute(SpectralFixtures.diagonal(d), 3, 1000, 1e-12, 3);
        assertFalse(r.dominantNegative());
        assertEquals(10, r.pairs().get(0).value(), 1e-6 * 10);
        assertEquals(5, r.pairs().get(1).value(), 1e-6 * 5);
        assertEquals(2.5, r.pairs().get(2).value(), 1e-6 * 2.5);
        for (PowerIteration.Pair p : r.pairs()) {
            assertTrue(p.converged());
            assertTrue(p.iterations() > 1);
        }
        int sum = r.pairs().stream().mapToInt(PowerIteration.Pair::iterations).sum();
        assertEquals(sum, r.products());
    }

    @Test
    void flagsADominantNegativeEigenvalue() {
        double[][] a = SpectralFixtures.withSpectrum(new double[] {-7, 3, 2, 1, 0, -1, 0.5, 0.2, 0.1, 4}, 5);
        PowerIteration.Result r = PowerIteration.compute(Operators.dense(a), 1, 1000, 1e-12, 1);
        assertTrue(r.dominantNegative());
        assertTrue(r.pairs().get(0).negative());
        assertEquals(-7, r.pairs().get(0).value(), 1e-6 * 7);
    }

    @Test
    void pyHessianDefaultsStopEarly() {
        double[] d = new double[50];
        for (int i = 0; i < 50; i++) d[i] = 1.0 / (i + 1);
        PowerIteration.Result r = PowerIteration.compute(SpectralFixtures.diagonal(d), 1, 5);
        assertTrue(r.pairs().get(0).iterations() < PowerIteration.DEFAULT_MAX_ITERATIONS);
        assertEquals(1, r.pairs().get(0).value(), 1e-3);
    }

    @Test
    void gaussNewtonOfASmallNetworkMatchesDenseEigenvalues() {
        // Spec K4: relative error ≤ 1e-6 when λ1/λ2 ≥ 1.1 and |λmin| < λmax, else the solver must flag it.
        try (Arena arena = Arena.ofConfined();
             MlpObjective f = SpectralFixtures.mlp(arena, new int[] {4, 6, 3}, Activation.TANH, true, Loss.CE, 12, 1)) {
            for (Curvature c : Curvature.values()) {
                SymmetricOperator op = Operators.curvature(f, c, -1);
                double[] ev = SpectralFixtures.jacobiEigenvalues(SpectralFixtures.dense(op));
                int n = ev.length;
                PowerIteration.Result r = PowerIteration.compute(op, 1, 5000, 1e-13, 8);
                double theta = r.pairs().get(0).value();
                if (Math.abs(ev[0]) > ev[n - 1]) {
                    assertTrue(r.dominantNegative(), c + ": dominant negative flagged");
                    assertEquals(ev[0], theta, 1e-6 * Math.abs(ev[0]));
                } else {
                    assertFalse(r.dominantNegative(), c.toString());
                    if (ev[n - 1] >= 1.1 * Math.max(ev[n - 2], Math.abs(ev[0]))) {
                        assertEquals(ev[n - 1], theta, 1e-6 * ev[n - 1], c.toString());
                    }
                }
            }
        }
    }

    @Test
    void lambdaMaxFlagRule() {
        PowerIteration.LambdaMax good = PowerIteration.lambdaMax(
                Operators.dense(SpectralFixtures.withSpectrum(new double[] {-1, 3, 2, 1, 0, 0.5, 6}, 2)), 2000, 1e-13,
                1.1, 4);
        assertFalse(good.flagged(), good.reason());
        assertEquals(6, good.value(), 1e-9 * 6);
        assertEquals(2, good.gapRatio(), 1e-6);
        PowerIteration.LambdaMax negative = PowerIteration.lambdaMax(
                Operators.dense(SpectralFixtures.withSpectrum(new double[] {-7, 3, 2, 1, 0, 4}, 3)), 2000, 1e-13, 1.1, 4);
        assertTrue(negative.flagged() && negative.reason().contains("negative"), negative.reason());
        PowerIteration.LambdaMax close = PowerIteration.lambdaMax(
                Operators.dense(SpectralFixtures.withSpectrum(new double[] {1, 0.5, 0.2, 1.05, 0.1}, 6)), 2000, 1e-13,
                1.1, 4);
        assertTrue(close.flagged() && close.reason().contains("gap"), close.reason());
        PowerIteration.LambdaMax slow = PowerIteration.lambdaMax(
                Operators.dense(SpectralFixtures.withSpectrum(new double[] {1, 0.5, 0.2, 2, 0.1}, 6)), 3, 1e-15, 1.1, 4);
        assertTrue(slow.flagged() && slow.reason().contains("not converged"), slow.reason());
    }
}

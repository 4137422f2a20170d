package io.hvp4j.spectral;

import io.hvp4j.random.Rng;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SpectralDensityTest {
    /**
     * Spec K6: Σ_i w_i θ_i^j = vᵀA^j v / vᵀv for j < 2m, compared relative to vᵀ|A|^j v / vᵀv (odd moments of an
     * indefinite spectrum may cancel).
     */
    private static void checkMoments(double[][] a, double[] v, int m, double tol) {
        SpectralDensity.Quadrature q = SpectralDensity.quadrature(Operators.dense(a), v, m);
        assertEquals(m, q.nodes().length);
        double vv = Products.dot(v, v);
        double[] power = v.clone();
        double[] absNodes = new double[q.nodes().length];
        for (int i = 0; i < absNodes.length; i++) absNodes[i] = Math.abs(q.nodes()[i]);
        SpectralDensity.Quadrature absRule = new SpectralDensity.Quadrature(absNodes, q.weights());
        for (int j = 0; j < 2 * m; j++) {
            double exact = Products.dot(v, power) / vv;
            double scale = Math.max(Math.abs(exact), absRule.moment(j));
            assertEquals(exact, q.moment(j), tol * scale, "moment " + j);
            power = SpectralFixtures.matVec(a, power);
        }
    }

    @Test
    void gaussQuadratureIsExactForLowMomentsOnAKnownSpectrum() {
        int n = 300;
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) a[i][i] = -1 + 2.5 * Math.pow((i + 0.5) / n, 2); // in (-1, 1.5)
        SplittableRandom rng = new SplittableRandom(4);
        checkMoments(a, Rng.rademacher(rng, n), 15, 1e-10);
        checkMoments(a, Rng.gaussians(rng, n), 20, 1e-10);
    }

    @Test
    void gaussQuadratureIsExactOnASmallNetworkHessian() {
        try (Arena arena = Arena.ofConfined();
             MlpObjective f = SpectralFixtures.mlp(arena, new int[] {4, 6, 3}, Activation.TANH, true, Loss.CE, 12, 1)) {
            double[][] h = SpectralFixtures.dense(Operators.curvature(f, Curvature.HESSIAN, -1));
            checkMoments(h, Rng.rademacher(new SplittableRandom(2), h.length), 10, 1e-8);
        }
    }

    @Test
    void weightsNodesDensityAndCumulativeCount() {
        int n = 200;
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = -0.5 + 3.0 * i / n;
        SpectralDensity.Result r = SpectralDensity.compute(SpectralFixtures.diagonal(d), 30, 4, 1, 2000, Double.NaN);
        assertEquals(4, r.rules().size());
        assertEquals(4 * 30, r.products());
        for (SpectralDensity.Quadrature q : r.rules()) {
            double s = 0;
            for (double w : q.weights()) {
                assertTrue(w > 0);
                s += w;
            }
            assertEquals(1, s, 1e-12);
            assertTrue(q.nodes()[0] >= -0.5 - 1e-12 && q.nodes()[q.nodes().length - 1] <= d[n - 1] + 1e-12);
        }
        double range = r.maxNode() - r.minNode();
        assertEquals(1e-5 * range * range, r.sigma2(), 1e-15);
        double integral = 0;
        for (int g = 1; g < r.grid().length; g++) {
            integral += 0.5 * (r.density()[g] + r.density()[g - 1]) * (r.grid()[g] - r.grid()[g - 1]);
        }
        assertEquals(1, integral, 1e-6);
        assertEquals(n, r.cumulative()[r.grid().length - 1], 1e-6 * n);
        assertEquals(0, r.cumulative()[0], 1e-6 * n);
        for (int g = 1; g < r.grid().length; g++) assertTrue(r.cumulative()[g] >= r.cumulative()[g - 1] - 1e-12);
        // A uniform spectrum: about half of the eigenvalues lie below its midpoint.
        assertEquals(100, r.count(-10, 1.0), 10);
        assertEquals(n, r.count(-10, 10), 1e-9);
        assertEquals(n, r.rawCount(-10, 10), 1e-9);
    }

    @Test
    void countsTheNullSpaceExactlyWhenTheKrylovSpaceIsInvariant() {
        double[] d = new double[300];
        for (int i = 0; i < 300; i++) d[i] = i < 120 ? 0 : i < 200 ? 1 : i < 260 ? 2 : -1.5;
        SpectralDensity.Result r = SpectralDensity.compute(SpectralFixtures.diagonal(d), 90, 3, 9, 10_000, Double.NaN);
        for (SpectralDensity.Quadrature q : r.rules()) assertEquals(4, q.nodes().length); // 4 distinct eigenvalues
        assertEquals(120, r.countNearZero(0.1), 1e-6);
        assertEquals(120, r.rawCount(-1e-9, 1e-9), 1e-9);
        assertEquals(40, r.count(-2, -1), 1e-6);
    }

    @Test
    void deterministicForAFixedSeed() {
        double[][] a = SpectralFixtures.randomSymmetric(60, 2);
        SpectralDensity.Result r1 = SpectralDensity.compute(Operators.dense(a), 20, 3, 5, 500, Double.NaN);
        SpectralDensity.Result r2 = SpectralDensity.compute(Operators.dense(a), 20, 3, 5, 500, Double.NaN);
        assertEquals(java.util.Arrays.toString(r1.density()), java.util.Arrays.toString(r2.density()));
    }

    @Test
    void normalDistributionFunction() {
        assertEquals(0.5, SpectralDensity.normalCdf(0), 1e-16);
        assertEquals(0.8413447460685429, SpectralDensity.normalCdf(1), 1e-15);
        assertEquals(0.0013498980316300946, SpectralDensity.normalCdf(-3), 1e-15);
        assertEquals(0.9772498680518208, SpectralDensity.normalCdf(2), 1e-15);
        assertEquals(1.5374597944280349e-12, SpectralDensity.erfc(5), 1e-24);
        assertEquals(0.004677734981047266, SpectralDensity.erfc(2), 1e-15);
        assertEquals(2.209049699858544e-05, SpectralDensity.erfc(3), 1e-15);
        assertEquals(2.088487583762545e-45, SpectralDensity.erfc(10), 1e-58);
    }
}

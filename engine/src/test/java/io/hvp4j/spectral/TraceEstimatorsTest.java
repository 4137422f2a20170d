package io.hvp4j.spectral;

import io.hvp4j.random.Rng;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.ProgressRecorder;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class TraceEstimatorsTest {
    private static final TraceEstimators.Probe RAD = TraceEstimators.Probe.RADEMACHER;

    @Test
    void exactTraceAndDiagonal() {
        double[][] a = SpectralFixtures.randomSymmetric(37, 1);
        TraceEstimators.Estimate e = TraceEstimators.exact(Operators.dense(a), 8);
        assertEquals(SpectralFixtures.trace(a), e.value(), 1e-12);
        assertEquals(37, e.products());
        assertEquals(0, e.standardError());
        double[] d = TraceEstimators.exactDiagonal(Operators.dense(a), 5);
        for (int i = 0; i < 37; i++) assertEquals(a[i][i], d[i], 0);
    }

    @Test
    void hutchinsonWithinFourStandardErrors() {
        // Spec K2 on matrices with known trace, for fixed seeds, both probe distributions.
        double[][] a = SpectralFixtures.randomSymmetric(100, 3);
        for (int i = 0; i < 100; i++) a[i][i] += 2;
        double tr = SpectralFixtures.trace(a);
        int m = 50;
        double theory = SpectralFixtures.rademacherStandardError(a, m);
        for (long seed = 0; seed < 10; seed++) {
            TraceEstimators.Estimate e = TraceEstimators.hutchinson(Operators.dense(a), m, RAD, seed, 16);
            assertTrue(Math.abs(e.value() - tr) <= 4 * theory, "seed " + seed + ": " + e + " vs " + tr);
            assertTrue(e.standardError() > 0.5 * theory && e.standardError() < 2 * theory, "reported SE " + e);
            assertEquals(m, e.products());
            TraceEstimators.Estimate g = TraceEstimators.hutchinson(Operators.dense(a), m,
                    TraceEstimators.Probe.GAUSSIAN, seed, 16);
            double fro = 0;
            for (double[] row : a) for (double x : row) fro += x * x;
            assertTrue(Math.abs(g.value() - tr) <= 4 * Math.sqrt(2 * fro / m), "gaussian seed " + seed);
        }
    }

    @Test
    void blockSizeDoesNotChangeTheEstimate() {
        double[][] a = SpectralFixtures.randomSymmetric(40, 4);
        TraceEstimators.Estimate b1 = TraceEstimators.hutchinson(Operators.dense(a), 23, RAD, 7, 1);
        TraceEstimators.Estimate b16 = TraceEstimators.hutchinson(Operators.dense(a), 23, RAD, 7, 16);
        assertEquals(b1.value(), b16.value(), 1e-12 * Math.abs(b1.value()) + 1e-12);
        assertEquals(b1.standardError(), b16.standardError(), 1e-12);
    }

    @Test
    void hutchPlusPlusBeatsHutchinsonOnALowRankMatrix() {
        int n = 300;
        double[] lambda = new double[n];
        for (int i = 0; i < 15; i++) lambda[i] = 100.0 / (i + 1);
        for (int i = 15; i < n; i++) lambda[i] = 1e-3;
        double[][] a = SpectralFixtures.withSpectrum(lambda, 6);
        double tr = 0;
        for (double x : lambda) tr += x;
        double errH = 0, errPP = 0;
        int products = 60;
        for (long seed = 0; seed < 5; seed++) {
            TraceEstimators.Estimate h = TraceEstimators.hutchinson(Operators.dense(a), products, RAD, seed, 16);
            TraceEstimators.Estimate pp = TraceEstimators.hutchPlusPlus(Operators.dense(a), products, seed, 16);
            assertEquals(products, pp.products());
            assertTrue(Math.abs(pp.value() - tr) <= 4 * pp.standardError() + 1e-9 * tr, "hutch++ " + pp + " vs " + tr);
            errH += Math.abs(h.value() - tr);
            errPP += Math.abs(pp.value() - tr);
        }
        assertTrue(errPP < 0.01 * errH, "hutch++ error " + errPP + " vs hutchinson " + errH);
        // Exactly low rank (rank 15 < 20 sketch vectors): Hutch++ is exact up to rounding.
        double[] low = new double[n];
        System.arraycopy(lambda, 0, low, 0, 15);
        double[][] b = SpectralFixtures.withSpectrum(low, 7);
        TraceEstimators.Estimate pp = TraceEstimators.hutchPlusPlus(Operators.dense(b), products, 1, 16);
        double trb = 0;
        for (double x : low) trb += x;
        assertEquals(trb, pp.value(), 1e-10 * trb);
    }

    @Test
    void xtraceEqualsTheMeanOfItsLeaveOneOutEstimatesComputedDirectly() {
        int n = 40, s = 6;
        double[][] a = SpectralFixtures.randomSymmetric(n, 11);
        long seed = 5;
        TraceEstimators.Estimate x = TraceEstimators.xtrace(Operators.dense(a), 2 * s, RAD, seed, 4);
        assertEquals(2 * s, x.products());
        // Reference: for each i, an explicit orthonormal basis of A·W without column i.
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        double[][] w = new double[s][];
        for (int j = 0; j < s; j++) w[j] = Rng.rademacher(rng, n);
        double[] est = new double[s];
        for (int i = 0; i < s; i++) {
            double[][] basis = new double[s - 1][];
            for (int j = 0, c = 0; j < s; j++) if (j != i) basis[c++] = mul(a, w[j]);
            int r = Products.orthonormalize(basis, s - 1, new double[0][], 0, 0);
            assertEquals(s - 1, r);
            double t = 0;
            for (int j = 0; j < r; j++) t += Products.dot(basis[j], mul(a, basis[j]));
            double[] pw = w[i].clone();
            for (int pass = 0; pass < 2; pass++) {
                for (int j = 0; j < r; j++) Products.axpy(-Products.dot(basis[j], pw), basis[j], pw);
            }
            est[i] = t + Products.dot(pw, mul(a, pw));
        }
        double mean = 0;
        for (double e : est) mean += e / s;
        double scale = 0;
        for (double[] row : a) for (double v : row) scale += Math.abs(v);
        assertEquals(mean, x.value(), 1e-11 * scale);
        assertEquals(TraceEstimators.standardError(est), x.standardError(), 1e-9 * scale);
    }

    @Test
    void xtraceOnLowRankPlusNoiseAndExactOnLowRank() {
        int n = 300;
        double[] lambda = new double[n];
        for (int i = 0; i < 15; i++) lambda[i] = 100.0 / (i + 1);
        for (int i = 15; i < n; i++) lambda[i] = 1e-3;
        double[][] a = SpectralFixtures.withSpectrum(lambda, 6);
        double tr = 0;
        for (double x : lambda) tr += x;
        double errH = 0, errX = 0;
        for (long seed = 0; seed < 5; seed++) {
            TraceEstimators.Estimate h = TraceEstimators.hutchinson(Operators.dense(a), 60, RAD, seed, 16);
            TraceEstimators.Estimate x = TraceEstimators.xtrace(Operators.dense(a), 60, RAD, seed, 16);
            errH += Math.abs(h.value() - tr);
            errX += Math.abs(x.value() - tr);
        }
        assertTrue(errX < 0.01 * errH, "xtrace error " + errX + " vs hutchinson " + errH);
        double[] low = new double[n];
        System.arraycopy(lambda, 0, low, 0, 15);
        TraceEstimators.Estimate x = TraceEstimators.xtrace(Operators.dense(SpectralFixtures.withSpectrum(low, 7)), 60,
                RAD, 1, 16);
        double trb = 0;
        for (double v : low) trb += v;
        assertEquals(trb, x.value(), 1e-10 * trb);
        assertThrows(IllegalArgumentException.class, () -> TraceEstimators.xtrace(Operators.dense(a), 7, RAD, 1, 4));
    }

    private static double[] mul(double[][] a, double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = Products.dot(a[i], v);
        return out;
    }

    @Test
    void diagonalEstimate() {
        double[] d = {3, -1, 0.5, 7, 2};
        assertArrayEquals(d, TraceEstimators.diagonal(SpectralFixtures.diagonal(d), 3, RAD, 1, 2), 1e-15);
        double[][] a = SpectralFixtures.randomSymmetric(30, 8);
        for (int i = 0; i < 30; i++) a[i][i] += 20;
        double[] est = TraceEstimators.diagonal(Operators.dense(a), 400, RAD, 2, 16);
        for (int i = 0; i < 30; i++) {
            double off = 0;
            for (int j = 0; j < 30; j++) if (j != i) off += a[i][j] * a[i][j];
            assertEquals(a[i][i], est[i], 4 * Math.sqrt(off / 400), "diagonal " + i);
        }
    }

    @Test
    void layerTracesSumToTheFullTraceAndHutchinsonIsWithinFourStandardErrors() {
        try (Arena arena = Arena.ofConfined()) {
            MlpObjective tanhCe = SpectralFixtures.mlp(arena, new int[] {4, 6, 3}, Activation.TANH, true, Loss.CE, 12, 1);
            MlpObjective linear = SpectralFixtures.mlp(arena, new int[] {3, 4, 4, 2}, Activation.IDENTITY, false,
                    Loss.MSE, 8, 5);
            try (tanhCe; linear) {
                for (MlpObjective f : new MlpObjective[] {tanhCe, linear}) {
                    for (Curvature c : Curvature.values()) {
                        SymmetricOperator full = Operators.curvature(f, c, -1);
                        double[][] dense = SpectralFixtures.dense(full);
                        double exact = SpectralFixtures.trace(dense);
                        // K1: Σ_l tr(C_ll) = tr(C), with each block's trace from unit products of the block.
                        TraceEstimators.Layerwise lw = TraceEstimators.layerwise(f, c, TraceEstimators.Method.EXACT,
                                0, RAD, 0, 8);
                        assertEquals(exact, lw.total().value(), 1e-12 * Math.max(1e-300, absTrace(dense)) + 1e-15,
                                c + " K1");
                        assertEquals(exact, TraceEstimators.exact(full, 8).value(), 1e-13 * absTrace(dense) + 1e-15);
                        // K2 for the full matrix and each layer block.
                        int m = 30;
                        TraceEstimators.Estimate h = TraceEstimators.hutchinson(full, m, RAD, 3, 8);
                        assertTrue(Math.abs(h.value() - exact)
                                <= 4 * SpectralFixtures.rademacherStandardError(dense, m) + 1e-12, c + " K2 full");
                        TraceEstimators.Layerwise hl = TraceEstimators.layerwise(f, c, TraceEstimators.Method.HUTCHINSON,
                                m, RAD, 3, 8);
                        for (int l = 0; l < f.mlp().layers(); l++) {
                            double[][] block = SpectralFixtures.dense(Operators.curvature(f, c, l));
                            double se = SpectralFixtures.rademacherStandardError(block, m);
                            double tl = SpectralFixtures.trace(block);
                            assertEquals(tl, lw.layers().get(l).value(), 1e-13 * absTrace(block) + 1e-15);
                            assertTrue(Math.abs(hl.layers().get(l).value() - tl) <= 4 * se + 1e-12,
                                    c + " K2 layer " + l);
                        }
                        if (f == linear && c == Curvature.FUNCTIONAL) {
                            // S6: tr(H_F) = 0 for linear bias-free networks.
                            assertEquals(0, exact, 1e-10 * frobenius(dense));
                        }
                    }
                }
            }
        }
    }

    private static double absTrace(double[][] m) {
        double s = 0;
        for (int i = 0; i < m.length; i++) s += Math.abs(m[i][i]);
        return s;
    }

    private static double frobenius(double[][] m) {
        double s = 0;
        for (double[] row : m) for (double x : row) s += x * x;
        return Math.sqrt(s);
    }

    @Test
    void progressEndsAtTheTotalAndDoesNotChangeTheEstimates() {
        // Low rank (5) as well as full rank, so XTrace's range-captured fallback (fewer products) is covered too.
        double[] lambda = new double[30];
        for (int i = 0; i < 5; i++) lambda[i] = 1 + i;
        for (double[][] a : new double[][][] {SpectralFixtures.randomSymmetric(30, 9),
                SpectralFixtures.withSpectrum(lambda, 2)}) {
            SymmetricOperator op = Operators.dense(a);
            for (TraceEstimators.Method m : TraceEstimators.Method.values()) {
                int probes = 14;
                TraceEstimators.Estimate plain = TraceEstimators.estimate(op, m, probes, RAD, 5, 4);
                ProgressRecorder rec = new ProgressRecorder();
                TraceEstimators.Estimate listened = TraceEstimators.estimate(op, m, probes, RAD, 5, 4, rec);
                assertEquals(plain, listened, m.id()); // record equality: the doubles' bits
                rec.assertMonotoneToEnd(m == TraceEstimators.Method.EXACT ? 30 : probes, 3);
            }
            ProgressRecorder rec = new ProgressRecorder();
            assertArrayEquals(TraceEstimators.diagonal(op, 9, RAD, 3, 4),
                    TraceEstimators.diagonal(op, 9, RAD, 3, 4, rec));
            rec.assertMonotoneToEnd(9, 3);
            rec = new ProgressRecorder();
            assertArrayEquals(TraceEstimators.exactDiagonal(op, 7), TraceEstimators.exactDiagonal(op, 7, rec));
            rec.assertMonotoneToEnd(30, 5);
        }
    }

    @Test
    void layerwiseProgressRunsOverAllLayers() {
        try (Arena arena = Arena.ofConfined()) {
            MlpObjective f = SpectralFixtures.mlp(arena, new int[] {4, 6, 3}, Activation.TANH, true, Loss.CE, 12, 1);
            for (TraceEstimators.Method m : TraceEstimators.Method.values()) {
                TraceEstimators.Layerwise plain = TraceEstimators.layerwise(f, Curvature.HESSIAN, m, 8, RAD, 2, 16);
                ProgressRecorder rec = new ProgressRecorder();
                TraceEstimators.Layerwise listened = TraceEstimators.layerwise(f, Curvature.HESSIAN, m, 8, RAD, 2, 16,
                        rec);
                assertEquals(plain.layers(), listened.layers(), m.id());
                assertEquals(plain.total(), listened.total(), m.id());
                long expected = m == TraceEstimators.Method.EXACT ? f.parameterCount() : 2L * 8;
                rec.assertMonotoneToEnd(expected, 4);
            }
        }
    }
}

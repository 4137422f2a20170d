package io.hvp4j.spectral;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.ProgressRecorder;
import io.hvp4j.memory.DType;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Progress of Lanczos, block Lanczos and power iteration: updates rise to {@code done == total}, count the
 * products actually made (also when convergence stops a run early, or the limit ends it), and leave the results'
 * bits unchanged.
 */
class SpectralProgressTest {
    /** n = 200: outliers 100, 50, −30 over a bulk in [0, 1], so every method converges well before its limit. */
    private static SymmetricOperator outliers() {
        double[] lambda = new double[200];
        for (int i = 0; i < lambda.length; i++) lambda[i] = i / 200.0;
        lambda[0] = 100;
        lambda[1] = 50;
        lambda[2] = -30;
        return Operators.dense(SpectralFixtures.withSpectrum(lambda, 4));
    }

    private static void assertSame(Lanczos.Result a, Lanczos.Result b) {
        assertArrayEquals(a.ritzValues(), b.ritzValues());
        assertEquals(List.of(a.iterations(), a.products(), a.restarts(), a.converged()),
                List.of(b.iterations(), b.products(), b.restarts(), b.converged()));
        assertEquals(a.thetaMax(), b.thetaMax());
        for (int side = 0; side < 2; side++) {
            List<Lanczos.RitzPair> pa = side == 0 ? a.top() : a.bottom(), pb = side == 0 ? b.top() : b.bottom();
            assertEquals(pa.size(), pb.size());
            for (int i = 0; i < pa.size(); i++) {
                assertArrayEquals(new double[] {pa.get(i).value(), pa.get(i).residual(), pa.get(i).residualEstimate()},
                        new double[] {pb.get(i).value(), pb.get(i).residual(), pb.get(i).residualEstimate()});
                assertArrayEquals(pa.get(i).vector(), pb.get(i).vector());
            }
        }
    }

    /**
     * What counting the products reached on its own: the last update, or the one before it when the last is the
     * jump to {@code done == total} of a run that stopped early.
     */
    private static long countedDone(ProgressRecorder rec, long products) {
        List<long[]> u = rec.updates();
        long last = u.get(u.size() - 1)[0];
        return last == products ? last : u.get(u.size() - 2)[0];
    }

    @Test
    void lanczosCountsItsProductsAndEndsAtTheTotal() {
        SymmetricOperator op = outliers();
        Lanczos.Options early = Lanczos.Options.of(2, 1, DType.F64).withSeed(3);
        Lanczos.Options capped = early.withMaxIterations(6);
        for (Lanczos.Options o : new Lanczos.Options[] {early, capped}) {
            Lanczos.Result plain = Lanczos.compute(op, o);
            ProgressRecorder rec = new ProgressRecorder();
            Lanczos.Result listened = Lanczos.compute(op, o, rec);
            assertSame(plain, listened);
            long total = Math.min(o.maxIterations(), 200) + 2 + 1;
            rec.assertMonotoneToEnd(total, 3);
            assertEquals(plain.products(), countedDone(rec, plain.products()), "products counted");
            if (o == early) {
                assertTrue(plain.converged() && plain.products() < total, "stopped early: " + plain.products());
            } else {
                assertEquals(total, plain.products()); // the limit: the full basis and one residual check
            }
        }
        ProgressRecorder rec = new ProgressRecorder();
        assertSame(Lanczos.compute(op, 1, 1, 7), Lanczos.compute(op, 1, 1, 7, rec));
        rec.assertMonotoneToEnd(200 + 1 + 1, 3);
    }

    @Test
    void blockLanczosCountsItsProductsAndEndsAtTheTotal() {
        SymmetricOperator op = outliers();
        for (int maxBasis : new int[] {300, 9}) {
            BlockLanczos.Options o = new BlockLanczos.Options(2, 1, 3, maxBasis, 1e-9, 5);
            Lanczos.Result plain = BlockLanczos.compute(op, o);
            ProgressRecorder rec = new ProgressRecorder();
            Lanczos.Result listened = BlockLanczos.compute(op, o, rec);
            assertSame(plain, listened);
            long total = Math.min(maxBasis, 200) + 2 + 1;
            rec.assertMonotoneToEnd(total, 3);
            assertEquals(Math.min(plain.products(), total), countedDone(rec, Math.min(plain.products(), total)),
                    "products counted");
            if (maxBasis == 300) {
                assertTrue(plain.converged() && plain.products() < total, "stopped early: " + plain.products());
            }
        }
    }

    @Test
    void powerIterationCountsSkippedIterationsOfConvergedPairs() {
        SymmetricOperator op = outliers();
        PowerIteration.Result plain = PowerIteration.compute(op, 2, 100, 1e-6, 9);
        ProgressRecorder rec = new ProgressRecorder();
        PowerIteration.Result listened = PowerIteration.compute(op, 2, 100, 1e-6, 9, rec);
        assertEquals(plain.products(), listened.products());
        for (int k = 0; k < 2; k++) {
            PowerIteration.Pair a = plain.pairs().get(k), b = listened.pairs().get(k);
            assertEquals(List.of(a.value(), a.residual(), a.iterations(), a.converged()),
                    List.of(b.value(), b.residual(), b.iterations(), b.converged()));
            assertArrayEquals(a.vector(), b.vector());
        }
        rec.assertMonotoneToEnd(200, 3);
        int first = plain.pairs().get(0).iterations();
        assertTrue(plain.pairs().get(0).converged() && first < 100, "first pair: " + first);
        // The first pair's products one by one, then its unused iterations at once.
        assertEquals(first, rec.updates().get(first)[0]);
        assertEquals(100, rec.updates().get(first + 1)[0]);
        assertEquals(101, rec.updates().get(first + 2)[0]);
        // At the limit every iteration is a product.
        rec = new ProgressRecorder();
        PowerIteration.Result capped = PowerIteration.compute(op, 2, 3, 0, 9, rec);
        assertEquals(6, capped.products());
        assertEquals(6, countedDone(rec, 6));
        assertEquals(7, rec.updates().size()); // (0, 6), then one per product
        rec.assertMonotoneToEnd(6, 7);
        rec = new ProgressRecorder();
        assertEquals(PowerIteration.lambdaMax(op, 50, 1e-6, 1.1, 2),
                PowerIteration.lambdaMax(op, 50, 1e-6, 1.1, 2, rec));
        rec.assertMonotoneToEnd(100, 3);
    }
}

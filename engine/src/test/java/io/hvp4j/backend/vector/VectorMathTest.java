package io.hvp4j.backend.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** Accuracy of {@link VectorMath} against StrictMath, in ulps, over wide ranges including tiny and huge inputs. */
class VectorMathTest {
    private static double[] inputs(double lo, double hi, boolean includeTiny) {
        SplittableRandom rng = new SplittableRandom(3);
        double[] x = new double[4096];
        for (int i = 0; i < x.length; i++) {
            x[i] = lo + (hi - lo) * rng.nextDouble();
            if (includeTiny && i % 7 == 0) x[i] = Math.copySign(Math.pow(10, -1 - 15 * rng.nextDouble()), x[i]);
        }
        x[0] = 0;
        return x;
    }

    private static double maxUlpsF64(double[] x, UnaryOperator<DoubleVector> f, DoubleUnaryOperator ref) {
        var s = DoubleVector.SPECIES_PREFERRED;
        double worst = 0;
        for (int i = 0; i + s.length() <= x.length; i += s.length()) {
            DoubleVector y = f.apply(DoubleVector.fromArray(s, x, i));
            for (int l = 0; l < s.length(); l++) {
                double r = ref.applyAsDouble(x[i + l]);
                double e = Math.abs(y.lane(l) - r) / Math.ulp(r == 0 ? Double.MIN_NORMAL : r);
                worst = Math.max(worst, r == 0 && y.lane(l) == 0 ? 0 : e);
            }
        }
        return worst;
    }

    private static double maxUlpsF32(double[] x, UnaryOperator<FloatVector> f, DoubleUnaryOperator ref) {
        var s = FloatVector.SPECIES_PREFERRED;
        float[] xf = new float[x.length];
        for (int i = 0; i < x.length; i++) xf[i] = (float) x[i];
        double worst = 0;
        for (int i = 0; i + s.length() <= xf.length; i += s.length()) {
            FloatVector y = f.apply(FloatVector.fromArray(s, xf, i));
            for (int l = 0; l < s.length(); l++) {
                double r = ref.applyAsDouble(xf[i + l]);
                float rf = (float) r;
                double e = Math.abs(y.lane(l) - r) / Math.ulp(rf == 0 ? Float.MIN_NORMAL : rf);
                worst = Math.max(worst, r == 0 && y.lane(l) == 0 ? 0 : e);
            }
        }
        return worst;
    }

    @Test
    void doublePrecisionWithinFewUlps() {
        double[] sym = inputs(-25, 25, true);
        double[] neg = inputs(-700, 0, true);
        double[] unit = inputs(0, 1, true);
        assertTrue(maxUlpsF64(sym, VectorMath::tanh, StrictMath::tanh) <= 4, "tanh");
        assertTrue(maxUlpsF64(neg, VectorMath::expNonPositive, StrictMath::exp) <= 4, "exp");
        assertTrue(maxUlpsF64(inputs(-40, 0, true), VectorMath::expm1NonPositive, StrictMath::expm1) <= 4, "expm1");
        assertTrue(maxUlpsF64(unit, VectorMath::log1pUnit, StrictMath::log1p) <= 4, "log1p");
    }

    @Test
    void singlePrecisionWithinFewUlps() {
        double[] sym = inputs(-12, 12, true);
        assertTrue(maxUlpsF32(sym, VectorMath::tanh, StrictMath::tanh) <= 4, "tanh");
        assertTrue(maxUlpsF32(inputs(-80, 0, true), VectorMath::expNonPositive, StrictMath::exp) <= 4, "exp");
        assertTrue(maxUlpsF32(inputs(-20, 0, true), VectorMath::expm1NonPositive, StrictMath::expm1) <= 4, "expm1");
        assertTrue(maxUlpsF32(inputs(0, 1, true), VectorMath::log1pUnit, StrictMath::log1p) <= 4, "log1p");
    }

    @Test
    void saturationAndSigns() {
        var s = DoubleVector.SPECIES_PREFERRED;
        assertEquals(1.0, VectorMath.tanh(DoubleVector.broadcast(s, 1e6)).lane(0));
        assertEquals(-1.0, VectorMath.tanh(DoubleVector.broadcast(s, -1e6)).lane(0));
        assertEquals(-1e-300, VectorMath.tanh(DoubleVector.broadcast(s, -1e-300)).lane(0));
        assertEquals(0.0, VectorMath.expNonPositive(DoubleVector.broadcast(s, -1e9)).lane(0), 1e-300);
    }
}

package io.hvp4j.autodiff;

import io.hvp4j.backend.ElementwiseFunction;
import io.hvp4j.backend.vector.VectorMath;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;

/** {@code log cosh(r) = |r| + log1p(e^{−2|r|}) − log 2} (no overflow), {@code tanh r}, {@code 1 − tanh² r}. */
final class LogCosh implements ElementwiseFunction {
    static final LogCosh INSTANCE = new LogCosh();
    private static final double LN2 = Math.log(2);

    private LogCosh() {
    }

    @Override
    public String id() {
        return "logcosh";
    }

    @Override
    public double value(double z) {
        double a = Math.abs(z);
        return a + StrictMath.log1p(StrictMath.exp(-2 * a)) - LN2;
    }

    @Override
    public double d1(double z) {
        return StrictMath.tanh(z);
    }

    @Override
    public double d2(double z) {
        double t = StrictMath.tanh(z);
        return 1 - t * t;
    }

    @Override
    public double d3(double z) {
        double t = StrictMath.tanh(z);
        return -2 * t * (1 - t * t);
    }

    @Override
    public FloatVector value(FloatVector z) {
        FloatVector a = z.abs();
        return a.add(VectorMath.log1pUnit(VectorMath.expNonPositive(a.mul(-2f)))).sub((float) LN2);
    }

    @Override
    public FloatVector d1(FloatVector z, FloatVector value) {
        return VectorMath.tanh(z);
    }

    @Override
    public FloatVector d2(FloatVector z, FloatVector value, FloatVector t) {
        return t.fma(t.neg(), z.broadcast(1));
    }

    @Override
    public DoubleVector value(DoubleVector z) {
        DoubleVector a = z.abs();
        return a.add(VectorMath.log1pUnit(VectorMath.expNonPositive(a.mul(-2d)))).sub(LN2);
    }

    @Override
    public DoubleVector d1(DoubleVector z, DoubleVector value) {
        return VectorMath.tanh(z);
    }

    @Override
    public DoubleVector d2(DoubleVector z, DoubleVector value, DoubleVector t) {
        return t.fma(t.neg(), z.broadcast(1));
    }
}

package io.hvp4j.backend.vector;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.math.BigDecimal;
import java.math.MathContext;

/**
 * The error function, lane-wise and as its double reference, from one series with positive terms only:
 * {@code erf a = (2/√π)·a·e^{−a²}·Σ_n c_n·(a²)^n}, {@code c_n = 2^n/(2n+1)!!} (no cancellation, unlike the Taylor
 * series of erf itself). The sum is a polynomial in {@code w = a²}, evaluated by Horner with fused multiply-adds in
 * {@code u = w/2^s} (coefficients {@code c_n·2^{sn}}, exact scalings that keep them clear of underflow); a short
 * polynomial serves {@code |x| ≤ 3} (float: 2), a long one {@code |x|} up to the point beyond which erf rounds to ±1
 * (5.9; float: 4), both truncated below 2^-60 (float 2^-30) of the sum. {@code e^{−a²}} is taken as
 * {@code e^{−hi}·(1 − lo)} with {@code a² = hi + lo} exactly, so the rounding of {@code a²} costs nothing. Each lane
 * depends only on itself (the long polynomial is evaluated when any lane needs it, but only such lanes take it), so
 * results are the same bits wherever a value stands. The double reference {@link #erf(double)} does the same
 * operations with {@code StrictMath.exp}: it and the lanes differ only by the exponentials (a few ulps).
 */
public final class VectorErf {
    private VectorErf() {
    }

    /** 2/√π. */
    public static final double TWO_OVER_SQRT_PI = 1.1283791670955126;

    private static final double SHORT_D = 3, CUT_D = 5.9;
    private static final float SHORT_F = 2, CUT_F = 4;
    // Degrees and scales: double short 48 (w ≤ 9, scale 16), long 100 (w ≤ 34.81, scale 64); float 23 (w ≤ 4,
    // scale 4) and 47 (w ≤ 16, scale 16).
    private static final double[] SHORT_POLY_D = coefficients(48, 4), LONG_POLY_D = coefficients(100, 6);
    private static final float[] SHORT_POLY_F = toFloat(coefficients(23, 2)), LONG_POLY_F = toFloat(coefficients(47, 4));
    private static final double SHORT_SCALE_D = 1.0 / 16, LONG_SCALE_D = 1.0 / 64;
    private static final float SHORT_SCALE_F = 1f / 4, LONG_SCALE_F = 1f / 16;

    /** {@code c_n·2^{s·n}} for n = 0..degree, correctly rounded, highest degree first (Horner order). */
    static double[] coefficients(int degree, int s) {
        MathContext mc = new MathContext(50);
        double[] out = new double[degree + 1];
        BigDecimal c = BigDecimal.ONE;
        BigDecimal scale = BigDecimal.valueOf(2).pow(s);
        for (int n = 0; n <= degree; n++) {
            if (n > 0) {
                c = c.multiply(BigDecimal.valueOf(2).multiply(scale)).divide(BigDecimal.valueOf(2L * n + 1), mc);
            }
            out[degree - n] = c.doubleValue();
        }
        return out;
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    private static double horner(double[] p, double u) {
        double s = p[0];
        for (int i = 1; i < p.length; i++) {
            s = Math.fma(s, u, p[i]);
        }
        return s;
    }

    /** The double reference (also what the scalar backend uses). */
    public static double erf(double x) {
        double a = Math.abs(x);
        if (a >= CUT_D) {
            return Math.copySign(1, x);
        }
        double w = a * a, e = expNegSquare(a);
        double p = a > SHORT_D ? horner(LONG_POLY_D, w * LONG_SCALE_D) : horner(SHORT_POLY_D, w * SHORT_SCALE_D);
        double r = Math.min(a * TWO_OVER_SQRT_PI * e * p, 1);
        return x < 0 ? -r : r;
    }

    private static DoubleVector horner(double[] p, DoubleVector u) {
        DoubleVector s = u.broadcast(p[0]);
        for (int i = 1; i < p.length; i++) {
            s = s.fma(u, u.broadcast(p[i]));
        }
        return s;
    }

    private static FloatVector horner(float[] p, FloatVector u) {
        FloatVector s = u.broadcast(p[0]);
        for (int i = 1; i < p.length; i++) {
            s = s.fma(u, u.broadcast(p[i]));
        }
        return s;
    }

    public static DoubleVector erf(DoubleVector x) {
        DoubleVector ax = x.abs(), a = ax.min(CUT_D);
        DoubleVector w = a.mul(a), e = expNegSquare(a);
        DoubleVector p = horner(SHORT_POLY_D, w.mul(SHORT_SCALE_D));
        VectorMask<Double> far = a.compare(VectorOperators.GT, SHORT_D);
        if (far.anyTrue()) {
            p = p.blend(horner(LONG_POLY_D, w.mul(LONG_SCALE_D)), far);
        }
        DoubleVector r = a.mul(TWO_OVER_SQRT_PI).mul(e).mul(p).min(1d);
        r = r.blend(1d, ax.compare(VectorOperators.GE, CUT_D));
        return r.blend(r.neg(), x.compare(VectorOperators.LT, 0d));
    }

    public static FloatVector erf(FloatVector x) {
        FloatVector ax = x.abs(), a = ax.min(CUT_F);
        FloatVector w = a.mul(a), e = expNegSquare(a);
        FloatVector p = horner(SHORT_POLY_F, w.mul(SHORT_SCALE_F));
        VectorMask<Float> far = a.compare(VectorOperators.GT, SHORT_F);
        if (far.anyTrue()) {
            p = p.blend(horner(LONG_POLY_F, w.mul(LONG_SCALE_F)), far);
        }
        FloatVector r = a.mul((float) TWO_OVER_SQRT_PI).mul(e).mul(p).min(1f);
        r = r.blend(1f, ax.compare(VectorOperators.GE, CUT_F));
        return r.blend(r.neg(), x.compare(VectorOperators.LT, 0f));
    }

    /** {@code e^{−x²}} lane-wise, with the rounding of {@code x²} compensated as in erf. */
    public static DoubleVector expNegSquare(DoubleVector x) {
        DoubleVector w = x.mul(x), lo = x.fma(x, w.neg());
        DoubleVector e = VectorMath.expNonPositive(w.neg());
        return e.neg().fma(lo, e);
    }

    public static FloatVector expNegSquare(FloatVector x) {
        FloatVector w = x.mul(x), lo = x.fma(x, w.neg());
        FloatVector e = VectorMath.expNonPositive(w.neg());
        return e.neg().fma(lo, e);
    }

    /** {@code e^{−x²}}, the reference of {@link #expNegSquare(DoubleVector)}. */
    public static double expNegSquare(double x) {
        double w = x * x, lo = Math.fma(x, x, -w), e = StrictMath.exp(-w);
        return Math.fma(-e, lo, e);
    }
}

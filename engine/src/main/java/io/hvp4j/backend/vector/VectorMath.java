package io.hvp4j.backend.vector;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Lane-wise exp, expm1, log1p and tanh built only from IEEE add, multiply, divide and fused multiply-add.
 *
 * <p>Why not {@code lanewise(VectorOperators.TANH)}: the JDK computes those with a vendor math library once
 * C2 has compiled the loop and with {@code java.lang.Math} before, and the two differ in the last bit; results
 * would then depend on JIT warm-up and break "same inputs, same bits". These functions give the same bits in
 * the interpreter and in compiled code. Accuracy: a few ulps of the lane type (tests compare with
 * {@code StrictMath}).
 */
public final class VectorMath {
    private VectorMath() {
    }

    /**
     * The sum of the lanes in float64, left to right. {@code reduceLanes(ADD)} leaves a floating-point sum's order
     * open, and the JDK's interpreted and compiled forms do use different orders, so a reduction that runs both
     * before and after C2 compiles it would change in the last bit between calls with the same inputs.
     *
     * @param v the lanes
     * @return their sum
     */
    public static double sumLanes(FloatVector v) {
        double s = 0;
        for (float f : v.toArray()) {
            s += f;
        }
        return s;
    }

    /**
     * {@link #sumLanes(FloatVector)} for double lanes.
     *
     * @param v the lanes
     * @return their sum, left to right
     */
    public static double sumLanes(DoubleVector v) {
        double s = 0;
        for (double d : v.toArray()) {
            s += d;
        }
        return s;
    }

    private static final double LOG2E = 1.4426950408889634;
    private static final double LN2_HI = 6.93147180369123816490e-01;
    private static final double LN2_LO = 1.90821492927058770002e-10;
    private static final double MAGIC_D = 6755399441055744.0; // 1.5·2^52: adding it rounds to an integer
    private static final float MAGIC_F = 12582912f; // 1.5·2^23
    private static final long MAGIC_D_BITS = Double.doubleToRawLongBits(MAGIC_D);
    private static final int MAGIC_F_BITS = Float.floatToRawIntBits(MAGIC_F);
    private static final float LN2_HI_F = 0.693145751953125f; // ln 2 split so that n·LN2_HI_F is exact
    private static final float LN2_LO_F = (float) (0.6931471805599453 - 0.693145751953125);

    // ---- double ------------------------------------------------------------------------------------------

    /** e^x for x ≤ 0 (inputs below −700 are treated as −700; e^−700 ≈ 1e−304). */
    public static DoubleVector expNonPositive(DoubleVector x) {
        x = x.max(-700d);
        DoubleVector t = x.fma(x.broadcast(LOG2E), x.broadcast(MAGIC_D));
        DoubleVector n = t.sub(MAGIC_D);
        DoubleVector r = n.fma(x.broadcast(-LN2_HI), x);
        r = n.fma(x.broadcast(-LN2_LO), r);
        // Taylor series of e^r to degree 13 on |r| ≤ ln2/2: truncation below 1e-18.
        DoubleVector p = r.broadcast(1.0 / 6227020800.0);
        p = p.fma(r, r.broadcast(1.0 / 479001600.0));
        p = p.fma(r, r.broadcast(1.0 / 39916800.0));
        p = p.fma(r, r.broadcast(1.0 / 3628800.0));
        p = p.fma(r, r.broadcast(1.0 / 362880.0));
        p = p.fma(r, r.broadcast(1.0 / 40320.0));
        p = p.fma(r, r.broadcast(1.0 / 5040.0));
        p = p.fma(r, r.broadcast(1.0 / 720.0));
        p = p.fma(r, r.broadcast(1.0 / 120.0));
        p = p.fma(r, r.broadcast(1.0 / 24.0));
        p = p.fma(r, r.broadcast(1.0 / 6.0));
        p = p.fma(r, r.broadcast(0.5));
        p = p.fma(r, r.broadcast(1.0));
        p = p.fma(r, r.broadcast(1.0));
        // t = MAGIC + n exactly, so t's low mantissa bits are n: 2^n without a (slow) lane conversion.
        LongVector bits = t.reinterpretAsLongs().sub(MAGIC_D_BITS - 1023L).lanewise(VectorOperators.LSHL, 52);
        return p.mul(bits.reinterpretAsDoubles());
    }

    /** e^x − 1 for x ≤ 0, accurate also for tiny |x|. */
    public static DoubleVector expm1NonPositive(DoubleVector x) {
        // |x| < 0.3: Taylor to degree 17 (truncation < 1e-22 relative); else e^x − 1 has no cancellation.
        DoubleVector p = x.broadcast(1.0 / 355687428096000.0);
        p = p.fma(x, x.broadcast(1.0 / 20922789888000.0));
        p = p.fma(x, x.broadcast(1.0 / 1307674368000.0));
        p = p.fma(x, x.broadcast(1.0 / 87178291200.0));
        p = p.fma(x, x.broadcast(1.0 / 6227020800.0));
        p = p.fma(x, x.broadcast(1.0 / 479001600.0));
        p = p.fma(x, x.broadcast(1.0 / 39916800.0));
        p = p.fma(x, x.broadcast(1.0 / 3628800.0));
        p = p.fma(x, x.broadcast(1.0 / 362880.0));
        p = p.fma(x, x.broadcast(1.0 / 40320.0));
        p = p.fma(x, x.broadcast(1.0 / 5040.0));
        p = p.fma(x, x.broadcast(1.0 / 720.0));
        p = p.fma(x, x.broadcast(1.0 / 120.0));
        p = p.fma(x, x.broadcast(1.0 / 24.0));
        p = p.fma(x, x.broadcast(1.0 / 6.0));
        p = p.fma(x, x.broadcast(0.5));
        p = p.fma(x, x.broadcast(1.0));
        DoubleVector small = p.mul(x);
        DoubleVector large = expNonPositive(x).sub(1d);
        return large.blend(small, x.compare(VectorOperators.GT, -0.3d));
    }

    /** tanh x = −m/(2 + m) with m = expm1(−2|x|), sign restored; saturates to ±1 beyond |x| = 20. */
    public static DoubleVector tanh(DoubleVector x) {
        DoubleVector a = x.abs().min(20d);
        DoubleVector m = expm1NonPositive(a.mul(-2d));
        DoubleVector t = m.neg().div(m.add(2d));
        return t.blend(t.neg(), x.compare(VectorOperators.LT, 0d));
    }

    /** log(1 + u) for 0 ≤ u ≤ 1, as 2·atanh(s), s = u/(2+u) ≤ 1/3 (series to s³⁷: truncation &lt; 1e-19). */
    public static DoubleVector log1pUnit(DoubleVector u) {
        DoubleVector s = u.div(u.add(2d));
        DoubleVector w = s.mul(s);
        DoubleVector p = w.broadcast(1.0 / 37);
        p = p.fma(w, w.broadcast(1.0 / 35));
        p = p.fma(w, w.broadcast(1.0 / 33));
        p = p.fma(w, w.broadcast(1.0 / 31));
        p = p.fma(w, w.broadcast(1.0 / 29));
        p = p.fma(w, w.broadcast(1.0 / 27));
        p = p.fma(w, w.broadcast(1.0 / 25));
        p = p.fma(w, w.broadcast(1.0 / 23));
        p = p.fma(w, w.broadcast(1.0 / 21));
        p = p.fma(w, w.broadcast(1.0 / 19));
        p = p.fma(w, w.broadcast(1.0 / 17));
        p = p.fma(w, w.broadcast(1.0 / 15));
        p = p.fma(w, w.broadcast(1.0 / 13));
        p = p.fma(w, w.broadcast(1.0 / 11));
        p = p.fma(w, w.broadcast(1.0 / 9));
        p = p.fma(w, w.broadcast(1.0 / 7));
        p = p.fma(w, w.broadcast(1.0 / 5));
        p = p.fma(w, w.broadcast(1.0 / 3));
        p = p.fma(w, w.broadcast(1.0 / 1));
        return p.mul(s).mul(2d);
    }

    // ---- float -------------------------------------------------------------------------------------------

    /** e^x for x ≤ 0 (inputs below −80 are treated as −80). */
    public static FloatVector expNonPositive(FloatVector x) {
        x = x.max(-80f);
        FloatVector t = x.fma(x.broadcast((float) LOG2E), x.broadcast(MAGIC_F));
        FloatVector n = t.sub(MAGIC_F);
        FloatVector r = n.fma(x.broadcast(-LN2_HI_F), x);
        r = n.fma(x.broadcast(-LN2_LO_F), r);
        // Taylor to degree 8 on |r| ≤ ln2/2: truncation below 1e-9.
        FloatVector p = r.broadcast(1f / 40320f);
        p = p.fma(r, r.broadcast(1f / 5040f));
        p = p.fma(r, r.broadcast(1f / 720f));
        p = p.fma(r, r.broadcast(1f / 120f));
        p = p.fma(r, r.broadcast(1f / 24f));
        p = p.fma(r, r.broadcast(1f / 6f));
        p = p.fma(r, r.broadcast(0.5f));
        p = p.fma(r, r.broadcast(1f));
        p = p.fma(r, r.broadcast(1f));
        IntVector bits = t.reinterpretAsInts().sub(MAGIC_F_BITS - 127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats());
    }

    /** e^x − 1 for x ≤ 0. */
    public static FloatVector expm1NonPositive(FloatVector x) {
        FloatVector p = x.broadcast((float) (1.0 / 3628800.0));
        p = p.fma(x, x.broadcast((float) (1.0 / 362880.0)));
        p = p.fma(x, x.broadcast((float) (1.0 / 40320.0)));
        p = p.fma(x, x.broadcast((float) (1.0 / 5040.0)));
        p = p.fma(x, x.broadcast((float) (1.0 / 720.0)));
        p = p.fma(x, x.broadcast((float) (1.0 / 120.0)));
        p = p.fma(x, x.broadcast((float) (1.0 / 24.0)));
        p = p.fma(x, x.broadcast((float) (1.0 / 6.0)));
        p = p.fma(x, x.broadcast((float) (1.0 / 2.0)));
        p = p.fma(x, x.broadcast((float) (1.0 / 1.0)));
        FloatVector small = p.mul(x);
        FloatVector large = expNonPositive(x).sub(1f);
        VectorMask<Float> isSmall = x.compare(VectorOperators.GT, -0.3f);
        return large.blend(small, isSmall);
    }

    /** tanh for floats; saturates beyond |x| = 10. */
    public static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs().min(10f);
        FloatVector m = expm1NonPositive(a.mul(-2f));
        FloatVector t = m.neg().div(m.add(2f));
        return t.blend(t.neg(), x.compare(VectorOperators.LT, 0f));
    }

    /** log(1 + u) for 0 ≤ u ≤ 1 (series to s¹⁹). */
    public static FloatVector log1pUnit(FloatVector u) {
        FloatVector s = u.div(u.add(2f));
        FloatVector w = s.mul(s);
        FloatVector p = w.broadcast(1f / 19);
        p = p.fma(w, w.broadcast(1f / 17));
        p = p.fma(w, w.broadcast(1f / 15));
        p = p.fma(w, w.broadcast(1f / 13));
        p = p.fma(w, w.broadcast(1f / 11));
        p = p.fma(w, w.broadcast(1f / 9));
        p = p.fma(w, w.broadcast(1f / 7));
        p = p.fma(w, w.broadcast(1f / 5));
        p = p.fma(w, w.broadcast(1f / 3));
        p = p.fma(w, w.broadcast(1f / 1));
        return p.mul(s).mul(2f);
    }
}

package io.hvp4j.backend;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;

/**
 * A scalar function applied element by element, with its first and second derivatives: the whole of what
 * the four rules of an element-wise op need (forward {@code σ(z)}, tangent {@code σ'(z)·ż}, backward
 * {@code σ'(z)·g}, tangent of backward {@code σ''(z)·ż·g + σ'(z)·ġ}). ArgumentChecks evaluate {@code σ, σ', σ''}
 * in one pass over {@code z} and keep them, so no later pass needs a transcendental function.
 *
 * <p>Each function states its rules twice: in double precision (the reference, used by the scalar backend
 * and by tests) and as Vector API lane-wise forms (used by the vector backend). The vector forms receive
 * the already computed value and first derivative so that, e.g., {@code tanh' = 1 − a²} costs no second
 * {@code tanh}. Implementations are stateless and thread-safe.
 */
public interface ElementwiseFunction {
    /**
     * The function's name.
     *
     * @return the name used on the command line and in files (e.g. {@code relu})
     */
    String id();

    /**
     * The value, in double precision.
     *
     * @param z the argument
     * @return {@code σ(z)}
     */
    double value(double z);

    /**
     * The first derivative, in double precision.
     *
     * @param z the argument
     * @return {@code σ'(z)}
     */
    double d1(double z);

    /**
     * The second derivative, in double precision.
     *
     * @param z the argument
     * @return {@code σ''(z)}
     */
    double d2(double z);

    /**
     * The third derivative, double precision only: used by the third-order rules (gradient of {@code vᵀHv}).
     *
     * @param z the argument
     * @return {@code σ'''(z)}
     */
    double d3(double z);

    /**
     * The value, lane-wise in float32.
     *
     * @param z the arguments
     * @return {@code σ(z)}
     */
    FloatVector value(FloatVector z);

    /**
     * The first derivative, lane-wise in float32.
     *
     * @param z     the arguments
     * @param value {@code σ(z)}, already computed
     * @return {@code σ'(z)}
     */
    FloatVector d1(FloatVector z, FloatVector value);

    /**
     * The second derivative, lane-wise in float32.
     *
     * @param z     the arguments
     * @param value {@code σ(z)}, already computed
     * @param d1    {@code σ'(z)}, already computed
     * @return {@code σ''(z)}
     */
    FloatVector d2(FloatVector z, FloatVector value, FloatVector d1);

    /**
     * The value, lane-wise in float64.
     *
     * @param z the arguments
     * @return {@code σ(z)}
     */
    DoubleVector value(DoubleVector z);

    /**
     * The first derivative, lane-wise in float64.
     *
     * @param z     the arguments
     * @param value {@code σ(z)}, already computed
     * @return {@code σ'(z)}
     */
    DoubleVector d1(DoubleVector z, DoubleVector value);

    /**
     * The second derivative, lane-wise in float64.
     *
     * @param z     the arguments
     * @param value {@code σ(z)}, already computed
     * @param d1    {@code σ'(z)}, already computed
     * @return {@code σ''(z)}
     */
    DoubleVector d2(DoubleVector z, DoubleVector value, DoubleVector d1);

    /**
     * Whether second-order terms can be skipped.
     *
     * @return true when {@code σ'' ≡ 0} (piecewise linear)
     */
    default boolean piecewiseLinear() {
        return false;
    }
}

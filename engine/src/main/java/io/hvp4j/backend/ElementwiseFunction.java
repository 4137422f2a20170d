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
    /** Name used on the command line and in files (e.g. {@code relu}). */
    String id();

    double value(double z);

    double d1(double z);

    double d2(double z);

    /** {@code σ'''(z)}, double precision only: used by the third-order rules (gradient of {@code vᵀHv}). */
    double d3(double z);

    FloatVector value(FloatVector z);

    FloatVector d1(FloatVector z, FloatVector value);

    FloatVector d2(FloatVector z, FloatVector value, FloatVector d1);

    DoubleVector value(DoubleVector z);

    DoubleVector d1(DoubleVector z, DoubleVector value);

    DoubleVector d2(DoubleVector z, DoubleVector value, DoubleVector d1);

    /** True when {@code σ'' ≡ 0} (piecewise linear), so second-order terms can be skipped. */
    default boolean piecewiseLinear() {
        return false;
    }
}

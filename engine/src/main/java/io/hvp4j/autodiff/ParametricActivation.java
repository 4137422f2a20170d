package io.hvp4j.autodiff;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.ElementwiseFunction;
import io.hvp4j.backend.vector.VectorMath;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Activations with a parameter α, as PyTorch's modules: {@code leaky_relu(α)} ({@code nn.LeakyReLU(negative_slope)},
 * {@code z > 0 ? z : α·z}, piecewise linear) and {@code elu(α)} ({@code nn.ELU(alpha)}, {@code z > 0 ? z :
 * α(e^z − 1)}, σ' = σ'' = σ''' = α·e^z for z ≤ 0). At 0 the derivatives are taken from the left, as PyTorch does.
 * {@link Activation#LEAKY_RELU} stays the fixed α = 0.01 the MLP command line uses. Immutable.
 */
public final class ParametricActivation implements ElementwiseFunction {
    /** Which activation. */
    public enum Kind {
        /** Leaky relu. */
        LEAKY_RELU,
        /** Elu. */
        ELU
    }

    private final Kind kind;
    private final double alpha;
    private final float alphaF;

    private ParametricActivation(Kind kind, double alpha) {
        if (!Double.isFinite(alpha)) {
            throw new InvalidInputException(kind.name().toLowerCase(java.util.Locale.ROOT)
                    + ": alpha must be finite, got " + alpha);
        }
        this.kind = kind;
        this.alpha = alpha;
        this.alphaF = (float) alpha;
    }

    /**
     * {@code nn.LeakyReLU(alpha)}.
     *
     * @param alpha the negative slope, finite
     * @return the activation
     */
    public static ParametricActivation leakyRelu(double alpha) {
        return new ParametricActivation(Kind.LEAKY_RELU, alpha);
    }

    /**
     * {@code nn.ELU(alpha)}.
     *
     * @param alpha the scale of the negative branch, finite
     * @return the activation
     */
    public static ParametricActivation elu(double alpha) {
        return new ParametricActivation(Kind.ELU, alpha);
    }

    /**
     * Which activation.
     *
     * @return leaky relu or elu
     */
    public Kind kind() {
        return kind;
    }

    /**
     * The parameter.
     *
     * @return α
     */
    public double alpha() {
        return alpha;
    }

    /** {@code leaky_relu(0.2)}, {@code elu(1.0)}: the form {@link Activations#parse} reads back. */
    @Override
    public String id() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + "(" + alpha + ")";
    }

    @Override
    public boolean piecewiseLinear() {
        return kind == Kind.LEAKY_RELU;
    }

    @Override
    public double value(double z) {
        if (z > 0) {
            return z;
        }
        return kind == Kind.LEAKY_RELU ? alpha * z : alpha * StrictMath.expm1(z);
    }

    @Override
    public double d1(double z) {
        if (z > 0) {
            return 1;
        }
        return kind == Kind.LEAKY_RELU ? alpha : alpha * StrictMath.exp(z);
    }

    @Override
    public double d2(double z) {
        return z > 0 || kind == Kind.LEAKY_RELU ? 0 : alpha * StrictMath.exp(z);
    }

    @Override
    public double d3(double z) {
        return d2(z);
    }

    @Override
    public FloatVector value(FloatVector z) {
        VectorMask<Float> pos = z.compare(VectorOperators.GT, 0f);
        FloatVector neg = kind == Kind.LEAKY_RELU ? z.mul(alphaF)
                : VectorMath.expm1NonPositive(z.min(0f)).mul(alphaF);
        return neg.blend(z, pos);
    }

    @Override
    public FloatVector d1(FloatVector z, FloatVector a) {
        FloatVector neg = kind == Kind.LEAKY_RELU ? z.broadcast(alphaF)
                : VectorMath.expNonPositive(z.min(0f)).mul(alphaF);
        return neg.blend(1f, z.compare(VectorOperators.GT, 0f));
    }

    @Override
    public FloatVector d2(FloatVector z, FloatVector a, FloatVector d1) {
        return kind == Kind.LEAKY_RELU ? z.broadcast(0) : d1.blend(0f, z.compare(VectorOperators.GT, 0f));
    }

    @Override
    public DoubleVector value(DoubleVector z) {
        VectorMask<Double> pos = z.compare(VectorOperators.GT, 0d);
        DoubleVector neg = kind == Kind.LEAKY_RELU ? z.mul(alpha)
                : VectorMath.expm1NonPositive(z.min(0d)).mul(alpha);
        return neg.blend(z, pos);
    }

    @Override
    public DoubleVector d1(DoubleVector z, DoubleVector a) {
        DoubleVector neg = kind == Kind.LEAKY_RELU ? z.broadcast(alpha)
                : VectorMath.expNonPositive(z.min(0d)).mul(alpha);
        return neg.blend(1d, z.compare(VectorOperators.GT, 0d));
    }

    @Override
    public DoubleVector d2(DoubleVector z, DoubleVector a, DoubleVector d1) {
        return kind == Kind.LEAKY_RELU ? z.broadcast(0) : d1.blend(0d, z.compare(VectorOperators.GT, 0d));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParametricActivation p && p.kind == kind && Double.compare(p.alpha, alpha) == 0;
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + Double.hashCode(alpha);
    }

    @Override
    public String toString() {
        return id();
    }
}

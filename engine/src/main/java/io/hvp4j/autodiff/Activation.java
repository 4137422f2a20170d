package io.hvp4j.autodiff;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.ElementwiseFunction;
import io.hvp4j.backend.vector.VectorMath;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Activations between dense layers, each with {@code σ, σ', σ''} in double precision (StrictMath, so the
 * reference is the same on every JVM) and in Vector API form (built on {@link VectorMath}, deterministic).
 * Adding an activation means adding one constant here. At the kinks of relu and leaky_relu the derivative
 * at 0 is taken from the left (as PyTorch: relu'(0) = 0) and {@code σ'' = 0} everywhere.
 */
public enum Activation implements ElementwiseFunction {
    /** z (no activation). */
    IDENTITY {
        public double value(double z) { return z; }
        public double d1(double z) { return 1; }
        public double d2(double z) { return 0; }
        public double d3(double z) { return 0; }
        public FloatVector value(FloatVector z) { return z; }
        public FloatVector d1(FloatVector z, FloatVector a) { return z.broadcast(1); }
        public FloatVector d2(FloatVector z, FloatVector a, FloatVector d1) { return z.broadcast(0); }
        public DoubleVector value(DoubleVector z) { return z; }
        public DoubleVector d1(DoubleVector z, DoubleVector a) { return z.broadcast(1); }
        public DoubleVector d2(DoubleVector z, DoubleVector a, DoubleVector d1) { return z.broadcast(0); }
        @Override public boolean piecewiseLinear() { return true; }
    },
    /** max(z, 0). */
    RELU {
        public double value(double z) { return z > 0 ? z : 0; }
        public double d1(double z) { return z > 0 ? 1 : 0; }
        public double d2(double z) { return 0; }
        public double d3(double z) { return 0; }
        public FloatVector value(FloatVector z) { return z.max(0f); }
        public FloatVector d1(FloatVector z, FloatVector a) {
            return z.broadcast(0).blend(1f, z.compare(VectorOperators.GT, 0f));
        }
        public FloatVector d2(FloatVector z, FloatVector a, FloatVector d1) { return z.broadcast(0); }
        public DoubleVector value(DoubleVector z) { return z.max(0d); }
        public DoubleVector d1(DoubleVector z, DoubleVector a) {
            return z.broadcast(0).blend(1d, z.compare(VectorOperators.GT, 0d));
        }
        public DoubleVector d2(DoubleVector z, DoubleVector a, DoubleVector d1) { return z.broadcast(0); }
        @Override public boolean piecewiseLinear() { return true; }
    },
    /** max(z, 0.01·z), PyTorch's default negative slope. */
    LEAKY_RELU {
        public double value(double z) { return z > 0 ? z : LEAK * z; }
        public double d1(double z) { return z > 0 ? 1 : LEAK; }
        public double d2(double z) { return 0; }
        public double d3(double z) { return 0; }
        public FloatVector value(FloatVector z) {
            VectorMask<Float> pos = z.compare(VectorOperators.GT, 0f);
            return z.mul((float) LEAK).blend(z, pos);
        }
        public FloatVector d1(FloatVector z, FloatVector a) {
            return z.broadcast((float) LEAK).blend(1f, z.compare(VectorOperators.GT, 0f));
        }
        public FloatVector d2(FloatVector z, FloatVector a, FloatVector d1) { return z.broadcast(0); }
        public DoubleVector value(DoubleVector z) {
            VectorMask<Double> pos = z.compare(VectorOperators.GT, 0d);
            return z.mul(LEAK).blend(z, pos);
        }
        public DoubleVector d1(DoubleVector z, DoubleVector a) {
            return z.broadcast(LEAK).blend(1d, z.compare(VectorOperators.GT, 0d));
        }
        public DoubleVector d2(DoubleVector z, DoubleVector a, DoubleVector d1) { return z.broadcast(0); }
        @Override public boolean piecewiseLinear() { return true; }
    },
    /** tanh(z). */
    TANH {
        public double value(double z) { return StrictMath.tanh(z); }
        public double d1(double z) { double t = StrictMath.tanh(z); return 1 - t * t; }
        public double d2(double z) { double t = StrictMath.tanh(z); return -2 * t * (1 - t * t); }
        public double d3(double z) { double t = StrictMath.tanh(z); return (1 - t * t) * (6 * t * t - 2); }
        public FloatVector value(FloatVector z) { return VectorMath.tanh(z); }
        public FloatVector d1(FloatVector z, FloatVector a) { return a.fma(a.neg(), z.broadcast(1)); }
        public FloatVector d2(FloatVector z, FloatVector a, FloatVector d1) { return a.mul(d1).mul(-2f); }
        public DoubleVector value(DoubleVector z) { return VectorMath.tanh(z); }
        public DoubleVector d1(DoubleVector z, DoubleVector a) { return a.fma(a.neg(), z.broadcast(1)); }
        public DoubleVector d2(DoubleVector z, DoubleVector a, DoubleVector d1) { return a.mul(d1).mul(-2d); }
    },
    /** 1 / (1 + e^{−z}). */
    SIGMOID {
        public double value(double z) { return sigmoid(z); }
        public double d1(double z) { double s = sigmoid(z); return s * (1 - s); }
        public double d2(double z) { double s = sigmoid(z); return s * (1 - s) * (1 - 2 * s); }
        public double d3(double z) { double s = sigmoid(z); return s * (1 - s) * (1 - 6 * s + 6 * s * s); }
        public FloatVector value(FloatVector z) {
            // 1/(1+e^{-z}) = (1 + tanh(z/2))/2, which neither overflows nor cancels.
            return VectorMath.tanh(z.mul(0.5f)).add(1f).mul(0.5f);
        }
        public FloatVector d1(FloatVector z, FloatVector s) { return s.mul(s.neg().add(1f)); }
        public FloatVector d2(FloatVector z, FloatVector s, FloatVector d1) { return d1.mul(s.mul(-2f).add(1f)); }
        public DoubleVector value(DoubleVector z) {
            return VectorMath.tanh(z.mul(0.5d)).add(1d).mul(0.5d);
        }
        public DoubleVector d1(DoubleVector z, DoubleVector s) { return s.mul(s.neg().add(1d)); }
        public DoubleVector d2(DoubleVector z, DoubleVector s, DoubleVector d1) { return d1.mul(s.mul(-2d).add(1d)); }
    },
    /** log(1 + e^z), computed as max(z,0) + log1p(e^{−|z|}). */
    SOFTPLUS {
        public double value(double z) { return Math.max(z, 0) + StrictMath.log1p(StrictMath.exp(-Math.abs(z))); }
        public double d1(double z) { return sigmoid(z); }
        public double d2(double z) { double s = sigmoid(z); return s * (1 - s); }
        public double d3(double z) { double s = sigmoid(z); return s * (1 - s) * (1 - 2 * s); }
        public FloatVector value(FloatVector z) {
            return z.max(0f).add(VectorMath.log1pUnit(VectorMath.expNonPositive(z.abs().neg())));
        }
        public FloatVector d1(FloatVector z, FloatVector a) { return SIGMOID.value(z); }
        public FloatVector d2(FloatVector z, FloatVector a, FloatVector s) { return s.mul(s.neg().add(1f)); }
        public DoubleVector value(DoubleVector z) {
            return z.max(0d).add(VectorMath.log1pUnit(VectorMath.expNonPositive(z.abs().neg())));
        }
        public DoubleVector d1(DoubleVector z, DoubleVector a) { return SIGMOID.value(z); }
        public DoubleVector d2(DoubleVector z, DoubleVector a, DoubleVector s) { return s.mul(s.neg().add(1d)); }
    },
    /**
     * GELU, tanh form (PyTorch {@code approximate='tanh'}): ½z(1 + tanh u), u = c(z + 0.044715 z³), c = √(2/π).
     * σ' = ½(1+t) + ½z(1−t²)u', σ'' = (1−t²)(u' − z·t·u'² + ½z·u'').
     */
    GELU {
        public double value(double z) { return 0.5 * z * (1 + StrictMath.tanh(geluU(z))); }
        public double d1(double z) {
            double t = StrictMath.tanh(geluU(z));
            return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * geluDu(z);
        }
        public double d2(double z) {
            double t = StrictMath.tanh(geluU(z));
            double du = geluDu(z);
            return (1 - t * t) * (du - z * t * du * du + 0.5 * z * (6 * GELU_C * GELU_A * z));
        }
        /** σ''' = (3/2)t'' + ½z·t''' with t = tanh u, S = 1 − t², t'' = S(u'' − 2t·u'²). */
        public double d3(double z) {
            double t = StrictMath.tanh(geluU(z)), s = 1 - t * t;
            double du = geluDu(z), ddu = 6 * GELU_C * GELU_A * z, dddu = 6 * GELU_C * GELU_A;
            double t2 = s * (ddu - 2 * t * du * du);
            double t3 = -2 * t * s * du * (ddu - 2 * t * du * du) + s * (dddu - 2 * s * du * du * du - 4 * t * du * ddu);
            return 1.5 * t2 + 0.5 * z * t3;
        }
        public FloatVector value(FloatVector z) {
            FloatVector t = VectorMath.tanh(z.mul(z).mul((float) GELU_A).add(1f).mul(z).mul((float) GELU_C));
            return z.mul(0.5f).mul(t.add(1f));
        }
        public FloatVector d1(FloatVector z, FloatVector a) {
            FloatVector t = VectorMath.tanh(z.mul(z).mul((float) GELU_A).add(1f).mul(z).mul((float) GELU_C));
            FloatVector du = z.mul(z).mul((float) (3 * GELU_A)).add(1f).mul((float) GELU_C);
            FloatVector sech2 = t.fma(t.neg(), z.broadcast(1));
            return t.add(1f).mul(0.5f).add(z.mul(0.5f).mul(sech2).mul(du));
        }
        public FloatVector d2(FloatVector z, FloatVector a, FloatVector d1) {
            FloatVector t = VectorMath.tanh(z.mul(z).mul((float) GELU_A).add(1f).mul(z).mul((float) GELU_C));
            FloatVector du = z.mul(z).mul((float) (3 * GELU_A)).add(1f).mul((float) GELU_C);
            FloatVector sech2 = t.fma(t.neg(), z.broadcast(1));
            FloatVector ddu = z.mul((float) (6 * GELU_C * GELU_A));
            return sech2.mul(du.sub(z.mul(t).mul(du).mul(du)).add(z.mul(0.5f).mul(ddu)));
        }
        public DoubleVector value(DoubleVector z) {
            DoubleVector t = VectorMath.tanh(z.mul(z).mul(GELU_A).add(1d).mul(z).mul(GELU_C));
            return z.mul(0.5d).mul(t.add(1d));
        }
        public DoubleVector d1(DoubleVector z, DoubleVector a) {
            DoubleVector t = VectorMath.tanh(z.mul(z).mul(GELU_A).add(1d).mul(z).mul(GELU_C));
            DoubleVector du = z.mul(z).mul(3 * GELU_A).add(1d).mul(GELU_C);
            DoubleVector sech2 = t.fma(t.neg(), z.broadcast(1));
            return t.add(1d).mul(0.5d).add(z.mul(0.5d).mul(sech2).mul(du));
        }
        public DoubleVector d2(DoubleVector z, DoubleVector a, DoubleVector d1) {
            DoubleVector t = VectorMath.tanh(z.mul(z).mul(GELU_A).add(1d).mul(z).mul(GELU_C));
            DoubleVector du = z.mul(z).mul(3 * GELU_A).add(1d).mul(GELU_C);
            DoubleVector sech2 = t.fma(t.neg(), z.broadcast(1));
            DoubleVector ddu = z.mul(6 * GELU_C * GELU_A);
            return sech2.mul(du.sub(z.mul(t).mul(du).mul(du)).add(z.mul(0.5d).mul(ddu)));
        }
    };

    static final double LEAK = 0.01;
    static final double GELU_C = Math.sqrt(2 / Math.PI);
    static final double GELU_A = 0.044715;

    static double sigmoid(double z) {
        return 0.5 * (1 + StrictMath.tanh(0.5 * z));
    }

    static double geluU(double z) {
        return GELU_C * (z + GELU_A * z * z * z);
    }

    static double geluDu(double z) {
        return GELU_C * (1 + 3 * GELU_A * z * z);
    }

    @Override
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a command-line name.
     *
     * @param s a name such as {@code relu}, {@code leaky_relu} or {@code leaky-relu} (any case)
     * @return the activation
     * @throws io.hvp4j.InvalidInputException for an unknown name
     */
    public static Activation parse(String s) {
        String key = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        if (key.equals("LINEAR")) {
            return IDENTITY;
        }
        try {
            return valueOf(key);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("unknown activation '" + s + "' (expected one of "
                    + Arrays.stream(values()).map(Activation::id).collect(Collectors.joining(", ")) + ")");
        }
    }
}

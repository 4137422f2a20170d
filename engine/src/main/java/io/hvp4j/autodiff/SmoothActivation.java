package io.hvp4j.autodiff;

import io.hvp4j.backend.ElementwiseFunction;
import io.hvp4j.backend.vector.VectorErf;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;

import java.util.Locale;

/**
 * Smooth activations of graph nodes beyond the MLP set of {@link Activation} (which the MLP command line and the
 * CUDA kernels enumerate): silu, erf, and gelu in its erf form (PyTorch's default {@code nn.GELU()};
 * {@link Activation#GELU} is the tanh form). Double rules as in {@link Activation}; erf from {@link VectorErf}, whose
 * lane and reference forms share their operations. Parse names with {@link Activations#parse}.
 */
public enum SmoothActivation implements ElementwiseFunction {
    /** {@code z·σ(z)} (swish with β = 1). σ' = s(1 + z(1−s)), σ'' = s(1−s)(2 + z(1−2s)). */
    SILU {
        public double value(double z) { return z * Activation.sigmoid(z); }
        public double d1(double z) { double s = Activation.sigmoid(z); return s * (1 + z * (1 - s)); }
        public double d2(double z) { double s = Activation.sigmoid(z); return s * (1 - s) * (2 + z * (1 - 2 * s)); }
        public double d3(double z) {
            double s = Activation.sigmoid(z);
            return s * (1 - s) * ((1 - 6 * s + 6 * s * s) * z + 3 * (1 - 2 * s));
        }
        public FloatVector value(FloatVector z) { return z.mul(Activation.SIGMOID.value(z)); }
        public FloatVector d1(FloatVector z, FloatVector a) {
            FloatVector s = Activation.SIGMOID.value(z);
            return s.mul(z.mul(s.neg().add(1f)).add(1f));
        }
        public FloatVector d2(FloatVector z, FloatVector a, FloatVector d1) {
            FloatVector s = Activation.SIGMOID.value(z);
            return s.mul(s.neg().add(1f)).mul(z.mul(s.mul(-2f).add(1f)).add(2f));
        }
        public DoubleVector value(DoubleVector z) { return z.mul(Activation.SIGMOID.value(z)); }
        public DoubleVector d1(DoubleVector z, DoubleVector a) {
            DoubleVector s = Activation.SIGMOID.value(z);
            return s.mul(z.mul(s.neg().add(1d)).add(1d));
        }
        public DoubleVector d2(DoubleVector z, DoubleVector a, DoubleVector d1) {
            DoubleVector s = Activation.SIGMOID.value(z);
            return s.mul(s.neg().add(1d)).mul(z.mul(s.mul(-2d).add(1d)).add(2d));
        }
    },
    /** {@code erf z}; σ' = (2/√π)e^{−z²}, σ'' = −2z·σ', σ''' = (4z² − 2)·σ'. */
    ERF {
        public double value(double z) { return VectorErf.erf(z); }
        public double d1(double z) { return VectorErf.TWO_OVER_SQRT_PI * VectorErf.expNegSquare(z); }
        public double d2(double z) { return -2 * z * d1(z); }
        public double d3(double z) { return (4 * z * z - 2) * d1(z); }
        public FloatVector value(FloatVector z) { return VectorErf.erf(z); }
        public FloatVector d1(FloatVector z, FloatVector a) {
            return VectorErf.expNegSquare(z).mul((float) VectorErf.TWO_OVER_SQRT_PI);
        }
        public FloatVector d2(FloatVector z, FloatVector a, FloatVector d1) { return z.mul(-2f).mul(d1); }
        public DoubleVector value(DoubleVector z) { return VectorErf.erf(z); }
        public DoubleVector d1(DoubleVector z, DoubleVector a) {
            return VectorErf.expNegSquare(z).mul(VectorErf.TWO_OVER_SQRT_PI);
        }
        public DoubleVector d2(DoubleVector z, DoubleVector a, DoubleVector d1) { return z.mul(-2d).mul(d1); }
    },
    /**
     * GELU, erf form ({@code nn.GELU()}): {@code z·Φ(z)}, Φ(z) = ½(1 + erf(z/√2)), φ(z) = e^{−z²/2}/√(2π);
     * σ' = Φ + zφ, σ'' = φ(2 − z²), σ''' = φ(z³ − 4z).
     */
    GELU_ERF {
        public double value(double z) { return 0.5 * z * (1 + VectorErf.erf(z * INV_SQRT2)); }
        public double d1(double z) { return Math.fma(z, phi(z), 0.5 * (1 + VectorErf.erf(z * INV_SQRT2))); }
        public double d2(double z) { return phi(z) * (2 - z * z); }
        public double d3(double z) { return phi(z) * (z * z * z - 4 * z); }
        public FloatVector value(FloatVector z) {
            return z.mul(0.5f).mul(VectorErf.erf(z.mul((float) INV_SQRT2)).add(1f));
        }
        public FloatVector d1(FloatVector z, FloatVector a) {
            FloatVector zs = z.mul((float) INV_SQRT2);
            return z.fma(VectorErf.expNegSquare(zs).mul((float) INV_SQRT_2PI), VectorErf.erf(zs).add(1f).mul(0.5f));
        }
        public FloatVector d2(FloatVector z, FloatVector a, FloatVector d1) {
            FloatVector phi = VectorErf.expNegSquare(z.mul((float) INV_SQRT2)).mul((float) INV_SQRT_2PI);
            return phi.mul(z.mul(z).neg().add(2f));
        }
        public DoubleVector value(DoubleVector z) {
            return z.mul(0.5d).mul(VectorErf.erf(z.mul(INV_SQRT2)).add(1d));
        }
        public DoubleVector d1(DoubleVector z, DoubleVector a) {
            DoubleVector zs = z.mul(INV_SQRT2);
            return z.fma(VectorErf.expNegSquare(zs).mul(INV_SQRT_2PI), VectorErf.erf(zs).add(1d).mul(0.5d));
        }
        public DoubleVector d2(DoubleVector z, DoubleVector a, DoubleVector d1) {
            DoubleVector phi = VectorErf.expNegSquare(z.mul(INV_SQRT2)).mul(INV_SQRT_2PI);
            return phi.mul(z.mul(z).neg().add(2d));
        }
    };

    static final double INV_SQRT2 = 0.7071067811865476;
    static final double INV_SQRT_2PI = 0.3989422804014327;

    /** φ(z) = e^{−z²/2}/√(2π), as the lanes compute it. */
    static double phi(double z) {
        return VectorErf.expNegSquare(z * INV_SQRT2) * INV_SQRT_2PI;
    }

    @Override
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}

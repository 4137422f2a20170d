package io.hvp4j.autodiff;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.Backend;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;
import java.util.Locale;

/**
 * Losses ℓ(f, y) on network outputs {@code f} (rows = samples, {@code K} columns), each with its rules in
 * one place (see {@link Rules}). The data-set loss is {@code scale · Σ_i ℓ(f_i, y_i)} with {@code scale = 1/N}
 * for {@link Reduction#MEAN} and 1 for {@link Reduction#SUM}:
 * <ul>
 *   <li>{@code mse}: ℓ = ½‖f − y‖² (so the mean loss is (1/2N)Σ‖f_i − y_i‖², PyTorch's MSELoss/2 per output);</li>
 *   <li>{@code ce}: ℓ = −Σ_c y_c log softmax(f)_c with one-hot or probability targets;</li>
 *   <li>{@code cosh}: ℓ = Σ_c log cosh(f_c − y_c).</li>
 * </ul>
 */
public enum Loss {
    /** Half the squared error, ℓ = ½‖f − y‖². */
    MSE {
        @Override
        public Rules rules(Backend be, Arena arena, DType dtype, int maxRows, int outputs) {
            return new Rules(be) {
                final Tensor residual = be.allocate(arena, dtype, maxRows, outputs);
                Tensor r;

                @Override
                public double forward(Tensor f, Tensor y, double scale) {
                    begin(f, y, scale);
                    r = residual.rowSlice(0, f.rows());
                    be.copy(f, r);
                    be.axpy(-1, y, r);
                    return 0.5 * scale * be.dot(r, r);
                }

                @Override
                public void backward(Tensor gF) {
                    be.axpby(scale, r, 0, gF);
                }

                @Override
                public void tangentOfBackward(Tensor fDot, Tensor gFDot) {
                    be.axpby(scale, fDot, 0, gFDot);
                }

                @Override
                public void secondTangentOfBackward(Tensor fDot, Tensor fDDot, Tensor gFDDot) {
                    be.axpby(scale, fDDot, 0, gFDDot); // ∇³ℓ = 0
                }
            };
        }
    },
    /** Cross-entropy of softmax(f) against probability targets. */
    CE {
        @Override
        public Rules rules(Backend be, Arena arena, DType dtype, int maxRows, int outputs) {
            return new Rules(be) {
                final Tensor probabilities = be.allocate(arena, dtype, maxRows, outputs);
                Tensor p;

                @Override
                public double forward(Tensor f, Tensor y, double scale) {
                    begin(f, y, scale);
                    p = probabilities.rowSlice(0, f.rows());
                    be.softmaxRows(f, p);
                    return scale * be.crossEntropySum(f, y);
                }

                @Override
                public void backward(Tensor gF) {
                    be.copy(p, gF);
                    be.axpby(-scale, y, scale, gF);
                }

                @Override
                public void tangentOfBackward(Tensor fDot, Tensor gFDot) {
                    be.softmaxTangent(scale, p, fDot, gFDot);
                }

                /** With ṗ = p⊙ḟ − p⟨p,ḟ⟩: scale·(ṗ⊙ḟ − ṗ⟨p,ḟ⟩ − p⟨ṗ,ḟ⟩ + p⊙f̈ − p⟨p,f̈⟩). */
                @Override
                public void secondTangentOfBackward(Tensor fDot, Tensor fDDot, Tensor gFDDot) {
                    int rows = p.rows(), k = p.cols();
                    double[] pd = new double[k];
                    for (int r = 0; r < rows; r++) {
                        double pf = 0, pff = 0;
                        for (int c = 0; c < k; c++) {
                            pf += p.get(r, c) * fDot.get(r, c);
                            pff += p.get(r, c) * fDDot.get(r, c);
                        }
                        double pdf = 0;
                        for (int c = 0; c < k; c++) {
                            pd[c] = p.get(r, c) * (fDot.get(r, c) - pf);
                            pdf += pd[c] * fDot.get(r, c);
                        }
                        for (int c = 0; c < k; c++) {
                            double pc = p.get(r, c);
                            gFDDot.set(r, c, scale * (pd[c] * (fDot.get(r, c) - pf) - pc * pdf
                                    + pc * (fDDot.get(r, c) - pff)));
                        }
                    }
                }
            };
        }
    },
    /** Log-cosh of the residual, ℓ = Σ_c log cosh(f_c − y_c). */
    COSH {
        @Override
        public Rules rules(Backend be, Arena arena, DType dtype, int maxRows, int outputs) {
            return new Rules(be) {
                final Tensor residual = be.allocate(arena, dtype, maxRows, outputs);
                final Tensor values = be.allocate(arena, dtype, maxRows, outputs);
                final Tensor tanh = be.allocate(arena, dtype, maxRows, outputs);
                final Tensor sech2 = be.allocate(arena, dtype, maxRows, outputs);
                Tensor d1, d2;

                @Override
                public double forward(Tensor f, Tensor y, double scale) {
                    begin(f, y, scale);
                    int b = f.rows();
                    Tensor r = residual.rowSlice(0, b);
                    Tensor v = values.rowSlice(0, b);
                    d1 = tanh.rowSlice(0, b);
                    d2 = sech2.rowSlice(0, b);
                    be.copy(f, r);
                    be.axpy(-1, y, r);
                    be.evaluate(LogCosh.INSTANCE, r, v, d1, d2);
                    return scale * be.sum(v);
                }

                @Override
                public void backward(Tensor gF) {
                    be.axpby(scale, d1, 0, gF);
                }

                @Override
                public void tangentOfBackward(Tensor fDot, Tensor gFDot) {
                    be.broadcastMultiply(d2, fDot, gFDot);
                    be.scal(scale, gFDot);
                }

                /** ℓ''' = −2·tanh·sech²: scale·(ℓ'''⊙ḟ² + sech²⊙f̈). */
                @Override
                public void secondTangentOfBackward(Tensor fDot, Tensor fDDot, Tensor gFDDot) {
                    for (long i = 0, n = fDot.size(); i < n; i++) {
                        double fd = fDot.get(i), s2 = d2.get(i);
                        gFDDot.set(i, scale * (-2 * d1.get(i) * s2 * fd * fd + s2 * fDDot.get(i)));
                    }
                }
            };
        }
    };

    /** How per-sample losses are combined. */
    public enum Reduction {
        /** {@code scale = 1/N}. */
        MEAN,
        /** {@code scale = 1}. */
        SUM;

        /**
         * Parses a reduction name.
         *
         * @param s {@code mean} or {@code sum} (any case)
         * @return the reduction
         * @throws InvalidInputException for any other name
         */
        public static Reduction parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "mean" -> MEAN;
                case "sum" -> SUM;
                default -> throw new InvalidInputException("unknown reduction '" + s + "' (expected mean or sum)");
            };
        }
    }

    /**
     * Working state and rules of a loss for batches of up to {@code maxRows} samples. The four rules:
     * forward ({@link #forward}: the value), tangent ({@link #tangent}: ⟨∇ℓ, ḟ⟩), backward ({@link #backward}:
     * {@code G_F = scale·∇_f ℓ}) and tangent of backward ({@link #tangentOfBackward}:
     * {@code Ġ_F = scale·∇²_f ℓ · ḟ}, which is also the Gauss–Newton middle factor); plus the third-order rule
     * {@link #secondTangentOfBackward}. {@code forward} must come
     * first; it keeps what the other rules need. Not thread-safe.
     */
    public abstract static class Rules {
        /** The kernels the rules run on. */
        protected final Backend be;
        /** The outputs of the last {@link #forward}. */
        protected Tensor f;
        /** The targets of the last {@link #forward}. */
        protected Tensor y;
        /** The scale of the last {@link #forward}. */
        protected double scale;

        /**
         * Rules on a backend.
         *
         * @param be the kernels (the caller's)
         */
        protected Rules(Backend be) {
            this.be = be;
        }

        /**
         * Checks the shapes and keeps the arguments of a {@link #forward} call.
         *
         * @param f     the outputs, rows × K
         * @param y     the targets, the same shape
         * @param scale the reduction's scale
         */
        protected void begin(Tensor f, Tensor y, double scale) {
            if (f.rows() != y.rows() || f.cols() != y.cols()) {
                throw new IllegalArgumentException("outputs " + f + " and targets " + y + " differ in shape");
            }
            this.f = f;
            this.y = y;
            this.scale = scale;
        }

        /**
         * The value; keeps the state the other rules need.
         *
         * @param f     the outputs, rows × K
         * @param y     the targets, the same shape
         * @param scale the reduction's scale
         * @return {@code scale · Σ_rows ℓ(f_r, y_r)}
         */
        public abstract double forward(Tensor f, Tensor y, double scale);

        /**
         * The backward rule.
         *
         * @param gF receives {@code G_F = scale·∂ℓ/∂f} (the shape of f)
         */
        public abstract void backward(Tensor gF);

        /**
         * The tangent of the backward rule, blocked.
         *
         * @param fDot  k output tangents per row, rows × (k·K)
         * @param gFDot receives {@code gFDot[r, j, :] = scale·∇²ℓ(f_r)·fDot[r, j, :]}, the same shape
         */
        public abstract void tangentOfBackward(Tensor fDot, Tensor gFDot);

        /**
         * Second-order tangent of backward for one tangent ({@code rows × K}): with the outputs moving as
         * {@code f + εḟ + ½ε²f̈}, {@code gFDDot = scale·(∇³ℓ[ḟ, ḟ] + ∇²ℓ·f̈)}, the second derivative of
         * {@code G_F} in ε. Used for the gradient of {@code vᵀHv}.
         *
         * @param fDot   the first-order output tangent
         * @param fDDot  the second-order output tangent
         * @param gFDDot receives {@code scale·(∇³ℓ[ḟ, ḟ] + ∇²ℓ·f̈)}
         */
        public abstract void secondTangentOfBackward(Tensor fDot, Tensor fDDot, Tensor gFDDot);

        /**
         * The tangent rule: the directional derivative of the value.
         *
         * @param gF   the backward rule's {@code G_F}
         * @param fDot one output tangent, rows × K
         * @return {@code ⟨G_F, ḟ⟩}
         */
        public double tangent(Tensor gF, Tensor fDot) {
            return be.dot(gF, fDot);
        }
    }

    /**
     * Creates this loss's rules.
     *
     * @param be      the kernels (the caller's)
     * @param arena   owns the rules' buffers
     * @param dtype   their dtype
     * @param maxRows the most samples per batch
     * @param outputs K
     * @return rules with buffers for up to {@code maxRows} samples
     */
    public abstract Rules rules(Backend be, Arena arena, DType dtype, int maxRows, int outputs);

    /**
     * The name in command options and output.
     *
     * @return {@code mse}, {@code ce} or {@code cosh}
     */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a loss name.
     *
     * @param s {@code mse}, {@code ce} ({@code cross-entropy}) or {@code cosh} ({@code logcosh}), any case
     * @return the loss
     * @throws InvalidInputException for any other name
     */
    public static Loss parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "mse" -> MSE;
            case "ce", "cross-entropy", "cross_entropy" -> CE;
            case "cosh", "logcosh", "log-cosh" -> COSH;
            default -> throw new InvalidInputException("unknown loss '" + s + "' (expected mse, ce or cosh)");
        };
    }
}

package io.hvp4j.train;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.spectral.Lanczos;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.SpectralDensity;
import io.hvp4j.spectral.SymmetricOperator;
import io.hvp4j.spectral.TraceEstimators;
import java.util.EnumSet;
import java.util.Locale;

/**
 * The curvature quantities tracked during training (docs/theory.md §C.3, §C.5): λ_max (Lanczos, largest Ritz value)
 * and the trace (Hutchinson with Rademacher probes, or exact) of the loss Hessian, for the whole network and, with
 * {@link Quantity#LAYERWISE}, for each layer's <em>weight</em> block (a "layer" is the weight tensor, as in Sankar
 * et al.'s code, §C.1), and an SLQ spectral density of the whole Hessian. Deterministic for a seed.
 */
public final class CurvatureTracker {
    private CurvatureTracker() {
    }

    /** What to measure. */
    public enum Quantity {
        LAMBDA_MAX, TRACE, LAYERWISE, SPECTRUM;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Parses a comma-separated list such as {@code lambda_max,trace,layerwise}. */
        public static EnumSet<Quantity> parseList(String s) {
            EnumSet<Quantity> out = EnumSet.noneOf(Quantity.class);
            for (String part : s.split(",")) {
                String key = part.trim().toUpperCase(Locale.ROOT).replace('-', '_');
                if (key.isEmpty()) {
                    continue;
                }
                try {
                    out.add(valueOf(key));
                } catch (IllegalArgumentException e) {
                    throw new InvalidInputException("unknown tracked quantity '" + part.trim()
                            + "' (expected lambda_max, trace, layerwise or spectrum)");
                }
            }
            return out;
        }
    }

    /**
     * One measurement; fields that were not requested are NaN / null. {@code layerLambdaMax} and
     * {@code layerTrace} are per weight block when {@link Quantity#LAYERWISE} was asked for together with
     * {@link Quantity#LAMBDA_MAX} / {@link Quantity#TRACE}.
     */
    public record Measurement(double lambdaMax, double trace, double[] layerLambdaMax, double[] layerTrace,
                              SpectralDensity.Result spectrum) {
    }

    /** The Hessian block of layer {@code l}'s weight matrix (the layer block without its bias rows). */
    public static SymmetricOperator weightBlock(MlpObjective f, int l) {
        SymmetricOperator block = Operators.curvature(f, Curvature.HESSIAN, l);
        Mlp mlp = f.mlp();
        if (!mlp.hasBias()) {
            return block;
        }
        int[] idx = new int[mlp.width(l) * mlp.width(l + 1)];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        return Operators.restrict(block, idx);
    }

    /**
     * Measures at {@code f}'s current parameters. {@code probes ≤ 0} means exact traces (P products).
     */
    public static Measurement measure(MlpObjective f, EnumSet<Quantity> what, int probes, long seed) {
        SymmetricOperator h = Operators.curvature(f, Curvature.HESSIAN, -1);
        double lmax = what.contains(Quantity.LAMBDA_MAX) ? lambdaMax(h, seed) : Double.NaN;
        double tr = what.contains(Quantity.TRACE) ? trace(h, probes, seed) : Double.NaN;
        double[] ll = null, lt = null;
        if (what.contains(Quantity.LAYERWISE)) {
            int layers = f.mlp().layers();
            ll = what.contains(Quantity.LAMBDA_MAX) ? new double[layers] : null;
            lt = what.contains(Quantity.TRACE) ? new double[layers] : null;
            for (int l = 0; l < layers; l++) {
                SymmetricOperator block = weightBlock(f, l);
                if (ll != null) ll[l] = lambdaMax(block, seed + 1 + l);
                if (lt != null) lt[l] = trace(block, probes, seed + 1 + l);
            }
        }
        SpectralDensity.Result spectrum = what.contains(Quantity.SPECTRUM) ? SpectralDensity.compute(h, seed) : null;
        return new Measurement(lmax, tr, ll, lt, spectrum);
    }

    static double lambdaMax(SymmetricOperator a, long seed) {
        return Lanczos.compute(a, 1, 0, seed).top().get(0).value();
    }

    static double trace(SymmetricOperator a, int probes, long seed) {
        return probes <= 0 ? TraceEstimators.exact(a, TraceEstimators.DEFAULT_BLOCK).value()
                : TraceEstimators.hutchinson(a, probes, TraceEstimators.Probe.RADEMACHER, seed,
                        TraceEstimators.DEFAULT_BLOCK).value();
    }
}

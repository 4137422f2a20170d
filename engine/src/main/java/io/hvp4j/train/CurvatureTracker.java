package io.hvp4j.train;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.model.Mlp;
import io.hvp4j.graph.Graph;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.objective.Objective;
import io.hvp4j.objective.ParameterGroup;
import io.hvp4j.spectral.Lanczos;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.SpectralDensity;
import io.hvp4j.spectral.SymmetricOperator;
import io.hvp4j.spectral.TraceEstimators;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;

/**
 * The curvature quantities tracked during training (docs/theory.md §C.3, §C.5): λ_max (Lanczos, largest Ritz value)
 * and the trace (Hutchinson with Rademacher probes, or exact) of the loss Hessian, for the whole network and, with
 * {@link Quantity#LAYERWISE}, for each layer's <em>weight</em> block (a "layer" is the weight tensor, as in Sankar
 * et al.'s code, §C.1; on a graph, each module's first parameter tensor, its weight), and an SLQ spectral density
 * of the whole Hessian. Deterministic for a seed.
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

    /** The Hessian block of a graph module's first parameter tensor (its weight: the module's block without its bias). */
    public static SymmetricOperator weightBlock(GraphObjective f, ParameterGroup module) {
        SymmetricOperator block = Operators.curvature(f, Curvature.HESSIAN, module);
        Graph g = f.graph();
        int n = g.parameters().get(module.members()[0]).shape().intSize();
        if (n == module.size()) {
            return block;
        }
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        return Operators.restrict(block, idx);
    }

    /** The weight blocks of every layer (MLP) or module (graph) of {@code f}, in order. */
    public static List<SymmetricOperator> weightBlocks(Objective f) {
        if (f instanceof MlpObjective m) {
            return java.util.stream.IntStream.range(0, m.mlp().layers()).mapToObj(l -> weightBlock(m, l)).toList();
        }
        if (f instanceof GraphObjective g) {
            return g.groups().stream().map(m -> weightBlock(g, m)).toList();
        }
        throw new IllegalArgumentException("no layerwise blocks for " + f.getClass().getSimpleName());
    }

    /**
     * Measures at {@code f}'s current parameters (an MLP or a graph objective). {@code probes ≤ 0} means exact
     * traces (P products).
     */
    public static Measurement measure(Objective f, EnumSet<Quantity> what, int probes, long seed) {
        SymmetricOperator h = Operators.curvature(f, Curvature.HESSIAN, null);
        double lmax = what.contains(Quantity.LAMBDA_MAX) ? lambdaMax(h, seed) : Double.NaN;
        double tr = what.contains(Quantity.TRACE) ? trace(h, probes, seed) : Double.NaN;
        double[] ll = null, lt = null;
        if (what.contains(Quantity.LAYERWISE)) {
            List<SymmetricOperator> blocks = weightBlocks(f);
            int layers = blocks.size();
            ll = what.contains(Quantity.LAMBDA_MAX) ? new double[layers] : null;
            lt = what.contains(Quantity.TRACE) ? new double[layers] : null;
            for (int l = 0; l < layers; l++) {
                SymmetricOperator block = blocks.get(l);
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

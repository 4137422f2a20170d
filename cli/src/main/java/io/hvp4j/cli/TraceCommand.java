package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.io.Json;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.TraceEstimators;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "trace", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        header = "Trace of H, H_O or H_F: exact, Hutchinson, Hutch++ or XTrace, optionally per layer.", sortOptions = false,
        description = {
            "Estimates tr(C) for C = H (hessian), H_O (ggn) or H_F (functional) of the loss over the whole data set,"
                    + " from curvature-vector products (16 at a time).",
            "exact: P unit products (refused when P > " + TraceCommand.EXACT_LIMIT + " unless --force). hutchinson: mean of vᵀCv"
                    + " over --probes probes (Rademacher or Gaussian, --dist), standard error = sample std/√m."
                    + " hutchpp: Hutch++ (Meyer et al. 2021) with --probes products in total (at least 3)."
                    + " xtrace: XTrace (Epperly, Tropp, Webber 2024) with --probes products in total (even, at least"
                    + " 4); standard error from its leave-one-out estimates.",
            "--layerwise: the trace of every Linear layer's diagonal block (weight and bias) in one run, each with"
                    + " its own probes (seed + layer); their sum is tr(C) (the layers partition the parameters).",
            "Probes are drawn from --seed (SplittableRandom)."})
final class TraceCommand implements Callable<Integer> {
    static final int EXACT_LIMIT = 20_000;
    static final long PROBE_SEED_MIX = 0x5DEECE66DL;

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Mixin
    SparkOptions spark;

    @Option(names = "--operator", defaultValue = "hessian", paramLabel = "NAME",
            description = "hessian, ggn (Gauss-Newton H_O) or functional (H_F). Default: ${DEFAULT-VALUE}.")
    String operator;

    @Option(names = "--method", defaultValue = "hutchinson", paramLabel = "NAME",
            description = "exact, hutchinson, hutchpp or xtrace. Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--probes", defaultValue = "100", paramLabel = "M",
            description = "Probes (hutchinson) or products (hutchpp, xtrace). Default: ${DEFAULT-VALUE}.")
    int probes;

    @Option(names = "--dist", defaultValue = "rademacher", paramLabel = "NAME",
            description = "Hutchinson probe distribution: rademacher or gaussian. Default: ${DEFAULT-VALUE}.")
    String dist;

    @Option(names = "--layerwise", description = "Also the trace of every layer's diagonal block.")
    boolean layerwise;

    @Option(names = "--diagonal", paramLabel = "DIAG.npy|DIAG.safetensors",
            description = "Also write the diagonal estimate Σ v⊙Cv / Σ v⊙v (Bekas et al. 2007) from --probes probes of"
                    + " --dist as a (P,) float64 .npy, or with --model as .safetensors by parameter name (exact"
                    + " diagonal with --method exact).")
    Path diagonal;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    static Curvature parseOperator(String s) {
        try {
            return Curvature.parse(s);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("unknown --operator '" + s + "' (expected hessian, ggn or functional)");
        }
    }

    static TraceEstimators.Method parseMethod(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "exact" -> TraceEstimators.Method.EXACT;
            case "hutchinson" -> TraceEstimators.Method.HUTCHINSON;
            case "hutchpp", "hutch++" -> TraceEstimators.Method.HUTCHPP;
            case "xtrace" -> TraceEstimators.Method.XTRACE;
            default -> throw new InvalidInputException("unknown --method '" + s
                    + "' (expected exact, hutchinson, hutchpp or xtrace)");
        };
    }

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        Curvature c = parseOperator(operator);
        TraceEstimators.Method m = parseMethod(method);
        TraceEstimators.Probe probe;
        try {
            probe = TraceEstimators.Probe.parse(dist);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("--dist: " + e.getMessage());
        }
        int minProbes = switch (m) {
            case HUTCHPP -> 3;
            case XTRACE -> 4;
            default -> 1;
        };
        if (m != TraceEstimators.Method.EXACT && probes < minProbes) {
            throw new InvalidInputException("--probes must be at least " + minProbes + " for " + m.id() + ", got "
                    + probes);
        }
        if (m == TraceEstimators.Method.XTRACE && probes % 2 != 0) {
            throw new InvalidInputException("--probes must be even for xtrace (half probes, half products on their"
                    + " range), got " + probes);
        }
        if (diagonal != null) {
            Main.requireWritable(diagonal, "--diagonal");
            VectorFiles.check(diagonal, model, "--diagonal");
        }
        if (layerwise && model.params != null) {
            throw new InvalidInputException("--layerwise and --params exclude each other (--layerwise already gives"
                    + " every layer's block)");
        }
        try (Problem p = Problem.load(model, spark)) {
            int P = p.parameterCount();
            // --params: the trace of the block C_SS of the matching parameters (null: all of them).
            io.hvp4j.objective.ParameterGroup block = p.block(null, model.params);
            int n = p.dimension(block);
            if (m == TraceEstimators.Method.EXACT && n > EXACT_LIMIT && !p.force) {
                throw new Problem.ResourceLimitException("--method exact needs " + n + " products; refused above "
                        + EXACT_LIMIT + " parameters (use --method hutchpp or hutchinson, or add --force)");
            }
            io.hvp4j.objective.Objective obj = p.anyObjective(HvpCommand.MAX_BLOCK);
            long seed = model.seed ^ PROBE_SEED_MIX;
            long t0 = System.nanoTime();
            TraceEstimators.Estimate total;
            TraceEstimators.Layerwise layers = null;
            PrintWriter err = spec.commandLine().getErr();
            io.hvp4j.Progress bar = ProgressBar.forTerminal(err, "tr(" + c.id() + ") " + m.id(), "products");
            // --diagonal with hutchinson or exact shares the trace's products (the diagonal then sums to the trace:
            // exactly, or for Rademacher probes up to rounding); other methods take a second pass of products.
            double[] d = null;
            int diagonalProducts = 0;
            if (layerwise) {
                layers = TraceEstimators.layerwise(obj, c, m, probes, probe, seed, HvpCommand.MAX_BLOCK, bar);
                total = layers.total();
            } else if (diagonal != null && m == TraceEstimators.Method.HUTCHINSON) {
                TraceEstimators.TraceAndDiagonal td = TraceEstimators.hutchinsonWithDiagonal(
                        Operators.curvature(obj, c, block), probes, probe, seed, HvpCommand.MAX_BLOCK, bar);
                total = td.trace();
                d = td.diagonal();
            } else if (diagonal != null && m == TraceEstimators.Method.EXACT) {
                d = TraceEstimators.exactDiagonal(Operators.curvature(obj, c, block), HvpCommand.MAX_BLOCK, bar);
                total = TraceEstimators.exactOfDiagonal(d);
            } else {
                total = TraceEstimators.estimate(Operators.curvature(obj, c, block), m, probes, probe, seed,
                        HvpCommand.MAX_BLOCK, bar);
            }
            ProgressBar.clear(bar);
            if (diagonal != null) {
                if (d == null) {
                    io.hvp4j.spectral.SymmetricOperator op = Operators.curvature(obj, c, block);
                    io.hvp4j.Progress dbar = ProgressBar.forTerminal(err, "diag(" + c.id() + ")", "products");
                    boolean exact = m == TraceEstimators.Method.EXACT;
                    d = exact ? TraceEstimators.exactDiagonal(op, HvpCommand.MAX_BLOCK, dbar)
                            : TraceEstimators.diagonal(op, probes, probe, seed ^ 0x9E3779B97F4A7C15L,
                                    HvpCommand.MAX_BLOCK, dbar);
                    diagonalProducts = exact ? n : probes;
                    ProgressBar.clear(dbar);
                }
                if (VectorFiles.named(diagonal)) {
                    VectorFiles.write(diagonal, p, block, io.hvp4j.memory.Tensor.of(p.arena,
                            io.hvp4j.memory.DType.F64, d.length, 1, d), true);
                } else {
                    io.hvp4j.io.Npy.write(diagonal, d, new long[] {d.length}, io.hvp4j.memory.DType.F64);
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (!Double.isFinite(total.value())) {
                throw new InvalidInputException("the trace is not finite (overflow in " + p.dtype + "?)");
            }
            if (json) {
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("params", P);
                j.put("block", block == null ? null : model.params);
                j.put("block_params", block == null ? null : n);
                j.put("operator", c.id());
                j.put("method", m.id());
                j.put("probes", m == TraceEstimators.Method.EXACT ? null : probes);
                j.put("distribution", m == TraceEstimators.Method.HUTCHINSON ? probe.name().toLowerCase(Locale.ROOT)
                        : null);
                j.put("trace", total.value());
                j.put("standard_error", total.standardError());
                j.put("products", total.products());
                j.put("diagonal", diagonal == null ? null : diagonal.toString());
                j.put("diagonal_products", diagonal == null ? null : diagonalProducts);
                List<Map<String, Object>> rows = null;
                if (layers != null) {
                    rows = new ArrayList<>();
                    for (int l = 0; l < layers.layers().size(); l++) {
                        TraceEstimators.Estimate e = layers.layers().get(l);
                        Map<String, Object> row = new LinkedHashMap<>();
                        row.put("layer", l);
                        row.put("params", p.dimension(l));
                        row.put("trace", e.value());
                        row.put("standard_error", e.standardError());
                        row.put("products", e.products());
                        rows.add(row);
                    }
                }
                j.put("layers", rows);
                j.put("seconds", Json.fixed(seconds, 3));
                stdout.println(Json.write(j));
            } else {
                stdout.printf(Locale.ROOT, "trace: P=%d%s operator=%s method=%s%s dtype=%s products=%d time=%.3f s%n",
                        P, block == null ? "" : " block=" + model.params + " (" + n + " params)", c.id(), m.id(), m == TraceEstimators.Method.EXACT ? "" : " probes=" + probes
                                + (m == TraceEstimators.Method.HUTCHINSON ? " (" + probe.name().toLowerCase(Locale.ROOT)
                                + ")" : ""), p.dtype, total.products(), seconds);
                if (layers != null) {
                    for (int l = 0; l < layers.layers().size(); l++) {
                        TraceEstimators.Estimate e = layers.layers().get(l);
                        stdout.printf(Locale.ROOT, "  layer %d (%d params): %.10g%s%n", l, p.dimension(l),
                                e.value(), se(e));
                    }
                    stdout.printf(Locale.ROOT, "  sum of layers = tr(%s): %.10g%s%n", c.id(), total.value(), se(total));
                } else {
                    stdout.printf(Locale.ROOT, "  tr(%s%s) = %.10g%s%n", c.id(), block == null ? "" : " block",
                            total.value(), se(total));
                }
                if (diagonal != null) {
                    stdout.printf(Locale.ROOT, "  diagonal -> %s (%s)%n", diagonal, diagonalProducts == 0
                            ? "from the trace's products; it sums to the trace" + (m == TraceEstimators.Method.EXACT
                            || probe == TraceEstimators.Probe.RADEMACHER ? "" : " only in expectation")
                            : diagonalProducts + " more products, " + (m == TraceEstimators.Method.EXACT
                            ? "the same unit vectors" : "independent probes"));
                }
            }
            stdout.flush();
            return 0;
        }
    }

    private static String se(TraceEstimators.Estimate e) {
        return e.method() == TraceEstimators.Method.EXACT ? " (exact)"
                : String.format(Locale.ROOT, " ± %.3g (standard error)", e.standardError());
    }
}

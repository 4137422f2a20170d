package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.Progress;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.io.Json;
import io.hvp4j.objective.Objective;
import io.hvp4j.objective.ParameterGroup;
import io.hvp4j.spectral.CurvatureRank;
import io.hvp4j.spectral.DenseAssembly;
import io.hvp4j.spectral.NumericalRank;
import io.hvp4j.spectral.RandomizedRank;
import io.hvp4j.spectral.RankPredictions;
import io.hvp4j.spectral.RankReport;
import io.hvp4j.spectral.SymmetricEigen;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "rank", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        header = "Numerical ranks of H, H_O and H_F (dense and exact), with the closed-form predictions for deep"
                + " linear networks.",
        sortOptions = false,
        description = {
            "Assembles each requested curvature matrix densely from exact products (P×P, float64 storage), computes"
                    + " its eigenvalues (LAPACK dsyevd through FFM, or EJML) and counts the singular values |λ|"
                    + " above the tolerance: by default σ_max·P·ε as numpy.linalg.matrix_rank (ε of --dtype).",
            "Always reports the counts above 1e-12..1e-4 times σ_max (the ladder) and the gap σ_r/σ_{r+1} at the"
                    + " cut, so that a reader sees whether the rank is well defined, and the asymmetry"
                    + " ‖A−Aᵀ‖_F/‖A‖_F of the assembled matrix (it is symmetrized before the eigensolver).",
            "For bias-free deep linear networks (--act identity --no-bias) the predictions of [SBH] (docs/theory.md"
                    + " §A.3/§A.5) are printed beside the measured ranks, with r the numerical rank of the inputs;"
                    + " with biases only in the valid regime of §A.7; otherwise predicted is null.",
            "JSON (--json): {\"params\", \"layer\", \"dtype\", \"rank\": {op: r}, \"predicted\": {H, H_O, H_F, q, s,"
                    + " k_prime, section} or null, \"input_rank\", \"tolerance\": {op: τ}, \"tolerance_spec\","
                    + " \"ladder\": {op: {\"1e-12\": n, ...}}, \"gap\": {op: g} (null when infinite or undefined),"
                    + " \"sigma_max\", \"asymmetry\", \"eigensolver\", \"method\", \"seconds\"}; op is H, H_O or H_F."})
final class RankCommand implements Callable<Integer> {
    /** Columns per product in the dense assembly unless --block says otherwise. */
    static final int DEFAULT_BLOCK = DenseAssembly.DEFAULT_BLOCK;

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Mixin
    SparkOptions spark;

    @Option(names = "--operator", defaultValue = "all", paramLabel = "NAME",
            description = "all (H, H_O and H_F), hessian, ggn (H_O) or functional (H_F). Default: ${DEFAULT-VALUE}.")
    String operator;

    @Option(names = "--method", defaultValue = "dense", paramLabel = "dense|randomized|auto",
            description = "dense (exact, P <= " + DenseAssembly.MAX_DIMENSION + "), randomized (adaptive block"
                    + " Krylov range finder with random restarts on block products, then the eigenvalues of QᵀAQ;"
                    + " no P×P matrix) or auto (dense when"
                    + " P <= " + CurvatureRank.AUTO_DENSE_MAX + ", else randomized). Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--blas", defaultValue = "auto", paramLabel = "auto|engine|openblas",
            description = "Matrix products of the randomized basis (f64, O(P·m²) flops): engine (hvp4j's Vector API"
                    + " GEMM), openblas (the system's cblas_dgemm through FFM) or auto (openblas when installed)."
                    + " Default: ${DEFAULT-VALUE}.")
    String blas;

    @Option(names = "--sketch-seed", defaultValue = "1", paramLabel = "SEED",
            description = "Seed of the random blocks of --method randomized. Default: ${DEFAULT-VALUE}.")
    long sketchSeed;

    @Option(names = "--tol", defaultValue = "default", paramLabel = "default|rel:X|abs:X",
            description = "Rank tolerance: default (σ_max·n·ε), rel:X (σ_max·X) or abs:X. Default: ${DEFAULT-VALUE}.")
    String tol;

    @Option(names = "--layer", paramLabel = "I",
            description = "The diagonal block of Linear layer I (0-based) only; no prediction then.")
    Integer layer;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Option(names = "--checkpoint", paramLabel = "FILE",
            description = "Checkpoint the dense assembly or the randomized basis to FILE (FILE.H, FILE.H_O, FILE.H_F"
                    + " with --operator all): a killed run resumes where it stopped with the same result. Removed after success unless"
                    + " --keep-checkpoint. A checkpoint written for other arguments is refused.")
    Path checkpoint;

    @Option(names = "--checkpoint-every", defaultValue = "30s", paramLabel = "DURATION",
            description = "Write the checkpoint this often (stretched to at least 4× the time one write takes)."
                    + " Default: ${DEFAULT-VALUE}.")
    String checkpointEvery;

    @Option(names = "--keep-checkpoint", description = "Keep the (complete) checkpoint files after success.")
    boolean keepCheckpoint;

    @Option(names = "--eigen", paramLabel = "auto|lapack|ejml",
            description = "Eigensolver: lapack (native dsyevd; library from HVP4J_LAPACK_LIB or the usual names),"
                    + " ejml (pure Java) or auto (lapack when found). Default: HVP4J_EIGEN, else auto.")
    String eigen;

    @Option(names = "--block", defaultValue = "" + DEFAULT_BLOCK, paramLabel = "K",
            description = "Columns of the identity per product during assembly (dense; default ${DEFAULT-VALUE}), or"
                    + " columns per block (randomized; default " + RandomizedRank.DEFAULT_BLOCK + ").")
    int block;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        CurvatureRank.Method requested = CurvatureRank.Method.parse(method);
        String gemmName = blas.trim().toLowerCase(Locale.ROOT);
        if (!List.of("auto", "engine", "openblas").contains(gemmName)) {
            throw new InvalidInputException("unknown --blas '" + blas + "' (expected auto, engine or openblas)");
        }
        if (gemmName.equals("openblas") && io.hvp4j.backend.OpenBlas.get().isEmpty()) {
            throw new InvalidInputException("--blas openblas: " + io.hvp4j.backend.OpenBlas.unavailableReason()
                    + " (apt-get install libopenblas0-pthread, or use --blas engine)");
        }
        List<Curvature> ops = operators(operator, true);
        NumericalRank.Tolerance tolerance = NumericalRank.Tolerance.parse(tol);
        SymmetricEigen solver = solver(eigen);
        requireBlock(block);
        if (checkpoint != null) {
            Main.requireWritable(checkpoint, "--checkpoint");
        }
        double checkpointSeconds = ModelOptions.parseDuration(checkpointEvery, "--checkpoint-every");
        long t0 = System.nanoTime();
        try (Problem p = Problem.load(model, spark)) {
            ParameterGroup group = p.block(layer, model.params);
            int n = p.dimension(group);
            CurvatureRank.Method used = requested.resolve(n);
            boolean blockGiven = spec.commandLine().getParseResult() != null
                    && spec.commandLine().getParseResult().hasMatchedOption("--block");
            int k = used == CurvatureRank.Method.DENSE ? block : blockGiven ? block : RandomizedRank.DEFAULT_BLOCK;
            CurvatureRank.Options options = new CurvatureRank.Options().method(used).tolerance(tolerance)
                    .solver(solver).seed(sketchSeed).checkpoint(checkpoint, checkpointSeconds)
                    .monitor(monitor(p, group, checkpoint, ops.size(), err));
            if (used == CurvatureRank.Method.DENSE) {
                requireDense(p, n, group, ops.get(0), solver);
                options.denseBlock(k);
            } else {
                options.randomizedBlock(k);
                RandomizedRank.Gemm gemm = gemmName.equals("engine") ? null
                        : RandomizedRank.nativeGemm(p.threads).orElse(null);
                options.gemm(gemm, gemmName);
            }
            Objective f = p.anyObjective(Math.max(1, Math.min(k, n)));
            CurvatureRank.Result r = CurvatureRank.compute(f, group, ops, p.hostBackend(), options);
            int inputRank = RankPredictions.inputRank(p.data.inputs()).rank();
            Optional<RankPredictions.Prediction> predicted = Optional.empty();
            if (group == null && p.mlp != null) {
                int rTilde = p.mlp.hasBias() ? RankPredictions.augmentedInputRank(p.data.inputs()).rank() : -1;
                predicted = RankPredictions.predict(p.mlp, p.loss, inputRank, rTilde);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            Map<String, RankReport> reports = bySymbol(r.reports());
            Map<String, Double> asymmetry = bySymbol(r.asymmetry());
            Map<String, Integer> basis = bySymbol(r.basis());
            int layerIndex = layerIndex(p, layer);
            if (json) {
                out.println(json(p, layerIndex, n, reports, asymmetry, predicted.orElse(null), inputRank, tolerance,
                        solver, seconds, r.method().id(), basis));
            } else {
                table(out, p, layerIndex, n, reports, asymmetry, predicted.orElse(null), inputRank, tolerance, solver,
                        seconds, r.method().id(), basis);
            }
            out.flush();
            if (!keepCheckpoint) {
                deleteAll(r.checkpoints());
            }
            return 0;
        }
    }

    private static <T> Map<String, T> bySymbol(Map<Curvature, T> m) {
        Map<String, T> out = new LinkedHashMap<>();
        m.forEach((c, v) -> out.put(label(c), v));
        return out;
    }

    /** Exit code 3 when the dense matrix is too large for the method or the memory budget. */
    static void requireDense(Problem p, int n, ParameterGroup group, Curvature c, SymmetricEigen solver) {
        String what = group == null ? "" : " of " + group.name();
        if (n > DenseAssembly.MAX_DIMENSION) {
            throw new Problem.ResourceLimitException("the dense method handles at most " + DenseAssembly.MAX_DIMENSION
                    + " parameters, " + label(c) + what + " has " + n
                    + " (a " + String.format(Locale.ROOT, "%.1f", (double) n * n * 8 / (1L << 30))
                    + " GiB matrix)");
        }
        p.requireMemory(CurvatureRank.denseBytes(n, solver), "the dense " + n + "×" + n + " matrix of " + label(c));
    }

    /**
     * Progress bars on a terminal, and the --max-time check of the dense assembly ({@code checkpoint}: the base name
     * of the checkpoint files of {@code count} operators, or null).
     */
    static CurvatureRank.Monitor monitor(Problem p, ParameterGroup group, Path checkpoint, int count,
                                         PrintWriter err) {
        String where = group == null ? "" : " (" + group.name() + ")";
        Progress[] bar = {Progress.NONE};
        return new CurvatureRank.Monitor() {
            @Override
            public Progress dense(Curvature c, int n) {
                bar[0] = ProgressBar.forTerminal(err, label(c) + where, "columns");
                p.checkpointHint = checkpoint == null ? " (or use --checkpoint FILE to split it into several runs)"
                        : " (the columns done so far are kept in " + CurvatureRank.checkpointFile(checkpoint, c, count)
                        + ")";
                return p.timeLimited(bar[0], "the dense assembly of " + label(c) + " (n = " + n + ")");
            }

            @Override
            public Progress randomized(Curvature c, int n) {
                bar[0] = ProgressBar.forTerminal(err, label(c) + where + " randomized", "vectors");
                return new Progress() {
                    private boolean counting;

                    @Override
                    public void stage(String stage) {
                        // The bar counts basis vectors out of n (an upper bound: it stops at the rank); other
                        // stages show as a status line.
                        counting = stage.equals("basis") || stage.equals("start basis");
                        if (!counting) {
                            ProgressBar.status(bar[0], stage);
                        }
                    }

                    @Override
                    public void update(long done, long total) {
                        if (counting) {
                            bar[0].update(done, total);
                        }
                    }
                };
            }

            @Override
            public void stage(Curvature c, String stage) {
                ProgressBar.status(bar[0], stage);
            }

            @Override
            public void done(Curvature c) {
                ProgressBar.clear(bar[0]);
            }
        };
    }

    // ---------------------------------------------------------------------------------------------- shared

    /** H, H_O or H_F. */
    static String label(Curvature c) {
        return c.symbol();
    }

    /** Parses --operator: all (when allowed) or one curvature name. */
    static List<Curvature> operators(String s, boolean allowAll) {
        if (s.trim().equalsIgnoreCase("all")) {
            if (!allowAll) {
                throw new InvalidInputException("--operator all is not available here (expected hessian, ggn or"
                        + " functional)");
            }
            return List.of(Curvature.HESSIAN, Curvature.GAUSS_NEWTON, Curvature.FUNCTIONAL);
        }
        try {
            return List.of(Curvature.parse(s.trim()));
        } catch (InvalidInputException e) {
            throw new InvalidInputException("unknown --operator '" + s + "' (expected " + (allowAll ? "all, " : "")
                    + "hessian, ggn or functional)");
        }
    }

    /** Accepts only {@code supported}; names in {@code later} get a "not implemented yet" message. */
    static void requireMethod(String m, String supported, List<String> later) {
        String s = m.trim().toLowerCase(Locale.ROOT);
        if (s.equals(supported)) {
            return;
        }
        if (later.contains(s)) {
            throw new InvalidInputException("--method " + s + " is not implemented yet; use --method " + supported);
        }
        throw new InvalidInputException("unknown --method '" + m + "' (expected " + supported + ")");
    }

    static SymmetricEigen solver(String name) {
        return SymmetricEigen.select(name == null ? null : SymmetricEigen.Kind.parse(name));
    }

    static void requireBlock(int k) {
        if (k < 1) {
            throw new InvalidInputException("--block must be positive, got " + k);
        }
    }

    static int layerIndex(Problem p, Integer layer) {
        if (layer == null) {
            return -1;
        }
        return p.layerIndex(layer);
    }

    static void deleteAll(List<Path> files) {
        for (Path f : files) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException ignored) {
                // a leftover checkpoint is harmless
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- output

    static String json(Problem p, int layer, int n, Map<String, RankReport> reports, Map<String, Double> asymmetry,
                       RankPredictions.Prediction pred, int inputRank, NumericalRank.Tolerance tol,
                       SymmetricEigen solver, double seconds, String method, Map<String, Integer> basis) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("params", p.parameterCount());
        j.put("layer", layer < 0 ? null : layer);
        if (layer >= 0 || n != p.parameterCount()) {
            j.put("dimension", n);
        }
        j.put("dtype", p.dtype.toString());
        j.put("rank", each(reports, RankReport::rank));
        Map<String, Object> pr = null;
        if (pred != null) {
            pr = new LinkedHashMap<>();
            pr.put("H", pred.hessian());
            pr.put("H_O", pred.outer());
            pr.put("H_F", pred.functional());
            pr.put("q", pred.q());
            pr.put("s", pred.s());
            pr.put("k_prime", pred.kPrime());
            if (pred.augmentedInputRank() >= 0) {
                pr.put("augmented_input_rank", pred.augmentedInputRank());
            }
            pr.put("section", pred.section());
        }
        j.put("predicted", pr);
        j.put("input_rank", inputRank);
        j.put("tolerance", each(reports, RankReport::tolerance));
        j.put("tolerance_spec", tol.spec());
        j.put("ladder", each(reports, RankReport::ladder));
        j.put("gap", each(reports, RankReport::gap));
        j.put("sigma_max", each(reports, RankReport::sigmaMax));
        j.put("asymmetry", asymmetry);
        j.put("eigensolver", solver.name());
        j.put("method", method);
        if (basis != null && !basis.isEmpty()) {
            j.put("basis", basis);
        }
        j.put("seconds", seconds);
        return Json.write(j);
    }

    private static <T> Map<String, T> each(Map<String, RankReport> reports, java.util.function.Function<RankReport, T> f) {
        Map<String, T> out = new LinkedHashMap<>();
        reports.forEach((k, r) -> out.put(k, f.apply(r)));
        return out;
    }

    static void table(PrintWriter out, Problem p, int layer, int n, Map<String, RankReport> reports,
                      Map<String, Double> asymmetry, RankPredictions.Prediction pred, int inputRank,
                      NumericalRank.Tolerance tol, SymmetricEigen solver, double seconds, String method,
                      Map<String, Integer> basis) {
        out.printf(Locale.ROOT, "rank: P=%d%s dtype=%s method=%s eigensolver=%s tol=%s input_rank=%d"
                        + " seconds=%.3f%s%n", p.parameterCount(),
                layer < 0 ? n != p.parameterCount() ? " n=" + n : "" : " layer=" + layer + " (n=" + n + ")", p.dtype,
                method, solver.name(), tol.spec(), inputRank, seconds,
                basis == null || basis.isEmpty() ? "" : " basis=" + basis);
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-4s %7s %9s %12s %12s %11s %10s",
                "op", "rank", "predicted", "tolerance", "sigma_max", "gap", "asymmetry"));
        for (String k : NumericalRank.LADDER_KEYS) {
            head.append(String.format(Locale.ROOT, " %7s", ">" + k));
        }
        out.println(head);
        for (Map.Entry<String, RankReport> e : reports.entrySet()) {
            RankReport r = e.getValue();
            String predicted = pred == null ? "-" : Integer.toString(switch (e.getKey()) {
                case "H" -> pred.hessian();
                case "H_O" -> pred.outer();
                default -> pred.functional();
            });
            Double asym = asymmetry.get(e.getKey()); // not measured (NaN) by the randomized method
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-4s %7d %9s %12.4e %12.4e %11s %10s",
                    e.getKey(), r.rank(), predicted, r.tolerance(), r.sigmaMax(), gap(r.gap()),
                    asym == null || asym.isNaN() ? "-" : String.format(Locale.ROOT, "%.2e", asym)));
            for (int v : r.ladder().values()) {
                row.append(String.format(Locale.ROOT, " %7d", v));
            }
            out.println(row);
        }
        if (pred != null) {
            out.printf(Locale.ROOT, "predicted by docs/theory.md §%s with r=%d%s, K'=%d, q=%d, s=%d (generic point)%n",
                    pred.section(), pred.inputRank(),
                    pred.augmentedInputRank() >= 0 ? ", r~=" + pred.augmentedInputRank() : "", pred.kPrime(),
                    pred.q(), pred.s());
        } else if (layer < 0 && p.graph == null) {
            out.println("no closed-form prediction (only for --act identity without bias, or with bias in the"
                    + " regime of docs/theory.md §A.7)");
        }
    }

    static String gap(double g) {
        if (Double.isNaN(g)) {
            return "-";
        }
        if (Double.isInfinite(g)) {
            return "inf";
        }
        return String.format(Locale.ROOT, "%.3e", g);
    }
}

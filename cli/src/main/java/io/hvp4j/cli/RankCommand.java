package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.Progress;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.memory.Tensor;
import io.hvp4j.spectral.DenseAssembly;
import io.hvp4j.spectral.NumericalRank;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.RandomizedRank;
import io.hvp4j.spectral.RankPredictions;
import io.hvp4j.spectral.RankReport;
import io.hvp4j.spectral.SymmetricEigen;
import io.hvp4j.spectral.SymmetricOperator;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
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
    static final int DEFAULT_BLOCK = 32;
    /** --method auto uses the dense path up to this many parameters. */
    static final int AUTO_DENSE_MAX = 4000;

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
                    + " P <= " + AUTO_DENSE_MAX + ", else randomized). Default: ${DEFAULT-VALUE}.")
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
        String requested = parseMethod(method);
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
        long t0 = System.nanoTime();
        model.requireArch("rank");
        try (Problem p = Problem.load(model, spark)) {
            int layerIndex = layerIndex(p, layer);
            List<Path> used = new ArrayList<>();
            Map<String, RankReport> reports = new LinkedHashMap<>();
            Map<String, Double> asymmetry = new LinkedHashMap<>();
            Map<String, Integer> basis = new LinkedHashMap<>();
            int dim = layerIndex < 0 ? p.mlp.parameterCount() : p.mlp.layerParameterCount(layerIndex);
            String usedMethod = requested.equals("auto") ? (dim <= AUTO_DENSE_MAX ? "dense" : "randomized")
                    : requested;
            // H's basis starts H_F's (range(H_F) lies in range(H) + range(H_O)): T on it costs one product per
            // vector and n·m² flops instead of a new Gram–Schmidt basis; the random tests extend it where needed.
            RandomizedRank.Basis hessianBasis = null;
            try {
            for (Curvature c : ops) {
                if (usedMethod.equals("randomized")) {
                    boolean blockGiven = spec.commandLine().getParseResult() != null
                            && spec.commandLine().getParseResult().hasMatchedOption("--block");
                    boolean keep = c == Curvature.HESSIAN && ops.contains(Curvature.FUNCTIONAL);
                    RandomizedRank.Basis start = c == Curvature.FUNCTIONAL ? hessianBasis : null;
                    Path rck = checkpoint == null ? null
                            : ops.size() == 1 ? checkpoint : Path.of(checkpoint + "." + label(c));
                    if (rck != null) {
                        used.add(rck);
                    }
                    RandomizedRank.Result rr = randomizedRank(p, c, layerIndex,
                            blockGiven ? block : RandomizedRank.DEFAULT_BLOCK, sketchSeed, tolerance, solver, gemmName,
                            start, keep, rck, ModelOptions.parseDuration(checkpointEvery, "--checkpoint-every"), err);
                    if (keep) {
                        hessianBasis = rr.kept();
                    }
                    reports.put(label(c), rr.report());
                    asymmetry.put(label(c), Double.NaN);
                    basis.put(label(c), rr.basis());
                    continue;
                }
                Path ck = checkpoint == null ? null
                        : ops.size() == 1 ? checkpoint : Path.of(checkpoint + "." + label(c));
                if (ck != null) {
                    used.add(ck);
                }
                Dense d = denseEigenvalues(p, c, layerIndex, block, solver, ck,
                        ModelOptions.parseDuration(checkpointEvery, "--checkpoint-every"), err);
                reports.put(label(c), NumericalRank.ofEigenvalues(d.eigenvalues(), p.dtype, tolerance));
                asymmetry.put(label(c), d.asymmetry());
            }
            } finally {
                if (hessianBasis != null) {
                    hessianBasis.close();
                }
            }
            int inputRank = RankPredictions.inputRank(p.data.inputs()).rank();
            Optional<RankPredictions.Prediction> predicted = Optional.empty();
            if (layerIndex < 0) {
                int rTilde = p.mlp.hasBias() ? RankPredictions.augmentedInputRank(p.data.inputs()).rank() : -1;
                predicted = RankPredictions.predict(p.mlp, p.loss, inputRank, rTilde);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (json) {
                out.println(json(p, layerIndex, reports, asymmetry, predicted.orElse(null), inputRank, tolerance,
                        solver, seconds, usedMethod, basis));
            } else {
                table(out, p, layerIndex, reports, asymmetry, predicted.orElse(null), inputRank, tolerance, solver,
                        seconds, usedMethod, basis);
            }
            out.flush();
            if (!keepCheckpoint) {
                deleteAll(used);
            }
            return 0;
        }
    }

    // ---------------------------------------------------------------------------------------------- shared

    /** H, H_O or H_F. */
    static String label(Curvature c) {
        return switch (c) {
            case HESSIAN -> "H";
            case GAUSS_NEWTON -> "H_O";
            case FUNCTIONAL -> "H_F";
        };
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

    /** dense, randomized or auto. */
    static String parseMethod(String m) {
        String s = m.trim().toLowerCase(Locale.ROOT);
        if (s.equals("dense") || s.equals("randomized") || s.equals("auto")) {
            return s;
        }
        throw new InvalidInputException("unknown --method '" + m + "' (expected dense, randomized or auto)");
    }

    /** The randomized rank of curvature {@code c} (layer block when {@code layer >= 0}). */
    static RandomizedRank.Result randomizedRank(Problem p, Curvature c, int layer, int block, long seed,
                                                NumericalRank.Tolerance tol, SymmetricEigen solver,
                                                String gemm, RandomizedRank.Basis start, boolean keep,
                                                Path checkpointFile, double checkpointSeconds, PrintWriter err) {
        int n = layer < 0 ? p.mlp.parameterCount() : p.mlp.layerParameterCount(layer);
        int k = Math.max(1, Math.min(block, n));
        SymmetricOperator op = p.curvature(c, layer, k);
        String what = label(c) + (layer < 0 ? "" : " (layer " + layer + ")") + " randomized";
        io.hvp4j.Progress bar = ProgressBar.forTerminal(err, what, "vectors");
        String[] stageShown = {""};
        RandomizedRank.Progress progress = (stage, done, total) -> {
            if (stage.equals("basis") || stage.equals("start basis")) {
                bar.update(done, total); // basis vectors out of n (an upper bound: it stops at the rank)
            } else if (!stage.equals(stageShown[0])) {
                stageShown[0] = stage;
                ProgressBar.status(bar, stage);
            }
        };
        RandomizedRank.Options options = new RandomizedRank.Options()
                .block(block).seed(seed).tolerance(tol).solver(solver).progress(progress).start(start).keepBasis(keep);
        if (!gemm.equals("engine")) {
            RandomizedRank.nativeGemm(p.threads).ifPresent(options::gemm);
        }
        if (checkpointFile != null) {
            options.checkpoint(checkpointFile, checkpointSeconds, fingerprint(p, c, layer) + "|threads=" + p.threads
                    + "|blas=" + gemm);
        }
        RandomizedRank.Result r = RandomizedRank.compute(op, p.hostBackend(), options);
        ProgressBar.clear(bar);
        return r;
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

    /** Eigenvalues (ascending) of one dense curvature matrix and the asymmetry found while assembling it. */
    record Dense(double[] eigenvalues, double asymmetry, int dimension, int resumedColumns) {
    }

    /** Assembles curvature {@code c} (layer block when {@code layer >= 0}) and computes its eigenvalues. */
    static Dense denseEigenvalues(Problem p, Curvature c, int layer, int block, SymmetricEigen solver,
                                  Path checkpoint, double checkpointSeconds, PrintWriter err) {
        int n = p.dimension(layer);
        if (n > DenseAssembly.MAX_DIMENSION) {
            throw new Problem.ResourceLimitException("the dense method handles at most " + DenseAssembly.MAX_DIMENSION
                    + " parameters, " + label(c) + (layer < 0 ? "" : " of layer " + layer) + " has " + n
                    + " (a " + String.format(Locale.ROOT, "%.1f", (double) n * n * 8 / (1L << 30))
                    + " GiB matrix)");
        }
        // The matrix, plus a second copy inside the pure-Java solver.
        long bytes = (long) n * n * 8 * (solver.name().equals("ejml") ? 2 : 1);
        p.requireMemory(bytes, "the dense " + n + "×" + n + " matrix of " + label(c));
        int k = Math.max(1, Math.min(block, n));
        SymmetricOperator op = p.curvature(c, layer, k);
        DenseAssembly.Options o = new DenseAssembly.Options().maxBlock(k);
        if (checkpoint != null) {
            o.checkpoint(checkpoint).fingerprint(fingerprint(p, c, layer)).checkpointEverySeconds(checkpointSeconds);
        }
        Progress progress = ProgressBar.forTerminal(err, label(c) + (layer < 0 ? "" : " (layer " + layer + ")"),
                "columns");
        p.checkpointHint = checkpoint == null ? " (or use --checkpoint FILE to split it into several runs)"
                : " (the columns done so far are kept in " + checkpoint + ")";
        o.progress(p.timeLimited(progress, "the dense assembly of " + label(c) + " (n = " + n + ")"));
        try (Arena arena = Arena.ofConfined()) {
            DenseAssembly.Result r = DenseAssembly.assemble(op, arena, o);
            ProgressBar.status(progress, "computing eigenvalues (" + solver.name() + ")");
            double[] eig = solver.decomposeInPlace(r.matrix(), false);
            ProgressBar.clear(progress);
            return new Dense(eig, r.asymmetry(), n, r.resumedColumns());
        }
    }

    /**
     * Everything that determines the assembled matrix, for the checkpoint. The block size is not part of it: a
     * resumed assembly keeps the block size stored in the checkpoint, so that the columns are computed alike.
     */
    static String fingerprint(Problem p, Curvature c, int layer) {
        StringBuilder sb = new StringBuilder("hvp4j dense assembly v1");
        sb.append("; op=").append(c.id()).append("; layer=").append(layer)
                .append(p.graph == null ? "; arch=" + p.mlp.architecture() + "; act=" + p.mlp.activation().id()
                        + "; bias=" + p.mlp.hasBias() : "; " + p.modelText).append("; loss=").append(p.loss.id())
                .append("; reduction=").append(p.reduction).append("; dtype=").append(p.dtype)
                .append("; backend=").append(p.backend().name()).append("; threads=").append(p.threads)
                .append("; batch=").append(p.batchRows)
                .append("; theta=").append(sha256(p.theta)).append("; x=").append(sha256(p.data.inputs()))
                .append("; y=").append(sha256(p.data.targets()));
        return sb.toString();
    }

    static String sha256(Tensor t) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            long bytes = t.segment().byteSize();
            for (long off = 0; off < bytes; off += 1 << 26) {
                ByteBuffer b = t.segment().asSlice(off, Math.min(1 << 26, bytes - off)).asByteBuffer();
                md.update(b);
            }
            return HexFormat.of().formatHex(md.digest()) + "/" + t.shapeString() + "/" + t.dtype();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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

    static String num(double x) {
        return Double.isFinite(x) ? Double.toString(x) : "null";
    }

    static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (ch < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
                }
            }
        }
        sb.append('"');
    }

    private static <T> void object(StringBuilder sb, Map<String, T> m, java.util.function.Function<T, String> value) {
        sb.append('{');
        boolean first = true;
        for (Map.Entry<String, T> e : m.entrySet()) {
            if (!first) {
                sb.append(", ");
            }
            first = false;
            quote(sb, e.getKey());
            sb.append(": ").append(value.apply(e.getValue()));
        }
        sb.append('}');
    }

    static String json(Problem p, int layer, Map<String, RankReport> reports, Map<String, Double> asymmetry,
                       RankPredictions.Prediction pred, int inputRank, NumericalRank.Tolerance tol,
                       SymmetricEigen solver, double seconds, String method, Map<String, Integer> basis) {
        StringBuilder sb = new StringBuilder("{");
        sb.append("\"params\": ").append(p.mlp.parameterCount());
        sb.append(", \"layer\": ").append(layer < 0 ? "null" : Integer.toString(layer));
        if (layer >= 0) {
            sb.append(", \"dimension\": ").append(p.mlp.layerParameterCount(layer));
        }
        sb.append(", \"dtype\": ");
        quote(sb, p.dtype.toString());
        sb.append(", \"rank\": ");
        object(sb, reports, r -> Integer.toString(r.rank()));
        sb.append(", \"predicted\": ");
        if (pred == null) {
            sb.append("null");
        } else {
            sb.append("{\"H\": ").append(pred.hessian()).append(", \"H_O\": ").append(pred.outer())
                    .append(", \"H_F\": ").append(pred.functional()).append(", \"q\": ").append(pred.q())
                    .append(", \"s\": ").append(pred.s()).append(", \"k_prime\": ").append(pred.kPrime());
            if (pred.augmentedInputRank() >= 0) {
                sb.append(", \"augmented_input_rank\": ").append(pred.augmentedInputRank());
            }
            sb.append(", \"section\": ");
            quote(sb, pred.section());
            sb.append('}');
        }
        sb.append(", \"input_rank\": ").append(inputRank);
        sb.append(", \"tolerance\": ");
        object(sb, reports, r -> num(r.tolerance()));
        sb.append(", \"tolerance_spec\": ");
        quote(sb, tol.spec());
        sb.append(", \"ladder\": ");
        object(sb, reports, r -> {
            StringBuilder l = new StringBuilder();
            object(l, r.ladder(), v -> Integer.toString(v));
            return l.toString();
        });
        sb.append(", \"gap\": ");
        object(sb, reports, r -> num(r.gap()));
        sb.append(", \"sigma_max\": ");
        object(sb, reports, r -> num(r.sigmaMax()));
        sb.append(", \"asymmetry\": ");
        object(sb, asymmetry, RankCommand::num);
        sb.append(", \"eigensolver\": ");
        quote(sb, solver.name());
        sb.append(", \"method\": ");
        quote(sb, method);
        if (basis != null && !basis.isEmpty()) {
            sb.append(", \"basis\": ");
            object(sb, basis, v -> Integer.toString(v));
        }
        sb.append(", \"seconds\": ").append(num(seconds));
        return sb.append('}').toString();
    }

    static void table(PrintWriter out, Problem p, int layer, Map<String, RankReport> reports,
                      Map<String, Double> asymmetry, RankPredictions.Prediction pred, int inputRank,
                      NumericalRank.Tolerance tol, SymmetricEigen solver, double seconds, String method,
                      Map<String, Integer> basis) {
        out.printf(Locale.ROOT, "rank: P=%d%s dtype=%s method=%s eigensolver=%s tol=%s input_rank=%d"
                        + " seconds=%.3f%s%n", p.mlp.parameterCount(),
                layer < 0 ? "" : " layer=" + layer + " (n=" + p.mlp.layerParameterCount(layer) + ")", p.dtype,
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
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-4s %7d %9s %12.4e %12.4e %11s %10.2e",
                    e.getKey(), r.rank(), predicted, r.tolerance(), r.sigmaMax(), gap(r.gap()),
                    asymmetry.get(e.getKey())));
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
        } else if (layer < 0) {
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

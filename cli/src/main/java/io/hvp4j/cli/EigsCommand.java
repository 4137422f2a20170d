package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.io.Json;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.ParameterGroup;
import io.hvp4j.spectral.BlockLanczos;
import io.hvp4j.spectral.Lanczos;
import io.hvp4j.spectral.PowerIteration;
import io.hvp4j.spectral.SymmetricOperator;
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

@Command(name = "eigs", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        header = "Extreme eigenvalues of H, H_O or H_F (Lanczos or power iteration), with residuals.",
        sortOptions = false,
        description = {
            "The --top largest and --bottom smallest (most negative) eigenpairs of C = H (hessian), H_O (ggn) or"
                    + " H_F (functional), or of one layer's diagonal block with --layer, from curvature-vector"
                    + " products.",
            "lanczos (default): Lanczos with full reorthogonalisation; prints each Ritz value θ, its residual"
                    + " ‖C·u − θ·u‖ (one extra product per pair) and whether residual ≤ tol·max|θ|. Multiple"
                    + " eigenvalues are found once unless an invariant subspace forces a restart.",
            "block-lanczos: block Lanczos with full reorthogonalisation, --block vectors per block product (the"
                    + " products share their primal pass); finds multiple eigenvalues up to the block size.",
            "power: power iteration with deflation (PyHessian style; --top pairs of largest magnitude); warns when"
                    + " the dominant eigenvalue is negative (then it is λ_min, not λ_max).",
            "The start vectors are drawn from --seed."})
final class EigsCommand implements Callable<Integer> {
    static final long START_SEED_MIX = 0x2545F4914F6CDD1DL;

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Mixin
    SparkOptions spark;

    @Option(names = "--operator", defaultValue = "hessian", paramLabel = "NAME",
            description = "hessian, ggn (Gauss-Newton H_O) or functional (H_F). Default: ${DEFAULT-VALUE}.")
    String operator;

    @Option(names = "--layer", paramLabel = "I", description = "The diagonal block of Linear layer I (0-based).")
    Integer layer;

    @Option(names = "--top", defaultValue = "5", paramLabel = "K", description = "Largest eigenpairs. Default: ${DEFAULT-VALUE}.")
    int top;

    @Option(names = "--bottom", defaultValue = "0", paramLabel = "K",
            description = "Smallest (most negative) eigenpairs (lanczos only). Default: ${DEFAULT-VALUE}.")
    int bottom;

    @Option(names = "--method", defaultValue = "lanczos", paramLabel = "NAME",
            description = "lanczos, block-lanczos or power. Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--block", defaultValue = "8", paramLabel = "B",
            description = "Vectors per block for --method block-lanczos. Default: ${DEFAULT-VALUE}.")
    int block;

    @Option(names = "--max-iter", paramLabel = "N",
            description = "Lanczos: largest basis (default max(300, 20·(top+bottom))); power: iterations per pair"
                    + " (default 100).")
    Integer maxIter;

    @Option(names = "--tol", paramLabel = "X",
            description = "Lanczos: residual tolerance relative to max|θ| (default 1e-9 in f64, 1e-4 in f32);"
                    + " power: relative change of the eigenvalue (default 1e-3).")
    Double tol;

    @Option(names = "--out", paramLabel = "U.npy|U.safetensors",
            description = "Also write the eigenvectors (unit norm, atomic), one per pair in the printed order (top,"
                    + " then bottom): .npy of shape (n, k), column j = vector j, rows in the flat parameter order"
                    + " (of the --layer/--params block when given); or with --model .safetensors by parameter name,"
                    + " each parameter of shape (k, ...), as hvp --out.")
    Path out;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        Curvature c = TraceCommand.parseOperator(operator);
        String m = method.toLowerCase(Locale.ROOT);
        if (!m.equals("lanczos") && !m.equals("power") && !m.equals("block-lanczos")) {
            throw new InvalidInputException("unknown --method '" + method
                    + "' (expected lanczos, block-lanczos or power)");
        }
        if (block < 1) {
            throw new InvalidInputException("--block must be positive, got " + block);
        }
        if (top < 0 || bottom < 0 || top + bottom == 0) {
            throw new InvalidInputException("--top and --bottom must be non-negative and ask for at least one pair"
                    + " (got --top " + top + " --bottom " + bottom + ")");
        }
        if (m.equals("power") && bottom > 0) {
            throw new InvalidInputException("--bottom needs --method lanczos (power iteration finds the largest"
                    + " magnitudes only)");
        }
        if (maxIter != null && maxIter < 1) {
            throw new InvalidInputException("--max-iter must be positive, got " + maxIter);
        }
        if (tol != null && !(tol > 0 && Double.isFinite(tol))) {
            throw new InvalidInputException("--tol must be a positive number, got " + tol);
        }
        if (out != null) {
            Main.requireWritable(out, "--out");
            VectorFiles.check(out, model, "--out");
        }
        try (Problem p = Problem.load(model, spark)) {
            ParameterGroup group = p.block(layer, model.params);
            SymmetricOperator op = p.curvature(c, group, HvpCommand.MAX_BLOCK);
            int n = op.dimension();
            if (m.equals("power") && top > n) {
                throw new InvalidInputException("--top " + top + " exceeds the dimension " + n);
            }
            if (bottom > 0 && (long) top + bottom > n) {
                // Past n the two ends overlap and the same pairs came back twice; --top alone is capped at n.
                throw new InvalidInputException("--top " + top + " + --bottom " + bottom + " = " + ((long) top + bottom)
                        + " exceeds the dimension " + n + " (--top " + n + " gives every eigenpair)");
            }
            long seed = model.seed ^ START_SEED_MIX;
            long t0 = System.nanoTime();
            io.hvp4j.Progress bar = ProgressBar.forTerminal(spec.commandLine().getErr(), "eigs " + m,
                    m.equals("power") ? "iterations" : "products");
            if (!m.equals("power")) {
                Lanczos.Result r;
                int maxBasis = maxIter != null ? maxIter : m.equals("lanczos")
                        ? Lanczos.Options.of(top, bottom, p.dtype).maxIterations()
                        : Math.max(300, 20 * (top + bottom) + 4 * Math.min(block, HvpCommand.MAX_BLOCK));
                p.requireHeap(8L * n * (Math.min(maxBasis, n) + 1 + top + bottom) + 8L * Math.min(maxBasis, n)
                        * Math.min(maxBasis, n) * (m.equals("lanczos") ? 0 : 3),
                        "the Lanczos basis of " + Math.min(maxBasis, n) + " vectors of length " + n);
                if (m.equals("lanczos")) {
                    Lanczos.Options o = Lanczos.Options.of(top, bottom, p.dtype).withSeed(seed);
                    if (maxIter != null) o = o.withMaxIterations(maxIter);
                    if (tol != null) o = o.withTolerance(tol);
                    r = Lanczos.compute(op, o, bar);
                } else {
                    int b = Math.min(block, HvpCommand.MAX_BLOCK);
                    r = BlockLanczos.compute(op, new BlockLanczos.Options(top, bottom, b, maxBasis,
                            tol != null ? tol : Lanczos.defaultTolerance(p.dtype), seed), bar);
                }
                ProgressBar.clear(bar);
                double seconds = (System.nanoTime() - t0) / 1e9;
                List<double[]> vectors = new ArrayList<>();
                r.top().forEach(q -> vectors.add(q.vector()));
                r.bottom().forEach(q -> vectors.add(q.vector()));
                writeVectors(p, group, n, vectors);
                if (json) {
                    Map<String, Object> j = head(p, n, c, layer, m);
                    j.put("iterations", r.iterations());
                    j.put("products", r.products());
                    j.put("restarts", r.restarts());
                    j.put("tolerance", r.tolerance());
                    j.put("converged", r.converged());
                    j.put("top", pairs(r.top()));
                    j.put("bottom", pairs(r.bottom()));
                    j.put("seconds", Json.fixed(seconds, 3));
                    stdout.println(Json.write(j));
                } else {
                    stdout.printf(Locale.ROOT, "eigs: %s n=%d method=%s dtype=%s iterations=%d products=%d"
                                    + " restarts=%d tol=%.1e converged=%s time=%.3f s%n", op.description(), n, m, p.dtype,
                            r.iterations(), r.products(), r.restarts(), r.tolerance(), r.converged(), seconds);
                    printPairs(stdout, "top", r.top());
                    printPairs(stdout, "bottom", r.bottom());
                }
            } else {
                PowerIteration.Result r = PowerIteration.compute(op, top,
                        maxIter == null ? PowerIteration.DEFAULT_MAX_ITERATIONS : maxIter,
                        tol == null ? PowerIteration.DEFAULT_TOLERANCE : tol, seed, bar);
                ProgressBar.clear(bar);
                double seconds = (System.nanoTime() - t0) / 1e9;
                writeVectors(p, group, n, r.pairs().stream().map(PowerIteration.Pair::vector).toList());
                if (json) {
                    Map<String, Object> j = head(p, n, c, layer, "power");
                    j.put("products", r.products());
                    j.put("dominant_negative", r.dominantNegative());
                    List<Map<String, Object>> pairs = new ArrayList<>();
                    for (PowerIteration.Pair q : r.pairs()) {
                        Map<String, Object> pair = new LinkedHashMap<>();
                        pair.put("value", q.value());
                        pair.put("residual", q.residual());
                        pair.put("iterations", q.iterations());
                        pair.put("converged", q.converged());
                        pairs.add(pair);
                    }
                    j.put("pairs", pairs);
                    j.put("seconds", Json.fixed(seconds, 3));
                    stdout.println(Json.write(j));
                } else {
                    stdout.printf(Locale.ROOT, "eigs: %s n=%d method=power dtype=%s products=%d time=%.3f s%n",
                            op.description(), n, p.dtype, r.products(), seconds);
                    for (int i = 0; i < r.pairs().size(); i++) {
                        PowerIteration.Pair q = r.pairs().get(i);
                        stdout.printf(Locale.ROOT, "  %2d  %22.15e  residual %.2e  iterations %d%s%n", i + 1, q.value(),
                                q.residual(), q.iterations(), q.converged() ? "  converged" : "  NOT converged");
                    }
                    if (r.dominantNegative()) {
                        stdout.println("  warning: the dominant eigenvalue is negative: the first value is the most"
                                + " negative eigenvalue, not the largest (use --method lanczos)");
                    }
                }
            }
            stdout.flush();
            return 0;
        }
    }

    /** Writes {@code vectors} (each of length n) to {@code --out} as the columns of an n × k matrix. */
    private void writeVectors(Problem p, ParameterGroup group, int n, List<double[]> vectors) {
        if (out == null) {
            return;
        }
        int k = vectors.size();
        Tensor u = Tensor.allocate(p.arena, DType.F64, n, k);
        for (int j = 0; j < k; j++) {
            double[] v = vectors.get(j);
            for (int i = 0; i < n; i++) {
                u.set(i, j, v[i]);
            }
        }
        VectorFiles.write(out, p, group, u, false);
    }

    private static void printPairs(PrintWriter out, String what, List<Lanczos.RitzPair> pairs) {
        if (pairs.isEmpty()) {
            return;
        }
        out.println(what + ":");
        for (int i = 0; i < pairs.size(); i++) {
            Lanczos.RitzPair q = pairs.get(i);
            out.printf(Locale.ROOT, "  %2d  %22.15e  residual %.2e  %s%n", i + 1, q.value(), q.residual(),
                    q.converged() ? "converged" : "NOT converged");
        }
    }

    private static Map<String, Object> head(Problem p, int n, Curvature c, Integer layer, String method) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("params", p.parameterCount());
        j.put("dimension", n);
        j.put("operator", c.id());
        j.put("layer", layer);
        j.put("method", method);
        return j;
    }

    private static List<Map<String, Object>> pairs(List<Lanczos.RitzPair> pairs) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Lanczos.RitzPair q : pairs) {
            Map<String, Object> pair = new LinkedHashMap<>();
            pair.put("value", q.value());
            pair.put("residual", q.residual());
            pair.put("converged", q.converged());
            out.add(pair);
        }
        return out;
    }
}

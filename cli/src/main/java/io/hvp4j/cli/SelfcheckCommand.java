package io.hvp4j.cli;

import io.hvp4j.random.Rng;
import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ScalarBackend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Checks the engine on a generated network and prints a table of PASS/FAIL rows with their tolerances, then
 * timings. Exit code 1 if any check fails.
 */
@Command(name = "selfcheck", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        header = "Checks exactness (finite differences, identities, precisions, backends) and times products.",
        sortOptions = false,
        description = {
            "Verifies the engine on a generated network and data set (float64 unless stated) and times it:",
            "  loss finite; gradient vs central differences of the loss along a random unit direction;"
                    + " H·v vs central differences of the gradient (h = 1e-5); H·v = H_O·v + H_F·v;"
                    + " symmetry vᵀHw = wᵀHv; vᵀH_O v >= 0; a block of 8 vectors vs 8 single products;"
                    + " f32 vs f64 products; scalar vs vector backend on a smaller network (widths/4,"
                    + " at most 200 samples);",
            "  timings: medians over --reps runs after a warm-up of at least 3 runs and 0.5 s; 'incl."
                    + " forward/backward' recomputes the primal pass for each product.",
            "Every check row shows its value, its tolerance and PASS or FAIL; the exit code is 1 if any fails."})
final class SelfcheckCommand implements Callable<Integer> {
    static final double H = 1e-5;
    static final int BLOCK = 8;

    @Spec
    CommandSpec spec;

    @Option(names = "--arch", defaultValue = "64,100,100,10", paramLabel = "d,h1,...,K",
            description = "Layer widths. Default: ${DEFAULT-VALUE}.")
    String arch;

    @Option(names = "--act", defaultValue = "tanh", paramLabel = "NAME", description = "Activation. Default: ${DEFAULT-VALUE}.")
    String act;

    @Option(names = "--bias", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Linear layers have biases (default); --no-bias for none.")
    boolean bias;

    @Option(names = "--loss", defaultValue = "ce", paramLabel = "NAME", description = "mse, ce or cosh. Default: ${DEFAULT-VALUE}.")
    String loss;

    @Option(names = "--reduction", defaultValue = "mean", paramLabel = "mean|sum", description = "Default: ${DEFAULT-VALUE}.")
    String reduction;

    @Option(names = "--init", defaultValue = "glorot-normal", paramLabel = "SCHEME",
            description = "Initializer. Default: ${DEFAULT-VALUE}.")
    String init;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
            description = "Seed of weights, data and directions. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--data", defaultValue = "gaussian:1000", paramLabel = "gaussian:N",
            description = "Generated data set. Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--threads", paramLabel = "N", description = "Threads of the vector backend. Default: all processors.")
    Integer threads;

    @Option(names = "--reps", defaultValue = "5", paramLabel = "R", description = "Timed repetitions. Default: ${DEFAULT-VALUE}.")
    int reps;

    @Option(names = "--verbose", description = "Debug log on stderr (SLF4J), and stack traces of internal errors.")
    boolean verbose;

    /** One row of the table; {@code tolerance} null for an informational row. */
    record Row(String name, String value, String tolerance, Boolean pass) {
    }

    private final List<Row> rows = new ArrayList<>();

    void check(String name, double value, double tolerance) {
        boolean pass = Double.isFinite(value) && value <= tolerance;
        rows.add(new Row(name, fmt(value), "<= " + fmt(tolerance), pass));
    }

    private void info(String name, String value, String note) {
        rows.add(new Row(name, value, note, null));
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2e", v);
    }

    @Override
    public Integer call() {
        Main.requireVectorModule();
        PrintWriter out = spec.commandLine().getOut();
        long started = System.nanoTime();
        Mlp mlp = new Mlp(Mlp.parseArchitecture(arch), Activation.parse(act), bias);
        Loss lossFn = Loss.parse(loss);
        Loss.Reduction red = Loss.Reduction.parse(reduction);
        Initializer initializer = Initializer.parse(init);
        int n = ModelOptions.gaussianSize(data);
        int nThreads = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (nThreads < 1) {
            throw new InvalidInputException("--threads must be positive, got " + nThreads);
        }
        if (reps < 1) {
            throw new InvalidInputException("--reps must be positive, got " + reps);
        }
        if (lossFn == Loss.CE && mlp.outputs() < 2) {
            throw new InvalidInputException("--loss ce needs at least 2 outputs, --arch " + arch + " has "
                    + mlp.outputs());
        }
        int P = mlp.parameterCount();
        out.printf(Locale.ROOT, "hvp4j selfcheck: --arch %s (P=%d) --act %s --%sbias --loss %s --reduction %s"
                        + " --init %s, gaussian:%d, seed %d%n", mlp.architecture(), P, mlp.activation().id(),
                bias ? "" : "no-", lossFn.id(), red.name().toLowerCase(Locale.ROOT), initializer.id(), n, seed);
        out.printf(Locale.ROOT, "vector backend %s, %d thread(s); Java %s%n%n", VectorBackend.vectorShape(),
                nThreads, Runtime.version());
        out.flush();

        double[] theta = initializer.initialize(mlp, seed);
        SplittableRandom rng = new SplittableRandom(seed ^ HvpCommand.VECTOR_SEED_MIX);
        double[] u = unitVector(rng, P), v = unitVector(rng, P), w = unitVector(rng, P);
        double[][] block = new double[BLOCK][];
        for (int j = 0; j < BLOCK; j++) block[j] = unitVector(rng, P);

        double gradMs, hvpMs, hvpCachedMs, blockMs;
        try (Arena arena = Arena.ofShared(); Backend vec = new VectorBackend(nThreads)) {
            Dataset d64 = Dataset.gaussian(arena, DType.F64, n, mlp.inputs(), mlp.outputs(), lossFn, seed);
            try (MlpObjective obj = new MlpObjective(mlp, lossFn, red, d64, vec, DType.F64, n, BLOCK)) {
                Tensor th = Tensor.of(arena, DType.F64, P, 1, theta);
                obj.setParameters(th);
                Tensor gT = Tensor.allocate(arena, DType.F64, P, 1);
                double lossValue = obj.gradient(gT);
                double[] g = gT.toDoubleArray();
                rows.add(new Row("loss", String.format(Locale.ROOT, "%.6g", lossValue), "finite",
                        Double.isFinite(lossValue)));

                // Gradient along u vs central differences of the loss.
                double lp = lossAt(obj, arena, theta, u, H), lm = lossAt(obj, arena, theta, u, -H);
                double fd = (lp - lm) / (2 * H), gu = dot(g, u);
                check("gradient·u vs central difference of loss (h=1e-5)",
                        Math.abs(gu - fd) / Math.max(Math.abs(gu), 1e-300), 1e-6);

                // H·v vs central differences of the gradient.
                obj.setParameters(th);
                double[] hv = apply(obj, Curvature.HESSIAN, v, arena);
                double[] gp = gradientAt(obj, arena, theta, v, H), gm = gradientAt(obj, arena, theta, v, -H);
                double[] fdh = new double[P];
                for (int i = 0; i < P; i++) fdh[i] = (gp[i] - gm[i]) / (2 * H);
                check("H·v vs central difference of gradient (h=1e-5)", relErr(hv, fdh), 1e-6);

                // Split H = H_O + H_F, symmetry, GGN positive semi-definite.
                obj.setParameters(th);
                hv = apply(obj, Curvature.HESSIAN, v, arena);
                double[] ho = apply(obj, Curvature.GAUSS_NEWTON, v, arena);
                double[] hf = apply(obj, Curvature.FUNCTIONAL, v, arena);
                double[] sum = new double[P];
                for (int i = 0; i < P; i++) sum[i] = ho[i] + hf[i];
                check("||H·v - (H_O·v + H_F·v)|| / ||H·v||", relErr(sum, hv), 1e-10);
                double[] hw = apply(obj, Curvature.HESSIAN, w, arena);
                double vHw = dot(v, hw), wHv = dot(w, hv);
                check("|vᵀHw - wᵀHv| / (||v|| ||Hw||)", Math.abs(vHw - wHv) / Math.max(norm(hw), 1e-300), 1e-10);
                double vHov = dot(v, ho);
                check("max(0, -vᵀH_O v) / ||H_O v|| (GGN is PSD)", Math.max(0, -vHov) / Math.max(norm(ho), 1e-300),
                        1e-12);

                // Block of 8 vs single products.
                Tensor vb = blockTensor(arena, DType.F64, block);
                Tensor ob = Tensor.allocate(arena, DType.F64, P, BLOCK);
                obj.apply(Curvature.HESSIAN, -1, vb, ob);
                double num = 0, den = 0;
                for (int j = 0; j < BLOCK; j++) {
                    double[] single = apply(obj, Curvature.HESSIAN, block[j], arena);
                    for (int i = 0; i < P; i++) {
                        double diff = ob.get(i, j) - single[i];
                        num += diff * diff;
                        den += single[i] * single[i];
                    }
                }
                check("block H·V (k=8) vs 8 single products, rel. error", Math.sqrt(num / Math.max(den, 1e-300)),
                        1e-10);

                // f32 vs f64.
                Tensor x32 = Tensor.allocate(arena, DType.F32, n, mlp.inputs());
                Tensor y32 = Tensor.allocate(arena, DType.F32, n, mlp.outputs());
                x32.copyFrom(d64.inputs());
                y32.copyFrom(d64.targets());
                Dataset d32 = new Dataset(x32, y32, "gaussian:" + n + " (f32)");
                try (MlpObjective o32 = new MlpObjective(mlp, lossFn, red, d32, vec, DType.F32, n, 1)) {
                    o32.setParameters(Tensor.of(arena, DType.F32, P, 1, theta));
                    double[] hv32 = apply(o32, Curvature.HESSIAN, v, arena);
                    // f32 rounding (6e-8 per operation) summed over a few hundred terms: 1e-4 leaves room for larger --arch.
                    check("f32 vs f64 H·v, rel. error", relErr(hv32, hv), 1e-4);
                }

                // Timings (f64, vector backend).
                Tensor vt = Tensor.of(arena, DType.F64, P, 1, v);
                Tensor ot = Tensor.allocate(arena, DType.F64, P, 1);
                gradMs = median(() -> {
                    obj.invalidate();
                    obj.gradient(gT);
                });
                hvpMs = median(() -> {
                    obj.invalidate();
                    obj.apply(Curvature.HESSIAN, -1, vt, ot);
                });
                obj.gradient(gT);
                hvpCachedMs = median(() -> obj.apply(Curvature.HESSIAN, -1, vt, ot));
                blockMs = median(() -> {
                    obj.invalidate();
                    obj.apply(Curvature.HESSIAN, -1, vb, ob);
                }) / BLOCK;
            }
        }

        // Scalar vs vector backend on a smaller network.
        int[] wide = mlp.widths();
        int[] small = new int[wide.length];
        for (int i = 0; i < wide.length; i++) small[i] = Math.min(wide[i], Math.max(2, (wide[i] + 3) / 4));
        Mlp sm = new Mlp(small, mlp.activation(), bias);
        int ns = Math.min(n, 200);
        try (Arena arena = Arena.ofShared(); Backend sc = new ScalarBackend(); Backend vec = new VectorBackend(nThreads)) {
            Dataset ds = Dataset.gaussian(arena, DType.F64, ns, sm.inputs(), sm.outputs(), lossFn, seed + 1);
            double[] ts = initializer.initialize(sm, seed + 1);
            double[] vs = unitVector(new SplittableRandom(seed + 2), sm.parameterCount());
            double[][] res = new double[2][];
            double[][] grads = new double[2][];
            double[] losses = new double[2];
            Backend[] bes = {sc, vec};
            for (int b = 0; b < 2; b++) {
                try (MlpObjective o = new MlpObjective(sm, lossFn, red, ds, bes[b], DType.F64, ns, 1)) {
                    o.setParameters(Tensor.of(arena, DType.F64, ts.length, 1, ts));
                    Tensor gT = Tensor.allocate(arena, DType.F64, ts.length, 1);
                    losses[b] = o.gradient(gT);
                    grads[b] = gT.toDoubleArray();
                    res[b] = apply(o, Curvature.HESSIAN, vs, arena);
                }
            }
            String net = " (" + sm.architecture() + ", N=" + ns + ")";
            check("scalar vs vector: loss, gradient, H·v rel. error" + net,
                    Math.max(Math.abs(losses[0] - losses[1]) / Math.max(Math.abs(losses[0]), 1e-300),
                            Math.max(relErr(grads[1], grads[0]), relErr(res[1], res[0]))), 1e-11);
        }

        info("time: gradient", ms(gradMs), "median of " + reps);
        info("time: H·v (incl. forward/backward)", ms(hvpMs), String.format(Locale.ROOT, "%.2f× gradient",
                hvpMs / gradMs));
        info("time: H·v (forward/backward reused)", ms(hvpCachedMs), "median of " + reps);
        info("time: block H·V (k=8), per vector", ms(blockMs), String.format(Locale.ROOT, "%.2f× gradient",
                blockMs / gradMs));
        info("threads", Integer.toString(nThreads), "vector backend");

        return summarize(out, started);
    }

    /** Prints the table of checks and the verdict; the exit code: 0, or 1 ({@link Main#CHECK_FAILED}) if any failed. */
    int summarize(PrintWriter out, long started) {
        int width = 0;
        for (Row r : rows) width = Math.max(width, r.name().length());
        String format = "%-" + width + "s  %-10s  %-16s  %s%n";
        out.printf(Locale.ROOT, format, "check", "value", "tolerance", "result");
        boolean ok = true;
        for (Row r : rows) {
            String verdict = r.pass() == null ? "" : r.pass() ? "PASS" : "FAIL";
            out.printf(Locale.ROOT, format, r.name(), r.value(), r.tolerance(), verdict);
            if (r.pass() != null && !r.pass()) {
                ok = false;
            }
        }
        long failed = rows.stream().filter(r -> Boolean.FALSE.equals(r.pass())).count();
        long checks = rows.stream().filter(r -> r.pass() != null).count();
        out.printf(Locale.ROOT, "%n%s: %d of %d checks passed (%.1f s)%n", ok ? "PASS" : "FAIL", checks - failed,
                checks, (System.nanoTime() - started) / 1e9);
        out.flush();
        return ok ? Main.OK : Main.CHECK_FAILED;
    }

    private static String ms(double v) {
        return String.format(Locale.ROOT, "%.3f ms", v);
    }

    private double median(Runnable r) {
        // Warm-up until the JIT has compiled the Vector API kernels: at least 3 runs and 0.5 s (at most 200 runs).
        long start = System.nanoTime();
        for (int i = 0; i < 200 && (i < 3 || System.nanoTime() - start < 500_000_000L); i++) r.run();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(t);
        return reps % 2 == 1 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    }

    private static double[] unitVector(SplittableRandom rng, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = Rng.gaussian(rng);
        double s = norm(v);
        for (int i = 0; i < n; i++) v[i] /= s;
        return v;
    }

    private static Tensor blockTensor(Arena arena, DType dtype, double[][] cols) {
        int n = cols[0].length;
        Tensor t = Tensor.allocate(arena, dtype, n, cols.length);
        for (int j = 0; j < cols.length; j++) {
            for (int i = 0; i < n; i++) t.set(i, j, cols[j][i]);
        }
        return t;
    }

    private static double lossAt(MlpObjective obj, Arena arena, double[] theta, double[] dir, double h) {
        obj.setParameters(shifted(arena, theta, dir, h));
        return obj.loss();
    }

    private static double[] gradientAt(MlpObjective obj, Arena arena, double[] theta, double[] dir, double h) {
        obj.setParameters(shifted(arena, theta, dir, h));
        Tensor g = Tensor.allocate(arena, DType.F64, theta.length, 1);
        obj.gradient(g);
        return g.toDoubleArray();
    }

    private static Tensor shifted(Arena arena, double[] theta, double[] dir, double h) {
        Tensor t = Tensor.allocate(arena, DType.F64, theta.length, 1);
        for (int i = 0; i < theta.length; i++) t.set(i, theta[i] + h * dir[i]);
        return t;
    }

    private static double[] apply(MlpObjective obj, Curvature c, double[] v, Arena arena) {
        Tensor vt = Tensor.of(arena, obj.dtype(), v.length, 1, v);
        Tensor out = Tensor.allocate(arena, obj.dtype(), v.length, 1);
        obj.apply(c, -1, vt, out);
        return out.toDoubleArray();
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static double norm(double[] a) {
        return Math.sqrt(dot(a, a));
    }

    private static double relErr(double[] a, double[] ref) {
        double num = 0;
        for (int i = 0; i < a.length; i++) num += (a[i] - ref[i]) * (a[i] - ref[i]);
        return Math.sqrt(num) / Math.max(norm(ref), 1e-300);
    }
}

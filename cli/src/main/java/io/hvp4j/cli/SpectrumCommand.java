package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.io.AtomicFile;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.objective.ParameterGroup;
import io.hvp4j.plot.Chart;
import io.hvp4j.spectral.CurvatureRank;
import io.hvp4j.spectral.Lanczos;
import io.hvp4j.spectral.NumericalRank;
import io.hvp4j.spectral.SpectralDensity;
import io.hvp4j.spectral.SymmetricOperator;
import io.hvp4j.spectral.RankReport;
import io.hvp4j.spectral.SymmetricEigen;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "spectrum", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        header = "The spectrum of H, H_O or H_F (or a layer block): exact, extreme eigenvalues, or a density; CSV.",
        sortOptions = false,
        description = {
            "Assembles the curvature matrix densely from exact products (float64 storage), symmetrizes it and"
                    + " computes every eigenvalue (LAPACK dsyevd through FFM, or EJML).",
            "Output: CSV with the header 'index,eigenvalue' and one line per eigenvalue in ascending order"
                    + " (index from 0; values printed exactly, shortest round-trip form). Written atomically to"
                    + " --out with a one-line summary on stdout, or to stdout without --out.",
            "--method lanczos: the --k largest and --k smallest eigenvalues by Lanczos with full"
                    + " reorthogonalisation, CSV 'index,eigenvalue,residual,converged' (no dense matrix).",
            "--method slq: stochastic Lanczos quadrature (--steps × --probes products), the Gaussian-smoothed"
                    + " spectral density on a grid, CSV 'lambda,density,cumulative' (cumulative = estimated count of"
                    + " eigenvalues ≤ lambda)."})
final class SpectrumCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Mixin
    SparkOptions spark;

    @Option(names = "--operator", defaultValue = "hessian", paramLabel = "NAME",
            description = "hessian, ggn (H_O) or functional (H_F). Default: ${DEFAULT-VALUE}.")
    String operator;

    @Option(names = "--layer", paramLabel = "I", description = "The diagonal block of Linear layer I (0-based).")
    Integer layer;

    @Option(names = "--method", defaultValue = "exact", paramLabel = "exact|lanczos|slq",
            description = "exact (dense), lanczos (extreme eigenvalues) or slq (density). Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--k", defaultValue = "10", paramLabel = "K",
            description = "lanczos: eigenvalues at each end. Default: ${DEFAULT-VALUE}.")
    int k;

    @Option(names = "--steps", defaultValue = "" + SpectralDensity.DEFAULT_STEPS, paramLabel = "M",
            description = "slq: Lanczos steps per probe. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--probes", defaultValue = "" + SpectralDensity.DEFAULT_PROBES, paramLabel = "N",
            description = "slq: random probe vectors. Default: ${DEFAULT-VALUE}.")
    int probes;

    @Option(names = "--grid", defaultValue = "" + SpectralDensity.DEFAULT_GRID, paramLabel = "G",
            description = "slq: grid points of the density. Default: ${DEFAULT-VALUE}.")
    int grid;

    @Option(names = "--out", paramLabel = "spectrum.csv", description = "Where to write the CSV (atomic).")
    Path out;

    @Option(names = "--plot", paramLabel = "spectrum.png",
            description = "Also draw the spectrum (PNG or SVG by extension): exact, a histogram of the eigenvalues"
                    + " with a log count axis; slq, the density with a log axis; lanczos, the Ritz values.")
    Path plot;

    @Option(names = "--bins", defaultValue = "100", paramLabel = "B",
            description = "Histogram bins of --plot for --method exact. Default: ${DEFAULT-VALUE}.")
    int bins;

    @Option(names = "--checkpoint", paramLabel = "FILE",
            description = "Checkpoint the dense assembly to FILE; removed after success unless --keep-checkpoint.")
    Path checkpoint;

    @Option(names = "--checkpoint-every", defaultValue = "30s", paramLabel = "DURATION",
            description = "Write the checkpoint this often (stretched to at least 4× the time one write takes)."
                    + " Default: ${DEFAULT-VALUE}.")
    String checkpointEvery;

    @Option(names = "--keep-checkpoint", description = "Keep the (complete) checkpoint file after success.")
    boolean keepCheckpoint;

    @Option(names = "--eigen", paramLabel = "auto|lapack|ejml",
            description = "Eigensolver (see 'hvp4j rank --help'). Default: HVP4J_EIGEN, else auto.")
    String eigen;

    @Option(names = "--block", defaultValue = "" + RankCommand.DEFAULT_BLOCK, paramLabel = "K",
            description = "Columns of the identity per product during assembly. Default: ${DEFAULT-VALUE}.")
    int block;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String m = method.trim().toLowerCase(Locale.ROOT);
        if (!List.of("exact", "lanczos", "slq").contains(m)) {
            throw new InvalidInputException("unknown --method '" + method + "' (expected exact, lanczos or slq)");
        }
        Curvature c = RankCommand.operators(operator, false).get(0);
        if (plot != null) {
            Plots.requirePlotPath(plot, "--plot");
            if (bins < 1) {
                throw new InvalidInputException("--bins must be positive, got " + bins);
            }
        }
        if (!m.equals("exact")) {
            return iterative(m, c, stdout);
        }
        SymmetricEigen solver = RankCommand.solver(eigen);
        RankCommand.requireBlock(block);
        if (out != null) {
            requireCsvName(out);
        }
        if (checkpoint != null) {
            Main.requireWritable(checkpoint, "--checkpoint");
        }
        long t0 = System.nanoTime();
        try (Problem p = Problem.load(model, spark)) {
            int layerIndex = RankCommand.layerIndex(p, layer);
            ParameterGroup group = p.block(layer, model.params);
            int n = p.dimension(group);
            RankCommand.requireDense(p, n, group, c, solver);
            int k = Math.max(1, Math.min(block, n));
            CurvatureRank.Monitor monitor = RankCommand.monitor(p, group, checkpoint, 1, err);
            CurvatureRank.Eigenvalues d = CurvatureRank.eigenvalues(p.anyObjective(k), c, group, checkpoint,
                    new CurvatureRank.Options().solver(solver).denseBlock(k)
                            .checkpoint(checkpoint, ModelOptions.parseDuration(checkpointEvery, "--checkpoint-every"))
                            .monitor(monitor));
            monitor.done(c);
            double[] eig = d.values();
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (out == null) {
                writeCsv(stdout, eig);
                stdout.flush();
            } else {
                writeAtomically(out, eig);
                RankReport r = NumericalRank.ofEigenvalues(eig, p.dtype, NumericalRank.Tolerance.DEFAULT);
                stdout.printf(Locale.ROOT, "spectrum: P=%d%s operator=%s n=%d min=%.10g max=%.10g rank=%d"
                                + " asymmetry=%.2e eigensolver=%s seconds=%.3f -> %s%n",
                        p.parameterCount(), layerIndex < 0 ? "" : " layer=" + layerIndex, RankCommand.label(c),
                        eig.length, eig.length == 0 ? Double.NaN : eig[0],
                        eig.length == 0 ? Double.NaN : eig[eig.length - 1], r.rank(), d.asymmetry(), solver.name(),
                        seconds, out);
                stdout.flush();
            }
            // After the values: a failed --out write (exit 2) then leaves no plot behind.
            if (plot != null) {
                Plots.save(Chart.of("Eigenvalues of " + Plots.operator(p, c, layerIndex) + " (exact, dense)",
                                "eigenvalue λ", "count (eigenvalues per bin)")
                        .subtitle(Plots.model(p, model) + "; eigensolver " + solver.name()).logY().markOutliers()
                        .histogram(eig.length + " eigenvalues", eig, bins), plot);
            }
            if (checkpoint != null && !keepCheckpoint) {
                RankCommand.deleteAll(List.of(checkpoint));
            }
            return 0;
        }
    }

    /** lanczos or slq: products only, no dense matrix. */
    private int iterative(String m, Curvature c, PrintWriter stdout) {
        if (m.equals("lanczos") && k < 1) {
            throw new InvalidInputException("--k must be positive, got " + k);
        }
        if (m.equals("slq") && steps < 2) {
            throw new InvalidInputException("--steps must be >= 2, got " + steps);
        }
        if (m.equals("slq") && probes < 1) {
            throw new InvalidInputException("--probes must be >= 1, got " + probes);
        }
        if (m.equals("slq") && grid < 2) {
            throw new InvalidInputException("--grid must be >= 2, got " + grid);
        }
        if (out != null) {
            requireCsvName(out);
        }
        long t0 = System.nanoTime();
        try (Problem p = Problem.load(model, spark)) {
            int layerIndex = RankCommand.layerIndex(p, layer);
            SymmetricOperator op = p.curvature(c, layerIndex, HvpCommand.MAX_BLOCK);
            long seed = model.seed ^ 0x6A09E667F3BCC909L;
            StringBuilder csv = new StringBuilder();
            String summary;
            Chart chart = null;
            int n = op.dimension();
            int basis = m.equals("lanczos") ? Math.min(Lanczos.Options.of(k, k, p.dtype).maxIterations(), n) : steps;
            p.requireHeap(8L * n * (Math.min(basis, n) + 1 + 2L * k), "the Lanczos basis of " + Math.min(basis, n)
                    + " vectors of length " + n);
            if (m.equals("lanczos")) {
                io.hvp4j.Progress bar = ProgressBar.forTerminal(spec.commandLine().getErr(), "spectrum lanczos",
                        "products");
                Lanczos.Result r = Lanczos.compute(op, Math.min(k, op.dimension()), Math.min(k, op.dimension()), seed,
                        bar);
                ProgressBar.clear(bar);
                csv.append("index,eigenvalue,residual,converged\n");
                List<Lanczos.RitzPair> pairs = new java.util.ArrayList<>(r.bottom());
                List<Lanczos.RitzPair> top = new java.util.ArrayList<>(r.top());
                java.util.Collections.reverse(top);
                for (Lanczos.RitzPair q : top) {
                    if (pairs.stream().noneMatch(x -> x.value() == q.value())) pairs.add(q);
                }
                for (int i = 0; i < pairs.size(); i++) {
                    Lanczos.RitzPair q = pairs.get(i);
                    csv.append(i).append(',').append(q.value()).append(',').append(q.residual()).append(',')
                            .append(q.converged()).append('\n');
                }
                summary = String.format(Locale.ROOT, "iterations=%d products=%d converged=%b", r.iterations(),
                        r.products(), r.converged());
                if (plot != null) {
                    double[] x = new double[pairs.size()];
                    double[] y = new double[pairs.size()];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = i;
                        y[i] = pairs.get(i).value();
                    }
                    chart = Chart.of("Extreme eigenvalues of " + Plots.operator(p, c, layerIndex) + " (Lanczos, k = "
                                    + k + ")", "Ritz pair (ascending; bottom k, then top k)", "eigenvalue λ")
                            .subtitle(Plots.model(p, model)).add("Ritz values", x, y, Chart.Style.POINTS);
                }
            } else {
                io.hvp4j.Progress bar = ProgressBar.forTerminal(spec.commandLine().getErr(),
                        "SLQ " + RankCommand.label(c), "probes");
                SpectralDensity.Result r = SpectralDensity.compute(op, steps, probes, seed, grid, Double.NaN, bar);
                ProgressBar.clear(bar);
                csv.append("lambda,density,cumulative\n");
                for (int i = 0; i < r.grid().length; i++) {
                    csv.append(r.grid()[i]).append(',').append(r.density()[i]).append(',').append(r.cumulative()[i])
                            .append('\n');
                }
                summary = String.format(Locale.ROOT, "steps=%d probes=%d products=%d nodes=[%.6g, %.6g]", steps,
                        probes, r.products(), r.minNode(), r.maxNode());
                if (plot != null) {
                    chart = Chart.of("Spectral density of " + Plots.operator(p, c, layerIndex) + " (SLQ, " + probes
                                    + " probes × " + steps + " steps)", "eigenvalue λ",
                                    "density (per unit λ, integral 1)")
                            .subtitle(Plots.model(p, model)).logY()
                            .add(String.format(Locale.ROOT, "density, Gaussian σ = %.3g", Math.sqrt(r.sigma2())),
                                    r.grid(), r.density(), Chart.Style.LINE);
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (out == null) {
                stdout.print(csv);
            } else {
                writeTextAtomically(out, csv.toString());
                stdout.printf(Locale.ROOT, "spectrum: P=%d%s operator=%s n=%d method=%s %s seconds=%.3f -> %s%n",
                        p.parameterCount(), layerIndex < 0 ? "" : " layer=" + layerIndex, RankCommand.label(c),
                        op.dimension(), m, summary, seconds, out);
            }
            stdout.flush();
            if (chart != null) {
                Plots.save(chart, plot); // after the values, as for --method exact
            }
            return 0;
        }
    }

    /** --out is CSV text: a binary array name (.npy, .npz, .safetensors) is refused rather than filled with text. */
    private static void requireCsvName(Path out) {
        String name = out.getFileName() == null ? "" : out.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".npy") || name.endsWith(".npz") || name.endsWith(".safetensors")) {
            throw new InvalidInputException("--out " + out + ": spectrum writes CSV text; name the file .csv");
        }
        Main.requireWritable(out, "--out");
    }

    static void writeCsv(Writer w, double[] eig) {
        PrintWriter pw = w instanceof PrintWriter x ? x : new PrintWriter(w);
        pw.print("index,eigenvalue\n");
        for (int i = 0; i < eig.length; i++) {
            pw.print(i);
            pw.print(',');
            pw.print(Double.toString(eig[i]));
            pw.print('\n');
        }
        pw.flush();
    }

    static void writeTextAtomically(Path file, String text) {
        writeAtomically(file, w -> {
            w.write(text);
        });
    }

    static void writeAtomically(Path file, double[] eig) {
        writeAtomically(file, w -> writeCsv(w, eig));
    }

    private interface Content {
        void write(Writer w) throws IOException;
    }

    /** Through {@link AtomicFile}: temporary file in the same directory, fsync, rename (devices and links kept). */
    private static void writeAtomically(Path file, Content content) {
        java.io.StringWriter text = new java.io.StringWriter();
        try {
            content.write(text);
        } catch (IOException e) {
            throw new InvalidInputException("cannot write --out " + file + ": " + e.getMessage(), e);
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFile.write(file, bytes);
    }
}

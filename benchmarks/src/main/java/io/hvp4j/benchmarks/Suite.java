package io.hvp4j.benchmarks;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.backend.OpenBlas;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.perf.FlopModel;
import io.hvp4j.perf.FmaPeak;
import io.hvp4j.perf.GemmProblem;
import io.hvp4j.perf.PeakMemory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * Runs JMH with the usual command-line options and prints the results as Markdown tables with the derived
 * figures: GFLOP/s by {@link FlopModel}, the fraction of the FMA peak ({@link FmaPeak}), HVP / gradient time,
 * block time per vector, GEMM against OpenBLAS, and the peak memory (heap + off-heap, {@link PeakMemory}) of the
 * gradient, the HVP and the blocks of every MLP configuration that ran, measured afterwards in this process.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp benchmarks/target/benchmarks.jar io.hvp4j.benchmarks.Suite 'MlpBenchmark|MlpBlockBenchmark' -p threads=2
 * </pre>
 * Scores are JMH's mean ± the 99.9% confidence half-width.
 */
public final class Suite {
    private Suite() {
    }

    public static void main(String[] args) throws Exception {
        CommandLineOptions options = new CommandLineOptions(args);
        Collection<RunResult> results = new Runner(options).run();
        FmaPeak peak = FmaPeak.measure();
        System.out.println();
        System.out.println("<!-- io.hvp4j.benchmarks.Suite " + String.join(" ", args) + " -->");
        System.out.printf(Locale.ROOT, "Java %s, %d CPUs, vector %s; FMA peak %s: %.1f (f32) / %.1f (f64)"
                        + " GFLOP/s per thread%n%n", Runtime.version(), Runtime.getRuntime().availableProcessors(),
                VectorBackend.vectorShape(), peak, peak.gflops(DType.F32, 1), peak.gflops(DType.F64, 1));
        mlpTables(results, peak);
        gemmTable(results, peak);
        spectralTable(results);
    }

    private static String simpleName(RunResult r) {
        String b = r.getParams().getBenchmark();
        int dot = b.lastIndexOf('.', b.lastIndexOf('.') - 1);
        return b.substring(dot + 1);
    }

    private static String pm(Result x) {
        return Double.isNaN(x.getScoreError()) ? String.format(Locale.ROOT, "%.2f", x.getScore())
                : String.format(Locale.ROOT, "%.2f ± %.2f", x.getScore(), x.getScoreError());
    }

    /** GFLOP/s with one decimal, or three significant digits below 1 (tiny CI problems). */
    private static String gflops(double x) {
        return x >= 1 || Double.isNaN(x) ? String.format(Locale.ROOT, "%.1f", x) : String.format(Locale.ROOT, "%.3g", x);
    }

    /** The MLP configuration of a result: net, act, loss, dtype, threads. */
    private static List<String> config(BenchmarkParams p) {
        return List.of(p.getParam("net"), p.getParam("act"), p.getParam("loss"), p.getParam("dtype"),
                p.getParam("threads"));
    }

    private static void mlpTables(Collection<RunResult> results, FmaPeak peak) throws Exception {
        Map<List<String>, Map<String, Result>> single = new LinkedHashMap<>();
        Map<List<String>, Map<Integer, Result>> blocks = new LinkedHashMap<>();
        for (RunResult r : results) {
            String name = simpleName(r);
            if (name.startsWith("MlpBenchmark.")) {
                single.computeIfAbsent(config(r.getParams()), c -> new LinkedHashMap<>())
                        .put(name.substring(name.indexOf('.') + 1), r.getPrimaryResult());
            } else if (name.startsWith("MlpBlockBenchmark.")) {
                blocks.computeIfAbsent(config(r.getParams()), c -> new LinkedHashMap<>())
                        .put(Integer.parseInt(r.getParams().getParam("k")), r.getPrimaryResult());
            }
        }
        if (!single.isEmpty()) {
            System.out.println("### MLP products (ms per call, primal pass recomputed by every call)");
            System.out.println();
            System.out.println("| net@B | act | loss | dtype | thr | forward | gradient | HVP | GGN | functional"
                    + " | HVP/grad | GFLOP/s fwd / grad / HVP / GGN / func | HVP % of peak |");
            System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            for (Map.Entry<List<String>, Map<String, Result>> e : single.entrySet()) {
                List<String> c = e.getKey();
                Map<String, Result> m = e.getValue();
                FlopModel f = flops(c);
                String[] ops = {"forward", "gradient", "hvp", "ggn", "functional"};
                double[] model = {f.forward(), f.gradient(), f.hvp(), f.ggn(), f.functional()};
                StringBuilder row = new StringBuilder("| " + String.join(" | ", c));
                List<String> gf = new ArrayList<>();
                for (int i = 0; i < ops.length; i++) {
                    Result x = m.get(ops[i]);
                    row.append(" | ").append(x == null ? "–" : pm(x));
                    gf.add(x == null ? "–" : gflops(model[i] / x.getScore() / 1e6));
                }
                Result g = m.get("gradient"), h = m.get("hvp");
                row.append(" | ").append(g == null || h == null ? "–"
                        : String.format(Locale.ROOT, "%.2f", h.getScore() / g.getScore()));
                row.append(" | ").append(String.join(" / ", gf));
                double pk = peak.gflops(DType.parse(c.get(3)), Integer.parseInt(c.get(4)));
                row.append(" | ").append(h == null ? "–"
                        : String.format(Locale.ROOT, "%.0f%%", 100 * f.hvp() / h.getScore() / 1e6 / pk));
                System.out.println(row.append(" |"));
            }
            System.out.println();
        }
        if (!blocks.isEmpty()) {
            System.out.println("### Block HVP (k vectors, one primal pass per call)");
            System.out.println();
            System.out.println("| net@B | act | loss | dtype | thr | k | block ms | per vector ms | GFLOP/s"
                    + " | % of peak | per vector / HVP |");
            System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
            for (Map.Entry<List<String>, Map<Integer, Result>> e : blocks.entrySet()) {
                List<String> c = e.getKey();
                FlopModel f = flops(c);
                double pk = peak.gflops(DType.parse(c.get(3)), Integer.parseInt(c.get(4)));
                Result h = single.getOrDefault(c, Map.of()).get("hvp");
                for (Map.Entry<Integer, Result> b : new java.util.TreeMap<>(e.getValue()).entrySet()) {
                    int k = b.getKey();
                    double ms = b.getValue().getScore();
                    double gflops = f.blockHvp(k) / ms / 1e6;
                    System.out.printf(Locale.ROOT, "| %s | %d | %s | %.2f | %s | %.0f%% | %s |%n",
                            String.join(" | ", c), k, pm(b.getValue()), ms / k, gflops(gflops), 100 * gflops / pk,
                            h == null ? "–" : String.format(Locale.ROOT, "%.2f", ms / k / h.getScore()));
                }
            }
            System.out.println();
        }
        if (!single.isEmpty() || !blocks.isEmpty()) {
            memoryTable(single, blocks);
        }
    }

    private static FlopModel flops(List<String> c) {
        MlpProblem p = problem(c);
        try {
            return p.flops();
        } finally {
            p.tearDownProblem();
        }
    }

    private static MlpProblem problem(List<String> c) {
        MlpProblem p = new MlpProblem();
        p.net = c.get(0);
        p.act = c.get(1);
        p.loss = c.get(2);
        p.dtype = c.get(3);
        p.threads = Integer.parseInt(c.get(4));
        p.setUpProblem();
        return p;
    }

    /** Peak memory of the gradient, the HVP and each block size, per configuration (see {@link PeakMemory}). */
    private static void memoryTable(Map<List<String>, Map<String, Result>> single,
                                    Map<List<String>, Map<Integer, Result>> blocks) {
        TreeSet<Integer> ks = new TreeSet<>();
        blocks.values().forEach(m -> ks.addAll(m.keySet()));
        ks.remove(1);
        List<List<String>> configs = new ArrayList<>(single.keySet());
        for (List<String> c : blocks.keySet()) {
            if (!configs.contains(c)) configs.add(c);
        }
        System.out.println("### Peak memory (MiB, heap + off-heap; measured once per operation on a fresh objective"
                + " and backend after a warm-up; off-heap by the engine's accounting of its buffers plus data and"
                + " vectors, heap by the bytes allocated by all threads)");
        System.out.println();
        StringBuilder head = new StringBuilder("| net@B | act | loss | dtype | thr | gradient | HVP | HVP/grad");
        StringBuilder rule = new StringBuilder("|---|---|---|---|---|---|---|---");
        for (int k : ks) {
            head.append(" | block k=").append(k).append(" | /grad");
            rule.append("|---|---");
        }
        System.out.println(head.append(" |"));
        System.out.println(rule.append("|"));
        for (List<String> c : configs) {
            MlpProblem p = problem(c);
            try {
                int n = p.mlp.parameterCount();
                long data = (p.data.inputs().size() + p.data.targets().size()) * p.dt.bytes();
                long vec = (long) n * p.dt.bytes();
                Tensor g = p.random(n, 1, 1), v = p.random(n, 1, 2), out = p.random(n, 1, 3);
                warmUp(p, ks, g, v, out);
                long grad = memory(p, 1, data + vec, o -> o.gradient(g));
                long hvp = memory(p, 1, data + 2 * vec, o -> o.apply(Curvature.HESSIAN, -1, v, out));
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.2f",
                        String.join(" | ", c), grad / 1048576.0, hvp / 1048576.0, (double) hvp / grad));
                for (int k : ks) {
                    Tensor vb = p.random(n, k, 4), ob = p.random(n, k, 5);
                    long b = memory(p, k, data + 2L * k * vec, o -> o.apply(Curvature.HESSIAN, -1, vb, ob));
                    row.append(String.format(Locale.ROOT, " | %.1f | %.2f", b / 1048576.0, (double) b / grad));
                }
                System.out.println(row.append(" |"));
            } finally {
                p.tearDownProblem();
            }
        }
        System.out.println();
    }

    /**
     * About 3 s of the measured operations first: before C2 has compiled the Vector API kernels, the interpreter
     * and C1 allocate every vector on the heap, which would count as the operations' heap memory.
     */
    private static void warmUp(MlpProblem p, TreeSet<Integer> ks, Tensor g, Tensor v, Tensor out) {
        int k = ks.isEmpty() ? 1 : ks.first();
        int n = p.mlp.parameterCount();
        Tensor vb = p.random(n, k, 6), ob = p.random(n, k, 7);
        try (MlpObjective one = p.objective(1); MlpObjective many = p.objective(k)) {
            long end = System.nanoTime() + 3_000_000_000L;
            for (int round = 0; round < 2 || System.nanoTime() < end; round++) {
                one.invalidate();
                one.gradient(g);
                one.invalidate();
                one.apply(Curvature.HESSIAN, -1, v, out);
                many.invalidate();
                many.apply(Curvature.HESSIAN, -1, vb, ob);
            }
        }
    }

    private static long memory(MlpProblem p, int maxBlock, long callerBytes, Consumer<MlpObjective> op) {
        p.backend.close();
        p.backend = new VectorBackend(p.threads); // fresh packing buffers
        return PeakMemory.measure(() -> p.objective(maxBlock), op, callerBytes).total();
    }

    private static void gemmTable(Collection<RunResult> results, FmaPeak peak) {
        Map<List<String>, Map<String, Result>> rows = new LinkedHashMap<>();
        for (RunResult r : results) {
            String name = simpleName(r);
            if (name.startsWith("GemmBenchmark.")) {
                BenchmarkParams p = r.getParams();
                rows.computeIfAbsent(List.of(p.getParam("precision"), p.getParam("trans"), p.getParam("shape"),
                        p.getParam("threads")), c -> new LinkedHashMap<>())
                        .put(name.substring(name.indexOf('.') + 1), r.getPrimaryResult());
            }
        }
        if (rows.isEmpty()) {
            return;
        }
        boolean blas = OpenBlas.get().isPresent();
        System.out.println("### GEMM (C = op(A)·op(B), GFLOP/s = 2mnk / time)" + (blas ? ""
                : " — OpenBLAS absent: " + OpenBlas.unavailableReason()));
        System.out.println();
        System.out.println("| prec | op | M×N×K | thr | hvp4j ms | hvp4j GFLOP/s | OpenBLAS GFLOP/s | hvp4j % of peak"
                + " | hvp4j % of OpenBLAS |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        for (Map.Entry<List<String>, Map<String, Result>> e : rows.entrySet()) {
            List<String> c = e.getKey();
            int[] mnk = GemmProblem.parseShape(c.get(2));
            double flops = FlopModel.gemm(mnk[0], mnk[1], mnk[2]);
            Result mine = e.getValue().get("hvp4j"), theirs = blas ? e.getValue().get("openblas") : null;
            double g = mine == null ? Double.NaN : flops / mine.getScore() / 1e6;
            double t = theirs == null ? Double.NaN : flops / theirs.getScore() / 1e6;
            double pk = peak.gflops(DType.parse(c.get(0)), Integer.parseInt(c.get(3)));
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %.0f%% | %s |%n", c.get(0), c.get(1),
                    mnk[0] + "x" + mnk[1] + "x" + mnk[2], c.get(3), mine == null ? "–" : pm(mine), gflops(g),
                    Double.isNaN(t) ? "–" : gflops(t), 100 * g / pk,
                    Double.isNaN(t) ? "–" : String.format(Locale.ROOT, "%.0f%%", 100 * g / t));
        }
        System.out.println();
    }

    private static void spectralTable(Collection<RunResult> results) {
        List<RunResult> rows = results.stream().filter(r -> simpleName(r).startsWith("SpectralBenchmark.")).toList();
        if (rows.isEmpty()) {
            return;
        }
        System.out.println("### End to end (single-shot ms)");
        System.out.println();
        System.out.println("| job | net@B | act | loss | dtype | thr | ms |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (RunResult r : rows) {
            BenchmarkParams p = r.getParams();
            String job = simpleName(r).substring("SpectralBenchmark.".length());
            String net = job.equals("denseAssembly") ? p.getParam("denseNet") : p.getParam("spectralNet");
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s |%n", job, net, p.getParam("act"),
                    p.getParam("loss"), p.getParam("dtype"), p.getParam("threads"), pm(r.getPrimaryResult()));
        }
        System.out.println();
    }
}

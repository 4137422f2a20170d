package io.hvp4j.cli;

import io.hvp4j.random.Rng;
import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.OpenBlas;
import io.hvp4j.backend.ScalarBackend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.objective.Objective;
import io.hvp4j.perf.CountingBackend;
import io.hvp4j.perf.FlopModel;
import io.hvp4j.perf.FmaPeak;
import io.hvp4j.perf.GemmProblem;
import io.hvp4j.perf.PeakMemory;
import io.hvp4j.perf.Timing;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Quick (non-JMH) timings of the MLP products or of one GEMM, as medians after a warm-up; for people comparing
 * tools (the peer script {@code benchmarks/peers/pytorch_peer.py} calls it with {@code --json}). The JMH suite
 * in {@code benchmarks/} is the reference.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        header = "Times forward, gradient, H·v, H_O·v, H_F·v and a block H·V (or one GEMM); medians, GFLOP/s, memory.",
        sortOptions = false,
        description = {
            "MLP mode (--arch ... --batch B): a generated network (--init, --seed) on B standard-normal samples,"
                    + " one batch. Each timed call recomputes the primal pass (as PyTorch's double-backward HVP"
                    + " does): forward (loss only), gradient, HVP, GGN product, functional product (each one"
                    + " vector), and a block of --block K Hessian-vector products (reported per vector).",
            "Timing: all operations in turn for --warmup-ms (at least two rounds) and then until the JIT has"
                    + " compiled nothing for 1 s (at most 30 s in all; JSON: warmup_ms, jit_settled), then per"
                    + " operation one more warm-up call and the median of --reps calls.",
            "GFLOP/s by the flop model of io.hvp4j.perf.FlopModel (F = 2B·Σ in·out, F1 its first-layer term):"
                    + " forward F, gradient 3F-F1, HVP and functional 9F-5F1, GGN 5F-2F1, block"
                    + " (3F-F1)+K(6F-4F1). Peak: 2 FMA pipes x vector lanes x clock (HVP4J_CLOCK_GHZ, else"
                    + " /proc/cpuinfo), per thread.",
            "Peak memory of an operation, measured once on a fresh objective and backend after the timed runs"
                    + " (interpreted Vector API code allocates on the heap): off-heap = the"
                    + " engine's working memory (its own accounting of the buffers it allocated) + the data set"
                    + " + the operation's vectors; heap = bytes allocated on the Java heap by all threads while"
                    + " the objective is built and the operation runs (an upper bound of the heap growth)."
                    + " peak_memory_ratio = HVP / gradient.",
            "GEMM mode (--gemm --n N or --shape MxNxK): C = op(A)·op(B), alpha 1, beta 0, hvp4j and (when"
                    + " installed) OpenBLAS through FFM with the same thread count, alternating; GFLOP/s = 2mnk/time.",
            "JSON (--json), MLP: {\"forward_ms\", \"grad_ms\", \"hvp_ms\", \"ggn_ms\", \"functional_ms\","
                    + " \"hvp_block_ms\", \"hvp_block_ms_per_vector\", \"*_gflops\", \"hvp_grad_ratio\","
                    + " \"peak_memory_ratio\", \"memory_bytes\": {...}, ...}; GEMM: {\"gflops\", \"ms\","
                    + " \"openblas_gflops\" (null when absent), ...}."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--batch", paramLabel = "B", description = "Samples (one batch) in MLP mode.")
    Integer batch;

    @Option(names = "--block", defaultValue = "16", paramLabel = "K",
            description = "Vectors in the block HVP (1..256). Default: ${DEFAULT-VALUE}.")
    int block;

    @Option(names = "--gemm", description = "Time one GEMM instead of the MLP products.")
    boolean gemm;

    @Option(names = "--n", paramLabel = "N", description = "GEMM mode: N×N×N.")
    Integer n;

    @Option(names = "--shape", paramLabel = "MxNxK", description = "GEMM mode: C is M×N, inner dimension K.")
    String shape;

    @Option(names = "--trans", defaultValue = "NN", paramLabel = "NN|NT|TN|TT",
            description = "GEMM mode: op(A), op(B). Default: ${DEFAULT-VALUE}.")
    String trans;

    @Option(names = "--reps", defaultValue = "10", paramLabel = "R", description = "Timed calls per operation. Default: ${DEFAULT-VALUE}.")
    int reps;

    @Option(names = "--warmup-ms", defaultValue = "3000", paramLabel = "MS",
            description = "Least warm-up time (MLP: all operations in turn, at least twice each; GEMM: per"
                    + " library). Default: ${DEFAULT-VALUE}.")
    long warmupMs;

    /** The MLP warm-up ends once the JIT has compiled nothing for this long... */
    private static final long JIT_QUIET_MS = 1000;
    /** ...or after this long (unless --warmup-ms asks for more). */
    private static final long WARMUP_CAP_MS = 30_000;

    @Option(names = "--no-memory", description = "MLP mode: skip the peak-memory measurement.")
    boolean noMemory;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Override
    public Integer call() {
        Main.requireVectorModule();
        DType dt = model.dataType();
        int t = model.threadCount();
        if (reps < 1) {
            throw new InvalidInputException("--reps must be positive, got " + reps);
        }
        if (warmupMs < 0) {
            throw new InvalidInputException("--warmup-ms must not be negative, got " + warmupMs);
        }
        Map<String, Object> result;
        if (gemm) {
            if (model.arch != null || batch != null) {
                throw new InvalidInputException("--gemm times one GEMM: --arch and --batch do not apply");
            }
            if ((n == null) == (shape == null)) {
                throw new InvalidInputException("--gemm needs exactly one of --n N and --shape MxNxK");
            }
            if (n != null && n < 1) {
                throw new InvalidInputException("--n must be positive, got " + n);
            }
            result = gemm(n != null ? Integer.toString(n) : shape, dt, t);
        } else {
            if (n != null || shape != null) {
                throw new InvalidInputException("--n and --shape need --gemm");
            }
            if (model.arch == null && model.modelName == null) {
                throw new InvalidInputException("bench needs --arch d,h1,...,K or --model NAME, and --batch B (or"
                        + " --gemm --n N)");
            }
            if (model.arch != null && model.modelName != null) {
                throw new InvalidInputException("--arch and --model exclude each other");
            }
            if (model.data != null || model.inputs != null || model.targets != null || model.batchSize != null) {
                throw new InvalidInputException("bench generates its data (--batch B standard-normal samples, one"
                        + " batch): --data, --inputs, --targets and --batch-size do not apply");
            }
            if (batch == null) {
                throw new InvalidInputException("bench needs --batch B with --arch");
            }
            if (batch < 1) {
                throw new InvalidInputException("--batch must be positive, got " + batch);
            }
            if (block < 1 || block > 256) {
                throw new InvalidInputException("--block must be between 1 and 256, got " + block);
            }
            if (model.modelName != null) {
                result = graph(model.graphModel(), dt, t);
            } else {
                model.data = "gaussian:" + batch;
                try (Problem p = Problem.load(model)) {
                    result = mlp(p);
                }
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(json ? io.hvp4j.io.Json.write(result) : table(result));
        out.flush();
        return Main.OK;
    }

    // ------------------------------------------------------------------------------------------------ MLP

    private Map<String, Object> mlp(Problem pr) {
        Mlp mlp = pr.mlp;
        Loss lossFn = pr.loss;
        DType dt = pr.dtype;
        int t = pr.threads;
        int b = batch, k = block, P = mlp.parameterCount();
        Problem.requireMemory(MlpObjective.estimateWorkingBytes(mlp, dt, b, k)
                        + MlpObjective.estimateWorkingBytes(mlp, dt, b, 1) + 4L * P * (k + 2) * dt.bytes(),
                "the working memory for a batch of " + b + " and a block of " + k, model.force);
        FlopModel flops = new FlopModel(mlp, b);
        FmaPeak peak = FmaPeak.measure();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("arch", mlp.architecture());
        r.put("act", mlp.activation().id());
        r.put("loss", lossFn.id());
        r.put("bias", mlp.hasBias());
        r.put("reduction", pr.reduction.name().toLowerCase(Locale.ROOT));
        r.put("backend", pr.backendName);
        r.put("dtype", dt.toString());
        r.put("threads", t);
        r.put("batch", b);
        r.put("block", k);
        r.put("reps", reps);
        r.put("params", P);
        Flops fl = new Flops(flops.forward(), flops.gradient(), flops.hvp(), flops.ggn(), flops.functional(),
                flops.blockHvp(k));
        r.put("flop_model", Map.of("F", flops.f(), "F1", flops.f1()));
        Backend be = pr.backend();
        timeProducts(r, maxBlock -> objective(pr, be, maxBlock), pr.data, P, dt, t, fl, peak,
                (maxBlock, callerBytes, op) -> memory(pr, maxBlock, callerBytes, op));
        r.put("java", Runtime.version().toString());
        r.put("vector_shape", VectorBackend.vectorShape());
        return r;
    }


    /** GEMM flops of each timed operation (a closed-form model for the MLP, counted for graphs). */
    private record Flops(double forward, double gradient, double hvp, double ggn, double functional, double block) {
    }

    /** Peak memory of one operation on a fresh objective with the given block size. */
    private interface MemoryProbe {
        Map<String, Long> measure(int maxBlock, long callerBytes, Consumer<Objective> op);
    }

    /** Times forward, gradient, the three products and the block HVP, and adds the figures to {@code r}. */
    private void timeProducts(Map<String, Object> r, java.util.function.IntFunction<Objective> objective, Dataset data,
                              int P, DType dt, int t, Flops flops, FmaPeak peak, MemoryProbe memory) {
        int k = block;
        long seed = model.seed;
        try (Arena arena = Arena.ofShared()) {
            Tensor g = Tensor.allocate(arena, dt, P, 1);
            Tensor v = random(arena, dt, P, 1, seed ^ HvpCommand.VECTOR_SEED_MIX);
            Tensor hv = Tensor.allocate(arena, dt, P, 1);
            Tensor vb = random(arena, dt, P, k, seed + 1);
            Tensor hvb = Tensor.allocate(arena, dt, P, k);
            double fwd, grad, hvp, ggn, fun, blk;
            try (Objective one = objective.apply(1);
                 Objective many = objective.apply(k)) {
                Runnable[] ops = operations(one, many, g, v, hv, vb, hvb);
                // All operations share the kernels: warm them up together, so that C2 has compiled (and
                // settled) every kernel before the first timed call of any operation.
                Timing.WarmUp w = Timing.warmUp(() -> {
                    for (Runnable op : ops) op.run();
                }, warmupMs, JIT_QUIET_MS, Math.max(warmupMs, WARMUP_CAP_MS));
                r.put("warmup_ms", w.millis());
                r.put("jit_settled", w.jitSettled());
                fwd = time(ops[0]);
                grad = time(ops[1]);
                hvp = time(ops[2]);
                ggn = time(ops[3]);
                fun = time(ops[4]);
                blk = time(ops[5]);
            }
            r.put("forward_ms", fwd);
            r.put("grad_ms", grad);
            r.put("hvp_ms", hvp);
            r.put("ggn_ms", ggn);
            r.put("functional_ms", fun);
            r.put("hvp_block_ms", blk);
            r.put("hvp_block_ms_per_vector", blk / k);
            r.put("hvp_grad_ratio", hvp / grad);
            r.put("hvp_block_per_vector_vs_hvp", blk / k / hvp);
            r.put("forward_gflops", gflops(flops.forward(), fwd));
            r.put("grad_gflops", gflops(flops.gradient(), grad));
            r.put("hvp_gflops", gflops(flops.hvp(), hvp));
            r.put("ggn_gflops", gflops(flops.ggn(), ggn));
            r.put("functional_gflops", gflops(flops.functional(), fun));
            r.put("hvp_block_gflops", gflops(flops.block(), blk));
            double pk = peak.gflops(dt, t);
            r.put("peak_gflops", pk);
            r.put("hvp_fraction_of_peak", gflops(flops.hvp(), hvp) / pk);
            r.put("hvp_block_fraction_of_peak", gflops(flops.block(), blk) / pk);
            r.put("clock_ghz", peak.ghz());
            r.put("clock_source", peak.clockSource());
            if (!noMemory) {
                long dataBytes = (data.inputs().size() + data.targets().size()) * dt.bytes();
                long vec = (long) P * dt.bytes();
                Map<String, Object> mem = new LinkedHashMap<>();
                mem.put("gradient", memory.measure(1, dataBytes + vec, o -> o.gradient(g)));
                mem.put("hvp", memory.measure(1, dataBytes + 2 * vec, o -> product(o, Curvature.HESSIAN, v, hv)));
                mem.put("hvp_block", memory.measure(k, dataBytes + 2L * k * vec,
                        o -> product(o, Curvature.HESSIAN, vb, hvb)));
                long gradBytes = total(mem.get("gradient"));
                r.put("peak_memory_ratio", (double) total(mem.get("hvp")) / gradBytes);
                r.put("block_peak_memory_ratio", (double) total(mem.get("hvp_block")) / gradBytes);
                r.put("memory_bytes", mem);
                r.put("memory_method", "off-heap: engine accounting of its buffers + data + vectors; heap: bytes"
                        + " allocated by all threads while building the objective and running the operation once");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- graphs

    private Map<String, Object> graph(ModelOptions.GraphModel gm, DType dt, int t) {
        Graph graph = gm.graph();
        Loss lossFn = model.lossFunction();
        Loss.Reduction red = model.reductionMode();
        int b = batch, k = block, P = graph.parameterCount();
        FmaPeak peak = FmaPeak.measure();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("model", model.modelName);
        r.put("input_shape", graph.input().shape().toString());
        r.put("loss", lossFn.id());
        r.put("reduction", red.name().toLowerCase(Locale.ROOT));
        String backendName = model.backendName();
        r.put("backend", backendName);
        r.put("dtype", dt.toString());
        r.put("threads", t);
        r.put("batch", b);
        r.put("block", k);
        r.put("reps", reps);
        r.put("params", P);
        try (Arena arena = Arena.ofShared();
             Backend be = backendName.equals("scalar") ? new ScalarBackend() : new VectorBackend(t)) {
            Dataset data = Dataset.gaussian(arena, dt, b, graph.inputSize(), graph.outputSize(), lossFn, model.seed);
            Tensor theta = Tensor.of(arena, dt, P, 1,
                    gm.parameters() != null ? gm.parameters() : graph.initialParameters(model.seed));
            java.util.function.BiFunction<Backend, Integer, Objective> make = (bk, maxBlock) -> {
                GraphObjective o = new GraphObjective(graph, lossFn, red, data, bk, dt, b, maxBlock);
                o.setParameters(theta);
                return o;
            };
            Flops fl = countFlops(make, be, P, dt, k);
            timeProducts(r, maxBlock -> make.apply(be, maxBlock), data, P, dt, t, fl, peak,
                    (maxBlock, callerBytes, op) -> {
                        try (Backend fresh = backendName.equals("scalar") ? new ScalarBackend() : new VectorBackend(t)) {
                            return memoryMap(PeakMemory.measure(() -> make.apply(fresh, maxBlock), op, callerBytes));
                        }
                    });
            r.put("flop_count", "GEMM flops counted by running each operation once");
        }
        r.put("java", Runtime.version().toString());
        r.put("vector_shape", VectorBackend.vectorShape());
        return r;
    }

    /** The six timed operations: forward, gradient, H·v, H_O·v, H_F·v (on {@code one}) and a block H·V (on {@code many}). */
    private static Runnable[] operations(Objective one, Objective many, Tensor g, Tensor v, Tensor hv, Tensor vb,
                                         Tensor hvb) {
        return new Runnable[] {
            one::forwardLoss,
            () -> {
                one.invalidate();
                one.gradient(g);
            },
            () -> product(one, Curvature.HESSIAN, v, hv),
            () -> product(one, Curvature.GAUSS_NEWTON, v, hv),
            () -> product(one, Curvature.FUNCTIONAL, v, hv),
            () -> product(many, Curvature.HESSIAN, vb, hvb)};
    }

    /** GEMM flops of each operation, counted by running it once on a counting backend. */
    private static Flops countFlops(java.util.function.BiFunction<Backend, Integer, Objective> make, Backend be, int P,
                                    DType dt, int k) {
        CountingBackend c1 = new CountingBackend(be), ck = new CountingBackend(be);
        try (Arena arena = Arena.ofShared(); Objective one = make.apply(c1, 1); Objective many = make.apply(ck, k)) {
            Tensor g = Tensor.allocate(arena, dt, P, 1), v = random(arena, dt, P, 1, 1), hv = Tensor.allocate(arena, dt, P, 1);
            Tensor vb = random(arena, dt, P, k, 2), hvb = Tensor.allocate(arena, dt, P, k);
            double[] f = new double[6];
            Runnable[] ops = operations(one, many, g, v, hv, vb, hvb);
            for (int i = 0; i < ops.length; i++) {
                CountingBackend c = i == 5 ? ck : c1;
                c.reset();
                ops[i].run();
                f[i] = c.flops();
            }
            return new Flops(f[0], f[1], f[2], f[3], f[4], f[5]);
        }
    }


    private static MlpObjective objective(Problem p, Backend be, int maxBlock) {
        MlpObjective o = new MlpObjective(p.mlp, p.loss, p.reduction, p.data, be, p.dtype, p.data.size(), maxBlock);
        o.setParameters(p.theta);
        return o;
    }

    private static void product(Objective o, Curvature c, Tensor v, Tensor out) {
        o.invalidate();
        o.apply(c, null, v, out);
    }

    private double time(Runnable op) {
        return Timing.medianMillis(op, reps, 1, 0);
    }

    private static double gflops(double flops, double ms) {
        return flops / ms / 1e6;
    }

    private static Tensor random(Arena arena, DType dt, int rows, int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor x = Tensor.allocate(arena, dt, rows, cols);
        for (long i = 0, m = x.size(); i < m; i++) x.set(i, Rng.gaussian(rng));
        return x;
    }

    /** Peak memory of one call of {@code op} on a fresh backend and objective ({@link PeakMemory}). */
    private static Map<String, Long> memory(Problem p, int maxBlock, long callerBytes, Consumer<Objective> op) {
        try (Backend be = p.backendName.equals("scalar") ? new ScalarBackend() : new VectorBackend(p.threads)) {
            return memoryMap(PeakMemory.measure(() -> objective(p, be, maxBlock), op::accept, callerBytes));
        }
    }

    private static Map<String, Long> memoryMap(PeakMemory.Bytes b) {
        {
            Map<String, Long> m = new LinkedHashMap<>();
            m.put("off_heap", b.offHeap());
            m.put("heap", b.heap());
            m.put("total", b.total());
            return m;
        }
    }

    @SuppressWarnings("unchecked")
    private static long total(Object memoryEntry) {
        return ((Map<String, Long>) memoryEntry).get("total");
    }

    // ------------------------------------------------------------------------------------------------ GEMM

    private Map<String, Object> gemm(String shapeSpec, DType dt, int t) {
        boolean f64 = dt == DType.F64;
        int[] mnk = GemmProblem.parseShape(shapeSpec);
        Problem.requireMemory(((long) mnk[0] * mnk[2] + (long) mnk[2] * mnk[1] + (long) mnk[0] * mnk[1]) * dt.bytes(),
                "the GEMM operands", model.force);
        FmaPeak peak = FmaPeak.measure();
        OpenBlas blas = OpenBlas.get().orElse(null);
        Map<String, Object> r = new LinkedHashMap<>();
        try (Arena arena = Arena.ofShared(); GemmProblem.VectorKernel g = new GemmProblem.VectorKernel(t)) {
            GemmProblem p = new GemmProblem(shapeSpec, trans, f64, arena);
            if (blas != null) {
                blas.setThreads(t);
            }
            int callsMine = calls(() -> g.run(p));
            int callsBlas = blas == null ? 0 : calls(() -> p.run(blas));
            double[] mine = new double[reps];
            double[] theirs = new double[reps];
            for (int i = 0; i < reps; i++) { // alternating, so that both see the same background load
                mine[i] = Timing.batchMillis(() -> g.run(p), callsMine);
                theirs[i] = blas == null ? Double.NaN : Timing.batchMillis(() -> p.run(blas), callsBlas);
            }
            double ms = Timing.median(mine), blasMs = blas == null ? Double.NaN : Timing.median(theirs);
            double pk = peak.gflops(dt, t);
            r.put("shape", p.shape());
            r.put("trans", (p.transA ? "T" : "N") + (p.transB ? "T" : "N"));
            r.put("dtype", dt.toString());
            r.put("threads", t);
            r.put("reps", reps);
            r.put("ms", ms);
            r.put("gflops", gflops(p.flops(), ms));
            r.put("fraction_of_peak", gflops(p.flops(), ms) / pk);
            r.put("openblas_ms", blasMs);
            r.put("openblas_gflops", gflops(p.flops(), blasMs));
            r.put("fraction_of_openblas", blasMs / ms);
            r.put("openblas", blas != null ? blas.describe() : "absent: " + OpenBlas.unavailableReason());
            r.put("peak_gflops", pk);
            r.put("clock_ghz", peak.ghz());
            r.put("clock_source", peak.clockSource());
        }
        r.put("java", Runtime.version().toString());
        r.put("vector_shape", VectorBackend.vectorShape());
        return r;
    }

    /** Warms {@code op} up for --warmup-ms (at least 3 calls); returns how many calls take about 50 ms. */
    private int calls(Runnable op) {
        long start = System.nanoTime();
        int c = 0;
        while (c < 3 || System.nanoTime() - start < warmupMs * 1_000_000L) {
            op.run();
            c++;
        }
        double perCallMs = Math.max(1e-6, (System.nanoTime() - start) / 1e6 / c);
        return (int) Math.max(1, Math.min(100_000, Math.round(50 / perCallMs)));
    }

    // ------------------------------------------------------------------------------------------------ output

    private static String table(Map<String, Object> r) {
        StringBuilder sb = new StringBuilder();
        if (r.containsKey("hvp_ms")) {
            String what = r.containsKey("model") ? "--model " + r.get("model")
                    : "--arch " + r.get("arch") + " --act " + r.get("act");
            sb.append(String.format(Locale.ROOT, "hvp4j bench: %s --loss %s --dtype %s --threads %d"
                            + " --batch %d --block %d (P=%d), medians of %d%n", what,
                    r.get("loss"), r.get("dtype"), r.get("threads"), r.get("batch"), r.get("block"), r.get("params"),
                    r.get("reps")));
            sb.append(String.format(Locale.ROOT, "%-30s %12s %10s%n", "operation", "ms", "GFLOP/s"));
            String[][] rows = {{"forward", "forward"}, {"gradient", "grad"}, {"H·v", "hvp"}, {"H_O·v (GGN)", "ggn"},
                {"H_F·v (functional)", "functional"}, {"block H·V, k=" + r.get("block"), "hvp_block"}};
            for (String[] row : rows) {
                sb.append(String.format(Locale.ROOT, "%-30s %12.3f %10.1f%n", row[0], r.get(row[1] + "_ms"),
                        r.get(row[1] + "_gflops")));
            }
            sb.append(String.format(Locale.ROOT, "%-30s %12.3f%n", "block H·V per vector", r.get("hvp_block_ms_per_vector")));
            sb.append(String.format(Locale.ROOT, "H·v / gradient time %.2f; block per vector / H·v %.2f;"
                            + " H·v at %.0f%% of the FMA peak (%.1f GFLOP/s at %.2f GHz, %s)%n", r.get("hvp_grad_ratio"),
                    r.get("hvp_block_per_vector_vs_hvp"), 100 * (double) r.get("hvp_fraction_of_peak"),
                    r.get("peak_gflops"), r.get("clock_ghz"), r.get("clock_source")));
            sb.append(String.format(Locale.ROOT, "warm-up %.1f s, %s%n", ((Number) r.get("warmup_ms")).longValue() / 1e3,
                    (boolean) r.get("jit_settled")
                            ? "JIT settled (nothing compiled in the last " + JIT_QUIET_MS + " ms)"
                            : "JIT NOT known to be settled (still compiling at the cap, or no JIT monitoring):"
                                    + " timings may be high"));
            if (r.containsKey("memory_bytes")) {
                @SuppressWarnings("unchecked")
                Map<String, Map<String, Long>> mem = (Map<String, Map<String, Long>>) r.get("memory_bytes");
                for (Map.Entry<String, Map<String, Long>> e : mem.entrySet()) {
                    sb.append(String.format(Locale.ROOT, "peak memory %-10s %8.1f MiB (off-heap %.1f, heap %.1f)%n",
                            e.getKey(), e.getValue().get("total") / 1048576.0, e.getValue().get("off_heap") / 1048576.0,
                            e.getValue().get("heap") / 1048576.0));
                }
                sb.append(String.format(Locale.ROOT, "peak memory H·v / gradient %.2f; block / gradient %.2f",
                        r.get("peak_memory_ratio"), r.get("block_peak_memory_ratio")));
            }
        } else {
            sb.append(String.format(Locale.ROOT, "GEMM %s %s %s, %d thread(s): hvp4j %.1f GFLOP/s (%.3f ms, %.0f%% of"
                            + " the FMA peak %.1f)", r.get("trans"), r.get("shape"), r.get("dtype"), r.get("threads"),
                    r.get("gflops"), r.get("ms"), 100 * (double) r.get("fraction_of_peak"), r.get("peak_gflops")));
            double blas = (double) r.get("openblas_gflops");
            sb.append(Double.isNaN(blas) ? "; OpenBLAS " + r.get("openblas")
                    : String.format(Locale.ROOT, "; OpenBLAS %.1f GFLOP/s (hvp4j at %.0f%% of it)", blas,
                    100 * (double) r.get("fraction_of_openblas")));
        }
        return sb.toString();
    }
}

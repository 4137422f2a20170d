package io.hvp4j.benchmarks;

import io.hvp4j.backend.OpenBlas;
import io.hvp4j.backend.vector.VectorGemm;
import io.hvp4j.backend.vector.WorkerPool;
import io.hvp4j.memory.DType;
import io.hvp4j.perf.FmaPeak;
import io.hvp4j.perf.GemmProblem;
import io.hvp4j.perf.Timing;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Quick non-JMH comparison table: GFLOP/s (2*M*N*K / time) of VectorGemm and OpenBLAS, median of several timed
 * rounds after warm-up, with % of the FMA peak and % of OpenBLAS.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
 *     io.hvp4j.benchmarks.GemmReport [--shapes 256,512,...] [--precisions f32,f64] [--trans NN] [--threads 1,2]
 *     [--rounds 7] [--peak-f32 78.4] [--peak-f64 39.2]
 * </pre>
 * Peaks are per thread in GFLOP/s; the defaults come from {@link FmaPeak#detect()} (two FMA pipes × vector
 * lanes × the clock of {@code /proc/cpuinfo} or {@code $HVP4J_CLOCK_GHZ}; 78.4 / 39.2 on the reference Zen 3 at
 * its nominal 2.45 GHz). The cores boost above nominal, so OpenBLAS can exceed 100%.
 */
public final class GemmReport {
    private GemmReport() {
    }

    public static void main(String[] args) {
        List<String> shapes = List.of("256", "512", "1024", "2048", "256x10x512", "10x512x256", "512x784x256");
        List<String> precisions = List.of("f32", "f64");
        List<String> trans = List.of("NN");
        List<Integer> threads = List.of(1, 2);
        int rounds = 7;
        FmaPeak machine = FmaPeak.measure();
        double peakF32 = machine.gflops(DType.F32, 1);
        double peakF64 = machine.gflops(DType.F64, 1);
        for (int i = 0; i + 1 < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--shapes" -> shapes = List.of(v.split(","));
                case "--precisions" -> precisions = List.of(v.split(","));
                case "--trans" -> trans = List.of(v.split(","));
                case "--threads" -> threads = Arrays.stream(v.split(",")).map(Integer::valueOf).toList();
                case "--rounds" -> rounds = Integer.parseInt(v);
                case "--peak-f32" -> peakF32 = Double.parseDouble(v);
                case "--peak-f64" -> peakF64 = Double.parseDouble(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        OpenBlas blas = OpenBlas.get().orElse(null);
        System.out.println("java " + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors() + " CPUs; "
                + "hvp4j kernel " + VectorGemm.kernel() + "; "
                + (blas != null ? "OpenBLAS: " + blas.describe() : "OpenBLAS SKIPPED: " + OpenBlas.unavailableReason())
                + String.format(Locale.ROOT, "; peak per thread %.1f (f32) / %.1f (f64) GFLOP/s, clock %s", peakF32,
                peakF64, machine));
        System.out.printf(Locale.ROOT, "%-5s %-4s %-12s %3s %10s %10s %8s %8s %8s%n", "prec", "op", "MxNxK", "thr",
                "hvp4j", "openblas", "%peak", "%blas", "blas%pk");
        for (String prec : precisions) {
            boolean f64 = prec.equals("f64");
            warmUp(f64);
            for (String tr : trans) {
                for (String shape : shapes) {
                    for (int t : threads) {
                        try (Arena arena = Arena.ofShared(); WorkerPool pool = new WorkerPool(t)) {
                            GemmProblem p = new GemmProblem(shape, tr, f64, arena);
                            VectorGemm g = new VectorGemm(pool);
                            if (blas != null) {
                                blas.setThreads(t);
                            }
                            double[] med = interleavedMedians(() -> p.run(g), blas == null ? null : () -> p.run(blas),
                                    rounds);
                            double mine = p.flops() / med[0] / 1e9;
                            double theirs = blas == null ? Double.NaN : p.flops() / med[1] / 1e9;
                            double peak = (f64 ? peakF64 : peakF32) * t;
                            System.out.printf(Locale.ROOT, "%-5s %-4s %-12s %3d %10.1f %10.1f %7.0f%% %7.0f%% %7.0f%%%n",
                                    prec, tr, p.m + "x" + p.n + "x" + p.k, t, mine, theirs, 100 * mine / peak,
                                    100 * mine / theirs, 100 * theirs / peak);
                        }
                    }
                }
            }
        }
    }

    /**
     * Median seconds per call of {@code a} and {@code b} (b may be null) over {@code rounds} rounds, alternating
     * a and b within each round (so both see the same background load), each timed for at least 0.2 s after a pause
     * of {@link Timing#QUIESCE_MILLIS} (so neither runs beside the other's spinning threads), after
     * about 1 s of warm-up each.
     */
    private static double[] interleavedMedians(Runnable a, Runnable b, int rounds) {
        int perA = calibrate(a);
        int perB = b == null ? 0 : calibrate(b);
        double[] ta = new double[rounds];
        double[] tb = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            ta[r] = time(a, perA);
            tb[r] = b == null ? Double.NaN : time(b, perB);
        }
        Arrays.sort(ta);
        Arrays.sort(tb);
        return new double[] {ta[rounds / 2], tb[rounds / 2]};
    }

    /**
     * About 4 s of calls on mixed shapes and transposes first (one with several k-blocks), so that C2 has compiled
     * (and settled) the kernels before the first timed shape; otherwise the first row measures the JIT.
     */
    private static void warmUp(boolean f64) {
        try (Arena arena = Arena.ofShared(); WorkerPool pool = new WorkerPool(2)) {
            VectorGemm g = new VectorGemm(pool);
            List<GemmProblem> ps = new java.util.ArrayList<>();
            for (String tr : List.of("NN", "NT", "TN")) {
                ps.add(new GemmProblem("256", tr, f64, arena));
                ps.add(new GemmProblem("250x10x130", tr, f64, arena));
                ps.add(new GemmProblem("10x250x130", tr, f64, arena));
                // k above every kc: later k-blocks add to C, a path the shapes above never take (without it C2
                // compiled that path as a trap and recompiled the GEMM in the middle of the first large shape).
                ps.add(new GemmProblem("100x70x2100", tr, f64, arena));
            }
            long end = System.nanoTime() + 4_000_000_000L;
            while (System.nanoTime() < end) {
                for (GemmProblem p : ps) {
                    p.run(g);
                }
            }
        }
    }

    /** Warms {@code op} up for about 1 s; returns how many calls take about 0.2 s. */
    private static int calibrate(Runnable op) {
        long warmEnd = System.nanoTime() + 1_000_000_000L;
        int calls = 0;
        while (System.nanoTime() < warmEnd) {
            op.run();
            calls++;
        }
        return Math.max(1, calls / 5);
    }

    private static double time(Runnable op, int calls) {
        return Timing.batchMillis(op, calls) / 1e3;
    }
}

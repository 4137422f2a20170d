package io.hvp4j.benchmarks;

import io.hvp4j.backend.OpenBlas;
import io.hvp4j.backend.vector.VectorGemm;
import io.hvp4j.backend.vector.WorkerPool;
import io.hvp4j.perf.GemmProblem;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * C = op(A)*op(B) (alpha 1, beta 0) for hvp4j's VectorGemm and OpenBLAS (through FFM, same thread count).
 * Average time per call in ms; GFLOP/s = 2*M*N*K / (ms * 1e6): {@link Suite} prints them with the fraction of the
 * FMA peak and of OpenBLAS; {@link GemmReport} is a quicker interleaved (non-JMH) comparison.
 *
 * <pre>
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar benchmarks/target/benchmarks.jar GemmBenchmark \
 *     -p shape=1024 -p precision=f32 -p trans=NN -p threads=2
 * </pre>
 * When no CBLAS library is found the openblas benchmark prints SKIPPED and times an empty call (no failure).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class GemmBenchmark {
    /**
     * "N" for N x N x N, else "MxNxK" (C is M x N). The skinny ones are the GEMMs of {@code 784,512,512,10} at
     * batch 256: forward of layer 0 (256x512x784, NT in the engine), its weight gradient (512x784x256, TN), a
     * hidden input gradient (256x784x512 stands for the NN shape), and the 10-wide last layer (256x10x512,
     * 10x512x256). Other networks' shapes: e.g. {@code -p shape=128x1024x3072,1024x3072x128}.
     */
    @Param({"128", "256", "512", "1024", "2048", "256x512x784", "512x784x256", "256x784x512", "256x10x512",
        "10x512x256"})
    public String shape;

    @Param({"f32", "f64"})
    public String precision;

    /** NN by default; {@code -p trans=NN,NT,TN} for all three. */
    @Param({"NN"})
    public String trans;

    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private WorkerPool pool;
    private VectorGemm gemm;
    private OpenBlas blas;
    private GemmProblem p;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        arena = Arena.ofShared();
        pool = new WorkerPool(threads);
        gemm = new VectorGemm(pool);
        p = new GemmProblem(shape, trans, precision.equals("f64"), arena);
        blas = OpenBlas.get().orElse(null);
        if (blas != null) {
            blas.setThreads(threads);
        } else if (params.getBenchmark().endsWith(".openblas")) {
            System.out.println("SKIPPED (OpenBLAS absent, the time below is an empty call): "
                    + OpenBlas.unavailableReason());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public void hvp4j() {
        p.run(gemm);
    }

    @Benchmark
    public void openblas() {
        if (blas != null) {
            p.run(blas);
        }
    }
}

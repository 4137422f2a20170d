package io.hvp4j.benchmarks;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.spectral.DenseAssembly;
import io.hvp4j.spectral.Lanczos;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.SpectralDensity;
import io.hvp4j.spectral.SymmetricOperator;
import io.hvp4j.spectral.TraceEstimators;
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

/**
 * End-to-end spectral jobs on the Hessian of an MLP loss (primal pass computed once, shared by every product,
 * as the tools do): dense assembly (block products of 16 unit vectors, then symmetrisation), Lanczos for the 20
 * largest eigenpairs (full reorthogonalisation, explicit residuals, f64 tolerance 1e-9), SLQ spectral density
 * (90 steps × 10 probes) and Hutchinson's trace (100 Rademacher probes in blocks of 16). Single-shot times.
 * Randomized rank is not benchmarked (not in the engine yet).
 *
 * <p>Two problems: {@code spectralNet} for the matrix-free jobs, the smaller {@code denseNet} for dense assembly
 * (an n × n f64 matrix: n = 1,930 for the default, 30 MB).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar SpectralBenchmark -p threads=2
 * </pre>
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class SpectralBenchmark {
    @Param({"64-100-100-10@1000"})
    public String spectralNet;

    @Param({"16-32-32-10@512"})
    public String denseNet;

    @Param({"tanh"})
    public String act;

    @Param({"ce"})
    public String loss;

    @Param({"f64"})
    public String dtype;

    @Param({"2"})
    public int threads;

    static final int BLOCK = 16;

    private MlpProblem matrixFree;
    private MlpProblem dense;
    private MlpObjective matrixFreeObjective;
    private MlpObjective denseObjective;
    private SymmetricOperator hessian;
    private SymmetricOperator denseHessian;

    @Setup(Level.Trial)
    public void setUp() {
        matrixFree = problem(spectralNet);
        dense = problem(denseNet);
        matrixFreeObjective = matrixFree.objective(BLOCK);
        denseObjective = dense.objective(BLOCK);
        hessian = Operators.curvature(matrixFreeObjective, Curvature.HESSIAN, -1);
        denseHessian = Operators.curvature(denseObjective, Curvature.HESSIAN, -1);
    }

    private MlpProblem problem(String net) {
        MlpProblem p = new MlpProblem();
        p.net = net;
        p.act = act;
        p.loss = loss;
        p.dtype = dtype;
        p.threads = threads;
        p.setUpProblem();
        return p;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        matrixFreeObjective.close();
        denseObjective.close();
        matrixFree.tearDownProblem();
        dense.tearDownProblem();
    }

    @Benchmark
    public double denseAssembly() {
        try (Arena arena = Arena.ofConfined()) {
            DenseAssembly.Result r = DenseAssembly.assemble(denseHessian, arena,
                    new DenseAssembly.Options().maxBlock(BLOCK));
            return r.asymmetry();
        }
    }

    @Benchmark
    public Lanczos.Result lanczosTop20() {
        return Lanczos.compute(hessian, 20, 0, 0);
    }

    @Benchmark
    public SpectralDensity.Result slq() {
        return SpectralDensity.compute(hessian, 0);
    }

    @Benchmark
    public TraceEstimators.Estimate hutchinson() {
        return TraceEstimators.hutchinson(hessian, 100, TraceEstimators.Probe.RADEMACHER, 0, BLOCK);
    }
}

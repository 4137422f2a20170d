package io.hvp4j.benchmarks;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.MlpObjective;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Forward pass, gradient, HVP, Gauss–Newton product and functional product of an MLP loss ({@link MlpProblem}
 * holds the parameters), each timed from scratch: every call recomputes the primal pass (as PyTorch's
 * double-backward HVP does), so the figures compare with other tools' single products. GFLOP/s by
 * {@link io.hvp4j.perf.FlopModel} ({@link Suite} prints them): forward F, gradient 3F − F1, HVP and functional
 * 9F − 5F1, GGN 5F − 2F1.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar 'MlpBenchmark' -p dtype=f32 -p threads=2
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class MlpBenchmark {
    private MlpObjective objective;
    private Tensor grad, v, out;

    @Setup(Level.Trial)
    public void setUp(MlpProblem p) {
        objective = p.objective(1);
        int n = p.mlp.parameterCount();
        grad = p.random(n, 1, 1);
        v = p.random(n, 1, 2);
        out = p.random(n, 1, 3);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        objective.close();
    }

    @Benchmark
    public double forward() {
        return objective.forwardLoss();
    }

    @Benchmark
    public double gradient() {
        objective.invalidate();
        return objective.gradient(grad);
    }

    @Benchmark
    public Tensor hvp() {
        objective.invalidate();
        objective.apply(Curvature.HESSIAN, -1, v, out);
        return out;
    }

    @Benchmark
    public Tensor ggn() {
        objective.invalidate();
        objective.apply(Curvature.GAUSS_NEWTON, -1, v, out);
        return out;
    }

    @Benchmark
    public Tensor functional() {
        objective.invalidate();
        objective.apply(Curvature.FUNCTIONAL, -1, v, out);
        return out;
    }
}

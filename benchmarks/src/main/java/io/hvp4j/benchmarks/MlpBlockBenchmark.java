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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A block of {@code k} Hessian-vector products sharing one primal pass (recomputed by every call), for the MLP
 * of {@link MlpProblem}. The score is the time of the whole block; {@link Suite} divides by k for the
 * per-vector figure. Flops: {@code (3F − F1) + k·(6F − 4F1)}.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar 'MlpBlockBenchmark' -p k=16 -p threads=2
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class MlpBlockBenchmark {
    @Param({"1", "4", "16", "64"})
    public int k;

    private MlpObjective objective;
    private Tensor v, out;

    @Setup(Level.Trial)
    public void setUp(MlpProblem p) {
        objective = p.objective(k);
        int n = p.mlp.parameterCount();
        v = p.random(n, k, 3);
        out = p.random(n, k, 4);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        objective.close();
    }

    @Benchmark
    public Tensor blockHvp() {
        objective.invalidate();
        objective.apply(Curvature.HESSIAN, -1, v, out);
        return out;
    }
}

package io.hvp4j.benchmarks;

import io.hvp4j.MlpObjective;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
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
 * Gradient, HVP, Gauss–Newton product and block HVP of an MLP loss, each timed from scratch: every call
 * recomputes the primal forward/backward pass (as PyTorch's double-backward HVP does), so the figures compare
 * with other tools' single products. {@code blockHvp16} is the time of one block of 16 vectors; divide by 16
 * for the per-vector figure. Flop model (GEMM only, F = 2B·Σ in·out, F1 its first-layer term): gradient
 * 3F − F1, HVP 9F − 5F1, GGN 5F − 2F1, block HVP (3F − F1) + 16·(6F − 4F1).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar MlpBenchmark -p dtype=f32 -p threads=2
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
    @Param({"784,512,512,10"})
    public String arch;

    @Param({"256"})
    public int batch;

    @Param({"relu"})
    public String act;

    @Param({"ce"})
    public String loss;

    @Param({"f32", "f64"})
    public String dtype;

    @Param({"1", "2"})
    public int threads;

    static final int BLOCK = 16;

    private Arena arena;
    private VectorBackend backend;
    private MlpObjective objective;
    private Tensor grad, v, out, vBlock, outBlock;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        backend = new VectorBackend(threads);
        DType dt = DType.parse(dtype);
        Mlp mlp = new Mlp(Mlp.parseArchitecture(arch), Activation.parse(act), true);
        Loss l = Loss.parse(loss);
        Dataset data = Dataset.gaussian(arena, dt, batch, mlp.inputs(), mlp.outputs(), l, 1);
        objective = new MlpObjective(mlp, l, Loss.Reduction.MEAN, data, backend, dt, batch, BLOCK);
        double[] theta = Initializer.GLOROT_NORMAL.initialize(mlp, 0);
        objective.setParameters(Tensor.of(arena, dt, theta.length, 1, theta));
        int p = mlp.parameterCount();
        grad = Tensor.allocate(arena, dt, p, 1);
        v = random(dt, p, 1, 2);
        out = Tensor.allocate(arena, dt, p, 1);
        vBlock = random(dt, p, BLOCK, 3);
        outBlock = Tensor.allocate(arena, dt, p, BLOCK);
    }

    private Tensor random(DType dt, int rows, int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(arena, dt, rows, cols);
        for (long i = 0; i < t.size(); i++) t.set(i, Initializer.gaussian(rng));
        return t;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        objective.close();
        backend.close();
        arena.close();
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
    public Tensor blockHvp16() {
        objective.invalidate();
        objective.apply(Curvature.HESSIAN, -1, vBlock, outBlock);
        return outBlock;
    }
}

package io.hvp4j.benchmarks;

import io.hvp4j.random.Rng;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.perf.FlopModel;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The MLP problem the product benchmarks share (a JMH state, so that {@code -p net=...} and the other
 * parameters apply to {@link MlpBenchmark} and {@link MlpBlockBenchmark} alike): a glorot-normal network with
 * biases on {@code batch} standard-normal samples (one batch), mean reduction.
 *
 * <p>{@code net} is {@code "widths@batch"} with the widths joined by '-' (JMH splits {@code -p} values at commas);
 * the configurations are {@value #ALL_NETS}. The defaults are
 * the reference configuration only, so that a plain run stays short; pick others with {@code -p}, e.g.
 * {@code -p net=64-100-100-10@1000 -p act=relu,tanh -p loss=ce,mse}.
 */
@State(Scope.Benchmark)
public class MlpProblem {
    /** Every network of the benchmark issue, for {@code -p net=...}. */
    public static final String ALL_NETS =
            "784-512-512-10@256,784-512-512-10@1024,64-100-100-10@1000,3072-1024-1024-1024-10@128";

    @Param({"784-512-512-10@256"})
    public String net;

    @Param({"relu"})
    public String act;

    @Param({"ce"})
    public String loss;

    @Param({"f32", "f64"})
    public String dtype;

    @Param({"1", "2"})
    public int threads;

    Arena arena;
    VectorBackend backend;
    Mlp mlp;
    Loss lossFn;
    DType dt;
    Dataset data;
    Tensor theta;
    int batch;

    @Setup(Level.Trial)
    public void setUpProblem() {
        int at = net.lastIndexOf('@');
        if (at < 0) {
            throw new IllegalArgumentException("net must be widths@batch, e.g. 784-512-512-10@256; got " + net);
        }
        batch = Integer.parseInt(net.substring(at + 1));
        arena = Arena.ofShared();
        backend = new VectorBackend(threads);
        dt = DType.parse(dtype);
        mlp = new Mlp(Mlp.parseArchitecture(net.substring(0, at).replace('-', ',')), Activation.parse(act), true);
        lossFn = Loss.parse(loss);
        data = Dataset.gaussian(arena, dt, batch, mlp.inputs(), mlp.outputs(), lossFn, 1);
        theta = Tensor.of(arena, dt, mlp.parameterCount(), 1, Initializer.GLOROT_NORMAL.initialize(mlp, 0));
    }

    /** A fresh objective for blocks of up to {@code maxBlock} vectors (closed by the caller). */
    MlpObjective objective(int maxBlock) {
        MlpObjective o = new MlpObjective(mlp, lossFn, Loss.Reduction.MEAN, data, backend, dt, batch, maxBlock);
        o.setParameters(theta);
        return o;
    }

    /** {@code rows × cols} standard-normal entries from {@code seed}. */
    Tensor random(int rows, int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(arena, dt, rows, cols);
        for (long i = 0; i < t.size(); i++) t.set(i, Rng.gaussian(rng));
        return t;
    }

    FlopModel flops() {
        return new FlopModel(mlp, batch);
    }

    @TearDown(Level.Trial)
    public void tearDownProblem() {
        backend.close();
        arena.close();
    }
}

package io.hvp4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.InvalidInputException;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Models;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.objective.Objective;
import io.hvp4j.objective.ParameterGroup;
import io.hvp4j.spectral.Lanczos;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.PowerIteration;
import io.hvp4j.spectral.RandomizedRank;
import io.hvp4j.spectral.SpectralDensity;
import io.hvp4j.spectral.SymmetricOperator;
import io.hvp4j.spectral.TraceEstimators;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Spark objective in local mode (two task threads, loopback) against the single-machine objective on the same
 * rows. Tolerances: products and gradients 1e-12 relative (f64: the two differ only in where the 1/N of the mean
 * is applied and in the order batches are added, a few ulps per entry); eigenvalues and trace estimates 1e-9
 * relative (Krylov methods amplify product rounding by the eigenvalue gaps, which are wide here).
 */
class SparkObjectiveTest {
    static JavaSparkContext sc;
    static final Arena ARENA = Arena.ofShared();
    static final int THREADS = 2;

    @BeforeAll
    static void start() {
        // Up to 4 tries per task: the fault test fails one on purpose.
        sc = SparkSetup.start(SparkSetup.conf("local[2,4]", "hvp4j-test"));
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    static final Mlp MLP = new Mlp(new int[] {6, 9, 7, 4}, Activation.TANH, true);
    static final Mlp SMALL = new Mlp(new int[] {6, 5, 4}, Activation.TANH, true);
    static final int N = 203; // not a multiple of the batch: the last batch is shorter

    static DataSource mlpData(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[N * 6], y = new double[N * 4];
        for (int i = 0; i < x.length; i++) x[i] = io.hvp4j.random.Rng.gaussian(r);
        for (int i = 0; i < N; i++) y[i * 4 + r.nextInt(4)] = 1;
        return DataSource.arrays(x, y, N, 6, 4);
    }

    /** All rows of {@code d} as the given partitioning produces them, as one in-process data set. */
    static Dataset whole(DataSource d, SparkObjective f, DType dtype) {
        Tensor x = Tensor.allocate(ARENA, dtype, d.size(), d.inputDimension());
        Tensor y = Tensor.allocate(ARENA, dtype, d.size(), d.outputDimension());
        SparkObjective.Job job = f.job();
        for (int p = 0; p < f.partitions(); p++) {
            int from = job.firstBatch(p) * job.batchRows();
            int end = Math.min(d.size(), job.firstBatch(p + 1) * job.batchRows());
            try (Arena a = Arena.ofConfined()) {
                Dataset part = d.rows(p, from, end - from, a, dtype);
                part.copyInputs(0, x.rowSlice(from, end - from));
                y.rowSlice(from, end - from).copyFrom(part.targets());
            }
        }
        return new Dataset(x, y, "all partitions");
    }

    /** The Spark objective and the single-machine one of an MLP on the same rows, with the same parameters. */
    record Twins(SparkObjective spark, MlpObjective here, VectorBackend backend) implements AutoCloseable {
        static Twins of(Mlp net, DataSource data, DType dtype, int batch, int k, int partitions, long thetaSeed) {
            SparkObjective s = new SparkObjective(sc, Model.mlp(net, Loss.CE, dtype, THREADS), data,
                    Loss.Reduction.MEAN, batch, k, partitions);
            VectorBackend be = new VectorBackend(THREADS);
            MlpObjective m = new MlpObjective(net, Loss.CE, Loss.Reduction.MEAN, whole(data, s, dtype), be, dtype,
                    batch, k);
            Tensor th = theta(net.parameterCount(), thetaSeed, DType.F64, null);
            s.setParameters(th);
            m.setParameters(th);
            return new Twins(s, m, be);
        }

        @Override
        public void close() {
            spark.close();
            here.close();
            backend.close();
        }
    }

    static Tensor theta(int p, long seed, DType dtype, double[] values) {
        return Tensor.of(ARENA, dtype, p, 1, values != null ? values : new SplittableRandom(seed).doubles(p, -0.5, 0.5).toArray());
    }

    static Tensor block(int n, int k, long seed) {
        return Tensor.of(ARENA, DType.F64, n, k, new SplittableRandom(seed).doubles((long) n * k, -1, 1).toArray());
    }

    static void assertClose(Tensor expected, Tensor actual, double rel, String what) {
        double scale = 0, err = 0;
        for (long i = 0; i < expected.size(); i++) {
            scale = Math.max(scale, Math.abs(expected.get(i)));
            err = Math.max(err, Math.abs(expected.get(i) - actual.get(i)));
        }
        assertTrue(err <= rel * scale, what + ": max error " + err + " vs max entry " + scale);
    }

    @Test
    void mlpProductsGradientAndLossMatchTheSingleMachineObjective() {
        try (Twins t = Twins.of(MLP, mlpData(1), DType.F64, 40, 3, 3, 2)) {
            SparkObjective s = t.spark();
            MlpObjective m = t.here();
            assertEquals(6, s.batches());
            int p = MLP.parameterCount();
            for (Curvature c : Curvature.values()) {
                Tensor v = block(p, 3, 3), a = Tensor.allocate(ARENA, DType.F64, p, 3), b = Tensor.allocate(ARENA, DType.F64, p, 3);
                m.apply(c, null, v, a);
                s.apply(c, null, v, b);
                assertClose(a, b, 1e-12, c + " product");
            }
            ParameterGroup g = s.groups().get(1);
            assertEquals(m.groups().get(1), g);
            Tensor v = block(g.size(), 2, 4), a = Tensor.allocate(ARENA, DType.F64, g.size(), 2), b = Tensor.allocate(ARENA, DType.F64, g.size(), 2);
            m.apply(Curvature.HESSIAN, g, v, a);
            s.apply(Curvature.HESSIAN, g, v, b);
            assertClose(a, b, 1e-12, "layer block product");
            Tensor ga = Tensor.allocate(ARENA, DType.F64, p, 1), gb = Tensor.allocate(ARENA, DType.F64, p, 1);
            double la = m.gradient(ga), lb = s.gradient(gb);
            assertClose(ga, gb, 1e-12, "gradient");
            assertEquals(la, lb, 1e-12 * Math.abs(la), "loss");
            assertEquals(m.forwardLoss(), s.forwardLoss(), 1e-12 * Math.abs(la), "forward loss");
            assertEquals(lb, s.loss(), 0, "loss by gradient(null)");
            Tensor hvA = Tensor.allocate(ARENA, DType.F64, p, 1), d3A = Tensor.allocate(ARENA, DType.F64, p, 1);
            Tensor hvB = Tensor.allocate(ARENA, DType.F64, p, 1), d3B = Tensor.allocate(ARENA, DType.F64, p, 1);
            Tensor dir = block(p, 1, 5);
            double qa = m.thirdOrder(dir, hvA, d3A), qb = s.thirdOrder(dir, hvB, d3B);
            assertClose(hvA, hvB, 1e-12, "third-order pass: H·v");
            assertClose(d3A, d3B, 1e-12, "third-order pass: ∇(vᵀHv)");
            assertEquals(qa, qb, 1e-12 * Math.abs(qa), "vᵀHv");
        }
    }

    @Test
    void graphProductsMatchTheSingleMachineObjective() {
        // LeNet-5 on generated 1×28×28 images, f64; 10 rows in batches of 3 (the last one shorter), two partitions.
        DataSource data = DataSource.gaussian(10, 784, 10, Loss.CE, 7);
        Model model = Model.graph("lenet5", 10, null, Loss.CE, DType.F64, THREADS);
        try (SparkObjective s = new SparkObjective(sc, model, data, Loss.Reduction.MEAN, 3, 2, 2);
             VectorBackend be = new VectorBackend(THREADS);
             GraphObjective g = new GraphObjective(Models.lenet5(10), Loss.CE, Loss.Reduction.MEAN,
                     whole(data, s, DType.F64), be, DType.F64, 3, 2)) {
            Tensor th = theta(g.parameterCount(), 0, DType.F64, Models.lenet5(10).initialParameters(5));
            s.setParameters(th);
            g.setParameters(th);
            int p = g.parameterCount();
            Tensor v = block(p, 2, 8), a = Tensor.allocate(ARENA, DType.F64, p, 2), b = Tensor.allocate(ARENA, DType.F64, p, 2);
            g.apply(Curvature.HESSIAN, null, v, a);
            s.apply(Curvature.HESSIAN, null, v, b);
            assertClose(a, b, 1e-12, "LeNet-5 H product");
            ParameterGroup conv2 = g.select("conv2");
            Tensor w = block(conv2.size(), 1, 9), c = Tensor.allocate(ARENA, DType.F64, conv2.size(), 1), d = Tensor.allocate(ARENA, DType.F64, conv2.size(), 1);
            g.apply(Curvature.GAUSS_NEWTON, conv2, w, c);
            s.apply(Curvature.GAUSS_NEWTON, conv2, w, d);
            assertClose(c, d, 1e-12, "LeNet-5 conv2 Gauss-Newton block");
        }
    }

    @Test
    void spectralToolsGiveTheSingleMachineNumbers() {
        // P = 59: exact traces and the randomized rank in about 15 products each.
        int k = 4;
        try (Twins t = Twins.of(SMALL, mlpData(11), DType.F64, 52, k, 2, 12)) {
            SparkObjective s = t.spark();
            MlpObjective m = t.here();
            VectorBackend be = t.backend();
            SymmetricOperator hs = Operators.curvature(s, Curvature.HESSIAN, (ParameterGroup) null);
            SymmetricOperator hm = Operators.curvature(m, Curvature.HESSIAN, (ParameterGroup) null);

            Lanczos.Result ls = Lanczos.compute(hs, 3, 1, 5), lm = Lanczos.compute(hm, 3, 1, 5);
            for (int i = 0; i < 3; i++) {
                double e = lm.top().get(i).value();
                assertEquals(e, ls.top().get(i).value(), 1e-9 * Math.abs(e), "Lanczos top " + i);
            }
            assertEquals(lm.bottom().get(0).value(), ls.bottom().get(0).value(),
                    1e-9 * Math.abs(lm.top().get(0).value()), "Lanczos bottom");

            PowerIteration.Result ps = PowerIteration.compute(hs, 1, 200, 1e-10, 6);
            PowerIteration.Result pm = PowerIteration.compute(hm, 1, 200, 1e-10, 6);
            assertEquals(pm.pairs().get(0).value(), ps.pairs().get(0).value(), 1e-9 * Math.abs(pm.pairs().get(0).value()),
                    "power iteration");

            for (TraceEstimators.Method method : TraceEstimators.Method.values()) {
                double a = TraceEstimators.estimate(hm, method, 12, TraceEstimators.Probe.RADEMACHER, 7, k).value();
                double b = TraceEstimators.estimate(hs, method, 12, TraceEstimators.Probe.RADEMACHER, 7, k).value();
                assertEquals(a, b, 1e-9 * Math.abs(a), method + " trace");
            }

            SpectralDensity.Result ds = SpectralDensity.compute(hs, 12, 2, 8, 200, 1e-5);
            SpectralDensity.Result dm = SpectralDensity.compute(hm, 12, 2, 8, 200, 1e-5);
            for (int r = 0; r < dm.rules().size(); r++) {
                double[] a = dm.rules().get(r).nodes(), b = ds.rules().get(r).nodes();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 1e-9 * Math.max(1e-3, Math.abs(a[i])), "SLQ node " + r + "/" + i);
                }
            }

            RandomizedRank.Result rs = RandomizedRank.compute(hs, be, new RandomizedRank.Options().block(k).seed(9));
            RandomizedRank.Result rm = RandomizedRank.compute(hm, be, new RandomizedRank.Options().block(k).seed(9));
            assertEquals(rm.report().rank(), rs.report().rank(), "randomized rank");
            assertEquals(rm.eigenvalues()[rm.eigenvalues().length - 1], rs.eigenvalues()[rs.eigenvalues().length - 1],
                    1e-9 * Math.abs(rm.eigenvalues()[rm.eigenvalues().length - 1]), "randomized rank's top eigenvalue");
        }
    }

    @Test
    void samePartitioningGivesTheSameBitsAndTheEngineIsBuiltOncePerJvm() {
        DataSource data = mlpData(21);
        // A model of its own (another thread count), so that the counter sees this test's engines only.
        Model model = Model.mlp(MLP, Loss.MSE, DType.F64, 1);
        int p = MLP.parameterCount();
        Tensor v = block(p, 2, 22);
        double[] first = null;
        int before = ExecutorState.ENGINES_BUILT.get();
        for (int run = 0; run < 3; run++) {
            try (SparkObjective s = new SparkObjective(sc, model, mlpData(21), Loss.Reduction.SUM, 29, 2, 7)) {
                s.setParameters(theta(p, 23, DType.F64, null));
                Tensor out = Tensor.allocate(ARENA, DType.F64, p, 2);
                for (int i = 0; i < 3; i++) {
                    s.apply(Curvature.HESSIAN, null, v, out);
                    double[] bits = out.toDoubleArray();
                    if (first == null) {
                        first = bits;
                    }
                    assertArrayEquals(first, bits, "same partitioning, same bits (run " + run + ", product " + i + ")");
                }
            }
        }
        // 203 rows in batches of 29: seven batches of 29; one engine for the model in this JVM (local mode: the
        // executor is the driver's JVM), reused by 3 × 3 × 7 tasks. A job reads the executors' own counters.
        assertEquals(1, ExecutorState.ENGINES_BUILT.get() - before, "engines built");
        List<Integer> perExecutor = sc.parallelize(List.of(0, 1), 2).map(i -> ExecutorState.ENGINES_BUILT.get()).collect();
        assertEquals(ExecutorState.ENGINES_BUILT.get(), (int) perExecutor.get(0));
    }

    /** Rows that fail the first time partition 1 reads them (a lost task), in this JVM. */
    record FailingOnce(DataSource inner) implements DataSource {
        static final AtomicInteger FAILURES = new AtomicInteger();

        public int size() { return inner.size(); }
        public int inputDimension() { return inner.inputDimension(); }
        public int outputDimension() { return inner.outputDimension(); }
        public String key() { return "failing-once " + inner.key(); }

        public Dataset rows(int partition, int from, int count, Arena arena, DType dtype) {
            if (partition == 1 && FAILURES.getAndIncrement() == 0) {
                throw new IllegalStateException("task failed on purpose");
            }
            return inner.rows(partition, from, count, arena, dtype);
        }
    }

    /**
     * The driver's checkpoints work on Spark: the fingerprint names the model, rows, partitioning and parameters,
     * and a dense assembly resumed from its checkpoint gives the same eigenvalues bit for bit.
     */
    @Test
    void fingerprintsKeepTheDriversCheckpoints(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        Model model = Model.mlp(SMALL, Loss.CE, DType.F64, THREADS);
        Tensor th = theta(SMALL.parameterCount(), 5, DType.F64, null);
        String a, b, c, d;
        double[] first;
        java.nio.file.Path ck = dir.resolve("h.ckpt");
        try (SparkObjective s = new SparkObjective(sc, model, mlpData(3), Loss.Reduction.MEAN, 50, 4, 2)) {
            assertThrows(IllegalStateException.class, s::fingerprint);
            s.setParameters(th);
            a = s.fingerprint();
            io.hvp4j.spectral.CurvatureRank.Options o = new io.hvp4j.spectral.CurvatureRank.Options();
            first = io.hvp4j.spectral.CurvatureRank.eigenvalues(s, Curvature.HESSIAN, null, ck, o).values();
            io.hvp4j.spectral.CurvatureRank.Eigenvalues again =
                    io.hvp4j.spectral.CurvatureRank.eigenvalues(s, Curvature.HESSIAN, null, ck, o);
            assertEquals(SMALL.parameterCount(), again.resumedColumns());
            assertArrayEquals(first, again.values());
        }
        try (SparkObjective s = new SparkObjective(sc, model, mlpData(3), Loss.Reduction.MEAN, 50, 4, 2)) {
            s.setParameters(th);
            b = s.fingerprint();
        }
        try (SparkObjective s = new SparkObjective(sc, model, mlpData(3), Loss.Reduction.MEAN, 50, 4, 3)) {
            s.setParameters(th);
            c = s.fingerprint();
        }
        try (SparkObjective s = new SparkObjective(sc, model, mlpData(4), Loss.Reduction.MEAN, 50, 4, 2)) {
            s.setParameters(th);
            d = s.fingerprint();
        }
        assertEquals(a, b);
        assertTrue(!a.equals(c) && !a.equals(d) && !c.equals(d), a + "\n" + c + "\n" + d);
    }

    @Test
    void aFailedTaskIsRetriedAndGivesTheSameBits() {
        Model model = Model.mlp(MLP, Loss.CE, DType.F64, THREADS);
        int p = MLP.parameterCount();
        Tensor v = block(p, 1, 31), a = Tensor.allocate(ARENA, DType.F64, p, 1), b = Tensor.allocate(ARENA, DType.F64, p, 1);
        Tensor th = theta(p, 32, DType.F64, null);
        try (SparkObjective s = new SparkObjective(sc, model, mlpData(30), Loss.Reduction.MEAN, 50, 1, 3)) {
            s.setParameters(th);
            s.apply(Curvature.HESSIAN, null, v, a);
        }
        try (SparkObjective s = new SparkObjective(sc, model, new FailingOnce(mlpData(30)), Loss.Reduction.MEAN, 50,
                1, 3)) {
            s.setParameters(th);
            s.apply(Curvature.HESSIAN, null, v, b);
        }
        assertTrue(FailingOnce.FAILURES.get() >= 2, "the task failed and was tried again");
        assertArrayEquals(a.toDoubleArray(), b.toDoubleArray());
    }

    @Test
    void f32ProductsMatchTheSingleMachineObjective() {
        try (Twins t = Twins.of(MLP, mlpData(41), DType.F32, 60, 2, 2, 42)) {
            SparkObjective s = t.spark();
            MlpObjective m = t.here();
            int p = MLP.parameterCount();
            Tensor v = block(p, 2, 43), a = Tensor.allocate(ARENA, DType.F64, p, 2), b = Tensor.allocate(ARENA, DType.F64, p, 2);
            m.apply(Curvature.HESSIAN, null, v, a);
            s.apply(Curvature.HESSIAN, null, v, b);
            // f32: each batch's product is the same f32 computation; the 1/N is applied after the f32 rounding
            // instead of inside it, a relative change of one f32 ulp per batch.
            assertClose(a, b, 1e-6, "f32 product");
        }
    }

    @Test
    void badInputIsOneClearError() {
        Model model = Model.mlp(MLP, Loss.CE, DType.F64, THREADS);
        assertThrows(InvalidInputException.class,
                () -> new SparkObjective(sc, model, DataSource.gaussian(10, 5, 4, Loss.CE, 1), Loss.Reduction.MEAN, 5, 1, 1));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new SparkObjective(sc, model, mlpData(1), Loss.Reduction.MEAN, 203, 1, 2));
        assertTrue(e.getMessage().contains("batches"), e.getMessage());
        try (SparkObjective s = new SparkObjective(sc, model, mlpData(1), Loss.Reduction.MEAN, 100, 1, 2)) {
            double[] t = new double[MLP.parameterCount()];
            t[3] = Double.NaN;
            assertThrows(InvalidInputException.class, () -> s.setParameters(theta(t.length, 0, DType.F64, t)));
        }
    }
}

package io.hvp4j.cuda;

import io.hvp4j.random.Rng;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The same autodiff code on the CUDA backend and on the CPU (vector) backend: loss, gradient, H·v, H_O·v,
 * H_F·v, a block of 3 vectors, and a layer block, for every activation and loss, one and two batches.
 * Agreement (relative 2-norm error, or relative difference for the loss): ≤ 1e-12 in f64 and ≤ 1e-5 in f32,
 * the targets of the GPU issue; both backends round differently (summation order), so this is agreement
 * of two correct implementations, each checked against finite differences by the engine's own tests.
 * Skipped, with the reason, where no GPU is usable.
 */
@Tag("gpu")
class CudaProductsTest {
    static CudaBackend cuda;
    static VectorBackend cpu;

    @BeforeAll
    static void open() {
        cuda = GpuTests.openIfUsable();
        cpu = new VectorBackend(Math.max(1, Runtime.getRuntime().availableProcessors()));
    }

    @org.junit.jupiter.api.BeforeEach
    void device() {
        GpuTests.requireDevice(cuda);
    }

    @AfterAll
    static void close() {
        if (cuda != null) cuda.close();
        if (cpu != null) cpu.close();
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (DType dt : DType.values()) {
            for (Activation act : Activation.values()) {
                for (Loss loss : Loss.values()) {
                    out.add(Arguments.of(dt, act, loss));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everyProductAgreesWithTheCpuBackend(DType dt, Activation act, Loss loss) {
        double tol = dt == DType.F64 ? 1e-12 : 1e-5;
        int[] widths = {13, 24, 17, 6};
        Mlp mlp = new Mlp(widths, act, true);
        try (Arena arena = Arena.ofShared()) {
            Dataset data = Dataset.gaussian(arena, dt, 96, widths[0], widths[widths.length - 1], loss, 5);
            Tensor theta = Tensor.of(arena, dt, mlp.parameterCount(), 1, Initializer.GLOROT_NORMAL.initialize(mlp, 3));
            for (int batch : new int[] {96, 40}) {
                try (MlpObjective onGpu = objective(mlp, loss, data, cuda, dt, batch, theta);
                     MlpObjective onCpu = objective(mlp, loss, data, cpu, dt, batch, theta)) {
                    String what = dt + " " + act.id() + " " + loss.id() + " batch " + batch;
                    Tensor gG = Tensor.allocate(arena, dt, mlp.parameterCount(), 1);
                    Tensor gC = Tensor.allocate(arena, dt, mlp.parameterCount(), 1);
                    double lG = onGpu.gradient(gG), lC = onCpu.gradient(gC);
                    assertTrue(Math.abs(lG - lC) <= tol * Math.abs(lC), what + " loss " + lG + " vs " + lC);
                    assertClose(gG, gC, tol, what + " gradient");
                    for (Curvature c : Curvature.values()) {
                        for (int k : new int[] {1, 3}) {
                            Tensor v = random(arena, dt, mlp.parameterCount(), k, 7 + k);
                            assertClose(apply(onGpu, c, -1, v, arena), apply(onCpu, c, -1, v, arena), tol,
                                    what + " " + c + " k=" + k);
                        }
                        Tensor v1 = random(arena, dt, mlp.layerParameterCount(1), 2, 11);
                        assertClose(apply(onGpu, c, 1, v1, arena), apply(onCpu, c, 1, v1, arena), tol,
                                what + " " + c + " layer-1 block");
                    }
                }
            }
        }
    }

    private static MlpObjective objective(Mlp mlp, Loss loss, Dataset data, Backend be, DType dt, int batch, Tensor theta) {
        MlpObjective o = new MlpObjective(mlp, loss, Loss.Reduction.MEAN, data, be, dt, batch, 3);
        o.setParameters(theta);
        return o;
    }

    private static Tensor apply(MlpObjective o, Curvature c, int layer, Tensor v, Arena arena) {
        Tensor out = Tensor.allocate(arena, v.dtype(), v.rows(), v.cols());
        o.apply(c, layer, v, out);
        return out;
    }

    private static Tensor random(Arena arena, DType dt, int rows, int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(arena, dt, rows, cols);
        for (long i = 0; i < t.size(); i++) t.set(i, Rng.gaussian(rng));
        return t;
    }

    private static void assertClose(Tensor actual, Tensor expected, double tol, String what) {
        assertEquals(expected.size(), actual.size());
        double num = 0, den = 0;
        for (long i = 0; i < expected.size(); i++) {
            double d = actual.get(i) - expected.get(i);
            num += d * d;
            den += expected.get(i) * expected.get(i);
        }
        double rel = Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
        assertTrue(rel <= tol, what + ": relative error " + rel + " > " + tol);
    }
}

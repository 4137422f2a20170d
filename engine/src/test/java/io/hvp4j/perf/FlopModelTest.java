package io.hvp4j.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ScalarBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import org.junit.jupiter.api.Test;

/**
 * The flop model against the GEMM flops the engine actually executes, counted by a backend that forwards every
 * call to the scalar reference and adds 2·m·n·k for each {@code gemm}.
 */
class FlopModelTest {
    private static final class Counter {
        double flops;
    }

    private static Backend counting(Backend real, Counter counter) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("gemm")) {
                        boolean transA = (Boolean) args[0];
                        Tensor a = (Tensor) args[3], c = (Tensor) args[6];
                        counter.flops += FlopModel.gemm(c.rows(), c.cols(), transA ? a.rows() : a.cols());
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void countsMatchTheEngine() {
        int batch = 7;
        for (int[] widths : new int[][] {{5, 6, 4, 3}, {9, 3}, {4, 8, 8, 8, 2}}) {
            for (Curvature c : Curvature.values()) {
                Counter counter = new Counter();
                Mlp mlp = new Mlp(widths, Activation.TANH, true);
                FlopModel model = new FlopModel(mlp, batch);
                int n = mlp.parameterCount(), k = 3;
                try (Arena arena = Arena.ofConfined(); Backend be = counting(new ScalarBackend(), counter)) {
                    Dataset data = Dataset.gaussian(arena, DType.F64, batch, mlp.inputs(), mlp.outputs(), Loss.CE, 1);
                    try (MlpObjective o = new MlpObjective(mlp, Loss.CE, Loss.Reduction.MEAN, data, be, DType.F64,
                            batch, k)) {
                        o.setParameters(Tensor.of(arena, DType.F64, n, 1, Initializer.GLOROT_NORMAL.initialize(mlp, 0)));
                        counter.flops = 0;
                        o.forwardLoss();
                        assertEquals(model.forward(), counter.flops);
                        counter.flops = 0;
                        o.gradient(Tensor.allocate(arena, DType.F64, n, 1));
                        assertEquals(model.gradient(), counter.flops);
                        double expected = switch (c) {
                            case HESSIAN, FUNCTIONAL -> model.hvpExecuted();
                            case GAUSS_NEWTON -> model.ggnExecuted();
                        };
                        counter.flops = 0;
                        o.invalidate();
                        o.apply(c, -1, Tensor.allocate(arena, DType.F64, n, 1), Tensor.allocate(arena, DType.F64, n, 1));
                        assertEquals(expected, counter.flops, c + " " + mlp.architecture());
                        if (c == Curvature.HESSIAN) {
                            counter.flops = 0;
                            o.invalidate();
                            o.apply(c, -1, Tensor.allocate(arena, DType.F64, n, k), Tensor.allocate(arena, DType.F64, n, k));
                            assertEquals(model.blockHvpExecuted(k), counter.flops);
                        }
                    }
                }
            }
        }
    }

    @Test
    void ggnMinimumAndBlockOfOneAreTheIssuesCounts() {
        FlopModel m = new FlopModel(new Mlp(new int[] {784, 512, 512, 10}, Activation.RELU, true), 256);
        double f = 2.0 * 256 * (784 * 512 + 512 * 512 + 512 * 10), f1 = 2.0 * 256 * 784 * 512;
        assertEquals(f, m.f());
        assertEquals(f1, m.f1());
        assertEquals(5 * f - 2 * f1, m.ggn());
        assertEquals(m.hvp(), m.blockHvp(1));
        assertEquals(9 * f - 5 * f1, m.hvp());
        assertEquals(m.hvp() - m.hvpExecuted(), m.blockHvp(16) - m.blockHvpExecuted(16)); // the ∂W GEMMs, F
    }
}

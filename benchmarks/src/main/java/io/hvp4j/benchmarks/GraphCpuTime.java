package io.hvp4j.benchmarks;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.Models;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.GraphObjective;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * CPU time of one gradient and one exact HVP of a built-in graph model on one thread, measured with the thread's
 * CPU clock. On a machine shared with other jobs wall-clock times swing by 2x and more, while a single thread's CPU
 * time moves far less, so old and new code can still be compared in alternating runs (it says nothing about the
 * multi-threaded split; measure that with {@code hvp4j bench} on a quiet machine). Prints one line per operation
 * with the minimum and median over the repetitions, and two elements of the product to compare bits across runs.
 *
 * <p>Usage: {@code GraphCpuTime MODEL BATCH f32|f64 REPS} (generated Gaussian data, 10 classes, CE, seed 0).
 */
public final class GraphCpuTime {
    private GraphCpuTime() {
    }

    public static void main(String[] args) {
        if (args.length != 4) {
            System.err.println("usage: GraphCpuTime MODEL BATCH f32|f64 REPS");
            System.exit(2);
        }
        String model = args[0];
        int batch = Integer.parseInt(args[1]), reps = Integer.parseInt(args[3]);
        DType dtype = DType.parse(args[2]);
        Graph net = Models.byName(model, 10);
        ThreadMXBean clock = ManagementFactory.getThreadMXBean();
        try (Arena arena = Arena.ofShared(); VectorBackend be = new VectorBackend(1);
             GraphObjective f = new GraphObjective(net, Loss.CE, Loss.Reduction.MEAN,
                     Dataset.gaussian(arena, dtype, batch, net.inputSize(), 10, Loss.CE, 1), be, dtype, batch, 1)) {
            int p = net.parameterCount();
            f.setParameters(Tensor.of(arena, DType.F64, p, 1, net.initialParameters(0)));
            Tensor g = Tensor.allocate(arena, DType.F64, p, 1);
            Tensor v = Tensor.allocate(arena, DType.F64, p, 1), hv = Tensor.allocate(arena, DType.F64, p, 1);
            for (int i = 0; i < p; i++) {
                v.set(i, Math.sin(i));
            }
            for (int w = 0; w < 3; w++) {
                f.gradient(g);
                f.apply(Curvature.HESSIAN, null, v, hv);
            }
            for (String op : new String[] {"gradient", "hvp"}) {
                long[] t = new long[reps];
                for (int r = 0; r < reps; r++) {
                    long t0 = clock.getCurrentThreadCpuTime();
                    if (op.equals("gradient")) {
                        f.gradient(g);
                    } else {
                        f.apply(Curvature.HESSIAN, null, v, hv);
                    }
                    t[r] = clock.getCurrentThreadCpuTime() - t0;
                }
                Arrays.sort(t);
                System.out.printf("%s %s B=%d %s 1 thread: CPU ms min %.1f median %.1f%n", model, op, batch, dtype,
                        t[0] / 1e6, t[reps / 2] / 1e6);
            }
            System.out.println("hv[0] " + hv.get(0) + " hv[P-1] " + hv.get(p - 1));
        }
    }
}

package io.hvp4j.benchmarks;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.GraphEngine;
import io.hvp4j.graph.Models;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The direct stride-1 convolution kernels against im2col + GEMM in one JVM, alternating round by round
 * ({@code -Dhvp4j.conv=im2col} is set and cleared between rounds), so that both paths see the same machine state:
 * for each round and path, the best of 3 calls of a gradient, a gradient + HVP, and a gradient + block of 16 HVPs.
 * Prints the medians over the rounds after two warm-up rounds and the median of the per-round ratios
 * (im2col / direct, above 1: the direct path is faster).
 *
 * <p>Usage: {@code ConvolutionPaired MODEL BATCH f32|f64 ROUNDS [THREADS]} (Gaussian inputs, 10 classes, CE, seed 1,
 * 2 threads by default).
 */
public final class ConvolutionPaired {
    private ConvolutionPaired() {
    }

    public static void main(String[] args) {
        if (args.length < 4) {
            System.err.println("usage: ConvolutionPaired MODEL BATCH f32|f64 ROUNDS [THREADS]");
            System.exit(2);
        }
        String model = args[0];
        int rows = Integer.parseInt(args[1]), rounds = Integer.parseInt(args[3]), k = 16;
        int threads = args.length > 4 ? Integer.parseInt(args[4]) : 2;
        DType dt = DType.parse(args[2]);
        Graph g = Models.byName(model, 10);
        String[] ops = {"gradient", "gradient + HVP", "gradient + block-16 HVP"};
        List<List<double[]>> times = new ArrayList<>();
        for (int i = 0; i < ops.length; i++) {
            times.add(new ArrayList<>());
        }
        try (Arena arena = Arena.ofShared(); VectorBackend be = new VectorBackend(threads);
             GraphEngine e = new GraphEngine(g, Loss.CE, be, dt, rows, k)) {
            SplittableRandom r = new SplittableRandom(1);
            int P = g.parameterCount();
            Tensor x = Tensor.allocate(arena, dt, rows, g.inputSize()), y = Tensor.allocate(arena, dt, rows, 10);
            for (long i = 0; i < x.size(); i++) {
                x.set(i, r.nextGaussian());
            }
            for (int i = 0; i < rows; i++) {
                y.set(i, r.nextInt(10), 1);
            }
            e.setParameters(Tensor.of(arena, dt, 1, P, g.initialParameters(1)));
            Tensor grad = Tensor.allocate(arena, dt, P, 1), v1 = Tensor.allocate(arena, dt, P, 1);
            Tensor o1 = Tensor.allocate(arena, dt, P, 1), vk = Tensor.allocate(arena, dt, P, k);
            Tensor ok = Tensor.allocate(arena, dt, P, k);
            for (long i = 0; i < vk.size(); i++) {
                vk.set(i, r.nextGaussian());
            }
            for (long i = 0; i < v1.size(); i++) {
                v1.set(i, r.nextGaussian());
            }
            for (int round = 0; round < rounds + 2; round++) {
                double[][] best = new double[ops.length][2];
                for (int path = 0; path < 2; path++) {
                    if (path == 0) {
                        System.clearProperty("hvp4j.conv");
                    } else {
                        System.setProperty("hvp4j.conv", "im2col");
                    }
                    for (int op = 0; op < ops.length; op++) {
                        double b = Double.MAX_VALUE;
                        for (int rep = 0; rep < 3; rep++) {
                            long t0 = System.nanoTime();
                            e.forwardBackward(x, y, 1.0 / rows, grad);
                            if (op == 1) {
                                e.product(Curvature.HESSIAN, null, v1, o1);
                            } else if (op == 2) {
                                e.product(Curvature.HESSIAN, null, vk, ok);
                            }
                            b = Math.min(b, (System.nanoTime() - t0) / 1e6);
                        }
                        best[op][path] = b;
                    }
                }
                System.clearProperty("hvp4j.conv");
                if (round >= 2) {
                    for (int op = 0; op < ops.length; op++) {
                        times.get(op).add(best[op]);
                    }
                }
            }
        }
        System.out.printf("%s B=%d %s threads=%d, %d rounds (medians, ms)%n", model, rows, dt, threads, rounds);
        for (int op = 0; op < ops.length; op++) {
            List<double[]> t = times.get(op);
            double[] direct = t.stream().mapToDouble(a -> a[0]).sorted().toArray();
            double[] im2col = t.stream().mapToDouble(a -> a[1]).sorted().toArray();
            double[] ratio = t.stream().mapToDouble(a -> a[1] / a[0]).sorted().toArray();
            System.out.printf("  %-24s direct %9.2f  im2col %9.2f  im2col/direct %.3f%n", ops[op],
                    direct[direct.length / 2], im2col[im2col.length / 2], ratio[ratio.length / 2]);
        }
    }
}

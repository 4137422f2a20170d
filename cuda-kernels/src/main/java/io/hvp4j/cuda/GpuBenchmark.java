package io.hvp4j.cuda;

import io.hvp4j.random.Rng;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.ForwardOverReverse;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * GPU timings of the targets: one HVP and one block HVP (16 vectors) of a relu MLP with mean
 * cross-entropy, each from scratch (forward + backward + tangent passes), data, parameters and vectors already
 * in device memory (as a PyTorch peer has them). Synchronized wall-clock timings ({@link Backend#synchronize}
 * after each repetition), median of {@code reps} after {@code warmup}. Prints one JSON object per line:
 * {@code {"impl":"hvp4j","arch":...,"batch":...,"dtype":...,"op":"hvp"|"block16","median_ms":...}}.
 *
 * <p>Usage: {@code GpuBenchmark ARCH BATCH DTYPE [reps] [warmup] [backend]} (e.g. {@code 784,512,512,10 1024 f32}).
 * The backend is {@code cuda} unless named ({@code cpu}: the dry run of gpu-check.sh, all processors); an unusable
 * CUDA device is an error (exit 2), never a fallback to the CPU.
 */
public final class GpuBenchmark {
    private GpuBenchmark() {
    }

    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: GpuBenchmark ARCH BATCH DTYPE [reps] [warmup] [cuda|cpu]");
            System.exit(2);
        }
        int[] widths = Mlp.parseArchitecture(args[0]);
        int batch = Integer.parseInt(args[1]);
        DType dt = DType.parse(args[2]);
        int reps = args.length > 3 ? Integer.parseInt(args[3]) : 30;
        int warmup = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        String backend = args.length > 5 ? Backends.parse(args[5]) : "cuda";
        int block = 16;
        Mlp mlp = new Mlp(widths, Activation.RELU, true);
        Backend be;
        try {
            be = Backends.create(backend, Runtime.getRuntime().availableProcessors());
        } catch (CudaUnavailableException e) {
            System.err.println("GpuBenchmark: " + e.getMessage());
            System.exit(2);
            return;
        }
        try (be; Arena arena = Arena.ofShared()) {
            Dataset host = Dataset.gaussian(arena, dt, batch, mlp.inputs(), mlp.outputs(), Loss.CE, 1);
            Tensor x = upload(be, arena, host.inputs());
            Tensor y = upload(be, arena, host.targets());
            Tensor theta = Tensor.of(arena, dt, mlp.parameterCount(), 1, Initializer.GLOROT_NORMAL.initialize(mlp, 0));
            try (ForwardOverReverse f = new ForwardOverReverse(mlp, Loss.CE, be, dt, batch, block)) {
                f.setParameters(theta);
                Tensor v1 = upload(be, arena, gaussian(arena, dt, mlp.parameterCount(), 1, 2));
                Tensor o1 = be.allocate(arena, dt, mlp.parameterCount(), 1);
                Tensor vb = upload(be, arena, gaussian(arena, dt, mlp.parameterCount(), block, 3));
                Tensor ob = be.allocate(arena, dt, mlp.parameterCount(), block);
                double scale = 1.0 / batch;
                report(args[0], batch, dt, be.name(), "hvp", time(be, reps, warmup, () -> {
                    f.forwardBackward(x, y, scale, null);
                    f.product(Curvature.HESSIAN, -1, v1, o1);
                }));
                report(args[0], batch, dt, be.name(), "block16", time(be, reps, warmup, () -> {
                    f.forwardBackward(x, y, scale, null);
                    f.product(Curvature.HESSIAN, -1, vb, ob);
                }));
            }
        }
    }

    private static Tensor upload(Backend be, Arena arena, Tensor host) {
        Tensor d = be.allocate(arena, host.dtype(), host.rows(), host.cols());
        be.upload(host, d);
        return d;
    }

    private static Tensor gaussian(Arena arena, DType dt, int rows, int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(arena, dt, rows, cols);
        for (long i = 0; i < t.size(); i++) t.set(i, Rng.gaussian(rng));
        return t;
    }

    private static double time(Backend be, int reps, int warmup, Runnable op) {
        for (int i = 0; i < warmup; i++) op.run();
        be.synchronize();
        double[] ms = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            op.run();
            be.synchronize();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return reps % 2 == 1 ? ms[reps / 2] : 0.5 * (ms[reps / 2 - 1] + ms[reps / 2]);
    }

    private static void report(String arch, int batch, DType dt, String backend, String op, double ms) {
        java.util.Map<String, Object> r = new java.util.LinkedHashMap<>();
        r.put("impl", "hvp4j");
        r.put("arch", arch);
        r.put("batch", batch);
        r.put("dtype", dt.toString());
        r.put("op", op);
        r.put("backend", backend);
        r.put("median_ms", io.hvp4j.io.Json.fixed(ms, 4));
        System.out.println(io.hvp4j.io.Json.write(r));
    }
}

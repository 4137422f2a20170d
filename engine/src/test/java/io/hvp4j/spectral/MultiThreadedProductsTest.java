package io.hvp4j.spectral;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import org.junit.jupiter.api.Test;

/**
 * Dense assembly, batched and converting products and operator compositions on a multi-threaded backend: the
 * temporary tensors they hand to the backend are read by its worker threads, so they must live in shared arenas
 * (a confined one threw WrongThreadException once a kernel went parallel, e.g. {@code rank --threads 2} on
 * 64-16-16-10 with 100 samples, p = 1482). Results must agree with one thread to rounding.
 */
class MultiThreadedProductsTest {
    /** p = 1100 ≥ 1024: a block of 32 columns is above the backend's parallel grain (2^15 elements). */
    static final int[] ARCH = {100, 10, 10};

    static double[][] assembled(int threads, int batch, boolean composed) {
        Mlp mlp = new Mlp(ARCH, Activation.TANH, false);
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(threads)) {
            Dataset data = Nets.data(arena, 8, ARCH[0], ARCH[0], ARCH[2], Loss.CE, 3);
            try (MlpObjective f = new MlpObjective(mlp, Loss.CE, Loss.Reduction.SUM, data, be, DType.F64, batch, 32)) {
                double[] theta = Initializer.GLOROT_NORMAL.initialize(mlp, 4);
                f.setParameters(Tensor.of(arena, DType.F64, theta.length, 1, theta));
                SymmetricOperator h = Operators.curvature(f, Curvature.HESSIAN, -1);
                if (composed) {
                    int[] all = new int[h.dimension()];
                    for (int i = 0; i < all.length; i++) all[i] = i;
                    h = Operators.restrict(Operators.linearCombination(1, Operators.curvature(f, Curvature.GAUSS_NEWTON,
                            -1), 1, Operators.curvature(f, Curvature.FUNCTIONAL, -1)), all);
                }
                Tensor m = DenseAssembly.assemble(h, arena).matrix();
                int n = m.rows();
                double[][] out = new double[n][n];
                for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) out[i][j] = m.get(i, j);
                // A converting product (f32 in, f64 out) through the same objective.
                Tensor v = Tensor.allocate(arena, DType.F32, n, 3), o = Tensor.allocate(arena, DType.F64, n, 3);
                for (long i = 0; i < v.size(); i++) v.set(i, Math.sin(i));
                f.apply(Curvature.GAUSS_NEWTON, -1, v, o);
                assertEquals(n * 3L, o.size());
                return out;
            }
        }
    }

    @Test
    void twoThreadsAgreeWithOne() {
        double[][] one = assembled(1, 8, false);
        double scale = 0;
        for (double[] row : one) for (double x : row) scale = Math.max(scale, Math.abs(x));
        for (int[] c : new int[][] {{8, 0}, {3, 0}, {8, 1}}) {
            double[][] two = assembled(2, c[0], c[1] == 1);
            for (int i = 0; i < one.length; i++) {
                for (int j = 0; j < one.length; j++) {
                    assertEquals(one[i][j], two[i][j], 1e-12 * scale, "batch " + c[0] + " composed " + c[1]);
                }
            }
        }
    }
}

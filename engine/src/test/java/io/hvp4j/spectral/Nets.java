package io.hvp4j.spectral;

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
import java.util.SplittableRandom;

/** Small networks on generated data, and their measured dense ranks. */
final class Nets {
    private Nets() {
    }

    static double gaussian(SplittableRandom rng) {
        double u1 = rng.nextDouble(), u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    /**
     * Inputs N × d of rank {@code min(r, N, d)} (a product of Gaussian N × r and r × d factors; plain Gaussian when
     * {@code r >= min(N, d)}), with targets for {@code loss} (Gaussian, or uniform one-hot labels for ce).
     */
    static Dataset data(Arena arena, int n, int d, int r, int outputs, Loss loss, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor x = Tensor.allocate(arena, DType.F64, n, d);
        if (r >= Math.min(n, d)) {
            for (long i = 0; i < x.size(); i++) x.set(i, gaussian(rng));
        } else {
            double[][] a = new double[n][r], b = new double[r][d];
            for (double[] row : a) for (int j = 0; j < r; j++) row[j] = gaussian(rng);
            for (double[] row : b) for (int j = 0; j < d; j++) row[j] = gaussian(rng);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < d; j++) {
                    double s = 0;
                    for (int k = 0; k < r; k++) s += a[i][k] * b[k][j];
                    x.set(i, j, s);
                }
            }
        }
        Tensor y;
        if (loss == Loss.CE) {
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) labels[i] = rng.nextInt(outputs);
            y = Dataset.oneHot(arena, DType.F64, labels, outputs);
        } else {
            y = Tensor.allocate(arena, DType.F64, n, outputs);
            for (long i = 0; i < y.size(); i++) y.set(i, gaussian(rng));
        }
        return new Dataset(x, y, "test data");
    }

    static MlpObjective objective(Arena arena, Mlp mlp, Loss loss, Dataset data, Backend backend, long seed,
                                  int maxBlock) {
        MlpObjective f = new MlpObjective(mlp, loss, Loss.Reduction.MEAN, data, backend, DType.F64, data.size(),
                maxBlock);
        double[] theta = Initializer.GLOROT_NORMAL.initialize(mlp, seed);
        f.setParameters(Tensor.of(arena, DType.F64, theta.length, 1, theta));
        return f;
    }

    /** Measured ranks (H_O, H_F, H) at the default tolerance, dense, f64. */
    static int[] measuredRanks(int[] widths, boolean bias, Loss loss, int n, int r, long seed) {
        Mlp mlp = new Mlp(widths, Activation.IDENTITY, bias);
        try (Arena arena = Arena.ofConfined(); Backend be = new VectorBackend(1)) {
            Dataset data = data(arena, n, widths[0], r, widths[widths.length - 1], loss, seed);
            try (MlpObjective f = objective(arena, mlp, loss, data, be, seed + 1, 32)) {
                int[] out = new int[3];
                Curvature[] cs = {Curvature.GAUSS_NEWTON, Curvature.FUNCTIONAL, Curvature.HESSIAN};
                for (int i = 0; i < 3; i++) {
                    try (Arena m = Arena.ofConfined()) {
                        DenseAssembly.Result res = DenseAssembly.assemble(Operators.curvature(f, cs[i], -1), m);
                        double[] eig = SymmetricEigen.select(SymmetricEigen.Kind.AUTO).decomposeInPlace(res.matrix(), false);
                        out[i] = NumericalRank.ofEigenvalues(eig, DType.F64, NumericalRank.Tolerance.DEFAULT).rank();
                    }
                }
                return out;
            }
        }
    }
}

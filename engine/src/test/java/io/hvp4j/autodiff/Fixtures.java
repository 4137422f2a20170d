package io.hvp4j.autodiff;

import io.hvp4j.random.Rng;
import io.hvp4j.backend.Backend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Dense;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/** Small networks and data for derivative tests. */
final class Fixtures {
    private Fixtures() {
    }

    record Problem(Mlp mlp, Loss loss, Dataset data, double[] theta, double[][] x, double[][] y) {
        double scale() {
            return 1.0 / x.length;
        }

        MlpObjective objective(Backend be, DType dtype, Arena arena, int batch, int maxBlock) {
            Dataset d = data;
            if (dtype != data.dtype()) {
                Tensor xi = Tensor.allocate(arena, dtype, data.size(), data.inputDimension());
                Tensor yi = Tensor.allocate(arena, dtype, data.size(), data.outputDimension());
                xi.copyFrom(data.inputs());
                yi.copyFrom(data.targets());
                d = new Dataset(xi, yi, "fixture");
            }
            MlpObjective obj = new MlpObjective(mlp, loss, Loss.Reduction.MEAN, d, be, dtype, batch, maxBlock);
            obj.setParameters(Tensor.of(arena, dtype, theta.length, 1, theta));
            return obj;
        }
    }

    static Problem problem(Arena arena, int[] widths, Activation act, boolean bias, Loss loss, int n, long seed) {
        Mlp mlp = new Mlp(widths, act, bias);
        double[] theta = Initializer.GLOROT_NORMAL.initialize(mlp, seed);
        SplittableRandom rng = new SplittableRandom(seed + 17);
        if (bias) {
            // Non-zero biases so that bias derivatives are exercised away from the special point 0.
            for (int l = 0; l < mlp.layers(); l++) {
                for (int o = 0; o < mlp.width(l + 1); o++) theta[mlp.biasOffset(l) + o] = 0.3 * Rng.gaussian(rng);
            }
        }
        Dataset data = Dataset.gaussian(arena, DType.F64, n, widths[0], widths[widths.length - 1], loss, seed + 3);
        double[][] x = new double[n][];
        double[][] y = new double[n][];
        for (int i = 0; i < n; i++) {
            x[i] = data.inputs().rowSlice(i, 1).toDoubleArray();
            y[i] = data.targets().rowSlice(i, 1).toDoubleArray();
        }
        if (loss == Loss.MSE || loss == Loss.COSH) {
            // Residuals of order one, so that the functional part H_F is not negligible.
            for (double[] row : y) for (int c = 0; c < row.length; c++) row[c] *= 1.5;
            Tensor yt = data.targets();
            for (int i = 0; i < n; i++) for (int c = 0; c < y[i].length; c++) yt.set(i, c, y[i][c]);
        }
        return new Problem(mlp, loss, data, theta, x, y);
    }

    static double[] randomVector(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = Rng.gaussian(rng);
        return v;
    }

    static double relativeError(double[] a, double[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
    }

    /** Dense matrix of a curvature by P unit-vector products (column j = C e_j). */
    static double[][] dense(MlpObjective obj, Curvature c, int layer, Arena arena) {
        int n = layer < 0 ? obj.parameterCount() : obj.mlp().layerParameterCount(layer);
        double[][] m = new double[n][n];
        Tensor e = Tensor.allocate(arena, DType.F64, n, 1);
        Tensor out = Tensor.allocate(arena, DType.F64, n, 1);
        for (int j = 0; j < n; j++) {
            e.zero();
            e.set(j, 1);
            obj.apply(c, layer, e, out);
            for (int i = 0; i < n; i++) m[i][j] = out.get(i);
        }
        return m;
    }
}

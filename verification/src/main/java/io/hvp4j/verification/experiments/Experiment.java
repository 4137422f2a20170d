package io.hvp4j.verification.experiments;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.data.GaussianClusters;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.spectral.DenseAssembly;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.SymmetricEigen;
import io.hvp4j.train.Trainer;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * The shared machinery of the training/spectrum checks (docs/theory.md §B, §C): Gaussian-cluster data, the §B.3
 * initialisation, deterministic training, exact objectives and dense spectra, all in float64. Owns an arena and
 * a backend; everything it creates is freed by {@link #close}. Not thread-safe.
 */
public final class Experiment implements AutoCloseable {
  /** Products per block for dense assembly. */
  public static final int BLOCK = 32;

  private final Arena arena = Arena.ofShared();
  private final Backend backend;
  private final List<AutoCloseable> owned = new ArrayList<>();

  public Experiment(int threads) {
    backend = new VectorBackend(threads);
  }

  public Arena arena() {
    return arena;
  }

  public Backend backend() {
    return backend;
  }

  /** §B.3 data: k clusters in {@code d} dimensions, centres of norm {@code sep}, unit noise, one-hot targets. */
  public Dataset clusters(int k, int d, double sep, int perCluster, long seed) {
    return GaussianClusters.generate(
        arena, DType.F64, new GaussianClusters.Spec(k, d, sep, perCluster), seed);
  }

  /** §B.3 initialisation: Glorot-normal weights, N(0, 0.1²) biases. */
  public static double[] init(Mlp mlp, long seed) {
    return Initializer.GLOROT_NORMAL.initialize(mlp, seed, 0.1);
  }

  /** The mean loss over {@code data} at {@code theta}, f64, one batch, blocks of {@link #BLOCK}. */
  public MlpObjective objective(Mlp mlp, Loss loss, Dataset data, double[] theta) {
    MlpObjective f =
        new MlpObjective(mlp, loss, Loss.Reduction.MEAN, data, backend, DType.F64, data.size(), BLOCK);
    owned.add(f);
    f.setParameters(vector(theta));
    return f;
  }

  /** Rows {@code from, from + step, …} of {@code data}, copied into this arena (a split or a subset). */
  public Dataset rows(Dataset data, int from, int step, String what) {
    int n = (data.size() - from + step - 1) / step;
    Tensor x = Tensor.allocate(arena, DType.F64, n, data.inputDimension());
    Tensor y = Tensor.allocate(arena, DType.F64, n, data.outputDimension());
    Tensor in = data.inputs();
    for (int i = 0; i < n; i++) {
      x.rowSlice(i, 1).copyFrom(in.rowSlice(from + i * step, 1));
      y.rowSlice(i, 1).copyFrom(data.targets().rowSlice(from + i * step, 1));
    }
    return new Dataset(x, y, what);
  }

  /** Fraction of rows whose largest output is at the target's largest entry (the class). */
  public static double accuracy(Tensor outputs, Tensor targets) {
    int correct = 0;
    for (int i = 0; i < outputs.rows(); i++) {
      int a = 0, b = 0;
      for (int c = 1; c < outputs.cols(); c++) {
        if (outputs.get(i, c) > outputs.get(i, a)) a = c;
        if (targets.get(i, c) > targets.get(i, b)) b = c;
      }
      if (a == b) correct++;
    }
    return (double) correct / outputs.rows();
  }

  /** A P×1 f64 tensor holding {@code values}. */
  public Tensor vector(double[] values) {
    return Tensor.of(arena, DType.F64, values.length, 1, values);
  }

  /** Trains from {@code theta0} and returns the parameters after {@code epochs} epochs. */
  public double[] train(
      Mlp mlp, Loss loss, Dataset data, double[] theta0, Trainer.Options options, int epochs) {
    try (Trainer t = new Trainer(mlp, loss, data, backend, DType.F64, theta0, options)) {
      t.train(epochs, null);
      return t.parameters();
    }
  }

  /** Full-batch gradient descent (the §B.3 protocol): {@code steps} steps of size {@code lr}. */
  public double[] gradientDescent(
      Mlp mlp, Loss loss, Dataset data, double[] theta0, double lr, int steps) {
    return train(mlp, loss, data, theta0, new Trainer.Options(lr, 0, data.size(), 0, null), steps);
  }

  private static Tensor assemble(MlpObjective f, Curvature c, int layer, Arena tmp) {
    return DenseAssembly.assemble(
            Operators.curvature(f, c, layer), tmp, new DenseAssembly.Options().maxBlock(BLOCK))
        .matrix();
  }

  /** The dense symmetric matrix of curvature {@code c} (layer block {@code layer}, or all when < 0). */
  public double[][] dense(MlpObjective f, Curvature c, int layer) {
    try (Arena tmp = Arena.ofShared()) { // the backend's workers read it
      Tensor m = assemble(f, c, layer, tmp);
      double[][] out = new double[m.rows()][];
      for (int i = 0; i < out.length; i++) out[i] = m.rowSlice(i, 1).toDoubleArray();
      return out;
    }
  }

  /** Eigenvalues (ascending) of the dense curvature matrix. */
  public double[] eigenvalues(MlpObjective f, Curvature c, int layer) {
    try (Arena tmp = Arena.ofShared()) { // the backend's workers read it
      return SymmetricEigen.select(null).decomposeInPlace(assemble(f, c, layer, tmp), false);
    }
  }

  /** Eigenvalues (ascending) of a dense symmetric matrix. */
  public static double[] eigenvalues(double[][] m) {
    return SymmetricEigen.select(null).eigenvalues(m);
  }

  /**
   * The outlier count of §B.3 (gap detector): with eigenvalues sorted in decreasing order, the index {@code i}
   * (1-based) of the largest ratio {@code λ_i/λ_{i+1}} among the top {@code 3k} eigenvalues. A ratio with
   * {@code λ_{i+1} ≤ 0 < λ_i} counts as infinite (the first such i wins).
   */
  public static int gapCount(double[] ascending, int k) {
    int n = ascending.length;
    int top = Math.min(3 * k, n);
    int best = 1;
    double bestRatio = Double.NEGATIVE_INFINITY;
    for (int i = 1; i < top; i++) {
      double a = ascending[n - i], b = ascending[n - i - 1];
      double r = b > 0 ? a / b : (a > 0 ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY);
      if (r > bestRatio) {
        bestRatio = r;
        best = i;
      }
    }
    return best;
  }

  @Override
  public void close() {
    for (AutoCloseable c : owned) {
      try {
        c.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    backend.close();
    arena.close();
  }
}

package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.spectral.DenseAssembly;
import io.hvp4j.spectral.NumericalRank;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.RankPredictions;
import io.hvp4j.spectral.SymmetricEigen;
import java.lang.foreign.Arena;
import java.util.EnumMap;
import java.util.Map;

/**
 * The exact dense curvature matrices {@code H}, {@code H_O}, {@code H_F} (float64, assembled column by column from
 * the engine's forward-over-reverse products) of one network at one point, their eigenvalues and numerical ranks.
 * Matrices and eigenvalues are computed on first use and kept. Not thread-safe; close it to free the off-heap
 * memory.
 */
public final class DenseCurvature implements AutoCloseable {
  /** Relative thresholds (times σ_max) between which a rank must not change to count as robust (spec §D). */
  static final double ROBUST_LOW = 1e-12;
  static final double ROBUST_HIGH = 1e-7;
  /** Smallest gap σ_r/σ_{r+1} at the cut accepted by {@link Rank#separated}. */
  static final double MIN_GAP = 1e4;

  private final Arena arena = Arena.ofShared();
  private final Backend backend;
  private final MlpObjective objective;
  private final Mlp mlp;
  private final Dataset data;
  private final Map<Curvature, Tensor> matrices = new EnumMap<>(Curvature.class);
  private final Map<Curvature, double[]> eigenvalues = new EnumMap<>(Curvature.class);
  private final SymmetricEigen solver = SymmetricEigen.select(null);

  /**
   * The numerical rank of one matrix.
   *
   * @param rank    count of |λ| above {@code σ_max · n · ε} (numpy's matrix_rank default)
   * @param atLow   count above {@link #ROBUST_LOW}·σ_max
   * @param atHigh  count above {@link #ROBUST_HIGH}·σ_max
   * @param gap     σ_r/σ_{r+1} at the default cut ({@code +∞} when nothing non-zero is dropped)
   */
  public record Rank(int rank, int atLow, int atHigh, double sigmaMax, double gap) {
    /** The same count for every relative threshold in [1e-12, 1e-7] (counts are monotone in the threshold). */
    public boolean robust() {
      return rank == atLow && rank == atHigh;
    }

    /**
     * The weaker acceptance for larger networks (p in the thousands) and image data, whose smallest non-zero
     * eigenvalues can fall below 1e-7·σ_max (even near the default tolerance) while the zero ones stay at rounding
     * level: a gap {@code σ_r/σ_{r+1} ≥} {@value #MIN_GAP} at the default cut.
     */
    public boolean separated() {
      return gap >= MIN_GAP;
    }

    @Override
    public String toString() {
      return robust() ? Integer.toString(rank) : String.format(java.util.Locale.ROOT,
          "%d (not robust: %d at 1e-12, %d at 1e-7; gap %.1e)", rank, atLow, atHigh, gap);
    }
  }

  /** Opens the objective of {@code mlp} and {@code loss} on {@code data} at {@code theta}; data must be float64. */
  DenseCurvature(Mlp mlp, Loss loss, Dataset data, double[] theta, int threads) {
    this.mlp = mlp;
    this.data = data;
    this.backend = new VectorBackend(threads);
    MlpObjective f = null;
    try {
      f = new MlpObjective(mlp, loss, Loss.Reduction.SUM, data, backend, DType.F64, data.size(),
          DenseAssembly.DEFAULT_BLOCK);
      f.setParameters(Tensor.of(arena, DType.F64, theta.length, 1, theta));
    } catch (RuntimeException | Error e) {
      if (f != null) f.close();
      backend.close();
      arena.close();
      throw e;
    }
    this.objective = f;
  }

  /** The network, data and point of {@code spec}. */
  static DenseCurvature of(NetSpec spec, int threads) {
    Arena dataArena = Arena.ofShared();
    try {
      Dataset data = spec.data(dataArena);
      DenseCurvature c = new DenseCurvature(spec.mlp(), spec.loss(), data, spec.parameters(), threads);
      c.owned = dataArena;
      return c;
    } catch (RuntimeException | Error e) {
      dataArena.close();
      throw e;
    }
  }

  private Arena owned;

  Mlp mlp() {
    return mlp;
  }

  int parameters() {
    return mlp.parameterCount();
  }

  /** r: the numerical rank of the inputs (SVD convention). */
  int inputRank() {
    return RankPredictions.inputRank(data.inputs()).rank();
  }

  /** r̃ = rank([X 1]). */
  int augmentedInputRank() {
    return RankPredictions.augmentedInputRank(data.inputs()).rank();
  }

  /** The dense symmetrized matrix (kept; do not modify). */
  Tensor matrix(Curvature c) {
    Tensor m = matrices.get(c);
    if (m == null) {
      m = DenseAssembly.assemble(Operators.curvature(objective, c, -1), arena).matrix();
      matrices.put(c, m);
    }
    return m;
  }

  /**
   * The diagonal block of layer {@code layer} (0-based; weight then bias), assembled from the engine's own
   * layer-block product (an independent path from slicing {@link #matrix}); the caller's arena owns it.
   */
  Tensor layerBlock(Curvature c, int layer, Arena into) {
    return DenseAssembly.assemble(Operators.curvature(objective, c, layer), into).matrix();
  }

  /** Eigenvalues in ascending order. When the matrix was not requested before, it is never kept. */
  double[] eigenvalues(Curvature c) {
    double[] e = eigenvalues.get(c);
    if (e == null) {
      Tensor m = matrices.get(c);
      if (m != null) {
        e = solver.eigenvalues(m);
      } else {
        try (Arena tmp = Arena.ofShared()) {
          e = solver.decomposeInPlace(DenseAssembly.assemble(Operators.curvature(objective, c, -1), tmp).matrix(),
              false);
        }
      }
      eigenvalues.put(c, e);
    }
    return e;
  }

  Rank rank(Curvature c) {
    return rankOf(eigenvalues(c));
  }

  /** The {@link Rank} of a symmetric matrix with eigenvalues {@code eig}. */
  public static Rank rankOf(double[] eig) {
    var def = NumericalRank.ofEigenvalues(eig, DType.F64, NumericalRank.Tolerance.DEFAULT);
    int low = countAbove(eig, ROBUST_LOW * def.sigmaMax());
    int high = countAbove(eig, ROBUST_HIGH * def.sigmaMax());
    return new Rank(def.rank(), low, high, def.sigmaMax(), def.gap());
  }

  /** Number of |λ| strictly above {@code tau}. */
  static int countAbove(double[] eig, double tau) {
    int c = 0;
    for (double x : eig) if (Math.abs(x) > tau) c++;
    return c;
  }

  @Override
  public void close() {
    try {
      objective.close();
      backend.close();
    } finally {
      arena.close();
      if (owned != null) owned.close();
    }
  }
}

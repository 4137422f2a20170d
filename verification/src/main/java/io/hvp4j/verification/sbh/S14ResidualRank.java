package io.hvp4j.verification.sbh;

import io.hvp4j.random.Rng;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.spectral.RankPredictions;
import io.hvp4j.verification.CheckContext;
import java.lang.foreign.Arena;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * [SBH] S14 (docs/theory.md §A.2, §A.6, §D.2 second item; the id is ours): the rank of {@code H_F} follows the rank
 * {@code s = rank(Ω)} of the residual–input cross-covariance {@code Ω = Σ_i g_i x_iᵀ}, and the generic formulas
 * stay upper bounds away from a random point. Training is not run here: for a bias-free deep linear net with mse
 * at a random point the targets are set to {@code Y = F(X) + R} with a residual {@code R} of chosen rank
 * {@code t = K, …, 1, 0}, so that {@code s = min(t, r)} is known exactly (the stand-in for the points a training
 * run passes through as its residual shrinks). Asserted: the measured {@code rank(Ω) = min(t, r)};
 * {@code rank(H_F)} never increases as {@code t} falls; at {@code t = 0} (an exact fit, to rounding)
 * {@code ‖H_F‖₂ ≤ 1e-10·‖H‖₂} and
 * {@code rank(H) = rank(H_O)}; at every t, {@code rank(H) ≤ 2qΣM + q(r + K′) − Lq²}, {@code rank(H_F) ≤
 * 2qΣM + 2qs − Lq²} with the measured s (0 when s = 0), and {@code rank(H_O) = q(r + K′ − q)} (H_O does not see
 * the residual).
 */
public final class S14ResidualRank extends SbhCheck {

  public S14ResidualRank() {
    super("S14", "rank(H_F) follows s = rank(Ω) as the residual shrinks (0 at an exact fit); the formulas stay"
        + " upper bounds");
  }

  static NetSpec[] grid(boolean full) {
    NetSpec[] quick = {
      NetSpec.linear(Loss.MSE, 30, 8, 141, 8, 6, 5, 4), NetSpec.linear(Loss.MSE, 20, 4, 142, 9, 5, 6)};
    if (!full) return quick;
    return new NetSpec[] {quick[0], quick[1], NetSpec.linear(Loss.MSE, 50, 25, 143, 25, 5, 10, 10)};
  }

  @Override
  String measure(CheckContext context, Tally tally) {
    int done = 0, points = 0, conjectured = 0;
    for (NetSpec spec : grid(context.full())) {
      Mlp mlp = spec.mlp();
      int k = spec.outputs();
      double[] theta = spec.parameters();
      Integer lastFunctional = null;
      for (int t = k; t >= 0; t--) {
        context.progress().accept(String.format(Locale.ROOT, "S14 %s residual rank %d", spec.describe(), t));
        try (Arena arena = Arena.ofShared()) {
          Dataset base = spec.data(arena);
          Tensor x = base.inputs();
          double[][] f = outputs(mlp, theta, x);
          double[][] residual = lowRank(x.rows(), k, t, spec.seed() + 7);
          Tensor y = Tensor.allocate(arena, DType.F64, x.rows(), k);
          for (int i = 0; i < x.rows(); i++) for (int c = 0; c < k; c++) y.set(i, c, f[i][c] + residual[i][c]);
          Dataset data = new Dataset(x, y, spec.describe() + " residual rank " + t);
          try (DenseCurvature dc = new DenseCurvature(mlp, Loss.MSE, data, theta, context.threads())) {
            int r = dc.inputRank();
            int s = omegaRank(residual, x);
            RankPredictions.Prediction generic = RankPredictions.predict(mlp, Loss.MSE, r, -1).orElseThrow();
            int q = generic.q(), hidden = 0;
            for (int l = 1; l < mlp.layers(); l++) hidden += mlp.width(l);
            int boundF = s == 0 ? 0 : 2 * q * hidden + 2 * q * s - mlp.layers() * q * q;
            DenseCurvature.Rank h = dc.rank(Curvature.HESSIAN), o = dc.rank(Curvature.GAUSS_NEWTON);
            DenseCurvature.Rank fr = dc.rank(Curvature.FUNCTIONAL);
            // At t = 0 the targets equal F(X) to rounding (computed here, not by the engine): H_F is then
            // rounding noise, zero relative to ‖H‖₂, and its own relative rank is meaningless.
            boolean fit = t == 0;
            int functional = fit ? 0 : fr.rank();
            double relative = fr.sigmaMax() / h.sigmaMax();
            boolean ok = s == Math.min(t, r) && h.rank() <= generic.hessian() && functional <= boundF
                && o.rank() == generic.outer() && (lastFunctional == null || functional <= lastFunctional)
                && (!fit || (relative <= RELATIVE && h.rank() == o.rank()))
                && (fit || fr.robust());
            lastFunctional = functional;
            // Observation, not asserted: the §A.3 formulas with q replaced by q_s = min(q, s).
            int qs = Math.min(q, s);
            int predF = 2 * qs * hidden + 2 * qs * s - mlp.layers() * qs * qs;
            int predH = generic.outer() + predF - (2 * qs * s - qs * qs);
            points++;
            if (functional == predF && h.rank() == predH) conjectured++;
            tally.record(ok, String.format(Locale.ROOT, "%s residual rank %d: s = rank(Ω) = %d; H_F %s (<= %d), H %s"
                + " (<= %d), H_O %s (= %d)%s", spec.describe(), t, s, fit ? "|H_F|/|H| = "
                + String.format(Locale.ROOT, "%.1e", relative) : fr.toString(), boundF, h, generic.hessian(), o,
                generic.outer(), fit ? " (exact fit: rank H = rank H_O)" : ""));
          }
        }
      }
      done++;
    }
    tally.note(String.format(Locale.ROOT, "observed (not asserted): rank(H_F) = 2q_sΣM + 2q_s·s - Lq_s² and"
        + " rank(H) = rank(H_O) + rank(H_F) - (2q_s·s - q_s²) with q_s = min(q, s) at %d of %d points", conjectured,
        points));
    tally.measured = String.format(Locale.ROOT, "%d/%d points as expected; the formulas with q_s = min(q, s) match"
        + " %d/%d (observation)", tally.passed, tally.points, conjectured, points);
    tally.expected = "H_F non-increasing in s, 0 at an exact fit; rank(H) <= generic formula; rank(H_O) unchanged";
    return done + " bias-free linear mse nets at a random point with targets F(X) + R, rank(R) = K..0";
  }

  /** F(X) = X W_1ᵀ ⋯ W_Lᵀ for a bias-free linear network ({@code N × K}). */
  static double[][] outputs(Mlp mlp, double[] theta, Tensor x) {
    double[][] a = new double[x.rows()][x.cols()];
    for (int i = 0; i < x.rows(); i++) for (int j = 0; j < x.cols(); j++) a[i][j] = x.get(i, j);
    for (int l = 0; l < mlp.layers(); l++) {
      int in = mlp.width(l), out = mlp.width(l + 1), w = mlp.weightOffset(l);
      double[][] z = new double[a.length][out];
      for (int i = 0; i < a.length; i++) {
        for (int o = 0; o < out; o++) {
          double sum = 0;
          for (int c = 0; c < in; c++) sum += a[i][c] * theta[w + o * in + c];
          z[i][o] = sum;
        }
      }
      a = z;
    }
    return a;
  }

  /** A Gaussian {@code n × k} matrix of rank {@code t} (zero for t = 0). */
  static double[][] lowRank(int n, int k, int t, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[][] a = new double[n][t], b = new double[t][k], m = new double[n][k];
    for (double[] row : a) for (int j = 0; j < t; j++) row[j] = Rng.gaussian(rng);
    for (double[] row : b) for (int j = 0; j < k; j++) row[j] = Rng.gaussian(rng);
    for (int i = 0; i < n; i++) for (int j = 0; j < k; j++) for (int c = 0; c < t; c++) m[i][j] += a[i][c] * b[c][j];
    return m;
  }

  /** rank(Ω) with {@code Ω = −Rᵀ X} (mse: g_i = f_i − y_i = −r_i), by the SVD convention of the inputs. */
  static int omegaRank(double[][] residual, Tensor x) {
    int k = residual[0].length, d = x.cols();
    try (Arena arena = Arena.ofConfined()) {
      Tensor omega = Tensor.allocate(arena, DType.F64, k, d);
      for (int c = 0; c < k; c++) {
        for (int j = 0; j < d; j++) {
          double sum = 0;
          for (int i = 0; i < residual.length; i++) sum -= residual[i][c] * x.get(i, j);
          omega.set(c, j, sum);
        }
      }
      return RankPredictions.inputRank(omega).rank();
    }
  }
}

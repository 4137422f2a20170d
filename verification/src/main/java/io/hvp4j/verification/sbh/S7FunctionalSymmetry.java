package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.verification.CheckContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * [SBH] S7 (docs/theory.md §A.3, §D.1): for L = 2 linear networks {@code H_F = [[0, C], [Cᵀ, 0]]}, so its spectrum is
 * symmetric about zero: with eigenvalues in ascending order, {@code λ_i + λ_{p+1−i} = 0} within
 * {@value SbhCheck#RELATIVE}·‖H_F‖₂. Also measured: {@code s·M_1} eigenvalues on each side of zero (rank 2·s·M_1).
 */
public final class S7FunctionalSymmetry extends SbhCheck {

  public S7FunctionalSymmetry() {
    super("S7",
        "L = 2 linear: the spectrum of H_F is symmetric, λ_i + λ_{p+1-i} = 0, with s·M_1 eigenvalues of each sign");
  }

  static List<NetSpec> grid(boolean full) {
    List<NetSpec> g = new ArrayList<>(List.of(
        NetSpec.linear(Loss.MSE, 40, 10, 71, 10, 8, 3),
        NetSpec.linear(Loss.CE, 40, 10, 72, 10, 8, 3),
        NetSpec.linear(Loss.COSH, 50, 8, 73, 8, 3, 6),    // bottleneck: s = 6 > M_1 = 3
        NetSpec.linear(Loss.MSE, 20, 3, 74, 6, 12, 2),    // r = 3 < d
        NetSpec.linear(Loss.CE, 5, 9, 75, 9, 7, 4),       // N < d
        NetSpec.linear(Loss.MSE, 30, 5, 76, 5, 4, 1)));   // K = 1
    if (full) {
      g.add(NetSpec.linear(Loss.MSE, 100, 64, 77, 64, 10, 10));
      g.add(NetSpec.linear(Loss.CE, 100, 41, 78, 64, 12, 10));
    }
    return g;
  }

  @Override
  String measure(CheckContext context, Tally tally) {
    List<NetSpec> grid = grid(context.full());
    double worst = 0;
    int i = 0;
    for (NetSpec spec : grid) {
      context.progress().accept(String.format(Locale.ROOT, "S7 %d/%d %s", ++i, grid.size(), spec.describe()));
      try (DenseCurvature dc = DenseCurvature.of(spec, context.threads())) {
        double[] e = dc.eigenvalues(Curvature.FUNCTIONAL);
        int p = e.length;
        double norm = Math.max(Math.abs(e[0]), Math.abs(e[p - 1]));
        double dev = 0;
        for (int k = 0; k < p; k++) dev = Math.max(dev, Math.abs(e[k] + e[p - 1 - k]));
        DenseCurvature.Rank rank = dc.rank(Curvature.FUNCTIONAL);
        double tau = rank.sigmaMax() * p * Math.ulp(1.0);
        int pos = 0, neg = 0;
        for (double x : e) {
          if (x > tau) pos++;
          if (x < -tau) neg++;
        }
        int s = Math.min(dc.inputRank(), Math.min(spec.effectiveDataRank(),
            spec.loss() == Loss.CE ? spec.outputs() - 1 : spec.outputs()));
        int half = s * spec.widths()[1];
        double rel = norm == 0 ? 0 : dev / norm;
        worst = Math.max(worst, rel);
        boolean ok = norm > 0 && rel <= RELATIVE && pos == half && neg == half && rank.robust();
        tally.record(ok, String.format(Locale.ROOT,
            "%s p=%d: max|λ_i+λ_{p+1-i}|/|H_F|_2 = %.1e; %d positive, %d negative (s·M_1 = %d), λ_max = %.4g",
            spec.describe(), p, rel, pos, neg, half, e[p - 1]));
      }
    }
    tally.measured = String.format(Locale.ROOT, "max asymmetry %.1e·|H_F|_2; %d/%d nets with s·M_1 of each sign",
        worst, tally.passed, tally.points);
    tally.expected = "0 within 1e-10·|H_F|_2";
    return "L = 2 linear nets, mse/ce/cosh, incl. bottleneck, r<d, N<d, K=1; " + grid.size() + " nets";
  }
}

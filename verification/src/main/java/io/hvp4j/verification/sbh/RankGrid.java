package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.spectral.RankPredictions;
import io.hvp4j.verification.CheckContext;
import java.util.List;
import java.util.Locale;

/** Measured numerical ranks against the closed forms of §A.3/§A.5 over a grid of bias-free deep linear nets. */
final class RankGrid {
  private RankGrid() {}

  /** H, H_O or H_F. */
  static String label(Curvature c) {
    return switch (c) {
      case HESSIAN -> "H";
      case GAUSS_NEWTON -> "H_O";
      case FUNCTIONAL -> "H_F";
    };
  }

  static int predicted(RankPredictions.Prediction p, Curvature c) {
    return switch (c) {
      case HESSIAN -> p.hessian();
      case GAUSS_NEWTON -> p.outer();
      case FUNCTIONAL -> p.functional();
    };
  }

  /**
   * For each grid point: the input rank must come out as built, and each of {@code ops} must have exactly the
   * predicted numerical rank, robustly (same count for every relative threshold in [1e-12, 1e-7]).
   */
  static void run(String id, CheckContext ctx, Tally tally, List<NetSpec> grid, List<Curvature> ops) {
    int i = 0;
    for (NetSpec spec : grid) {
      ctx.progress().accept(String.format(Locale.ROOT, "%s %d/%d %s", id, ++i, grid.size(), spec.describe()));
      try (DenseCurvature dc = DenseCurvature.of(spec, ctx.threads())) {
        int r = dc.inputRank();
        RankPredictions.Prediction p = RankPredictions.predict(dc.mlp(), spec.loss(), r, -1).orElseThrow();
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s p=%d q=%d s=%d:", spec.describe(),
            dc.parameters(), p.q(), p.s()));
        boolean ok = r == spec.effectiveDataRank();
        if (!ok) line.append(" input rank ").append(r).append(" != ").append(spec.effectiveDataRank());
        for (Curvature c : ops) {
          DenseCurvature.Rank m = dc.rank(c);
          int e = predicted(p, c);
          boolean good = m.rank() == e && m.robust();
          ok &= good;
          line.append(' ').append(label(c)).append(' ').append(m).append(good ? " = " : " != ").append(e);
        }
        int layers = dc.mlp().layers();
        if (ops.contains(Curvature.FUNCTIONAL)) {
          // The closed form's special cases: H_F = 0 for L = 1 (linear in θ), 2·s·M_1 for L = 2.
          int special = layers == 1 ? 0 : layers == 2 ? 2 * p.s() * dc.mlp().width(1) : p.functional();
          if (special != p.functional()) {
            ok = false;
            line.append(" formula ").append(p.functional()).append(" != special case ").append(special);
          }
        }
        if (ops.size() == 3 && layers >= 2) {
          // rank(H) = rank(H_O) + rank(H_F) − (2qs − q²), the identity the authors' code predicts with.
          int sum = dc.rank(Curvature.GAUSS_NEWTON).rank() + dc.rank(Curvature.FUNCTIONAL).rank()
              - (2 * p.q() * p.s() - p.q() * p.q());
          if (sum != dc.rank(Curvature.HESSIAN).rank()) {
            ok = false;
            line.append(" rank(H_O)+rank(H_F)-(2qs-q²) = ").append(sum);
          }
        }
        tally.record(ok, line.toString());
      }
    }
  }

  /** "L=1..5, K=1..7, d=4..25, N=4..50" over a grid. */
  static String ranges(List<NetSpec> grid) {
    int lMin = Integer.MAX_VALUE, lMax = 0, kMin = Integer.MAX_VALUE, kMax = 0, dMin = Integer.MAX_VALUE, dMax = 0;
    int nMin = Integer.MAX_VALUE, nMax = 0, pMax = 0, lowRank = 0, wide = 0;
    for (NetSpec s : grid) {
      int l = s.widths().length - 1;
      lMin = Math.min(lMin, l);
      lMax = Math.max(lMax, l);
      kMin = Math.min(kMin, s.outputs());
      kMax = Math.max(kMax, s.outputs());
      dMin = Math.min(dMin, s.inputs());
      dMax = Math.max(dMax, s.inputs());
      nMin = Math.min(nMin, s.samples());
      nMax = Math.max(nMax, s.samples());
      pMax = Math.max(pMax, s.mlp().parameterCount());
      if (s.samples() < s.inputs()) wide++;
      else if (s.effectiveDataRank() < s.inputs()) lowRank++;
    }
    return String.format(Locale.ROOT, "%d nets: L=%d..%d, K=%d..%d, d=%d..%d, N=%d..%d, p<=%d; %d with r<d (low-rank"
        + " inputs), %d with N<d", grid.size(), lMin, lMax, kMin, kMax, dMin, dMax, nMin, nMax, pMax, lowRank, wide);
  }
}

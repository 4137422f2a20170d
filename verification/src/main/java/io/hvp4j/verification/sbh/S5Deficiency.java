package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.spectral.RankPredictions;
import io.hvp4j.verification.CheckContext;
import java.util.List;
import java.util.Locale;

/**
 * [SBH] S5 (docs/theory.md §A.3, §D.1): the rank deficiency {@code p − rank(H)} of bias-free deep linear nets equals
 * {@code Σ_l (M_{l−1} − q)(M_l − q) + q(d − r)} (ce: {@code M_L → K − 1} in the sum, plus {@code M_{L−1}}),
 * measured on {@link Grids#deficiency} (mse and ce).
 */
public final class S5Deficiency extends SbhCheck {

  public S5Deficiency() {
    super("S5", "p - rank(H) = Σ(M_{l-1} - q)(M_l - q) + q(d - r)  (ce: M_L -> K-1, plus M_{L-1})");
  }

  @Override
  String measure(CheckContext context, Tally tally) {
    List<NetSpec> grid = Grids.deficiency(context.full());
    tally.expected = "the closed form at every point";
    int i = 0;
    for (NetSpec spec : grid) {
      context.progress().accept(String.format(Locale.ROOT, "S5 %d/%d %s", ++i, grid.size(), spec.describe()));
      try (DenseCurvature dc = DenseCurvature.of(spec, context.threads())) {
        int r = dc.inputRank();
        int expected = RankPredictions.deficiency(dc.mlp(), spec.loss(), r).orElseThrow();
        DenseCurvature.Rank h = dc.rank(Curvature.HESSIAN);
        int measured = dc.parameters() - h.rank();
        boolean ok = measured == expected && h.robust() && r == spec.effectiveDataRank();
        tally.record(ok, String.format(Locale.ROOT, "%s p=%d: p - rank(H) = %d - %s = %d, closed form %d",
            spec.describe(), dc.parameters(), dc.parameters(), h, measured, expected));
      }
    }
    return "bias-free linear, mse and ce, " + RankGrid.ranges(grid);
  }
}

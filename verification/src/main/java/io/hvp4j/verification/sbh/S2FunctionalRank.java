package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.verification.CheckContext;
import java.util.List;

/**
 * [SBH] S2 (docs/theory.md §A.3, §D.1): the exact numerical rank of {@code H_F} of bias-free deep linear networks
 * with the mse loss at a random initialization equals the closed form, robustly, on the grid {@link Grids#mse}.
 */
public final class S2FunctionalRank extends SbhCheck {

  public S2FunctionalRank() {
    super("S2", "rank of H_F = 2q·ΣM + 2qs - Lq² (= 2sM_1 when L = 2; 0 when L = 1), robust");
  }

  @Override
  String measure(CheckContext context, Tally tally) {
    List<NetSpec> grid = Grids.mse(context.full());
    tally.expected = "2qΣM+2qs-Lq² at every point, robust";
    RankGrid.run(id(), context, tally, grid, List.of(Curvature.FUNCTIONAL));
    return "bias-free linear, mse, " + RankGrid.ranges(grid) + "; dense f64 from exact products";
  }
}

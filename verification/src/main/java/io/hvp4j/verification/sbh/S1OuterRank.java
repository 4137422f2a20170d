package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.verification.CheckContext;
import java.util.List;

/**
 * [SBH] S1 (docs/theory.md §A.3, §D.1): the exact numerical rank of {@code H_O} of bias-free deep linear networks
 * with the mse loss at a random initialization equals the closed form, robustly, on the grid {@link Grids#mse}.
 */
public final class S1OuterRank extends SbhCheck {

  public S1OuterRank() {
    super("S1", "rank of H_O of bias-free deep linear nets (mse) at random init = q(r + K - q), robust");
  }

  @Override
  String measure(CheckContext context, Tally tally) {
    List<NetSpec> grid = Grids.mse(context.full());
    tally.expected = "q(r+K-q) at every point, robust in [1e-12,1e-7]";
    RankGrid.run(id(), context, tally, grid, List.of(Curvature.GAUSS_NEWTON));
    return "bias-free linear, mse, " + RankGrid.ranges(grid) + "; dense f64 from exact products";
  }
}

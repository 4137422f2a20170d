package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.verification.CheckContext;
import java.util.List;

/**
 * [SBH] S3 (docs/theory.md §A.3, §D.1): the exact numerical rank of {@code H} of bias-free deep linear networks
 * with the mse loss at a random initialization equals the closed form, robustly, on the grid {@link Grids#mse}.
 */
public final class S3HessianRank extends SbhCheck {

  public S3HessianRank() {
    super("S3", "rank of H = 2q·ΣM + q(r + K') - Lq², robust");
  }

  @Override
  String measure(CheckContext context, Tally tally) {
    List<NetSpec> grid = Grids.mse(context.full());
    tally.expected = "2qΣM+q(r+K')-Lq² at every point, robust";
    RankGrid.run(id(), context, tally, grid, List.of(Curvature.HESSIAN));
    return "bias-free linear, mse, " + RankGrid.ranges(grid) + "; dense f64 from exact products";
  }
}

package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.verification.CheckContext;
import java.util.List;

/**
 * [SBH] S4 (docs/theory.md §A.5, §D.1): S1–S3 with the cross-entropy loss, where every formula holds with
 * {@code K′ = K − 1} (softmax shift invariance), and with the cosh loss, where {@code K′ = K}. All three ranks are
 * measured on the grid {@link Grids#ceAndCosh}, together with the identity
 * {@code rank(H) = rank(H_O) + rank(H_F) − (2qs − q²)}.
 */
public final class S4CrossEntropyCosh extends SbhCheck {

  public S4CrossEntropyCosh() {
    super("S4", "S1-S3 hold for cross-entropy with K' = K - 1 and for cosh with K' = K");
  }

  @Override
  String measure(CheckContext context, Tally tally) {
    List<NetSpec> grid = Grids.ceAndCosh(context.full());
    tally.expected = "H_O, H_F, H = the §A.3 formulas with K' (ce: K-1, cosh: K), robust";
    RankGrid.run(id(), context, tally, grid,
        List.of(Curvature.GAUSS_NEWTON, Curvature.FUNCTIONAL, Curvature.HESSIAN));
    return "bias-free linear, ce and cosh, " + RankGrid.ranges(grid);
  }
}

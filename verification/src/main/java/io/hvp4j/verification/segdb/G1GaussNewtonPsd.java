package io.hvp4j.verification.segdb;

import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;

/** G1 (docs/theory.md §D.3): the Gauss–Newton part G is positive semi-definite. */
public final class G1GaussNewtonPsd extends AbstractCheck {
  public G1GaussNewtonPsd() {
    super("G1", Paper.SEGDB, CheckKind.HARD, "λ_min(G) ≥ 0: the Gauss–Newton part is PSD");
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) {
    out.configuration = GgnSpectra.configuration(ctx);
    double worst = Double.POSITIVE_INFINITY;
    for (GgnSpectra.Case c : GgnSpectra.compute(ctx)) {
      double min = c.eigenvalues()[0], max = c.eigenvalues()[c.eigenvalues().length - 1];
      double rel = min / max;
      worst = Math.min(worst, rel);
      boolean ok = min >= -1e-10 * max;
      out.passed &= ok;
      out.detail("%s: λ_min = %.3e, λ_max = %.4g, λ_min/λ_max = %.2e %s", c.name(), min, max, rel, ok ? "" : "FAIL");
    }
    out.measured = "min over cases of λ_min/λ_max = " + g(worst);
    out.expected = "≥ −1e−10";
  }
}

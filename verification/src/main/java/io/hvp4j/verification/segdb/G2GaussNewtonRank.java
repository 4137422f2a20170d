package io.hvp4j.verification.segdb;

import io.hvp4j.memory.DType;
import io.hvp4j.spectral.NumericalRank;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;

/** G2 (docs/theory.md §D.3, §B.1): rank(G) ≤ min(p, N·k) for MSE and ≤ min(p, N·(k−1)) for CE. */
public final class G2GaussNewtonRank extends AbstractCheck {
  public G2GaussNewtonRank() {
    super("G2", Paper.SEGDB, CheckKind.HARD, "rank(G) ≤ min(p, N·k) (MSE), ≤ min(p, N·(k−1)) (CE)");
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) {
    out.configuration = GgnSpectra.configuration(ctx) + "; rank at the default tolerance";
    StringBuilder m = new StringBuilder(), e = new StringBuilder();
    for (GgnSpectra.Case c : GgnSpectra.compute(ctx)) {
      int rank =
          NumericalRank.ofEigenvalues(c.eigenvalues(), DType.F64, NumericalRank.Tolerance.DEFAULT).rank();
      int bound =
          Math.min(c.p(), c.samples() * (c.loss() == Loss.CE ? c.classes() - 1 : c.classes()));
      boolean ok = rank <= bound;
      out.passed &= ok;
      out.detail("%s: rank(G) = %d, bound %d, p = %d %s", c.name(), rank, bound, c.p(), ok ? "" : "FAIL");
      m.append(m.length() == 0 ? "" : " ").append(rank);
      e.append(e.length() == 0 ? "" : " ").append(bound);
    }
    out.measured = "ranks " + m;
    out.expected = "≤ " + e;
  }
}

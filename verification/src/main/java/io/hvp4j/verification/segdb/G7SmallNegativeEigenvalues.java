package io.hvp4j.verification.segdb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;

/**
 * G7 (docs/theory.md §D.3): after training the negative eigenvalues of H are small: |λ_min|/λ_max < 0.1. Protocol of
 * §B.3 with CE (lr 0.5, 300 GD steps), ReLU and tanh.
 */
public final class G7SmallNegativeEigenvalues extends AbstractCheck {
  public G7SmallNegativeEigenvalues() {
    super("G7", Paper.SEGDB, CheckKind.HARD, "after training |λ_min(H)|/λ_max(H) is small");
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) {
    int[] ks = ctx.full() ? new int[] {2, 4, 6} : new int[] {4};
    int[] widths = ctx.full() ? new int[] {10, 20, 40} : new int[] {20};
    out.configuration =
        "§B.3 with CE: 20-M-k with bias, sep=3, 40 points/cluster, 300 GD steps lr 0.5; relu, tanh; k in "
            + java.util.Arrays.toString(ks)
            + ", M in "
            + java.util.Arrays.toString(widths);
    double worst = 0;
    try (Experiment ex = new Experiment(ctx.threads())) {
      for (Activation act : new Activation[] {Activation.RELU, Activation.TANH}) {
        for (int k : ks) {
          for (int m : widths) {
            ctx.progress().accept("G7: " + act.id() + " k=" + k + " M=" + m);
            Protocol.Run r = Protocol.run(ex, act, Loss.CE, k, m, 3, 40, 300, 7000L + 10L * k + m, false);
            double[] h = r.hTrained();
            double ratio = Math.abs(Math.min(0, h[0])) / h[h.length - 1];
            worst = Math.max(worst, ratio);
            boolean ok = ratio < 0.1;
            out.passed &= ok;
            out.detail("%s k=%d M=%d: λ_min = %.3e, λ_max = %.4g, |λ_min|/λ_max = %.4f, loss %.3g %s",
                act.id(), k, m, h[0], h[h.length - 1], ratio, r.lossTrained(), ok ? "" : "FAIL");
          }
        }
      }
    }
    out.measured = "max |λ_min|/λ_max = " + g(worst);
    out.expected = "< 0.1";
  }
}

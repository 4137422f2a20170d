package io.hvp4j.verification.segdb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.plot.Chart;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;
import java.nio.file.Path;

/**
 * G6 (docs/theory.md §D.3, §B.2 claim 2): with the data fixed, growing the width M from 16 to 48 only scales the bulk:
 * the outlier count stays k (±1) and the fraction of |λ| < 1e−3·λ_max grows. §B.3 protocol (MSE, ReLU, sep = 3),
 * Hessian after training. Soft: reported. Plot: the two spectra (log counts).
 */
public final class G6BulkScaling extends AbstractCheck {
  public G6BulkScaling() {
    super("G6", Paper.SEGDB, CheckKind.SOFT, "over-parametrization only scales the bulk (M 16 → 48)");
  }

  static double nearZeroFraction(double[] eig) {
    double max = eig[eig.length - 1];
    int c = 0;
    for (double e : eig) if (Math.abs(e) < 1e-3 * max) c++;
    return (double) c / eig.length;
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) throws Exception {
    int[] ks = ctx.full() ? new int[] {2, 4, 6, 8} : new int[] {4};
    int steps = ctx.full() ? 300 : 100;
    out.configuration =
        "§B.3: MSE, relu, 20-M-k with bias, sep=3, 40 points/cluster, "
            + steps
            + " GD steps lr 0.1, H after training; k in "
            + java.util.Arrays.toString(ks);
    out.expected = "outliers k (±1) at both widths; near-zero fraction grows with M";
    StringBuilder m = new StringBuilder();
    try (Experiment ex = new Experiment(ctx.threads())) {
      for (int k : ks) {
        Chart chart = Chart.of("G6: eigenvalues of the loss Hessian H after training (exact), k = " + k,
                "eigenvalue λ", "count (eigenvalues per bin)").subtitle(out.configuration).logY().markOutliers();
        double[] frac = new double[2];
        int[] counts = new int[2];
        int i = 0;
        for (int width : new int[] {16, 48}) {
          ctx.progress().accept("G6: k=" + k + " M=" + width);
          Protocol.Run r = Protocol.run(ex, Activation.RELU, Loss.MSE, k, width, 3, 40, steps, 600L + k, false);
          frac[i] = nearZeroFraction(r.hTrained());
          counts[i] = Experiment.gapCount(r.hTrained(), k);
          chart.histogram("M = " + width + " (p = " + r.hTrained().length + ")", r.hTrained(), 60);
          i++;
        }
        out.detail("k=%d: outliers %d → %d, fraction |λ| < 1e-3·λ_max %.3f → %.3f", k, counts[0], counts[1],
            frac[0], frac[1]);
        m.append(m.length() == 0 ? "" : "; ")
            .append(String.format(java.util.Locale.ROOT, "k=%d: outliers %d→%d, near-zero %.2f→%.2f", k,
                counts[0], counts[1], frac[0], frac[1]));
        Path p = ctx.plotPath("G6-spectra-k" + k + ".png");
        if (p != null) {
          chart.save(p);
          out.plots.add(p);
        }
      }
    }
    out.measured = m.toString();
  }
}

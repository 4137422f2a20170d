package io.hvp4j.verification.segdb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;

/**
 * G5 (docs/theory.md §D.3, protocol §B.3): the number of outliers found by the gap detector is the number of clusters
 * k. Measured for G at init, G after training and H after training (MSE, ReLU, M = 48, sep = 3) over 5 seeds; the
 * seeds of §B.3 are not ours, so the "new seeds" rule applies: a matrix fails when its count is off by ≥ 2 in more
 * than 1 of the 5 seeds.
 */
public final class G5OutlierCount extends AbstractCheck {
  public G5OutlierCount() {
    super("G5", Paper.SEGDB, CheckKind.HARD, "outlier count (gap detector) = k clusters");
  }

  static final int SEEDS = 5;

  @Override
  protected void measure(CheckContext ctx, Outcome out) {
    int[] ks = ctx.full() ? new int[] {3, 5, 8} : new int[] {4};
    int perCluster = ctx.full() ? 50 : 40;
    out.configuration =
        "§B.3: MSE, relu, 20-48-k with bias, sep=3, "
            + perCluster
            + " points/cluster, 300 GD steps lr 0.1; k in "
            + java.util.Arrays.toString(ks)
            + "; "
            + SEEDS
            + " seeds";
    StringBuilder measured = new StringBuilder();
    try (Experiment ex = new Experiment(ctx.threads())) {
      for (int k : ks) {
        int[][] counts = new int[3][SEEDS];
        for (int s = 0; s < SEEDS; s++) {
          ctx.progress().accept("G5: k=" + k + " seed " + s);
          Protocol.Run r =
              Protocol.run(ex, Activation.RELU, Loss.MSE, k, 48, 3, perCluster, 300, 1000L * k + 10L * s, true);
          counts[0][s] = Experiment.gapCount(r.gInit(), k);
          counts[1][s] = Experiment.gapCount(r.gTrained(), k);
          counts[2][s] = Experiment.gapCount(r.hTrained(), k);
        }
        String[] names = {"G init", "G trained", "H trained"};
        for (int m = 0; m < 3; m++) {
          int bad = 0;
          for (int c : counts[m]) if (Math.abs(c - k) >= 2) bad++;
          boolean ok = bad <= 1;
          out.passed &= ok;
          out.detail("k=%d, %s: counts %s (%d seeds off by ≥ 2) %s", k, names[m],
              java.util.Arrays.toString(counts[m]), bad, ok ? "" : "FAIL");
          measured.append(measured.length() == 0 ? "" : "; ")
              .append("k=").append(k).append(' ').append(names[m]).append(' ')
              .append(java.util.Arrays.toString(counts[m]));
        }
      }
    }
    out.measured = measured.toString();
    out.expected = "k (at most 1 of 5 seeds off by ≥ 2)";
  }
}

package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.spectral.RankPredictions;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * [SBH] S12, soft (docs/theory.md §A.8, §D.2 first item; the id S12 is ours, §D.2 has none): the numerical rank of
 * {@code H} for ReLU and tanh networks, reported beside the prediction for the same shape with the identity
 * activation, with the counts above the ladder of relative thresholds 1e-12, 1e-8, 1e-6, 1e-4, 1e-3, 1e-2 (times
 * σ_max). The paper says the bounds "remain faithful as an estimate"; no equality is asserted. Setting of §A.8:
 * d = 25, widths (5, 10), K = 10, N = 50 (linear predictions 250 for mse, 245 for ce).
 */
public final class S12NonlinearRanks extends SbhCheck {

  static final double[] LADDER = {1e-12, 1e-8, 1e-6, 1e-4, 1e-3, 1e-2};

  public S12NonlinearRanks() {
    super("S12",
        "ReLU/tanh: numerical rank of H against the linear prediction, with the threshold ladder (reported)");
  }

  @Override
  public CheckKind kind() {
    return CheckKind.SOFT;
  }

  static List<NetSpec> grid(boolean full) {
    List<NetSpec> g = new ArrayList<>();
    for (Activation a : new Activation[] {Activation.RELU, Activation.TANH}) {
      for (Loss loss : new Loss[] {Loss.MSE, Loss.CE}) {
        g.add(NetSpec.linear(loss, 50, 25, 131, 25, 5, 10, 10).withActivation(a));
      }
    }
    if (full) g.add(NetSpec.linear(Loss.MSE, 200, 20, 132, 20, 30, 4).withActivation(Activation.RELU));
    return g;
  }

  @Override
  String measure(CheckContext context, Tally tally) {
    List<NetSpec> grid = grid(context.full());
    List<String> summary = new ArrayList<>();
    int i = 0;
    for (NetSpec spec : grid) {
      context.progress().accept(String.format(Locale.ROOT, "S12 %d/%d %s", ++i, grid.size(), spec.describe()));
      try (DenseCurvature dc = DenseCurvature.of(spec, context.threads())) {
        RankPredictions.Prediction linear = RankPredictions.predict(spec.withActivation(Activation.IDENTITY).mlp(),
            spec.loss(), dc.inputRank(), -1).orElseThrow();
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s p=%d:", spec.describe(),
            dc.parameters()));
        for (Curvature c : new Curvature[] {Curvature.HESSIAN, Curvature.GAUSS_NEWTON}) {
          double[] e = dc.eigenvalues(c);
          DenseCurvature.Rank m = dc.rank(c);
          line.append(String.format(Locale.ROOT, " %s rank %d (linear prediction %d), ladder", RankGrid.label(c),
              m.rank(), RankGrid.predicted(linear, c)));
          for (double t : LADDER) {
            line.append(String.format(Locale.ROOT, " %.0e:%d", t, DenseCurvature.countAbove(e, t * m.sigmaMax())));
          }
          line.append(';');
          if (c == Curvature.HESSIAN) {
            summary.add(String.format(Locale.ROOT, "%s %s %d/%d", spec.activation().id(), spec.loss().id(), m.rank(),
                linear.hessian()));
          }
        }
        tally.record(true, line.toString());
      }
    }
    tally.measured = "rank(H)/linear prediction: " + String.join(", ", summary);
    tally.expected = "close to the linear prediction (soft; §A.8 measured relu 261/251, tanh 275/265)";
    return "ReLU and tanh, mse and ce, d=25 widths (5,10) K=10 N=50" + (context.full() ? "; relu 20-30-4 N=200" : "");
  }
}

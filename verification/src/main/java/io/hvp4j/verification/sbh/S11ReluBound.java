package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.spectral.RankPredictions;
import io.hvp4j.verification.CheckContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * [SBH] S11 (docs/theory.md §A.8, §D.1): in a bias-free ReLU network, scaling a hidden neuron's incoming weights by
 * {@code e^t} and its outgoing weights by {@code e^−t} leaves F unchanged, so each hidden neuron gives a kernel
 * direction of every Jacobian: {@code rank(H_O) ≤ min(N·K′, p − Σ_l M_l)} (sum over hidden widths). Checked as an
 * inequality at the default tolerance on a grid of mse and ce networks, including the equality case §A.8 reports
 * (d = 10, width 8, K = 3, N = 40: 96 = 104 − 8). The reported non-linear ranks of D.2 are check S12.
 */
public final class S11ReluBound extends SbhCheck {

  public S11ReluBound() {
    super("S11", "bias-free ReLU nets: rank(H_O) <= min(N·K', p - ΣM_l)");
  }

  static List<NetSpec> grid(boolean full) {
    List<NetSpec> g = new ArrayList<>(List.of(
        NetSpec.linear(Loss.MSE, 40, 10, 121, 10, 8, 3),              // §A.8: 96 = 104 − 8
        NetSpec.linear(Loss.CE, 40, 10, 122, 10, 8, 3),
        NetSpec.linear(Loss.MSE, 6, 8, 123, 8, 6, 5, 4),              // N·K′ binds
        NetSpec.linear(Loss.CE, 50, 6, 124, 6, 7, 7, 7, 3),
        NetSpec.linear(Loss.MSE, 30, 4, 125, 9, 5, 6, 2),             // r < d
        NetSpec.linear(Loss.COSH, 25, 7, 126, 7, 6, 4)));
    if (full) {
      g.add(NetSpec.linear(Loss.MSE, 50, 25, 127, 25, 5, 10, 10));
      g.add(NetSpec.linear(Loss.MSE, 200, 20, 128, 20, 30, 4));     // §A.8: far above the linear prediction
    }
    return g.stream().map(s -> s.withActivation(Activation.RELU)).toList();
  }

  @Override
  String measure(CheckContext context, Tally tally) {
    List<NetSpec> grid = grid(context.full());
    int i = 0, equal = 0;
    for (NetSpec spec : grid) {
      context.progress().accept(String.format(Locale.ROOT, "S11 %d/%d %s", ++i, grid.size(), spec.describe()));
      try (DenseCurvature dc = DenseCurvature.of(spec, context.threads())) {
        int kp = RankPredictions.effectiveOutputs(spec.loss(), spec.outputs());
        int hidden = 0;
        for (int l = 1; l < dc.mlp().layers(); l++) hidden += dc.mlp().width(l);
        int bound = Math.min(spec.samples() * kp, dc.parameters() - hidden);
        DenseCurvature.Rank m = dc.rank(Curvature.GAUSS_NEWTON);
        boolean ok = m.rank() <= bound;
        if (m.rank() == bound) equal++;
        tally.record(ok, String.format(Locale.ROOT, "%s p=%d: rank(H_O) = %s %s min(N·K' = %d, p - ΣM = %d)",
            spec.describe(), dc.parameters(), m, ok ? (m.rank() == bound ? "=" : "<") : ">", spec.samples() * kp,
            dc.parameters() - hidden));
      }
    }
    tally.measured = String.format(Locale.ROOT, "%d/%d nets within the bound (%d with equality)", tally.passed,
        tally.points, equal);
    tally.expected = "rank(H_O) <= min(N·K', p - ΣM_l)";
    return grid.size() + " bias-free ReLU nets, mse/ce/cosh, L=2..4, incl. N·K' < p - ΣM";
  }
}

package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.model.Mlp;
import io.hvp4j.spectral.RankPredictions;
import io.hvp4j.verification.CheckContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * [SBH] S10 (docs/theory.md §A.7, §D.1): linear networks with a bias in every layer. In the valid regime of §A.7
 * ({@code r̃ = rank([X 1]) = r + 1} and every hidden width {@code ≥ min(r̃, K′)}) the measured ranks of H_O, H_F and
 * H equal the §A.7 formulas (robustly), and when {@code r ≥ K′} biases raise {@code rank(H)} by exactly
 * {@code L·K′} over the bias-free prediction.
 *
 * <p>Outside the regime there is no closed form: the check requires that {@link RankPredictions#predict} offers
 * none and compares with the numerical rank only (robust, at most p). The two counterexamples of §A.7 (a
 * bottleneck and {@code N ≤ d}) must also reproduce the mismatches §A.7 reports (H_F = 24 instead of 30;
 * H_O = 19 instead of 18).
 */
public final class S10Bias extends SbhCheck {

  public S10Bias() {
    super("S10", "bias in every layer: §A.7 formulas in their regime (+L·K' over bias-free when r >= K'); outside it,"
        + " numerical rank only");
  }

  static List<NetSpec> regime(boolean full) {
    List<NetSpec> g = new ArrayList<>(List.of(
        NetSpec.linear(Loss.MSE, 40, 10, 91, 10, 8, 8, 3).withBias(true),      // §A.11 #9
        NetSpec.linear(Loss.CE, 30, 6, 92, 6, 5, 5, 3).withBias(true),
        NetSpec.linear(Loss.MSE, 30, 8, 93, 8, 6, 4).withBias(true),           // L = 2
        NetSpec.linear(Loss.MSE, 20, 5, 94, 5, 4, 4, 4, 3).withBias(true),     // L = 4
        NetSpec.linear(Loss.MSE, 30, 5, 95, 12, 6, 6, 4).withBias(true),       // r = 5 < d = 12, r̃ = 6
        NetSpec.linear(Loss.MSE, 20, 4, 96, 4, 6, 5, 6).withBias(true),        // r = 4 < K′ = 6
        NetSpec.linear(Loss.CE, 25, 7, 97, 7, 3, 3, 3).withBias(true)));       // K′ = 2 ≤ widths 3
    if (full) {
      g.add(NetSpec.linear(Loss.CE, 60, 12, 98, 12, 10, 10, 10, 6).withBias(true));
      g.add(NetSpec.linear(Loss.CE, 50, 25, 99, 25, 10, 10, 10).withBias(true));
    }
    return g;
  }

  /** Outside the regime, with the ranks §A.7 reports measured there (-1: not reported). */
  record Outside(NetSpec spec, String why, int reportedOuter, int reportedFunctional) {}

  static List<Outside> outside() {
    return List.of(
        new Outside(NetSpec.linear(Loss.MSE, 30, 7, 111, 7, 2, 6).withBias(true), "bottleneck 2 < min(r̃, K′)",
            -1, 24),
        new Outside(NetSpec.linear(Loss.MSE, 5, 10, 112, 10, 3, 4).withBias(true), "N <= d: r̃ = r", 19, -1),
        new Outside(NetSpec.linear(Loss.CE, 6, 9, 113, 9, 4, 4, 5).withBias(true), "N <= d: r̃ = r", -1, -1),
        new Outside(NetSpec.linear(Loss.COSH, 30, 6, 114, 6, 5, 3).withBias(true), "cosh (not covered)", -1, -1));
  }

  @Override
  String measure(CheckContext context, Tally tally) {
    Curvature[] ops = {Curvature.GAUSS_NEWTON, Curvature.FUNCTIONAL, Curvature.HESSIAN};
    List<NetSpec> in = regime(context.full());
    int i = 0, total = in.size() + outside().size();
    for (NetSpec spec : in) {
      context.progress().accept(String.format(Locale.ROOT, "S10 %d/%d %s", ++i, total, spec.describe()));
      try (DenseCurvature dc = DenseCurvature.of(spec, context.threads())) {
        int r = dc.inputRank(), rt = dc.augmentedInputRank();
        Optional<RankPredictions.Prediction> p = RankPredictions.predict(dc.mlp(), spec.loss(), r, rt);
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s p=%d r=%d r̃=%d:", spec.describe(),
            dc.parameters(), r, rt));
        boolean ok = p.isPresent() && "A.7".equals(p.get().section());
        for (Curvature c : ops) {
          DenseCurvature.Rank m = dc.rank(c);
          int e = p.map(x -> RankGrid.predicted(x, c)).orElse(-1);
          boolean good = m.robust() && m.rank() == e;
          ok &= good;
          line.append(' ').append(RankGrid.label(c)).append(' ').append(m).append(good ? " = " : " != ").append(e);
        }
        int kp = RankPredictions.effectiveOutputs(spec.loss(), spec.outputs());
        if (r >= kp) {
          Mlp plain = spec.withBias(false).mlp();
          int without = RankPredictions.predict(plain, spec.loss(), r, -1).orElseThrow().hessian();
          int added = dc.rank(Curvature.HESSIAN).rank() - without;
          ok &= added == plain.layers() * kp;
          line.append(String.format(Locale.ROOT, "; +%d over bias-free (L·K' = %d)", added, plain.layers() * kp));
        }
        tally.record(ok, line.toString());
      }
    }
    for (Outside o : outside()) {
      NetSpec spec = o.spec();
      context.progress().accept(String.format(Locale.ROOT, "S10 %d/%d %s", ++i, total, spec.describe()));
      try (DenseCurvature dc = DenseCurvature.of(spec, context.threads())) {
        int r = dc.inputRank(), rt = dc.augmentedInputRank();
        boolean ok = RankPredictions.predict(dc.mlp(), spec.loss(), r, rt).isEmpty();
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
            "outside (%s) %s p=%d r=%d r̃=%d: no formula %s; numerical", o.why(), spec.describe(), dc.parameters(), r,
            rt, ok ? "(as required)" : "OFFERED"));
        for (Curvature c : ops) {
          DenseCurvature.Rank m = dc.rank(c);
          ok &= m.robust() && m.rank() <= dc.parameters();
          line.append(' ').append(RankGrid.label(c)).append(' ').append(m);
        }
        if (o.reportedOuter() >= 0) {
          ok &= dc.rank(Curvature.GAUSS_NEWTON).rank() == o.reportedOuter();
          line.append("; §A.7 reports H_O = ").append(o.reportedOuter());
        }
        if (o.reportedFunctional() >= 0) {
          ok &= dc.rank(Curvature.FUNCTIONAL).rank() == o.reportedFunctional();
          line.append("; §A.7 reports H_F = ").append(o.reportedFunctional());
        }
        if (spec.loss() != Loss.COSH) {
          RankPredictions.Prediction naive = RankPredictions.predict(spec.withBias(false).mlp(), spec.loss(), r, -1)
              .orElseThrow();
          line.append(String.format(Locale.ROOT, " (bias-free formulas would give %d, %d, %d)", naive.outer(),
              naive.functional(), naive.hessian()));
        }
        tally.record(ok, line.toString());
      }
    }
    tally.expected = "§A.7 ranks in the regime, +L·K' when r >= K'; outside: no formula, robust numerical rank";
    return in.size() + " biased linear nets in the §A.7 regime (L=2..4, mse/ce, r<d, r<K') and " + outside().size()
        + " outside it (bottleneck, N<=d, cosh)";
  }
}

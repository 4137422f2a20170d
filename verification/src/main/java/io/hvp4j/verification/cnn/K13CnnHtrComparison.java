package io.hvp4j.verification.cnn;

import io.hvp4j.data.Dataset;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.spectral.TraceEstimators;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;
import io.hvp4j.verification.experiments.GraphSgd;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * K13 (docs/theory.md; K10 on CNNs), soft: training with the Hessian-trace regularizer on the middle layer only
 * ends at a lower trace of the Hessian, with comparable or better test accuracy, than the same run without it
 * (same initialisation, same shuffles), on LeNet-5 and the narrowed VGG-11-bn ({@link SankarCnns}) on
 * Fashion-MNIST. HTR: γ = 1e-3 (the paper's default), m = 2 Rademacher probes on the middle module's weight and
 * bias, every step from the first epoch (the official schedule, every 50 steps from epoch 15, does not fit these
 * short runs). Final trace by Hutchinson (m = 30; quick mode 3) on 5 training images per class (quick 1); accuracy on
 * the held-out half.
 */
public final class K13CnnHtrComparison extends AbstractCheck {
  public K13CnnHtrComparison() {
    super("K13", Paper.SKVB, CheckKind.SOFT,
        "on CNNs (LeNet-5, VGG-11-bn): middle-layer HTR vs none (same seed): lower final trace, test accuracy (K10)");
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) throws Exception {
    int epochs = ctx.full() ? 6 : 1, samples = ctx.full() ? 2000 : 200, perClass = ctx.full() ? 5 : 1;
    int traceProbes = ctx.full() ? 30 : 3;
    double gamma = 1e-3;
    List<String> verdicts = new ArrayList<>();
    String data;
    try (Experiment ex = new Experiment(ctx.threads())) {
      ImageData d = ImageData.load(ex, samples, 28, 403);
      data = d.what();
      Dataset hessianData = SankarCnns.classBalanced(ex, d.train(), perClass);
      for (SankarCnns.Net net : SankarCnns.nets()) {
        double[] tr = new double[2], se = new double[2], acc = new double[2];
        for (int on = 0; on < 2; on++) {
          ctx.progress().accept("K13: " + net.name() + " HTR " + (on == 1 ? "on" : "off"));
          GraphSgd.Htr htr = on == 0 ? null
              : new GraphSgd.Htr(gamma, GraphObjective.select(net.graph(), net.middle()), 2, 0);
          double[] theta = SankarCnns.train(ex, net, d.train(), epochs, htr, false, null);
          try (GraphObjective f = GraphTraining.objective(ex, net.graph(), hessianData, theta, 16)) {
            TraceEstimators.Estimate t = TraceEstimators.hutchinson(SankarCnns.full(f), traceProbes,
                TraceEstimators.Probe.RADEMACHER, 440, 16);
            tr[on] = t.value();
            se[on] = t.standardError();
          }
          acc[on] = GraphTraining.accuracy(ex.backend(), net.graph(), d.test(), theta, ex);
          out.detail("%s HTR %s: tr(H) %.5g ± %.2g, test accuracy %.4f", net.name(), on == 1 ? "on " : "off", tr[on],
              se[on], acc[on]);
        }
        verdicts.add(String.format(Locale.ROOT, "%s: tr(H) %.4g ± %.2g with HTR vs %.4g ± %.2g without (standard"
                + " errors; %s), test acc %.3f vs %.3f", net.name(), tr[1], se[1], tr[0], se[0],
            tr[1] >= tr[0] ? "NOT lower: did not hold" : tr[0] - tr[1] > 2 * Math.hypot(se[0], se[1])
                ? "lower: held" : "lower, by less than two standard errors: not resolved", acc[1], acc[0]));
      }
    }
    out.configuration = String.format(Locale.ROOT,
        "%s; LeNet-5 (HTR on fc1) and VGG-11-bn/16 (HTR on features.4.conv); SGD lr 0.01 momentum 0.9 batch 64, %d"
            + " epoch(s); HTR γ=%.0e, m=2, every step; final trace by Hutchinson (m=%d) on %d images per class",
        data, epochs, gamma, traceProbes, perClass);
    out.expected = "final tr(H) lower with HTR; test accuracy comparable or better";
    out.measured = String.join("; ", verdicts);
  }
}

package io.hvp4j.verification.cnn;

import io.hvp4j.data.Dataset;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.plot.Chart;
import io.hvp4j.spectral.Lanczos;
import io.hvp4j.spectral.SymmetricOperator;
import io.hvp4j.spectral.TraceEstimators;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * K12 (docs/theory.md; K9 on CNNs), soft: λ_max and the trace of the Hessian, for the whole network and for each
 * weight tensor's block, fall as training progresses (the last epoch's value below the peak over epochs, the
 * initial point included), on LeNet-5 and the narrowed VGG-11-bn ({@link SankarCnns}) on Fashion-MNIST. λ_max by
 * Lanczos (≤ 20 steps), traces by Hutchinson (m = 10 Rademacher probes, as §C.3), on 5 training images per class
 * (quick mode: 6 steps, m = 2, 1 per class, one epoch).
 * Plots per net: λ_max and trace per epoch.
 */
public final class K12CnnCurvatureDuringTraining extends AbstractCheck {
  public K12CnnCurvatureDuringTraining() {
    super("K12", Paper.SKVB, CheckKind.SOFT,
        "on CNNs (LeNet-5, VGG-11-bn): λ_max and trace, full and per layer, fall late in training (K9)");
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) throws Exception {
    int epochs = ctx.full() ? 8 : 1, samples = ctx.full() ? 2000 : 200, perClass = ctx.full() ? 5 : 1;
    int probes = ctx.full() ? 10 : 2, lanczos = ctx.full() ? 20 : 6;
    List<String> verdicts = new ArrayList<>();
    String data;
    try (Experiment ex = new Experiment(ctx.threads())) {
      ImageData d = ImageData.load(ex, samples, 28, 403);
      data = d.what();
      Dataset hessianData = SankarCnns.classBalanced(ex, d.train(), perClass);
      for (SankarCnns.Net net : SankarCnns.nets()) {
        int layers = net.layers().size();
        double[][] lmax = new double[layers + 1][epochs + 1], trace = new double[layers + 1][epochs + 1];
        double[] fullSe = new double[epochs + 1]; // the full trace's standard error: the Hessian is indefinite
        SankarCnns.train(ex, net, d.train(), epochs, null, true, (e, theta) -> {
          ctx.progress().accept("K12: " + net.name() + " epoch " + e);
          try (GraphObjective f = GraphTraining.objective(ex, net.graph(), hessianData, theta, 16)) {
            for (int s = 0; s <= layers; s++) {
              SymmetricOperator op = s == 0 ? SankarCnns.full(f) : SankarCnns.block(f, net.layers().get(s - 1));
              lmax[s][e] = Lanczos.compute(op, new Lanczos.Options(1, 0, Math.min(lanczos, op.dimension()), 1e-6,
                  420 + s)).top().get(0).value();
              TraceEstimators.Estimate t = TraceEstimators.hutchinson(op, probes, TraceEstimators.Probe.RADEMACHER,
                  430 + s, 16);
              trace[s][e] = t.value();
              if (s == 0) {
                fullSe[e] = t.standardError();
              }
            }
          }
        });
        int fell = 0;
        double[] x = new double[epochs + 1];
        for (int e = 0; e <= epochs; e++) x[e] = e;
        Chart cl = Chart.of("K12: λ_max of the loss Hessian per epoch, " + net.name() + " (Lanczos)", "epoch",
            "λ_max(H), full and per layer block");
        Chart ct = Chart.of("K12: trace of the loss Hessian per epoch, " + net.name() + " (Hutchinson)", "epoch",
            "tr H, full and per layer block");
        for (int s = 0; s <= layers; s++) {
          String name = s == 0 ? "full" : net.layers().get(s - 1);
          for (int q = 0; q < 2; q++) {
            double[] series = q == 0 ? lmax[s] : trace[s];
            int at = 0;
            for (int e = 1; e <= epochs; e++) if (series[e] > series[at]) at = e;
            if (series[epochs] < series[at]) fell++;
            out.detail("%s %s %s: peak %.4g at epoch %d, last %.4g", net.name(), name, q == 0 ? "λ_max" : "trace",
                series[at], at, series[epochs]);
          }
          cl.add(name, x, lmax[s], Chart.Style.LINE_POINTS);
          ct.add(name, x, trace[s], Chart.Style.LINE_POINTS);
        }
        int total = 2 * (layers + 1);
        boolean fullFell = lmax[0][epochs] < max(lmax[0]) && trace[0][epochs] < max(trace[0]);
        verdicts.add(String.format(Locale.ROOT, "%s: %d/%d series end below their peak; full λ_max %.4g → %.4g,"
                + " trace %.4g ± %.2g → %.4g ± %.2g (standard errors; peak %.4g, %.4g) — %s", net.name(), fell, total,
            lmax[0][0], lmax[0][epochs], trace[0][0], fullSe[0], trace[0][epochs], fullSe[epochs], max(lmax[0]),
            max(trace[0]),
            fell == total ? "held" : fullFell ? "held for the full Hessian, not for every layer" : "did not hold"));
        String tag = net.name().startsWith("LeNet") ? "lenet5" : "vgg11";
        for (Object[] pc : new Object[][] {{cl, "K12-" + tag + "-lambda-max.png"}, {ct, "K12-" + tag + "-trace.png"}}) {
          Path p = ctx.plotPath((String) pc[1]);
          if (p != null) {
            ((Chart) pc[0]).save(p);
            out.plots.add(p);
          }
        }
      }
    }
    out.configuration = String.format(Locale.ROOT,
        "%s; LeNet-5 and VGG-11-bn/16; SGD lr 0.01 momentum 0.9 batch 64, %d epochs; Hessian on %d training images"
            + " per class; λ_max by Lanczos (≤ %d steps), Hutchinson traces (m = %d)", data, epochs, perClass, lanczos,
        probes);
    out.expected = "late value < peak value";
    out.measured = String.join("; ", verdicts);
  }

  private static double max(double[] a) {
    double m = Double.NEGATIVE_INFINITY;
    for (double x : a) m = Math.max(m, x);
    return m;
  }
}

package io.hvp4j.verification.skvb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.model.Mlp;
import io.hvp4j.plot.Chart;
import io.hvp4j.train.CurvatureTracker;
import io.hvp4j.train.Trainer;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;

/**
 * K9 (docs/theory.md §D.4, §C.5): λ_max and the trace of the Hessian, full and per weight block, decrease as training
 * progresses: the last epoch's value is below the peak over epochs (init included). SGD on Gaussian clusters,
 * Hessian on a fixed class-balanced subset; λ_max by Lanczos, traces by Hutchinson (m = 10, as §C.3). Soft. Plots: both per epoch.
 */
public final class K9CurvatureDuringTraining extends AbstractCheck {
  public K9CurvatureDuringTraining() {
    super("K9", Paper.SKVB, CheckKind.SOFT, "λ_max and trace (full and per layer) fall late in training");
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) throws Exception {
    int epochs = ctx.full() ? 50 : 8;
    out.configuration =
        "clusters k=4, d=20, sep=2, N=200; 20-24-24-4 tanh with bias; CE, SGD lr 0.1 batch 20, "
            + epochs
            + " epochs; Hessian on 10/class; λ_max by Lanczos, Hutchinson traces (m = 10, Rademacher)";
    out.expected = "late value < peak value";
    try (Experiment ex = new Experiment(ctx.threads())) {
      Dataset data = ex.clusters(4, 20, 2, 50, 91);
      Dataset hessianData = ex.rows(data, 0, 5, "10 per class");
      Mlp mlp = new Mlp(new int[] {20, 24, 24, 4}, Activation.TANH, true);
      int layers = mlp.layers();
      double[][] lmax = new double[layers + 1][epochs + 1], trace = new double[layers + 1][epochs + 1];
      double[] x = new double[epochs + 1];
      EnumSet<CurvatureTracker.Quantity> what =
          EnumSet.of(
              CurvatureTracker.Quantity.LAMBDA_MAX,
              CurvatureTracker.Quantity.TRACE,
              CurvatureTracker.Quantity.LAYERWISE);
      try (Trainer t =
          new Trainer(mlp, Loss.CE, data, ex.backend(), DType.F64, Experiment.init(mlp, 92),
              new Trainer.Options(0.1, 0, 20, 93, null))) {
        for (int e = 0; e <= epochs; e++) {
          if (e > 0) t.epoch();
          ctx.progress().accept("K9: epoch " + e);
          CurvatureTracker.Measurement m =
              CurvatureTracker.measure(ex.objective(mlp, Loss.CE, hessianData, t.parameters()), what, 10, 7);
          x[e] = e;
          lmax[0][e] = m.lambdaMax();
          trace[0][e] = m.trace();
          for (int l = 0; l < layers; l++) {
            lmax[l + 1][e] = m.layerLambdaMax()[l];
            trace[l + 1][e] = m.layerTrace()[l];
          }
        }
      }
      int fell = 0;
      StringBuilder sb = new StringBuilder();
      Chart cl = Chart.of("K9: largest eigenvalue of the loss Hessian per epoch (Lanczos)", "epoch",
          "λ_max(H), full and per layer block").subtitle(out.configuration);
      Chart ct = Chart.of("K9: trace of the loss Hessian per epoch (Hutchinson)", "epoch",
          "tr H, full and per layer block").subtitle(out.configuration);
      for (int s = 0; s <= layers; s++) {
        String name = s == 0 ? "full" : "layer " + (s - 1);
        for (int q = 0; q < 2; q++) {
          double[] series = q == 0 ? lmax[s] : trace[s];
          double peak = Double.NEGATIVE_INFINITY;
          int at = 0;
          for (int e = 0; e <= epochs; e++) {
            if (series[e] > peak) {
              peak = series[e];
              at = e;
            }
          }
          boolean fall = series[epochs] < peak;
          if (fall) fell++;
          out.detail("%s %s: peak %.4g at epoch %d, last %.4g", name, q == 0 ? "λ_max" : "trace", peak, at,
              series[epochs]);
        }
        cl.add(name, x, lmax[s], Chart.Style.LINE_POINTS);
        ct.add(name, x, trace[s], Chart.Style.LINE_POINTS);
      }
      sb.append(fell).append('/').append(2 * (layers + 1)).append(" series end below their peak");
      out.measured = sb.toString();
      for (Object[] pc : new Object[][] {{cl, "K9-lambda-max.png"}, {ct, "K9-trace.png"}}) {
        Path p = ctx.plotPath((String) pc[1]);
        if (p != null) {
          ((Chart) pc[0]).save(p);
          out.plots.add(p);
        }
      }
      out.detail("%s", String.format(Locale.ROOT, "final full λ_max %.4g, trace %.4g", lmax[0][epochs],
          trace[0][epochs]));
    }
  }
}

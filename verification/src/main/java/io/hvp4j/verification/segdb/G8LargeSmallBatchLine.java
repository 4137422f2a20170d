package io.hvp4j.verification.segdb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.model.Mlp;
import io.hvp4j.plot.Chart;
import io.hvp4j.spectral.Lanczos;
import io.hvp4j.spectral.Operators;
import io.hvp4j.train.Trainer;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;
import java.nio.file.Path;
import java.util.Locale;

/**
 * G8 (docs/theory.md §D.3, §B.2 claim 6): large-batch (LB, full-batch GD) and small-batch (SB, batch 10) solutions
 * lie in one basin: the loss along the straight line between them, and between LB and "LB then SB", shows no
 * barrier: {@code max_α L(θ_α) ≤ max(L(θ_0), L(θ_1))·(1 + 1e−3)} on 21 points. k = 4, M = 48, N = 200, ReLU,
 * MSE (lr 0.05) and CE (lr 0.2), equal epochs. λ_max at both ends is reported too (LB sharper is confounded by
 * training time: soft). Plot: the loss along each line.
 */
public final class G8LargeSmallBatchLine extends AbstractCheck {
  public G8LargeSmallBatchLine() {
    super("G8", Paper.SEGDB, CheckKind.SOFT, "LB and SB solutions are joined by a barrier-free straight line");
  }

  static final int POINTS = 21;

  @Override
  protected void measure(CheckContext ctx, Outcome out) throws Exception {
    int seeds = ctx.full() ? 3 : 1;
    int epochs = ctx.full() ? 100 : 40;
    out.configuration =
        "clusters k=4, d=20, sep=3, N=200; 20-48-4 relu with bias; MSE lr 0.05, CE lr 0.2; "
            + epochs
            + " epochs; LB = full batch, SB = batch 10; "
            + seeds
            + " seed(s); 21 points per line";
    out.expected = "max along line ≤ max(end points)·(1 + 1e−3) (no barrier)";
    int barrierFree = 0, lines = 0;
    try (Experiment ex = new Experiment(ctx.threads())) {
      for (int s = 0; s < seeds; s++) {
        Dataset data = ex.clusters(4, 20, 3, 50, 300 + s);
        for (Loss loss : new Loss[] {Loss.MSE, Loss.CE}) {
          ctx.progress().accept("G8: " + loss.id() + " seed " + s);
          double lr = loss == Loss.MSE ? 0.05 : 0.2;
          Mlp mlp = new Mlp(new int[] {20, 48, 4}, Activation.RELU, true);
          double[] theta0 = Experiment.init(mlp, 400 + s);
          double[] lb = ex.train(mlp, loss, data, theta0, new Trainer.Options(lr, 0, 200, s, null), epochs);
          double[] sb = ex.train(mlp, loss, data, theta0, new Trainer.Options(lr, 0, 10, s, null), epochs);
          double[] lbsb = ex.train(mlp, loss, data, lb, new Trainer.Options(lr, 0, 10, s, null), epochs);
          Chart chart =
              Chart.of("G8: " + loss.id() + " loss along the line from the large-batch (LB) solution, seed " + s,
                  "α (0 = LB solution, 1 = other end)", "mean " + loss.id() + " loss over the data")
                  .subtitle(out.configuration);
          double lmaxLb = lambdaMax(ex, mlp, loss, data, lb), lmaxSb = lambdaMax(ex, mlp, loss, data, sb);
          for (double[][] pair : new double[][][] {{lb, sb}, {lb, lbsb}}) {
            String name = pair[1] == sb ? "LB → SB" : "LB → LB-then-SB";
            double[] alpha = new double[POINTS], l = new double[POINTS];
            double max = 0;
            for (int i = 0; i < POINTS; i++) {
              alpha[i] = i / (POINTS - 1.0);
              double[] th = new double[lb.length];
              for (int j = 0; j < th.length; j++) th[j] = (1 - alpha[i]) * pair[0][j] + alpha[i] * pair[1][j];
              l[i] = ex.objective(mlp, loss, data, th).loss();
              max = Math.max(max, l[i]);
            }
            double ends = Math.max(l[0], l[POINTS - 1]);
            boolean ok = max <= ends * (1 + 1e-3);
            lines++;
            if (ok) barrierFree++;
            out.detail(
                "%s seed %d %s: L(0) = %.4g, L(1) = %.4g, max on line = %.4g %s",
                loss.id(), s, name, l[0], l[POINTS - 1], max, ok ? "(no barrier)" : "(BARRIER)");
            chart.add(name, alpha, l, Chart.Style.LINE_POINTS);
          }
          out.detail("%s seed %d: λ_max LB = %.4g, SB = %.4g", loss.id(), s, lmaxLb, lmaxSb);
          Path p = ctx.plotPath(String.format(Locale.ROOT, "G8-line-%s-seed%d.png", loss.id(), s));
          if (p != null) {
            chart.save(p);
            out.plots.add(p);
          }
        }
      }
    }
    out.measured = "no barrier in " + barrierFree + "/" + lines + " lines";
  }

  static double lambdaMax(Experiment ex, Mlp mlp, Loss loss, Dataset data, double[] theta) {
    return Lanczos.compute(Operators.curvature(ex.objective(mlp, loss, data, theta), Curvature.HESSIAN, -1), 1, 0, 1)
        .top()
        .get(0)
        .value();
  }
}

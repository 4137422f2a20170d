package io.hvp4j.verification.segdb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.experiments.Experiment;
import java.util.ArrayList;
import java.util.List;

/**
 * The Gauss–Newton spectra that G1 and G2 examine: §B.3-style cluster data with {@code N·k < p} (so that G must
 * be singular), ReLU and tanh, MSE and CE, at initialisation and after full-batch training.
 */
final class GgnSpectra {
  private GgnSpectra() {}

  /** One measured spectrum. */
  record Case(String name, int p, int samples, int classes, Loss loss, double[] eigenvalues) {}

  static String configuration(CheckContext ctx) {
    return "clusters k=4, d=20, sep=3, N="
        + samples(ctx)
        + "; 20-16-4 MLP with bias (p=404); relu/tanh x mse/ce; at init and after "
        + steps(ctx)
        + " GD steps; dense G, f64";
  }

  static int samples(CheckContext ctx) {
    return ctx.full() ? 80 : 40;
  }

  static int steps(CheckContext ctx) {
    return ctx.full() ? 300 : 50;
  }

  static List<Case> compute(CheckContext ctx) {
    List<Case> cases = new ArrayList<>();
    int k = 4, n = samples(ctx);
    try (Experiment ex = new Experiment(ctx.threads())) {
      Dataset data = ex.clusters(k, 20, 3, n / k, 11);
      for (Activation act : new Activation[] {Activation.RELU, Activation.TANH}) {
        for (Loss loss : new Loss[] {Loss.MSE, Loss.CE}) {
          Mlp mlp = new Mlp(new int[] {20, 16, k}, act, true);
          double[] theta0 = Experiment.init(mlp, 5);
          double lr = loss == Loss.MSE ? 0.1 : 0.5;
          double[] trained = ex.gradientDescent(mlp, loss, data, theta0, lr, steps(ctx));
          for (double[] theta : new double[][] {theta0, trained}) {
            ctx.progress().accept("G: " + act.id() + "/" + loss.id());
            MlpObjective f = ex.objective(mlp, loss, data, theta);
            double[] eig = ex.eigenvalues(f, Curvature.GAUSS_NEWTON, -1);
            String when = theta == theta0 ? "init" : "trained";
            cases.add(
                new Case(
                    act.id() + "/" + loss.id() + "/" + when,
                    mlp.parameterCount(),
                    n,
                    k,
                    loss,
                    eig));
          }
        }
      }
    }
    return cases;
  }
}

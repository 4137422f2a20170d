package io.hvp4j.verification.skvb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.io.Idx;
import io.hvp4j.memory.DType;
import io.hvp4j.model.Mlp;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.TraceEstimators;
import io.hvp4j.train.Trainer;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;
import io.hvp4j.verification.sbh.SweepData;
import java.util.Locale;

/**
 * K10 (docs/theory.md §D.4, §C.6): training with the Hessian-trace regularizer ends at a lower tr(H) than the same run
 * (same seed, same initialisation and shuffles) without it. On Fashion-MNIST when its IDX files are installed
 * (the directory of {@link SweepData#files}: the first 400 training images, scaled to [0, 1], nearest-resized to
 * 8×8, 10 classes), otherwise on Gaussian clusters; the configuration says which. Train/test split by alternate
 * rows. Exact traces of the training-set Hessian. Soft.
 */
public final class K10HtrComparison extends AbstractCheck {
  public K10HtrComparison() {
    super("K10", Paper.SKVB, CheckKind.SOFT, "HTR on vs off (same seed): final tr(H) lower with HTR");
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) throws Exception {
    int epochs = ctx.full() ? 60 : 10;
    double gamma = 2e-3;
    java.nio.file.Path[] idx = SweepData.files();
    try (Experiment ex = new Experiment(ctx.threads())) {
      Dataset all;
      String data;
      if (idx != null) {
        all = Idx.classification(idx[0], idx[1], 400, 64, 10, ex.arena(), DType.F64);
        data = "IDX images " + idx[0] + " (first 400, scaled to [0,1], nearest-resized to 8x8, K=10), 200 train / 200 test";
      } else {
        all = ex.clusters(4, 20, 2, 50, 101);
        data = "Gaussian clusters (no IDX data installed) k=4, d=20, sep=2, 100 train / 100 test";
      }
      int d = all.inputDimension(), k = all.outputDimension();
      out.configuration =
          String.format(
              Locale.ROOT,
              "%s; %d-32-32-%d tanh with bias; CE, SGD lr 0.05 batch 20, %d epochs; HTR γ=%.3g, all layers, m=2,"
                  + " every step",
              data, d, k, epochs, gamma);
      out.expected = "tr(H) with HTR < tr(H) without";
      Dataset train = ex.rows(all, 0, 2, "train");
      Dataset test = ex.rows(all, 1, 2, "test");
      Mlp mlp = new Mlp(new int[] {d, 32, 32, k}, Activation.TANH, true);
      double[] theta0 = Experiment.init(mlp, 102);
      double[] tr = new double[2];
      for (int on = 0; on < 2; on++) {
        ctx.progress().accept("K10: HTR " + (on == 1 ? "on" : "off"));
        Trainer.Htr htr = on == 1 ? new Trainer.Htr(gamma, new int[0], 2, 1, 0) : null;
        double[] theta = ex.train(mlp, Loss.CE, train, theta0, new Trainer.Options(0.05, 0, 20, 103, htr), epochs);
        var f = ex.objective(mlp, Loss.CE, train, theta);
        tr[on] = TraceEstimators.exact(Operators.curvature(f, Curvature.HESSIAN, -1), 32).value();
        out.detail("HTR %s: train loss %.4g, tr(H) %.5g, train acc %.3f, test acc %.3f", on == 1 ? "on " : "off",
            f.loss(), tr[on], LayerwiseTraining.accuracy(ex, mlp, train, theta),
            LayerwiseTraining.accuracy(ex, mlp, test, theta));
      }
      out.measured =
          String.format(Locale.ROOT, "tr(H) %.4g with HTR vs %.4g without (%s)", tr[1], tr[0],
              tr[1] < tr[0] ? "lower" : "NOT lower");
    }
  }
}

package io.hvp4j.verification.skvb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.plot.Chart;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.SpectralDensity;
import io.hvp4j.train.CurvatureTracker;
import io.hvp4j.train.Trainer;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;
import java.nio.file.Path;
import java.util.Locale;

/**
 * K8 (docs/theory.md §D.4, §C.4): the middle layers' spectra are the most similar to the full spectrum. A 5-layer ReLU
 * network is trained by SGD on Gaussian clusters; at the end of every epoch the SLQ densities (1024-point grids)
 * of the full Hessian and of each weight block are computed on a fixed class-balanced subset (10 per class), and
 * the §C.4 distance of each layer to the full spectrum is summed over the epochs. Soft: the argmin layer is
 * reported. Plot: summed distance (normalised by its maximum) against relative depth.
 */
public final class K8MiddleLayerSimilarity extends AbstractCheck {
  public K8MiddleLayerSimilarity() {
    super("K8", Paper.SKVB, CheckKind.SOFT, "middle layers' spectra are the most similar to the full spectrum");
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) throws Exception {
    int epochs = ctx.full() ? 30 : 3;
    int steps = ctx.full() ? 64 : 24, probes = ctx.full() ? 8 : 2;
    out.configuration =
        String.format(
            Locale.ROOT,
            "clusters k=4, d=20, sep=3, N=200; 20-24-24-24-24-4 relu with bias; CE, SGD lr 0.05 batch 20, %d"
                + " epochs; Hessian on 10/class; SLQ %d steps x %d probes, 1024 points",
            epochs, steps, probes);
    out.expected = "argmin an interior layer (not first or last)";
    try (Experiment ex = new Experiment(ctx.threads())) {
      Dataset data = ex.clusters(4, 20, 3, 50, 81);
      Dataset hessianData = ex.rows(data, 0, 5, "10 per class");
      Mlp mlp = new Mlp(new int[] {20, 24, 24, 24, 24, 4}, Activation.RELU, true);
      int layers = mlp.layers();
      double[] summed = new double[layers];
      try (Trainer t =
          new Trainer(mlp, Loss.CE, data, ex.backend(), DType.F64, Experiment.init(mlp, 82),
              new Trainer.Options(0.05, 0, 20, 83, null))) {
        for (int e = 0; e < epochs; e++) {
          ctx.progress().accept("K8: epoch " + e);
          t.epoch();
          MlpObjective f = ex.objective(mlp, Loss.CE, hessianData, t.parameters());
          double[] full = density(Operators.curvature(f, Curvature.HESSIAN, -1), steps, probes, e);
          StringBuilder line = new StringBuilder();
          for (int l = 0; l < layers; l++) {
            double d =
                LogDensityDistance.distance(
                    full, density(CurvatureTracker.weightBlock(f, l), steps, probes, 100 * e + l));
            summed[l] += d;
            line.append(String.format(Locale.ROOT, " %.4g", d));
          }
          out.detail("epoch %d distances per layer:%s", e, line);
        }
      }
      LogDensityDistance.ByDepth bd = LogDensityDistance.ByDepth.of(summed);
      int arg = bd.argmin();
      out.measured = "argmin layer " + arg + " of 0…" + (layers - 1) + (bd.interior() ? " (interior)" : " (end)")
          + "; normalised sums " + bd.text();
      Path p = ctx.plotPath("K8-distance-vs-depth.png");
      if (p != null) {
        Chart.of("K8: distance of each layer's Hessian spectrum (SLQ) to the full one, summed over epochs",
                "relative depth (layer / layers)", "distance / largest distance")
            .subtitle(out.configuration)
            .add("distance", bd.depth(), bd.normalised(), Chart.Style.LINE_POINTS)
            .save(p);
        out.plots.add(p);
      }
    }
  }

  static double[] density(io.hvp4j.spectral.SymmetricOperator op, int steps, int probes, long seed) {
    return SpectralDensity.compute(op, steps, probes, seed, 1024, Double.NaN).density();
  }
}

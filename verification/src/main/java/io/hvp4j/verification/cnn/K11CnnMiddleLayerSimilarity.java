package io.hvp4j.verification.cnn;

import io.hvp4j.data.Dataset;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.plot.Chart;
import io.hvp4j.spectral.SpectralDensity;
import io.hvp4j.spectral.SymmetricOperator;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;
import io.hvp4j.verification.skvb.LogDensityDistance;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * K11 (docs/theory.md; K8 on CNNs), soft: Sankar et al.'s claims that layerwise Hessian spectra are largely similar
 * to the full one and that the middle layers are the most similar, tried where they were made: LeNet-5 and a
 * narrowed VGG-11-bn on Fashion-MNIST ({@link SankarCnns}). After every epoch the SLQ densities (1024-point grids)
 * of the full Hessian and of each weight tensor's block, on 5 training images per class (quick: 1), give the
 * §C.4 distance of each layer to the full spectrum, summed over epochs. Reported per net: the argmin layer and whether it is
 * interior. Plot: summed distance (normalised by its largest) against relative depth, one line per net.
 */
public final class K11CnnMiddleLayerSimilarity extends AbstractCheck {
  public K11CnnMiddleLayerSimilarity() {
    super("K11", Paper.SKVB, CheckKind.SOFT,
        "on CNNs (LeNet-5, VGG-11-bn): the middle layers' spectra are the most similar to the full spectrum (K8)");
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) throws Exception {
    int epochs = ctx.full() ? 6 : 1, samples = ctx.full() ? 2000 : 200;
    int steps = ctx.full() ? 32 : 6, probes = 1, perClass = ctx.full() ? 5 : 1;
    List<String> verdicts = new ArrayList<>();
    Chart chart = Chart.of("K11: distance of each layer's Hessian spectrum (SLQ) to the full one, summed over epochs",
        "relative depth (layer / layers)", "distance / largest distance");
    String data = "";
    try (Experiment ex = new Experiment(ctx.threads())) {
      ImageData d = ImageData.load(ex, samples, 28, 403);
      data = d.what();
      Dataset hessianData = SankarCnns.classBalanced(ex, d.train(), perClass);
      for (SankarCnns.Net net : SankarCnns.nets()) {
        int layers = net.layers().size();
        double[] summed = new double[layers];
        SankarCnns.train(ex, net, d.train(), epochs, null, false, (e, theta) -> {
          ctx.progress().accept("K11: " + net.name() + " epoch " + e);
          try (GraphObjective f = GraphTraining.objective(ex, net.graph(), hessianData, theta, 1)) {
            double[] full = density(SankarCnns.full(f), steps, probes, 410 + e);
            StringBuilder line = new StringBuilder();
            for (int l = 0; l < layers; l++) {
              double dist = LogDensityDistance.distance(full,
                  density(SankarCnns.block(f, net.layers().get(l)), steps, probes, 1000L * e + l));
              summed[l] += dist;
              line.append(String.format(Locale.ROOT, " %.4g", dist));
            }
            out.detail("%s epoch %d, distance per layer:%s", net.name(), e, line);
          }
        });
        LogDensityDistance.ByDepth bd = LogDensityDistance.ByDepth.of(summed);
        int arg = bd.argmin();
        boolean interior = bd.interior();
        verdicts.add(String.format(Locale.ROOT, "%s: argmin layer %d of 0…%d (%s, %s) — %s", net.name(), arg,
            layers - 1, net.layers().get(arg), interior ? "interior" : "an end layer",
            interior ? "held" : "did not hold"));
        out.detail("%s normalised summed distances: %s", net.name(), bd.text());
        chart.add(net.name(), bd.depth(), bd.normalised(), Chart.Style.LINE_POINTS);
      }
    }
    out.configuration = String.format(Locale.ROOT,
        "%s; LeNet-5 and VGG-11-bn/16 (train-mode BN); SGD lr 0.01 momentum 0.9 batch 64, %d epoch(s); Hessian on %d"
            + " training images per class; SLQ %d steps x %d probe(s), 1024 points; layers = conv/linear weights",
        data, epochs, perClass, steps, probes);
    out.expected = "argmin an interior layer (not first or last)";
    out.measured = String.join("; ", verdicts);
    Path p = ctx.plotPath("K11-distance-vs-depth.png");
    if (p != null) {
      chart.subtitle(out.configuration).save(p);
      out.plots.add(p);
    }
  }

  static double[] density(SymmetricOperator op, int steps, int probes, long seed) {
    return SpectralDensity.compute(op, steps, probes, seed, 1024, Double.NaN).density();
  }
}

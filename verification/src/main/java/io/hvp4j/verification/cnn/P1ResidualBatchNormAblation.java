package io.hvp4j.verification.cnn;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.Models;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.objective.ParameterGroup;
import io.hvp4j.plot.Chart;
import io.hvp4j.spectral.Lanczos;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.PowerIteration;
import io.hvp4j.spectral.SpectralDensity;
import io.hvp4j.spectral.SymmetricOperator;
import io.hvp4j.spectral.TraceEstimators;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;
import io.hvp4j.verification.experiments.GraphSgd;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * P1 (docs/theory.md), soft: the PyHessian ablation (Yao et al. 2020) of a small residual network with and without
 * BatchNorm and with and without its skip connections, on Fashion-MNIST. Each of {@code resnet8},
 * {@code resnet8-nobn}, {@code resnet8-noskip} (1×side×side inputs, {@code width} channels) is trained from the
 * same seed by SGD; then, on a fixed Hessian batch, the top eigenvalue by power iteration (with the K4 flag rule)
 * and by Lanczos (λ_max is the larger of the two: power iteration finds the largest |λ|, which can be λ_min),
 * the trace by Hutchinson (Rademacher) and the SLQ density. BatchNorm runs in train mode (the
 * batch's statistics) for training and for the Hessian: hvp4j's graph training keeps no running statistics, so
 * PyHessian's eval mode is not reproduced. The paper's finding is reported as measured: BatchNorm does not
 * necessarily make the landscape smoother. The top eigenvalue agrees with an independent PyTorch power iteration
 * ({@code benchmarks/peers/pyhessian_peer.py}, {@code PyHessianPeerTest}) to 1e-6 relative.
 */
public final class P1ResidualBatchNormAblation extends AbstractCheck {
  /** The three networks. */
  public static final List<String> VARIANTS = List.of("resnet8", "resnet8-nobn", "resnet8-noskip");

  public P1ResidualBatchNormAblation() {
    super("P1", Paper.YGKM, CheckKind.SOFT,
        "BatchNorm does not necessarily make the landscape smoother (λ_max, trace, ESD with/without BN, skips)");
  }

  /** Sizes of one mode. */
  public record Sizes(int side, int width, int samples, int epochs, int batch, int hessianBatch, int powerIterations,
      double powerTolerance, int lanczosSteps, int hutchinson, int slqSteps, int slqProbes) {}

  public static Sizes sizes(boolean full) {
    return full
        ? new Sizes(14, 8, 2000, 5, 64, 200, 300, 1e-10, 80, 50, 40, 3)
        : new Sizes(10, 4, 200, 1, 25, 20, 20, 1e-4, 15, 3, 8, 1);
  }

  /** The network {@code variant} of {@link #VARIANTS} at {@code s}'s size, BatchNorm in train mode. */
  public static Graph graph(String variant, Sizes s) {
    return Models.resnet8(1, s.side(), s.width(), 10, !variant.endsWith("-nobn"), !variant.endsWith("-noskip"),
        true);
  }

  /** A trained point: parameters, the Hessian batch, and how training went. */
  public record Point(Graph graph, double[] theta, Dataset hessianBatch, double loss, double testAccuracy,
      String data) {}

  /** Trains {@code variant} (seed 301 for init and shuffles) on {@link ImageData}; memory in {@code ex}. */
  public static Point train(String variant, Sizes s, Experiment ex) {
    ImageData d = ImageData.load(ex, s.samples(), s.side(), 302);
    Graph g = graph(variant, s);
    double last = Double.NaN;
    double[] theta;
    try (GraphSgd sgd = new GraphSgd(g, Loss.CE, d.train(), ex.backend(), g.initialParameters(301), 0.05, 0.9,
        s.batch(), 303, null)) {
      for (int e = 0; e < s.epochs(); e++) last = sgd.epoch();
      theta = sgd.parameters();
    }
    Dataset hb = d.train().head(s.hessianBatch(), ex.arena(), "Hessian batch: the first " + s.hessianBatch()
        + " training images");
    return new Point(g, theta, hb, last, GraphTraining.accuracy(ex.backend(), g, d.test(), theta, ex), d.what());
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) throws Exception {
    Sizes s = sizes(ctx.full());
    String[] names = VARIANTS.toArray(new String[0]);
    double[] lmax = new double[names.length], tr = new double[names.length];
    List<SpectralDensity.Result> densities = new ArrayList<>();
    String data = "";
    try (Experiment ex = new Experiment(ctx.threads())) {
      for (int v = 0; v < names.length; v++) {
        ctx.progress().accept("P1: training " + names[v]);
        Point pt = train(names[v], s, ex);
        data = pt.data();
        try (GraphObjective f = GraphTraining.objective(ex, pt.graph(), pt.hessianBatch(), pt.theta(), 16)) {
          SymmetricOperator h = Operators.curvature(f, Curvature.HESSIAN, (ParameterGroup) null);
          ctx.progress().accept("P1: spectra of " + names[v]);
          PowerIteration.LambdaMax pw = PowerIteration.lambdaMax(h, s.powerIterations(), s.powerTolerance(), 1.0,
              304);
          Lanczos.Result lz = Lanczos.compute(h, new Lanczos.Options(1, 1, s.lanczosSteps(), 1e-8, 305));
          TraceEstimators.Estimate t = TraceEstimators.hutchinson(h, s.hutchinson(),
              TraceEstimators.Probe.RADEMACHER, 306, 16);
          SpectralDensity.Result dens = SpectralDensity.compute(h, s.slqSteps(), s.slqProbes(), 307, 1024,
              Double.NaN);
          densities.add(dens);
          double lzTop = lz.top().get(0).value();
          // Power iteration converges to the eigenvalue of largest magnitude, which is λ_min when the most negative
          // eigenvalue dominates; a Lanczos Ritz value never exceeds the true λ_max. So the larger of the two.
          lmax[v] = Math.max(pw.value(), lzTop);
          tr[v] = t.value();
          out.detail("%s: p=%d, train loss %.4f, test acc %.3f; λ_max power %.10g (%d products%s), Lanczos %.10g"
                  + " (rel. diff %.1e), λ_min Lanczos %.4g; trace %.5g ± %.2g (Hutchinson m=%d)",
              names[v], pt.graph().parameterCount(), pt.loss(), pt.testAccuracy(), pw.value(), pw.products(),
              pw.flagged() ? ", flagged: " + pw.reason() : "", lzTop, Math.abs(pw.value() - lzTop) / Math.abs(lzTop),
              lz.bottom().get(0).value(), t.value(), t.standardError(), s.hutchinson());
        }
      }
    }
    out.configuration = String.format(Locale.ROOT,
        "%s; resnet8 / -nobn / -noskip on 1x%dx%d, width %d, BatchNorm in train mode; SGD lr 0.05 momentum 0.9"
            + " batch %d, %d epoch(s), same seed; Hessian of the mean ce on %d training images; power iteration"
            + " ≤ %d products (tol %.0e), Lanczos ≤ %d steps, Hutchinson m=%d, SLQ %d steps x %d probes",
        data, s.side(), s.side(), s.width(), s.batch(), s.epochs(), s.hessianBatch(), s.powerIterations(),
        s.powerTolerance(), s.lanczosSteps(), s.hutchinson(), s.slqSteps(), s.slqProbes());
    out.expected = "BN not necessarily smoother: λ_max/trace with BN not always below those without (reported)";
    out.measured = String.format(Locale.ROOT,
        "λ_max (the larger of power iteration and Lanczos): BN+skip %.4g, no BN %.4g, no skip %.4g; trace: %.4g,"
            + " %.4g, %.4g; with BN %s than without",
        lmax[0], lmax[1], lmax[2], tr[0], tr[1], tr[2], lmax[0] < lmax[1] ? "smoother (λ_max lower)"
            : "not smoother (λ_max not lower)");
    Path p = ctx.plotPath("P1-density.png");
    if (p != null) {
      Chart c = Chart.of("P1: Hessian eigenvalue density (SLQ) with and without BatchNorm / skips", "eigenvalue",
          "density").subtitle(out.configuration).logY();
      for (int v = 0; v < names.length; v++) {
        c.add(names[v], densities.get(v).grid(), densities.get(v).density(), Chart.Style.LINE);
      }
      c.save(p);
      out.plots.add(p);
    }
  }
}

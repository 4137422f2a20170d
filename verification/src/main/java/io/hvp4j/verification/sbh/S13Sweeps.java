package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.plot.Chart;
import io.hvp4j.spectral.RankPredictions;
import io.hvp4j.verification.CheckContext;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * [SBH] S13 (docs/theory.md §A.9; the id is ours): the authors' three sweeps — rank against hidden width, depth and
 * sample size — with the measured ranks of H, H_O and H_F compared at every point with the closed forms (exact,
 * robust), and plotted like the paper's figures (measured points, predictions dashed) together with rank(H)/p
 * against p on log axes beside the reference slope p^(−1/2) (the √p law of §A.4).
 *
 * <p>Full mode uses the §A.9 sizes (width: d = 64, N = 100, K = 10, widths (w, w), w = 4…32; depth: d = 16,
 * N = 50, D hidden layers of 25, D = 1…6; sample size: d = 64, widths (10, 10), N = 10…400) on
 * {@link SweepData} (Fashion-MNIST when installed, else Gaussian) with the mse loss, Glorot init as the authors'
 * code. Quick mode runs the same three sweeps at small sizes on Gaussian data. Acceptance: the exact predicted
 * count, robust in quick mode; in full mode and on image data {@linkplain DenseCurvature.Rank#separated separated}
 * (as S8 for the §A.10 networks: Fashion-MNIST at 4×4 gives r = 15 of 16 and eigenvalues between 1e-12 and
 * 1e-7·σ_max with a gap of 4e9 at the cut), with robustness still reported per point.
 *
 * <p>On images a point can have no gap at all at the cut: with d = 64 the singular values of X decay smoothly to
 * about 1e-6·σ_max (r = 62), and with square 10×10 layers (the sample-size sweep) the spectrum of H_O runs
 * continuously into the tolerance (gap ≈ 1.2, e.g. 606 counted against 620 predicted at N = 100). The numerical
 * rank is then not defined; such points are reported as undetermined and must only stay at or below the
 * prediction. The same holds in full mode on Gaussian data where N ≈ d: such a data matrix is ill-conditioned,
 * and the spectrum of H_O inherits its small singular values (at d = 64, N = 60 and 70 the ranks equal the closed
 * forms but the gap at the cut is 9.7e3, below the 1e4 required, and 798 are counted at 1e-12); the mathematics,
 * not an engine error, so those points too are undetermined and bounded. Everywhere else every point must match
 * exactly. The widest and deepest §A.9 points
 * (w up to 56, D up to 9) are left out: their dense matrices (p up to 7280) take too long on small machines.
 */
public final class S13Sweeps extends SbhCheck {

  public S13Sweeps() {
    super("S13",
        "§A.9 sweeps (rank vs width, depth, sample size): measured ranks of H, H_O, H_F = closed forms; plots");
  }

  /** A sweep: the swept values, and the network and data at each value. */
  record Sweep(String name, String xLabel, int[] values, int d, int samplesMax) {}

  @Override
  String measure(CheckContext context, Tally tally) throws Exception {
    boolean full = context.full();
    boolean real = full && SweepData.files() != null;
    int[] widths = full ? range(4, 32, 4) : range(1, 8, 1);
    int[] depths = full ? range(1, 6, 1) : range(1, 5, 1);
    int[] samples = full ? range(10, 400, 10) : range(2, 30, 2);
    int dW = full ? 64 : 16, nW = full ? 100 : 30, kW = full ? 10 : 4;
    int dD = full ? 16 : 8, nD = full ? 50 : 20, wD = full ? 25 : 6, kD = full ? 10 : 3;
    int dS = full ? 64 : 16, wS = full ? 10 : 4, kS = full ? 10 : 4;
    if (real) {
      kW = kD = kS = 10;
    }
    List<Point> width = new ArrayList<>(), depth = new ArrayList<>(), sample = new ArrayList<>();
    try (Arena arena = Arena.ofShared()) {
      // Real data is read once per sweep (its largest N); a smaller N takes the first rows, as the authors' code.
      Dataset imagesW = real ? SweepData.load(arena, nW, dW, Loss.MSE, 1) : null;
      Dataset imagesD = real ? SweepData.load(arena, nD, dD, Loss.MSE, 1) : null;
      Dataset imagesS = real ? SweepData.load(arena, samples[samples.length - 1], dS, Loss.MSE, 1) : null;
      for (int w : widths) {
        width.add(point(context, tally, "width", w, new int[] {dW, w, w, kW}, nW, imagesW));
      }
      for (int dd : depths) {
        int[] arch = new int[dd + 2];
        java.util.Arrays.fill(arch, wD);
        arch[0] = dD;
        arch[dd + 1] = kD;
        depth.add(point(context, tally, "depth", dd, arch, nD, imagesD));
      }
      for (int n : samples) {
        sample.add(point(context, tally, "samples", n, new int[] {dS, wS, wS, kS}, n, imagesS));
      }
    }
    if (context.reportDirectory() != null) {
      tally.plots.add(plot(context, "sbh_rank_vs_width.png", "Rank vs hidden width (widths (w, w))",
          "hidden width w", width));
      tally.plots.add(plot(context, "sbh_rank_vs_depth.png", "Rank vs depth (hidden layers of width " + wD + ")",
          "hidden layers D", depth));
      tally.plots.add(plot(context, "sbh_rank_vs_samples.png", "Rank vs sample size (widths (" + wS + ", " + wS
          + "))", "samples N", sample));
      tally.plots.add(sqrtLaw(context, width));
    }
    long undetermined = java.util.stream.Stream.of(width, depth, sample).flatMap(List::stream)
        .filter(Point::undetermined).count();
    tally.measured = String.format(Locale.ROOT, "%d/%d points as expected%s", tally.passed, tally.points,
        undetermined == 0 ? "" : "; " + undetermined + " with no gap at the cut (rank undetermined: images or N ≈ d;"
            + " measured <= predicted)");
    tally.expected = "closed forms of §A.3 at every point (robust; gap >= 1e4 in full mode or on images)";
    return String.format(Locale.ROOT, "mse, bias-free linear, Glorot; width d=%d N=%d K=%d w=%d..%d; depth d=%d N=%d"
        + " width %d D=%d..%d; samples d=%d (%d,%d) N=%d..%d; %s", dW, nW, kW, widths[0], widths[widths.length - 1],
        dD, nD, wD, depths[0], depths[depths.length - 1], dS, wS, wS, samples[0], samples[samples.length - 1],
        real ? SweepData.describe() : "synthetic Gaussian inputs");
  }

  /** One measured point: swept value, p, measured and predicted (H, H_O, H_F). */
  record Point(int x, int p, int[] measured, int[] predicted, boolean undetermined) {}

  private static final Curvature[] OPS = {Curvature.HESSIAN, Curvature.GAUSS_NEWTON, Curvature.FUNCTIONAL};

  /** One sweep point on the first {@code n} rows of {@code images}, or on fresh Gaussian data when it is null. */
  static Point point(CheckContext ctx, Tally tally, String sweep, int x, int[] arch, int n, Dataset images) {
    ctx.progress().accept(String.format(Locale.ROOT, "S13 %s %d (p=%d)", sweep, x,
        new Mlp(arch, Activation.IDENTITY, false).parameterCount()));
    Mlp mlp = new Mlp(arch, Activation.IDENTITY, false);
    try (Arena arena = Arena.ofShared()) {
      Dataset data = images != null ? new Dataset(images.inputs().rowSlice(0, n), images.targets().rowSlice(0, n),
          "first " + n + " images") : NetSpec.linear(Loss.MSE, n, arch[0], 7000 + n, arch).data(arena);
      double[] theta = Initializer.GLOROT_NORMAL.initialize(mlp, 1);
      try (DenseCurvature dc = new DenseCurvature(mlp, Loss.MSE, data, theta, ctx.threads())) {
        int r = dc.inputRank();
        RankPredictions.Prediction p = RankPredictions.predict(mlp, Loss.MSE, r, -1).orElseThrow();
        int[] measured = new int[3], predicted = new int[3];
        boolean ok = true, undetermined = false;
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s=%d arch %s N=%d r=%d p=%d:", sweep, x,
            mlp.architecture(), n, r, mlp.parameterCount()));
        for (int i = 0; i < 3; i++) {
          DenseCurvature.Rank m = dc.rank(OPS[i]);
          measured[i] = m.rank();
          predicted[i] = RankGrid.predicted(p, OPS[i]);
          if ((images != null || ctx.full()) && !m.separated()) {
            // No gap at the cut: the numerical rank is not defined there (image data, or Gaussian data with N ≈ d,
            // whose X is ill-conditioned); the formula must still bound it.
            undetermined = true;
            ok &= measured[i] <= predicted[i];
          } else {
            // Larger networks and images have eigenvalues far below 1e-7·σ_max that are still clearly non-zero.
            ok &= (ctx.full() || images != null ? m.separated() : m.robust()) && measured[i] == predicted[i];
          }
          line.append(' ').append(RankGrid.label(OPS[i])).append(' ').append(m).append(" (").append(predicted[i])
              .append(')');
        }
        tally.record(ok, line + (undetermined ? " — no gap at the cut: rank undetermined, <= prediction" : ""));
        return new Point(x, mlp.parameterCount(), measured, predicted, undetermined);
      }
    }
  }

  private static Path plot(CheckContext ctx, String file, String title, String xLabel, List<Point> pts)
      throws java.io.IOException {
    int[] x = pts.stream().mapToInt(Point::x).toArray();
    Chart c = Chart.of("S13: " + title, xLabel, "rank (number of nonzero eigenvalues)")
        .subtitle("ranks of H, H_O and H_F from their exact spectra, beside the §A.3 predictions; MSE, bias-free"
            + " linear MLP");
    String[] names = {"H", "H_O", "H_F"};
    for (int i = 0; i < 3; i++) {
      final int k = i;
      c.add("rank " + names[i], x, pts.stream().mapToInt(p -> p.measured()[k]).toArray(), Chart.Style.POINTS);
      c.add("predicted " + names[i], x, pts.stream().mapToInt(p -> p.predicted()[k]).toArray(), Chart.Style.DASHED)
          .colorLikePrevious();
    }
    c.add("p (parameters)", x, pts.stream().mapToInt(Point::p).toArray(), Chart.Style.LINE);
    Path out = ctx.plotPath(file);
    c.save(out);
    return out;
  }

  /** rank(H)/p against p, log-log, with c·p^(−1/2) through the last point. */
  private static Path sqrtLaw(CheckContext ctx, List<Point> width) throws java.io.IOException {
    double[] p = width.stream().mapToDouble(Point::p).toArray();
    double[] ratio = width.stream().mapToDouble(pt -> (double) pt.measured()[0] / pt.p()).toArray();
    double[] predicted = width.stream().mapToDouble(pt -> (double) pt.predicted()[0] / pt.p()).toArray();
    // The reference slope over the points below full rank (where the √p law applies).
    int first = 0;
    while (first < ratio.length - 1 && ratio[first] >= 1) first++;
    double c = ratio[ratio.length - 1] * Math.sqrt(p[p.length - 1]);
    double[] refP = java.util.Arrays.copyOfRange(p, first, p.length);
    double[] ref = new double[refP.length];
    for (int i = 0; i < refP.length; i++) ref[i] = c / Math.sqrt(refP[i]);
    Chart chart = Chart.of("S13: rank(H)/p against p in the width sweep (the √p law)", "parameters p (count)",
            "rank(H) / p (fraction of parameters)")
        .subtitle("exact spectra; MSE, bias-free linear MLP; c·p^(−1/2) drawn through the last point")
        .logX().logY()
        .add("measured rank(H)/p", p, ratio, Chart.Style.POINTS)
        .add("predicted rank(H)/p", p, predicted, Chart.Style.DASHED).colorLikePrevious()
        .add("c·p^(−1/2)", refP, ref, Chart.Style.LINE);
    Path out = ctx.plotPath("sbh_rank_over_p.png");
    chart.save(out);
    return out;
  }

  static int[] range(int from, int to, int step) {
    int[] v = new int[(to - from) / step + 1];
    for (int i = 0; i < v.length; i++) v[i] = from + i * step;
    return v;
  }
}

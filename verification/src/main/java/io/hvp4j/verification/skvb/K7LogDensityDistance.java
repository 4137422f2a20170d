package io.hvp4j.verification.skvb;

import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * K7 (docs/theory.md §D.4, §C.4): the log-density Wasserstein distance equals the transform followed by scipy's
 * Wasserstein-1 on value samples. Checked on hand-made vectors whose distances were worked out by hand with
 * exact fractions (1/6 and 1/12; scipy 1.17 prints the same), on scale invariance (a density times c > 0 has the
 * same transform), and against the closed form for equal sample counts, W₁ = mean |sorted u − sorted v|.
 */
public final class K7LogDensityDistance extends AbstractCheck {
  public K7LogDensityDistance() {
    super("K7", Paper.SKVB, CheckKind.HARD, "the §C.4 log-density Wasserstein distance, quirk included");
  }

  static final double E = Math.E;

  /** Hand-made pairs and their distances computed by hand (see the class comment). */
  static final double[][][] CASES = {
    {{1, 0, E * E, E}, {E, E * E * E, E * E * E}},
    {{0.5, 0.25, 0, 1, 0.125}, {2, 0, 1, 4}},
  };

  static final double[] EXPECTED = {1.0 / 6, 1.0 / 12};

  @Override
  protected void measure(CheckContext ctx, Outcome out) {
    out.configuration = "2 hand-made pairs (lengths 4/3 and 5/4), scale invariance, 20 random equal-length pairs";
    out.expected = "|error| ≤ 1e−12";
    double worst = 0;
    for (int i = 0; i < CASES.length; i++) {
      double d = LogDensityDistance.distance(CASES[i][0], CASES[i][1]);
      double err = Math.abs(d - EXPECTED[i]);
      worst = Math.max(worst, err);
      out.detail("pair %d: distance %.17g, by hand %.17g, error %.1e", i + 1, d, EXPECTED[i], err);
      double[] scaled = CASES[i][0].clone();
      for (int j = 0; j < scaled.length; j++) scaled[j] *= 7.5;
      double ds = LogDensityDistance.distance(scaled, CASES[i][1]);
      worst = Math.max(worst, Math.abs(ds - EXPECTED[i]));
    }
    SplittableRandom rng = new SplittableRandom(7);
    double worstClosed = 0;
    for (int t = 0; t < 20; t++) {
      int n = 2 + rng.nextInt(40);
      double[] u = new double[n], v = new double[n];
      for (int j = 0; j < n; j++) {
        u[j] = rng.nextInt(5) == 0 ? 0 : rng.nextDouble();
        v[j] = rng.nextInt(5) == 0 ? 0 : rng.nextDouble(3);
      }
      u[0] = 0.5; // at least one positive value and a non-constant vector
      u[1] = 0.25;
      v[0] = 1;
      v[1] = 2;
      double[] a = LogDensityDistance.transform(u), b = LogDensityDistance.transform(v);
      Arrays.sort(a);
      Arrays.sort(b);
      double closed = 0;
      for (int j = 0; j < n; j++) closed += Math.abs(a[j] - b[j]) / n;
      worstClosed = Math.max(worstClosed, Math.abs(LogDensityDistance.distance(u, v) - closed));
    }
    worst = Math.max(worst, worstClosed);
    out.detail("equal lengths against mean |sorted u − sorted v|: max error %.1e", worstClosed);
    out.passed = worst <= 1e-12;
    out.measured = "max error " + g(worst);
  }
}

package io.hvp4j.verification.skvb;

import java.util.Arrays;

/**
 * The similarity of two spectral densities used by Sankar et al.'s {@code match_distros.py} (docs/theory.md §C.4),
 * reproduced with its quirk: each density vector (on its own grid) is transformed by
 *
 * <ol>
 *   <li>replacing every zero by the smallest positive value of that vector,
 *   <li>taking the natural log,
 *   <li>min–max normalising to [0, 1],
 *   <li>dividing by the sum,
 * </ol>
 *
 * and then {@code scipy.stats.wasserstein_distance(u, v)} is applied to the two transformed vectors <em>as
 * samples</em> (equal weights): the density values are the sample points, the grid positions are not used. The
 * Wasserstein-1 distance is computed as scipy does: {@code Σ |F_u − F_v|·Δ} over the sorted union of the samples,
 * with right-continuous empirical CDFs. A constant vector (max = min after the log) gives NaN, as numpy's 0/0 does
 * in the original. Thread-safe (stateless).
 */
public final class LogDensityDistance {
  private LogDensityDistance() {}

  /** Steps 1–4 of the transform. Negative or non-finite densities, or no positive value, are rejected. */
  public static double[] transform(double[] density) {
    if (density.length == 0) throw new IllegalArgumentException("empty density vector");
    double minPositive = Double.POSITIVE_INFINITY;
    for (double d : density) {
      if (!(d >= 0) || Double.isInfinite(d)) {
        throw new IllegalArgumentException("densities must be finite and non-negative, got " + d);
      }
      if (d > 0) minPositive = Math.min(minPositive, d);
    }
    if (minPositive == Double.POSITIVE_INFINITY) {
      throw new IllegalArgumentException("the density vector has no positive value");
    }
    double[] x = new double[density.length];
    double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < x.length; i++) {
      x[i] = Math.log(density[i] == 0 ? minPositive : density[i]);
      lo = Math.min(lo, x[i]);
      hi = Math.max(hi, x[i]);
    }
    double sum = 0;
    for (int i = 0; i < x.length; i++) {
      x[i] = (x[i] - lo) / (hi - lo);
      sum += x[i];
    }
    for (int i = 0; i < x.length; i++) x[i] /= sum;
    return x;
  }

  /** {@code scipy.stats.wasserstein_distance(u, v)} with unit weights. */
  public static double wasserstein(double[] u, double[] v) {
    double[] su = u.clone(), sv = v.clone();
    Arrays.sort(su);
    Arrays.sort(sv);
    double[] all = new double[u.length + v.length];
    System.arraycopy(u, 0, all, 0, u.length);
    System.arraycopy(v, 0, all, u.length, v.length);
    Arrays.sort(all);
    double total = 0;
    for (int i = 0; i + 1 < all.length; i++) {
      double delta = all[i + 1] - all[i];
      double fu = (double) countAtMost(su, all[i]) / u.length;
      double fv = (double) countAtMost(sv, all[i]) / v.length;
      total += Math.abs(fu - fv) * delta;
    }
    return total;
  }

  /** numpy's {@code searchsorted(x, 'right')}: the number of elements ≤ t of sorted {@code a}. */
  private static int countAtMost(double[] a, double t) {
    int lo = 0, hi = a.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (a[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The distance of §C.4 between two density vectors. */
  public static double distance(double[] densityU, double[] densityV) {
    return wasserstein(transform(densityU), transform(densityV));
  }

  /**
   * Per-layer distances summed over epochs, read as the middle-layer claim: the argmin layer, each layer's relative
   * depth {@code (l + 1)/layers}, the sums normalised by their largest, and those as text.
   */
  public record ByDepth(int argmin, double[] depth, double[] normalised, String text) {
    public static ByDepth of(double[] summed) {
      int layers = summed.length, arg = 0;
      double max = 0;
      for (int l = 0; l < layers; l++) {
        if (summed[l] < summed[arg]) arg = l;
        max = Math.max(max, summed[l]);
      }
      double[] depth = new double[layers], norm = new double[layers];
      StringBuilder m = new StringBuilder();
      for (int l = 0; l < layers; l++) {
        depth[l] = (l + 1.0) / layers;
        norm[l] = summed[l] / max;
        m.append(String.format(java.util.Locale.ROOT, "%s%.3f", l == 0 ? "" : ", ", norm[l]));
      }
      return new ByDepth(arg, depth, norm, m.toString());
    }

    /** Neither the first nor the last layer. */
    public boolean interior() {
      return argmin > 0 && argmin < depth.length - 1;
    }
  }
}

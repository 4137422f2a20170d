package io.hvp4j.plot;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Tick positions and labels of one axis, linear or logarithmic: the only place that decides them.
 *
 * <p>Rules, for every axis: between {@link #MIN_LABELS} and {@code maxLabels} (at most {@link #MAX_LABELS}) labelled
 * ticks, except that three labels win over a small {@code maxLabels} that no regular step can meet (e.g. 1, 2, 3,
 * 4, 5 on [0.5, 5] for {@code maxLabels} 3). A logarithmic axis that contains at least three powers of ten labels powers of ten only, at most one per
 * decade (every k-th decade when there are more than {@code maxLabels}); a shorter one labels 1, 2 and 5 times a
 * power of ten, then 1–9 times, then falls back to linear ticks, whichever first gives three labels.
 */
public final class Ticks {
  /** Fewest labelled ticks on an axis. */
  public static final int MIN_LABELS = 3;

  /** Most labelled ticks on an axis. */
  public static final int MAX_LABELS = 10;

  private static final double EPS = 1e-9;

  private Ticks() {}

  /**
   * One tick: its value and its label, written as {@code text} followed by an optional superscript {@code exponent}
   * (for example "2×10" with exponent "−5"; exponent empty for a plain number). {@code minor} ticks have no label.
   */
  public record Tick(double value, String text, String exponent, boolean minor) {
    /** The label as one line of plain text, e.g. {@code 2×10^−5}. */
    public String plain() {
      return exponent.isEmpty() ? text : text + "^" + exponent;
    }
  }

  /**
   * Labelled ticks of a linear axis over {@code [lo, hi]}: steps of 1, 2 or 5 times a power of ten, the finest that
   * gives at most {@code maxLabels} ticks inside the range.
   */
  public static List<Tick> linear(double lo, double hi, int maxLabels) {
    return linear(lo, hi, maxLabels, false);
  }

  /** As {@link #linear(double, double, int)}; {@code integers}: no step below 1 (epochs, layers, counts). */
  public static List<Tick> linear(double lo, double hi, int maxLabels, boolean integers) {
    checkRange(lo, hi);
    int max = Math.max(MIN_LABELS, Math.min(MAX_LABELS, maxLabels));
    double span = hi - lo;
    double step = Math.pow(10, Math.floor(Math.log10(span / max)) - 1);
    double[] mult = {1, 2, 5};
    double fallback = Double.NaN; // the coarsest step that still gives MIN_LABELS ticks
    for (int guard = 0; guard < 40; guard++) {
      for (double m : mult) {
        double s = step * m;
        if (integers && s < 1 && count(lo, hi, 1) >= MIN_LABELS) continue;
        long c = count(lo, hi, s);
        if (c >= MIN_LABELS && c <= max) return linearTicks(lo, hi, s);
        if (c >= MIN_LABELS) fallback = s;
        if (c < MIN_LABELS) return linearTicks(lo, hi, fallback);
      }
      step *= 10;
    }
    throw new IllegalStateException("no linear ticks for [" + lo + ", " + hi + "]");
  }

  /**
   * Labelled and minor ticks of a logarithmic axis over {@code [lo, hi]}, {@code 0 < lo < hi}; see the class
   * comment for the rules.
   */
  public static List<Tick> log(double lo, double hi, int maxLabels) {
    checkRange(lo, hi);
    if (!(lo > 0)) throw new IllegalArgumentException("a logarithmic axis needs lo > 0, got " + lo);
    int max = Math.max(MIN_LABELS, Math.min(MAX_LABELS, maxLabels));
    int d0 = (int) Math.ceil(Math.log10(lo) - EPS);
    int d1 = (int) Math.floor(Math.log10(hi) + EPS);
    int decades = d1 - d0 + 1;
    if (decades >= MIN_LABELS) {
      int k = decadeStep(d0, d1, max);
      boolean plain = d0 >= -2 && d1 <= 4;
      List<Tick> ticks = new ArrayList<>();
      for (int d = d0; d <= d1; d++) {
        double v = Math.pow(10, d);
        if (Math.floorMod(d, k) == 0) {
          ticks.add(plain ? new Tick(v, plain(v, Math.max(0, -d)), "", false) : new Tick(v, "10", sup(d), false));
        } else if (decades <= 60) {
          ticks.add(new Tick(v, "", "", true));
        }
      }
      if (k == 1 && decades <= 6) {
        for (int d = d0 - 1; d <= d1; d++) {
          for (int m = 2; m <= 9; m++) {
            double v = m * Math.pow(10, d);
            if (v >= lo * (1 - EPS) && v <= hi * (1 + EPS)) ticks.add(new Tick(v, "", "", true));
          }
        }
      }
      ticks.sort(java.util.Comparator.comparingDouble(Tick::value));
      return ticks;
    }
    for (int[] mantissas : new int[][] {{1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
      List<Tick> ticks = new ArrayList<>();
      for (int d = d0 - 1; d <= d1; d++) {
        for (int m : mantissas) {
          double v = m * Math.pow(10, d);
          if (v >= lo * (1 - EPS) && v <= hi * (1 + EPS)) ticks.add(mantissaTick(m, d));
        }
      }
      if (ticks.size() >= MIN_LABELS && ticks.size() <= max) return ticks;
    }
    return linear(lo, hi, max);
  }

  /**
   * The step k (in decades) of the labelled powers of ten 10^(jk) inside [d0, d1]: the first of 1, 2, 3, 4, 5, 10,
   * 20, ... that gives between {@link #MIN_LABELS} and {@code max} labels, else the smallest integer that does, else
   * (e.g. four decades and {@code max} = 3) the largest that still gives {@link #MIN_LABELS}.
   */
  private static int decadeStep(int d0, int d1, int max) {
    for (int scale = 1; scale <= d1 - d0; scale *= 10) {
      for (int n : new int[] {1, 2, 3, 4, 5}) {
        int c = multiples(d0, d1, n * scale);
        if (c >= MIN_LABELS && c <= max) return n * scale;
      }
    }
    for (int k = 1; k <= d1 - d0; k++) {
      int c = multiples(d0, d1, k);
      if (c >= MIN_LABELS && c <= max) return k;
    }
    // e.g. 4 decades and max = 3: no regular step gives 3 labels; keep at least 3 (here 4)
    int k = 1;
    while (multiples(d0, d1, k + 1) >= MIN_LABELS) k++;
    return k;
  }

  private static int multiples(int d0, int d1, int k) {
    return Math.floorDiv(d1, k) - Math.floorDiv(d0 - 1, k);
  }

  /** Number of labelled (not minor) ticks. */
  public static int labelled(List<Tick> ticks) {
    int n = 0;
    for (Tick t : ticks) if (!t.minor()) n++;
    return n;
  }

  /** A number for a legend or note, with {@code digits} significant digits and the same notation as the ticks. */
  public static Tick number(double v, int digits) {
    if (v == 0 || !Double.isFinite(v)) return new Tick(v, v == 0 ? "0" : Double.toString(v), "", false);
    int e = (int) Math.floor(Math.log10(Math.abs(v)));
    if (e >= -3 && e < 6) return new Tick(v, plain(v, Math.max(0, digits - 1 - e)), "", false);
    String m = plain(v / Math.pow(10, e), digits - 1);
    return new Tick(v, m.equals("1") ? "10" : m.equals("−1") ? "−10" : m + "×10", sup(e), false);
  }

  private static Tick mantissaTick(int m, int d) {
    double v = m * Math.pow(10, d);
    if (d >= -3 && d <= 4) return new Tick(v, plain(v, Math.max(0, -d)), "", false);
    return new Tick(v, m == 1 ? "10" : m + "×10", sup(d), false);
  }

  private static long count(double lo, double hi, double step) {
    return (long) (Math.floor(hi / step + EPS) - Math.ceil(lo / step - EPS)) + 1;
  }

  private static List<Tick> linearTicks(double lo, double hi, double step) {
    long first = (long) Math.ceil(lo / step - EPS);
    long last = (long) Math.floor(hi / step + EPS);
    double maxAbs = Math.max(Math.abs(first * step), Math.abs(last * step));
    int stepExp = (int) Math.floor(Math.log10(step) + EPS);
    boolean scientific = maxAbs >= 1e6 || maxAbs < 1e-3;
    List<Tick> ticks = new ArrayList<>();
    for (long i = first; i <= last; i++) {
      double v = i * step;
      if (Math.abs(v) < step * 1e-6) v = 0;
      if (v == 0) {
        ticks.add(new Tick(0, "0", "", false));
      } else if (scientific) {
        int e = (int) Math.floor(Math.log10(Math.abs(v)) + EPS);
        double m = v / Math.pow(10, e);
        String ms = plain(m, Math.max(0, e - stepExp));
        ticks.add(new Tick(v, ms.equals("1") ? "10" : ms.equals("−1") ? "−10" : ms + "×10", sup(e), false));
      } else {
        ticks.add(new Tick(v, plain(v, Math.max(0, -stepExp)), "", false));
      }
    }
    return ticks;
  }

  /** {@code v} with {@code decimals} decimals, trailing zeros kept off, and a typographic minus. */
  static String plain(double v, int decimals) {
    String s = String.format(Locale.ROOT, "%." + Math.min(decimals, 15) + "f", v);
    if (s.contains(".")) {
      s = s.replaceAll("0+$", "");
      if (s.endsWith(".")) s = s.substring(0, s.length() - 1);
    }
    if (s.equals("-0")) s = "0";
    return s.replace('-', '−');
  }

  private static String sup(int e) {
    return Integer.toString(e).replace('-', '−');
  }

  private static void checkRange(double lo, double hi) {
    if (!Double.isFinite(lo) || !Double.isFinite(hi) || !(hi > lo)) {
      throw new IllegalArgumentException("axis range must be finite with lo < hi, got [" + lo + ", " + hi + "]");
    }
  }
}

package io.hvp4j.plot;

import io.hvp4j.plot.Figure.Axis;
import io.hvp4j.plot.Figure.Bar;
import io.hvp4j.plot.Figure.Box;
import io.hvp4j.plot.Figure.Line;
import io.hvp4j.plot.Figure.Mark;
import io.hvp4j.plot.Figure.OutlierMark;
import io.hvp4j.plot.Figure.Placed;
import io.hvp4j.plot.Figure.Point;
import io.hvp4j.plot.Figure.Rich;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A chart with named line, point and histogram series, written as PNG or SVG (by the file's extension). Every hvp4j
 * plot is made here, so the CLI ({@code spectrum --plot}, {@code train}) and {@code verify --report} share one look
 * ({@link Theme}) and one tick rule ({@link Ticks}).
 *
 * <p><b>Logarithmic y axis.</b>
 *
 * <ul>
 *   <li><b>Floor.</b> The axis starts at {@code floor × max}, where {@code max} is the largest value of the line and
 *       point series and {@code floor} is {@link #DEFAULT_LOG_FLOOR} (10<sup>−8</sup>) unless {@link
 *       #logY(double)} sets another; it ends 5% (of its height) above {@code max}. So a density whose tails
 *       underflow towards 0 spans at most {@code log10(1/floor)} decades plus that margin, not hundreds. Line values
 *       below the floor (0 included) are drawn on the floor, and a note under the axis says so; points below it are
 *       not drawn.
 *   <li><b>Histograms.</b> On a log axis, counts are bars from {@link #HISTOGRAM_FLOOR} (half a count) up, so a bin
 *       with one value is a visible bar and an empty bin is a gap: nothing is drawn there. On a linear axis bars start
 *       at 0.
 *   <li><b>Outliers.</b> On each side of a histogram's fullest bin, the widest run of empty bins, if it is at least
 *       {@code max(2, bins / 25)} bins wide, ends the bulk; the non-empty bins beyond it are outlier bins (the
 *       isolated top eigenvalues of Sagun et al.), drawn as isolated bars and, after {@link #markOutliers()}, marked
 *       with a triangle above them.
 * </ul>
 *
 * <p>Values that cannot be drawn (NaN, ±∞, ≤ 0 on a log x axis) break a line into pieces. Not thread-safe; build and
 * save a chart on one thread.
 */
public final class Chart {

  /** The default floor of a logarithmic y axis, as a fraction of the largest value of the line and point series. */
  public static final double DEFAULT_LOG_FLOOR = 1e-8;

  /** Where histogram bars start on a logarithmic count axis: half a count, so that a count of 1 is a visible bar. */
  public static final double HISTOGRAM_FLOOR = 0.5;

  /** How a line series is drawn. */
  public enum Style {
    /** Connected line, no markers. */
    LINE,
    /** Markers only. */
    POINTS,
    /** Line with markers. */
    LINE_POINTS,
    /** Dashed line (e.g. a prediction beside measurements). */
    DASHED
  }

  /** A series; a histogram has {@code style == null}, {@code x} the bin left edges and {@code y} the counts. */
  private record Data(String name, double[] x, double[] y, Style style, double binWidth) {
    boolean histogram() {
      return style == null;
    }
  }

  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final List<Data> series = new ArrayList<>();
  /** Palette index of each series. */
  private final List<Integer> colors = new ArrayList<>();
  private String subtitle;
  private boolean logX;
  private boolean logY;
  private double logFloor = DEFAULT_LOG_FLOOR;
  private boolean markOutliers;
  private int width = 800;
  private int height = 560;

  private Chart(String title, String xLabel, String yLabel) {
    this.title = Objects.requireNonNull(title);
    this.xLabel = Objects.requireNonNull(xLabel);
    this.yLabel = Objects.requireNonNull(yLabel);
  }

  /**
   * A new empty chart. The title should name what is plotted (operator, model, method); the axis labels should give
   * units.
   */
  public static Chart of(String title, String xLabel, String yLabel) {
    return new Chart(title, xLabel, yLabel);
  }

  /** A second, smaller title line (e.g. the model and the method's settings). */
  public Chart subtitle(String text) {
    subtitle = Objects.requireNonNull(text);
    return this;
  }

  /** Logarithmic x axis. */
  public Chart logX() {
    logX = true;
    return this;
  }

  /** Logarithmic y axis floored at {@link #DEFAULT_LOG_FLOOR} times the maximum (see the class comment). */
  public Chart logY() {
    return logY(DEFAULT_LOG_FLOOR);
  }

  /** Logarithmic y axis floored at {@code floor} times the maximum of the line and point series, 0 &lt; floor &lt; 1. */
  public Chart logY(double floor) {
    if (!(floor > 0 && floor < 1)) throw new IllegalArgumentException("log floor must be in (0, 1), got " + floor);
    logY = true;
    logFloor = floor;
    return this;
  }

  /** Marks the outlier bins of the histograms (see the class comment) with a triangle. */
  public Chart markOutliers() {
    markOutliers = true;
    return this;
  }

  /** Logical size of the canvas; a PNG has {@link PngCanvas#SCALE} times as many pixels each way. */
  public Chart size(int widthPixels, int heightPixels) {
    if (widthPixels < 100 || heightPixels < 100) {
      throw new IllegalArgumentException("chart size must be at least 100x100 pixels");
    }
    width = widthPixels;
    height = heightPixels;
    return this;
  }

  /** Adds a series; {@code x} and {@code y} must have the same length. The arrays are copied. */
  public Chart add(String name, double[] x, double[] y, Style style) {
    if (x.length != y.length) {
      throw new IllegalArgumentException(
          "series '" + name + "': " + x.length + " x values but " + y.length + " y values");
    }
    series.add(new Data(name, x.clone(), y.clone(), Objects.requireNonNull(style), 0));
    colors.add(nextColor());
    return this;
  }

  /** Convenience for integer-valued series such as ranks. */
  public Chart add(String name, int[] x, int[] y, Style style) {
    double[] dx = new double[x.length];
    double[] dy = new double[y.length];
    for (int i = 0; i < x.length; i++) dx[i] = x[i];
    for (int i = 0; i < y.length; i++) dy[i] = y[i];
    return add(name, dx, dy, style);
  }

  /**
   * Draws the series added last in the colour of the one before it, e.g. a prediction (dashed) in the colour of
   * the measurement (points) it predicts.
   */
  public Chart colorLikePrevious() {
    if (series.size() < 2) throw new IllegalStateException("colorLikePrevious needs two series");
    colors.set(colors.size() - 1, colors.get(colors.size() - 2));
    return this;
  }

  private int nextColor() {
    return colors.isEmpty() ? 0 : colors.stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
  }

  /**
   * A histogram of {@code values} with {@code bins} equal bins over their range, drawn as bars (see the class
   * comment); the legend gives the bin width. Use with {@link #logY()} for the log-count spectra of the seed papers.
   */
  public Chart histogram(String name, double[] values, int bins) {
    if (bins < 1) throw new IllegalArgumentException("bins must be positive");
    if (values.length == 0) throw new IllegalArgumentException("histogram '" + name + "' has no values");
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      if (!Double.isFinite(v)) throw new IllegalArgumentException("histogram '" + name + "' has a non-finite value");
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    if (hi == lo) {
      double half = Math.max(1e-300, Math.abs(lo) * 1e-3);
      lo -= half;
      hi += half;
    }
    double w = (hi - lo) / bins;
    double[] counts = new double[bins];
    for (double v : values) counts[(int) Math.min(bins - 1, Math.floor((v - lo) / w))]++;
    double[] edges = new double[bins];
    for (int b = 0; b < bins; b++) edges[b] = lo + b * w;
    series.add(new Data(name, edges, counts, null, w));
    colors.add(nextColor());
    return this;
  }

  /**
   * The bins of histogram {@code counts} that lie apart from its bulk (see the class comment), as a mask.
   */
  static boolean[] outliers(double[] counts) {
    int n = counts.length;
    int peak = 0;
    for (int b = 1; b < n; b++) if (counts[b] > counts[peak]) peak = b;
    int minGap = Math.max(2, n / 25);
    boolean[] out = new boolean[n];
    for (int dir : new int[] {-1, 1}) {
      int prev = peak;
      int widest = 0;
      int edge = -1; // the first non-empty bin beyond the widest gap
      for (int b = peak + dir; b >= 0 && b < n; b += dir) {
        if (counts[b] <= 0) continue;
        int gap = Math.abs(b - prev) - 1;
        if (gap >= widest && gap >= minGap) {
          widest = gap;
          edge = b;
        }
        prev = b;
      }
      if (edge >= 0) {
        for (int b = edge; b >= 0 && b < n; b += dir) out[b] = counts[b] > 0;
      }
    }
    return out;
  }

  /** Writes the chart; the format follows the extension: {@code .png} or {@code .svg}. Parent folders are created. */
  public void save(Path file) throws IOException {
    byte[] bytes = render(file);
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) Files.createDirectories(parent);
    Files.write(file, bytes);
  }

  /**
   * The chart as the bytes of a file in the format that {@code file}'s extension names ({@code .png} or
   * {@code .svg}); nothing is written, so that a caller can write it as it writes its other outputs.
   */
  public byte[] render(Path file) throws IOException {
    String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
    boolean svg = name.endsWith(".svg");
    if (!name.endsWith(".png") && !svg) {
      throw new IllegalArgumentException("plot file must end in .png or .svg: " + file);
    }
    Figure f = layout();
    Canvas c = svg ? new SvgCanvas(width, height) : new PngCanvas(width, height);
    Painter.paint(f, c);
    return c.encode();
  }

  // ------------------------------------------------------------------------------------------------------ layout

  /** Lays the chart out: what {@link #save} draws. */
  public Figure layout() {
    if (series.isEmpty()) throw new IllegalStateException("chart '" + title + "' has no series");
    double[] xr = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
    double[] yr = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
    boolean anyHistogram = false;
    boolean anyXy = false;
    for (Data s : series) {
      if (s.histogram()) {
        anyHistogram = true;
        for (int b = 0; b < s.y().length; b++) {
          if (s.y()[b] > 0) {
            widen(yr, s.y()[b]);
            widen(xr, s.x()[b]);
            widen(xr, s.x()[b] + s.binWidth());
          }
        }
      } else {
        for (int i = 0; i < s.x().length; i++) {
          if (drawableX(s.x()[i]) && Double.isFinite(s.y()[i]) && (!logY || s.y()[i] > 0)) {
            anyXy = true;
            widen(xr, s.x()[i]);
            widen(yr, s.y()[i]);
          }
        }
      }
    }
    if (!(xr[0] <= xr[1])) throw new IllegalStateException("chart '" + title + "' has no drawable points");
    boolean floored = false;
    double yFloor = Double.NEGATIVE_INFINITY;
    if (logY) {
      if (anyXy && yr[0] < yr[1] * logFloor) {
        yr[0] = yr[1] * logFloor;
        floored = true;
      }
      if (anyHistogram) yr[0] = Math.min(yr[0], HISTOGRAM_FLOOR);
      yFloor = yr[0];
    } else if (anyHistogram) {
      yr[0] = Math.min(yr[0], 0);
      yFloor = 0;
    }
    double[] xAxis = pad(xr, logX, 0.02, 0.02);
    double[] yAxis = pad(yr, logY, yFloor == Double.NEGATIVE_INFINITY ? 0.05 : 0, 0.05);
    if (yFloor != Double.NEGATIVE_INFINITY) yAxis[0] = Math.min(yAxis[0], yFloor);

    // Margins: title block on top, tick labels, axis label and note below.
    double top = 10 + Theme.TITLE * 1.25;
    List<Placed> subtitleText = new ArrayList<>();
    double titleSize = fit(Rich.of(title), Theme.TITLE, true);
    Placed titleText = new Placed(Rich.of(title), width / 2.0, 10 + titleSize, titleSize);
    if (subtitle != null) {
      for (String line : wrap(subtitle, Theme.SUBTITLE)) {
        double size = fit(Rich.of(line), Theme.SUBTITLE, false);
        top += Theme.SUBTITLE * 1.4;
        subtitleText.add(new Placed(Rich.of(line), width / 2.0, top, size));
      }
    }
    top += 14;
    Ticks.Tick floorText = Ticks.number(logFloor, 2);
    Rich note = floored ? new Rich("log axis floored at max × " + floorText.text(), floorText.exponent(),
        "; lower values are drawn on the floor") : null;
    double tickBand = Theme.MAJOR_TICK + 4 + Theme.TICK_LABEL * 1.45;
    double bottom = tickBand + 6 + Theme.AXIS_LABEL * 1.3 + (note == null ? 0 : Theme.NOTE * 1.8) + 10;
    double plotTop = top;
    double plotBottom = height - bottom;
    if (plotBottom - plotTop < 40) throw new IllegalStateException("chart too small to draw");

    int yMax = (int) Math.max(Ticks.MIN_LABELS, Math.min(Ticks.MAX_LABELS,
        Math.floor((plotBottom - plotTop) / (Theme.TICK_LABEL * 2.4))));
    List<Ticks.Tick> yTicks = ticks(yAxis, logY, yMax, integerValued(false));
    double yLabelWidth = 0;
    for (Ticks.Tick t : yTicks) {
      if (!t.minor()) yLabelWidth = Math.max(yLabelWidth, Theme.width(t.text(), t.exponent(), Theme.TICK_LABEL, false));
    }
    double left = 10 + Theme.AXIS_LABEL * 1.2 + 10 + yLabelWidth + 4 + Theme.MAJOR_TICK;
    double right = 20;
    List<Ticks.Tick> xTicks = null;
    List<Box> xBoxes = null;
    for (int max = Ticks.MAX_LABELS; max >= Ticks.MIN_LABELS; max--) {
      xTicks = ticks(xAxis, logX, max, integerValued(true));
      double lastWidth = 0;
      for (Ticks.Tick t : xTicks) if (!t.minor()) lastWidth = Theme.width(t.text(), t.exponent(), Theme.TICK_LABEL, false);
      right = Math.max(20, lastWidth / 2 + 6);
      xBoxes = labelBoxes(new Axis(xLabel, logX, xAxis[0], xAxis[1], left, width - right, xTicks, List.of()), true,
          plotBottom);
      if (!Figure.overlap(xBoxes, 8)) break;
    }
    if (width - right - left < 40) throw new IllegalStateException("chart too small to draw");
    Axis x = new Axis(xLabel, logX, xAxis[0], xAxis[1], left, width - right, xTicks, xBoxes);
    Axis yProbe = new Axis(yLabel, logY, yAxis[0], yAxis[1], plotBottom, plotTop, yTicks, List.of());
    Axis y = new Axis(yLabel, logY, yAxis[0], yAxis[1], plotBottom, plotTop, yTicks, labelBoxes(yProbe, false, left));
    Box plot = new Box(left, plotTop, width - right - left, plotBottom - plotTop);

    // Series and marks.
    List<Figure.Series> shown = new ArrayList<>();
    List<Mark> marks = new ArrayList<>();
    boolean anyOutlier = false;
    for (int i = 0; i < series.size(); i++) {
      Data s = series.get(i);
      if (s.histogram()) {
        Ticks.Tick w = Ticks.number(s.binWidth(), 3);
        shown.add(new Figure.Series(new Rich(s.name() + " (bin width " + w.text(), w.exponent(), ")"),
            Theme.color(colors.get(i)), null));
        boolean[] out = outliers(s.y());
        double base = y.pixel(yAxis[0]);
        for (int b = 0; b < s.y().length; b++) {
          if (s.y()[b] <= 0) continue;
          double lo = s.x()[b];
          double hi = lo + s.binWidth();
          double px0 = x.pixel(lo);
          double px1 = x.pixel(hi);
          if (px1 - px0 < 1.5) {
            double mid = (px0 + px1) / 2;
            px0 = mid - 0.75;
            px1 = mid + 0.75;
          }
          double top0 = y.pixel(s.y()[b]);
          marks.add(new Bar(i, lo, hi, (int) s.y()[b], new Box(px0, top0, px1 - px0, base - top0)));
          if (out[b] && markOutliers) {
            anyOutlier = true;
            marks.add(new OutlierMark(i, lo, hi, (int) s.y()[b], (px0 + px1) / 2, top0 - 3));
          }
        }
      } else {
        shown.add(new Figure.Series(Rich.of(s.name()), Theme.color(colors.get(i)), s.style()));
        boolean lines = s.style() != Style.POINTS;
        boolean points = s.style() == Style.POINTS || s.style() == Style.LINE_POINTS;
        List<double[]> run = new ArrayList<>();
        for (int k = 0; k < s.x().length; k++) {
          double vx = s.x()[k];
          double vy = s.y()[k];
          if (!drawableX(vx) || !Double.isFinite(vy)) {
            flush(marks, i, run);
            continue;
          }
          boolean below = logY && !(vy >= yAxis[0]);
          double px = x.pixel(vx);
          double py = y.pixel(below ? yAxis[0] : vy);
          if (lines) run.add(new double[] {px, py});
          if (points && !below) marks.add(new Point(i, px, py));
        }
        flush(marks, i, run);
      }
    }
    Figure.Legend legend = legend(shown, anyOutlier, marks, plot);
    Placed noteText = note == null ? null : new Placed(note, left, height - 10 - Theme.NOTE * 0.3, Theme.NOTE);
    return new Figure(width, height, titleText, subtitleText, plot, x, y, shown, marks, legend, noteText);
  }

  private boolean drawableX(double v) {
    return Double.isFinite(v) && (!logX || v > 0);
  }

  private static void widen(double[] r, double v) {
    r[0] = Math.min(r[0], v);
    r[1] = Math.max(r[1], v);
  }

  private static void flush(List<Mark> marks, int series, List<double[]> run) {
    if (run.size() >= 2) {
      double[] xs = new double[run.size()];
      double[] ys = new double[run.size()];
      for (int k = 0; k < xs.length; k++) {
        xs[k] = run.get(k)[0];
        ys[k] = run.get(k)[1];
      }
      marks.add(new Line(series, xs, ys));
    }
    run.clear();
  }

  /** The axis range: the data range widened by {@code below} and {@code above} of its extent (in log10 on a log axis). */
  private static double[] pad(double[] r, boolean log, double below, double above) {
    double lo = r[0];
    double hi = r[1];
    if (log) {
      double a = Math.log10(lo);
      double b = Math.log10(hi);
      if (b - a < 1e-9) {
        a -= 0.5;
        b += 0.5;
      }
      double d = b - a;
      return new double[] {Math.pow(10, a - below * d), Math.pow(10, b + above * d)};
    }
    if (hi - lo <= Math.max(Math.abs(hi), Math.abs(lo)) * 1e-12) {
      double half = Math.max(Math.abs(lo) * 0.1, 0.5);
      lo -= half;
      hi += half;
    }
    double d = hi - lo;
    return new double[] {lo - below * d, hi + above * d};
  }

  private static List<Ticks.Tick> ticks(double[] range, boolean log, int max, boolean integers) {
    return log ? Ticks.log(range[0], range[1], max) : Ticks.linear(range[0], range[1], max, integers);
  }

  /** True when every drawable value of the line and point series on that axis is a whole number. */
  private boolean integerValued(boolean xAxis) {
    boolean any = false;
    for (Data s : series) {
      if (s.histogram()) return false;
      for (double v : xAxis ? s.x() : s.y()) {
        if (!Double.isFinite(v)) continue;
        if (v != Math.rint(v) || Math.abs(v) > 1e15) return false;
        any = true;
      }
    }
    return any;
  }

  /**
   * The pixel boxes of the tick labels of {@code a}: under the x axis ({@code edge} its pixel row), or left of the y
   * axis ({@code edge} its pixel column).
   */
  private static List<Box> labelBoxes(Axis a, boolean horizontal, double edge) {
    List<Box> boxes = new ArrayList<>();
    double h = Theme.TICK_LABEL * (horizontal ? 1.45 : 1.3);
    double gap = Theme.MAJOR_TICK + 4;
    for (Ticks.Tick t : a.labels()) {
      double w = Theme.width(t.text(), t.exponent(), Theme.TICK_LABEL, false);
      double at = a.pixel(t.value());
      boxes.add(horizontal ? new Box(at - w / 2, edge + gap, w, h) : new Box(edge - gap - w, at - h / 2, w, h));
    }
    return boxes;
  }

  /** {@code text} as one line, or as two split at the "; " or ", " nearest the middle when one does not fit. */
  private List<String> wrap(String text, double size) {
    if (Rich.of(text).width(size, false) <= width - 20) return List.of(text);
    int best = -1;
    for (String sep : new String[] {"; ", ", ", " "}) {
      for (int i = text.indexOf(sep); i >= 0; i = text.indexOf(sep, i + 1)) {
        if (best < 0 || Math.abs(i - text.length() / 2) < Math.abs(best - text.length() / 2)) best = i;
      }
      if (best >= 0) {
        return List.of(text.substring(0, best + (sep.equals(" ") ? 0 : 1)), text.substring(best + sep.length()));
      }
    }
    return List.of(text);
  }

  /** The font size at which {@code text} fits the canvas width, at most {@code size}. */
  private double fit(Rich text, double size, boolean bold) {
    double w = text.width(size, bold);
    double room = width - 20;
    return w <= room ? size : Math.max(8, size * room / w);
  }

  private Figure.Legend legend(List<Figure.Series> shown, boolean anyOutlier, List<Mark> marks, Box plot) {
    List<Integer> entries = new ArrayList<>();
    double textWidth = 0;
    for (int i = 0; i < shown.size(); i++) {
      entries.add(i);
      textWidth = Math.max(textWidth, shown.get(i).name().width(Theme.LEGEND, false));
    }
    if (anyOutlier) {
      entries.add(-1);
      textWidth = Math.max(textWidth, Rich.of(Painter.OUTLIER_LEGEND).width(Theme.LEGEND, false));
    }
    double w = 8 + Painter.LEGEND_SYMBOL + 6 + textWidth + 8;
    double h = 6 + entries.size() * Theme.LEGEND * Painter.LEGEND_ROW + 4;
    double inset = 8;
    double right = plot.x() + plot.w() - inset - w;
    double bottom = plot.y() + plot.h() - inset - h;
    double centreX = plot.x() + (plot.w() - w) / 2;
    double middleY = plot.y() + (plot.h() - h) / 2;
    Box[] corners = { // in order of preference
      new Box(right, plot.y() + inset, w, h),
      new Box(plot.x() + inset, plot.y() + inset, w, h),
      new Box(right, bottom, w, h),
      new Box(plot.x() + inset, bottom, w, h),
      new Box(centreX, plot.y() + inset, w, h),
      new Box(centreX, bottom, w, h),
      new Box(right, middleY, w, h),
      new Box(plot.x() + inset, middleY, w, h),
    };
    Box best = corners[0];
    long bestScore = Long.MAX_VALUE;
    for (Box c : corners) {
      long score = 0;
      for (Mark m : marks) {
        switch (m) {
          case Line l -> {
            for (int k = 0; k + 1 < l.xs().length; k++) {
              for (int t = 0; t < 8; t++) { // points along each segment, so that a long segment through the box counts
                double f = t / 8.0;
                if (c.contains(l.xs()[k] + f * (l.xs()[k + 1] - l.xs()[k]), l.ys()[k] + f * (l.ys()[k + 1] - l.ys()[k]))) {
                  score++;
                }
              }
            }
          }
          case Point p -> score += c.contains(p.x(), p.y()) ? 3 : 0;
          case Bar b -> score += c.overlaps(b.box()) ? 2 : 0;
          case OutlierMark o -> score += c.contains(o.x(), o.y()) ? 5 : 0;
        }
      }
      if (score < bestScore) {
        bestScore = score;
        best = c;
      }
    }
    return new Figure.Legend(best, entries);
  }
}

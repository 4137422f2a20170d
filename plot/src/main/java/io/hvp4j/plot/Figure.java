package io.hvp4j.plot;

import java.awt.Color;
import java.util.List;

/**
 * A laid-out chart: everything that will be drawn, in pixels of the logical canvas (origin top left, y down), before
 * it is painted on a {@link Canvas}. {@link Chart#layout()} makes it; tests check a reader's questions on it (which
 * bars exist, the axis range, the tick labels and whether they overlap) rather than on pixels.
 *
 * @param width canvas width in logical pixels
 * @param height canvas height in logical pixels
 * @param title the title line (operator, model, method)
 * @param subtitle smaller lines under the title (none, one, or two when one would not fit)
 * @param plot the data area
 * @param x the horizontal axis
 * @param y the vertical axis
 * @param series the series in drawing order, with their colours
 * @param marks what the series draw
 * @param legend the legend, or null when there is nothing to name
 * @param note a line under the x axis label (e.g. the log-axis floor), or null
 */
public record Figure(
    int width,
    int height,
    Placed title,
    List<Placed> subtitle,
    Box plot,
    Axis x,
    Axis y,
    List<Series> series,
    List<Mark> marks,
    Legend legend,
    Placed note) {

  /** A rectangle in pixels. */
  public record Box(double x, double y, double w, double h) {
    /** True when the two rectangles share interior. */
    public boolean overlaps(Box o) {
      return x < o.x + o.w && o.x < x + w && y < o.y + o.h && o.y < y + h;
    }

    /** True when (px, py) lies inside or on the edge. */
    public boolean contains(double px, double py) {
      return px >= x && px <= x + w && py >= y && py <= y + h;
    }
  }

  /** Text made of a head, a superscript exponent after it and a tail; most text has only a head. */
  public record Rich(String head, String exponent, String tail) {
    /** Plain text. */
    public static Rich of(String s) {
      return new Rich(s, "", "");
    }

    /** The text on one line, the exponent written after {@code ^}. */
    public String plain() {
      return head + (exponent.isEmpty() ? "" : "^" + exponent) + tail;
    }

    double width(double size, boolean bold) {
      return Theme.width(head, exponent, size, bold) + Theme.width(tail, "", size, bold);
    }
  }

  /** Text at a place: {@code x} is the centre for titles, the left end for notes; {@code y} the baseline. */
  public record Placed(Rich text, double x, double y, double size) {}

  /**
   * One axis.
   *
   * @param label the axis title, with units
   * @param log logarithmic scale
   * @param min lower end of the axis (data units)
   * @param max upper end of the axis (data units)
   * @param from pixel of {@code min} (left end of x, bottom of y)
   * @param to pixel of {@code max}
   * @param ticks labelled and minor ticks, ascending
   * @param labelBoxes the pixel box of each labelled tick's label, in the order of the labelled ticks
   */
  public record Axis(
      String label, boolean log, double min, double max, double from, double to, List<Ticks.Tick> ticks,
      List<Box> labelBoxes) {
    /** The pixel of data value {@code v} along this axis. */
    public double pixel(double v) {
      double t = log ? (Math.log10(v) - Math.log10(min)) / (Math.log10(max) - Math.log10(min)) : (v - min) / (max - min);
      return from + t * (to - from);
    }

    /** Decades spanned (log axes) or 0. */
    public double decades() {
      return log ? Math.log10(max / min) : 0;
    }

    /** The labelled ticks. */
    public List<Ticks.Tick> labels() {
      return ticks.stream().filter(t -> !t.minor()).toList();
    }
  }

  /** A series as drawn: name, colour and style (null for a histogram). */
  public record Series(Rich name, Color color, Chart.Style style) {
    /** True for a histogram. */
    public boolean histogram() {
      return style == null;
    }
  }

  /** Something a series draws. */
  public sealed interface Mark permits Line, Point, Bar, OutlierMark {
    /** Index into {@link Figure#series()}. */
    int series();
  }

  /** A connected polyline; a series breaks into several where points are missing. */
  public record Line(int series, double[] xs, double[] ys) implements Mark {}

  /** A point marker. */
  public record Point(int series, double x, double y) implements Mark {}

  /** A histogram bar: bin {@code [lo, hi)} holding {@code count} values, drawn from the axis floor up to the count. */
  public record Bar(int series, double lo, double hi, int count, Box box) implements Mark {}

  /**
   * A marker above a bar that lies apart from the bulk of its histogram (an outlier bin).
   *
   * @param x centre of the bar in pixels
   * @param y tip of the marker (just above the bar)
   */
  public record OutlierMark(int series, double lo, double hi, int count, double x, double y) implements Mark {}

  /** The legend box and its entries (series indices; −1 names the outlier marker). */
  public record Legend(Box box, List<Integer> entries) {}

  /** True when two of the tick labels of {@code axis} overlap. */
  public static boolean labelsOverlap(Axis axis) {
    return overlap(axis.labelBoxes(), 0);
  }

  /** True when two of {@code boxes}, each widened by {@code gap} pixels, overlap. */
  static boolean overlap(List<Box> boxes, double gap) {
    for (int i = 0; i + 1 < boxes.size(); i++) {
      Box a = boxes.get(i);
      Box wide = new Box(a.x() - gap, a.y() - gap, a.w() + 2 * gap, a.h() + 2 * gap);
      for (int j = i + 1; j < boxes.size(); j++) if (wide.overlaps(boxes.get(j))) return true;
    }
    return false;
  }
}

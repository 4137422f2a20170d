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
import io.hvp4j.plot.Figure.Series;
import java.awt.Color;

/** Paints a {@link Figure} on a {@link Canvas}: the same drawing for PNG and SVG. */
final class Painter {
  private Painter() {}

  static final String OUTLIER_LEGEND = "outlier bins (apart from the bulk)";
  static final double LEGEND_SYMBOL = 24;
  static final double LEGEND_ROW = 1.65;
  private static final double MARKER = 5;

  static void paint(Figure f, Canvas c) {
    Box p = f.plot();
    Axis x = f.x();
    Axis y = f.y();
    // grid at the labelled ticks
    for (Ticks.Tick t : x.labels()) {
      double px = x.pixel(t.value());
      c.polyline(new double[] {px, px}, new double[] {p.y(), p.y() + p.h()}, Theme.GRID, Theme.GRID_WIDTH, null);
    }
    for (Ticks.Tick t : y.labels()) {
      double py = y.pixel(t.value());
      c.polyline(new double[] {p.x(), p.x() + p.w()}, new double[] {py, py}, Theme.GRID, Theme.GRID_WIDTH, null);
    }
    int histograms = 0;
    for (Series s : f.series()) if (s.histogram()) histograms++;
    int alpha = histograms > 1 ? 110 : 150;
    for (Mark m : f.marks()) {
      if (m instanceof Bar b) {
        Color col = f.series().get(b.series()).color();
        Box r = b.box();
        c.rect(r.x(), r.y(), r.w(), r.h(), withAlpha(col, alpha), col, Theme.BAR_EDGE);
      }
    }
    for (Mark m : f.marks()) {
      if (m instanceof Line l) {
        Series s = f.series().get(l.series());
        c.polyline(l.xs(), l.ys(), s.color(), Theme.LINE_WIDTH, s.style() == Chart.Style.DASHED ? Theme.DASH : null);
      }
    }
    for (Mark m : f.marks()) {
      switch (m) {
        case Point pt -> c.circle(pt.x(), pt.y(), Theme.POINT_RADIUS, f.series().get(pt.series()).color());
        case OutlierMark o -> triangle(c, o.x(), o.y(), Color.BLACK);
        default -> {}
      }
    }
    c.rect(p.x(), p.y(), p.w(), p.h(), null, Theme.FRAME, Theme.FRAME_WIDTH);
    // ticks and their labels
    double bottom = p.y() + p.h();
    int k = 0;
    for (Ticks.Tick t : x.ticks()) {
      double px = x.pixel(t.value());
      double len = t.minor() ? Theme.MINOR_TICK : Theme.MAJOR_TICK;
      c.polyline(new double[] {px, px}, new double[] {bottom, bottom + len}, Theme.FRAME, Theme.FRAME_WIDTH, null);
      if (!t.minor()) {
        Box b = x.labelBoxes().get(k++);
        c.text(px, b.y() + Theme.TICK_LABEL * 1.15, t.text(), t.exponent(), Theme.TICK_LABEL, false,
            Canvas.Anchor.MIDDLE, false, Theme.TEXT);
      }
    }
    k = 0;
    for (Ticks.Tick t : y.ticks()) {
      double py = y.pixel(t.value());
      double len = t.minor() ? Theme.MINOR_TICK : Theme.MAJOR_TICK;
      c.polyline(new double[] {p.x() - len, p.x()}, new double[] {py, py}, Theme.FRAME, Theme.FRAME_WIDTH, null);
      if (!t.minor()) {
        Box b = y.labelBoxes().get(k++);
        c.text(b.x() + b.w(), py + Theme.TICK_LABEL * 0.36, t.text(), t.exponent(), Theme.TICK_LABEL, false,
            Canvas.Anchor.END, false, Theme.TEXT);
      }
    }
    // axis titles
    double xTitleY = bottom + Theme.MAJOR_TICK + 4 + Theme.TICK_LABEL * 1.45 + 6 + Theme.AXIS_LABEL;
    c.text(p.x() + p.w() / 2, xTitleY, x.label(), "", Theme.AXIS_LABEL, false, Canvas.Anchor.MIDDLE, false,
        Theme.TEXT);
    c.text(10 + Theme.AXIS_LABEL, p.y() + p.h() / 2, y.label(), "", Theme.AXIS_LABEL, false, Canvas.Anchor.MIDDLE,
        true, Theme.TEXT);
    centred(c, f.title(), true, Theme.TEXT);
    for (Placed s : f.subtitle()) centred(c, s, false, Theme.MUTED);
    if (f.legend() != null) legend(c, f);
    if (f.note() != null) {
      Placed n = f.note();
      rich(c, n.x(), n.y(), n.text(), n.size(), false, Theme.MUTED);
    }
  }

  private static void legend(Canvas c, Figure f) {
    Box b = f.legend().box();
    c.rect(b.x(), b.y(), b.w(), b.h(), Theme.LEGEND_FILL, Theme.GRID.darker(), Theme.FRAME_WIDTH);
    double row = Theme.LEGEND * LEGEND_ROW;
    double yy = b.y() + 6 + row / 2;
    int histograms = 0;
    for (Series s : f.series()) if (s.histogram()) histograms++;
    for (int e : f.legend().entries()) {
      double sx = b.x() + 8;
      if (e < 0) {
        triangle(c, sx + LEGEND_SYMBOL / 2, yy + MARKER / 2, Color.BLACK);
        rich(c, sx + LEGEND_SYMBOL + 6, yy + Theme.LEGEND * 0.36, Rich.of(OUTLIER_LEGEND), Theme.LEGEND, false,
            Theme.TEXT);
      } else {
        Series s = f.series().get(e);
        if (s.histogram()) {
          c.rect(sx + 4, yy - 5, LEGEND_SYMBOL - 8, 10, withAlpha(s.color(), histograms > 1 ? 110 : 150), s.color(),
              Theme.BAR_EDGE);
        } else {
          if (s.style() != Chart.Style.POINTS) {
            c.polyline(new double[] {sx, sx + LEGEND_SYMBOL}, new double[] {yy, yy}, s.color(), Theme.LINE_WIDTH,
                s.style() == Chart.Style.DASHED ? Theme.DASH : null);
          }
          if (s.style() == Chart.Style.POINTS || s.style() == Chart.Style.LINE_POINTS) {
            c.circle(sx + LEGEND_SYMBOL / 2, yy, Theme.POINT_RADIUS, s.color());
          }
        }
        rich(c, sx + LEGEND_SYMBOL + 6, yy + Theme.LEGEND * 0.36, s.name(), Theme.LEGEND, false, Theme.TEXT);
      }
      yy += row;
    }
  }

  /** A downward triangle with its tip at (x, y). */
  private static void triangle(Canvas c, double x, double y, Color col) {
    c.polygon(new double[] {x, x - MARKER, x + MARKER}, new double[] {y, y - 1.6 * MARKER, y - 1.6 * MARKER}, col);
  }

  private static void centred(Canvas c, Placed t, boolean bold, Color col) {
    double w = t.text().width(t.size(), bold);
    rich(c, t.x() - w / 2, t.y(), t.text(), t.size(), bold, col);
  }

  private static void rich(Canvas c, double x, double y, Rich r, double size, boolean bold, Color col) {
    c.text(x, y, r.head(), r.exponent(), size, bold, Canvas.Anchor.START, false, col);
    if (!r.tail().isEmpty()) {
      c.text(x + Theme.width(r.head(), r.exponent(), size, bold), y, r.tail(), "", size, bold, Canvas.Anchor.START,
          false, col);
    }
  }

  private static Color withAlpha(Color c, int alpha) {
    return new Color(c.getRed(), c.getGreen(), c.getBlue(), alpha);
  }
}

package io.hvp4j.plot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A line/scatter chart with named series, written as PNG (and SVG when the path ends in {@code .svg}).
 *
 * <p>Built with XChart. Not thread-safe; build and save a chart on one thread. Values that cannot be drawn on a
 * logarithmic axis (≤ 0, NaN, ±∞) are dropped from that series with the rest kept, so that a log-count density
 * with empty bins still plots.
 */
public final class Chart {

  /** How a series is drawn. */
  public enum Style {
    /** Connected line, no markers. */
    LINE,
    /** Markers only. */
    POINTS,
    /** Line with markers. */
    LINE_POINTS,
    /** Dashed line (e.g. a prediction beside measurements). */
    DASHED,
    /** Step line (histograms). */
    STEP
  }

  static {
    // Plots are written by servers and CI machines without a display.
    if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
  }

  private record Series(String name, double[] x, double[] y, Style style) {}

  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final List<Series> series = new ArrayList<>();
  private boolean logX;
  private boolean logY;
  private int width = 800;
  private int height = 560;

  private Chart(String title, String xLabel, String yLabel) {
    this.title = Objects.requireNonNull(title);
    this.xLabel = Objects.requireNonNull(xLabel);
    this.yLabel = Objects.requireNonNull(yLabel);
  }

  /** A new empty chart. */
  public static Chart of(String title, String xLabel, String yLabel) {
    return new Chart(title, xLabel, yLabel);
  }

  /** Logarithmic x axis. */
  public Chart logX() {
    logX = true;
    return this;
  }

  /** Logarithmic y axis (e.g. eigenvalue counts or densities). */
  public Chart logY() {
    logY = true;
    return this;
  }

  /** Pixel size of the PNG (and SVG canvas). */
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
    series.add(new Series(name, x.clone(), y.clone(), style));
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
   * A histogram of {@code values} with {@code bins} equal bins over their range, drawn as a step line of counts.
   * Use with {@link #logY()} for the log-count spectra of the seed papers.
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
      hi = lo + Math.max(1e-300, Math.abs(lo) * 1e-9);
    }
    double w = (hi - lo) / bins;
    double[] counts = new double[bins];
    for (double v : values) {
      int b = (int) Math.min(bins - 1, Math.floor((v - lo) / w));
      counts[b]++;
    }
    double[] x = new double[bins];
    for (int b = 0; b < bins; b++) x[b] = lo + (b + 0.5) * w;
    return add(name, x, counts, Style.STEP);
  }

  /** Writes the chart; the format follows the extension: {@code .png} or {@code .svg}. Parent folders are created. */
  public void save(Path file) throws IOException {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (!name.endsWith(".png") && !name.endsWith(".svg")) {
      throw new IllegalArgumentException("plot file must end in .png or .svg: " + file);
    }
    if (series.isEmpty()) throw new IllegalStateException("chart '" + title + "' has no series");
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) Files.createDirectories(parent);
    XYChart chart = build();
    String base = file.toString().substring(0, file.toString().length() - 4);
    if (name.endsWith(".png")) {
      BitmapEncoder.saveBitmapWithDPI(chart, base, BitmapEncoder.BitmapFormat.PNG, 120);
    } else {
      VectorGraphicsEncoder.saveVectorGraphic(chart, base, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
    }
  }

  private XYChart build() {
    XYChart chart =
        new XYChartBuilder().width(width).height(height).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
    org.knowm.xchart.style.XYStyler st = chart.getStyler();
    chart.getStyler().setXAxisLogarithmic(logX);
    chart.getStyler().setYAxisLogarithmic(logY);
    st.setLegendPosition(Styler.LegendPosition.InsideNE);
    st.setChartBackgroundColor(java.awt.Color.WHITE);
    st.setPlotGridLinesVisible(true);
    chart.getStyler().setDecimalPattern("#,##0.###");
    for (Series s : series) {
      double[][] xy = drawable(s);
      if (xy[0].length == 0) continue;
      XYSeries xs = chart.addSeries(s.name(), xy[0], xy[1]);
      switch (s.style()) {
        case LINE -> {
          xs.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
          xs.setMarker(SeriesMarkers.NONE);
        }
        case POINTS -> xs.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        case LINE_POINTS -> xs.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        case DASHED -> {
          xs.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
          xs.setMarker(SeriesMarkers.NONE);
          xs.setLineStyle(
              new java.awt.BasicStroke(
                  2f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
        }
        case STEP -> {
          xs.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Step);
          xs.setMarker(SeriesMarkers.NONE);
        }
      }
    }
    if (chart.getSeriesMap().isEmpty()) {
      throw new IllegalStateException("chart '" + title + "' has no drawable points");
    }
    return chart;
  }

  private double[][] drawable(Series s) {
    int n = 0;
    boolean[] keep = new boolean[s.x().length];
    for (int i = 0; i < keep.length; i++) {
      double x = s.x()[i];
      double y = s.y()[i];
      boolean ok = Double.isFinite(x) && Double.isFinite(y) && (!logX || x > 0) && (!logY || y > 0);
      keep[i] = ok;
      if (ok) n++;
    }
    double[] x = new double[n];
    double[] y = new double[n];
    for (int i = 0, j = 0; i < keep.length; i++) {
      if (keep[i]) {
        x[j] = s.x()[i];
        y[j++] = s.y()[i];
      }
    }
    return new double[][] {x, y};
  }
}

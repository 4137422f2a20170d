package io.hvp4j.plot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.plot.Figure.Axis;
import io.hvp4j.plot.Figure.Bar;
import io.hvp4j.plot.Figure.Line;
import io.hvp4j.plot.Figure.OutlierMark;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

class ChartTest {

  @TempDir Path dir;

  /** A bulk near 0 (Gaussian, 2000 values), nothing in (1, 9), and three outliers near 10: Sagun et al.'s shape. */
  static double[] bulkAndOutliers() {
    Random r = new Random(7);
    double[] v = new double[2003];
    for (int i = 0; i < 2000; i++) v[i] = 0.2 * r.nextGaussian();
    v[2000] = 9.6;
    v[2001] = 10.0;
    v[2002] = 10.0;
    return v;
  }

  static Chart spectrum() {
    return Chart.of("Eigenvalues of H (exact)", "eigenvalue λ", "count (eigenvalues per bin)")
        .subtitle("MLP 20-40-5, tanh, ce loss").logY().markOutliers().histogram("eigenvalues", bulkAndOutliers(), 100);
  }

  @Test
  void logCountHistogramDrawsNothingForEmptyBins() {
    Figure f = spectrum().layout();
    double[] v = bulkAndOutliers();
    double lo = Arrays.stream(v).min().orElseThrow();
    double w = (Arrays.stream(v).max().orElseThrow() - lo) / 100;
    int[] counts = new int[100];
    for (double x : v) counts[(int) Math.min(99, Math.floor((x - lo) / w))]++;
    List<Bar> bars = f.marks().stream().filter(m -> m instanceof Bar).map(m -> (Bar) m).toList();
    assertEquals(Arrays.stream(counts).filter(c -> c > 0).count(), bars.size(), "one bar per non-empty bin");
    assertTrue(f.marks().stream().noneMatch(m -> m instanceof Line), "a histogram draws no line (no step at 1)");
    double floor = f.y().pixel(f.y().min());
    for (Bar b : bars) {
      int bin = (int) Math.round((b.lo() - lo) / w);
      assertEquals(counts[bin], b.count(), "bar " + bin);
      assertTrue(b.count() > 0);
      assertEquals(floor, b.box().y() + b.box().h(), 1e-9, "bars stand on the axis floor");
      assertEquals(f.y().pixel(b.count()), b.box().y(), 1e-9, "bar top at its count");
      assertTrue(b.box().h() > 10, "a count of 1 is a visible bar: " + b.box());
    }
    // Nothing is drawn above an empty bin: its x range meets no bar.
    for (int bin = 0; bin < 100; bin++) {
      if (counts[bin] > 0) continue;
      double x0 = f.x().pixel(lo + bin * w) + 1;
      double x1 = f.x().pixel(lo + (bin + 1) * w) - 1;
      for (Bar b : bars) {
        assertFalse(b.box().x() < x1 && x0 < b.box().x() + b.box().w(), "empty bin " + bin + " covered by " + b);
      }
    }
    assertTrue(f.y().min() < 1 && f.y().min() >= Chart.HISTOGRAM_FLOOR * 0.999, "floor below a count of 1");
  }

  @Test
  void outlierBarsArePresentAndMarked() {
    Figure f = spectrum().layout();
    List<Bar> outliers = f.marks().stream().filter(m -> m instanceof Bar b && b.lo() > 5).map(m -> (Bar) m).toList();
    assertEquals(3, outliers.stream().mapToInt(Bar::count).sum(), "the three outliers are bars");
    List<OutlierMark> marks =
        f.marks().stream().filter(m -> m instanceof OutlierMark).map(m -> (OutlierMark) m).toList();
    assertEquals(outliers.size(), marks.size(), "each outlier bar is marked");
    for (OutlierMark m : marks) assertTrue(m.lo() > 5);
    assertTrue(f.legend().entries().contains(-1), "the legend explains the marker");
    assertFalse(Chart.of("t", "x", "y").logY().histogram("h", bulkAndOutliers(), 100).layout().marks().stream()
        .anyMatch(m -> m instanceof OutlierMark), "marks only when asked");
  }

  @Test
  void outlierBinsAreThoseApartFromTheBulk() {
    boolean[] o = Chart.outliers(new double[] {0, 1, 0, 5, 9, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
    assertFalse(o[1] || o[3] || o[4] || o[5] || o[7], "narrow gaps stay in the bulk");
    assertTrue(o[o.length - 1], "beyond the widest gap");
    boolean[] two = Chart.outliers(new double[] {9, 5, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1});
    assertFalse(two[4] || two[8], "only what lies beyond the widest gap");
    assertTrue(two[16] && two[17]);
  }

  /** An SLQ-like density: a Gaussian bump whose tails underflow to 1e-300 and to 0. */
  static double[][] density() {
    int n = 400;
    double[] x = new double[n];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = -1 + 2.0 * i / (n - 1);
      y[i] = 30 * Math.exp(-x[i] * x[i] / (2 * 0.01)) + (i % 50 == 0 ? 1e-300 : 0);
    }
    return new double[][] {x, y};
  }

  @Test
  void logDensityIsFlooredAtTheDocumentedFractionOfItsMaximum() {
    double[][] d = density();
    for (double floor : new double[] {Chart.DEFAULT_LOG_FLOOR, 1e-4}) {
      Figure f = Chart.of("density", "eigenvalue λ", "density (per unit λ)").logY(floor)
          .add("density", d[0], d[1], Chart.Style.LINE).layout();
      double decades = Math.log10(1 / floor);
      double max = Arrays.stream(d[1]).max().orElseThrow();
      assertEquals(max * floor, f.y().min(), max * floor * 1e-9, "axis starts at floor × max");
      assertTrue(f.y().decades() <= decades * 1.06, "spans " + f.y().decades() + " decades");
      double bottom = f.y().pixel(f.y().min());
      int lines = 0;
      for (var m : f.marks()) {
        if (m instanceof Line l) {
          lines++;
          for (double py : l.ys()) assertTrue(py <= bottom + 1e-9, "nothing below the floor");
        }
      }
      assertEquals(1, lines, "zeros are drawn on the floor, not as gaps");
      assertNotNull(f.note(), "the floor is stated on the plot");
      assertTrue(f.note().text().plain().contains("floored at max × " + Ticks.number(floor, 2).plain()),
          f.note().text().plain());
      int n = Ticks.labelled(f.y().ticks());
      assertTrue(n >= 3 && n <= 10, f.y().labels().toString());
    }
    Figure plain = Chart.of("d", "x", "y").logY().add("d", new double[] {1, 2, 3}, new double[] {1, 5, 2},
        Chart.Style.LINE).layout();
    assertEquals(null, plain.note(), "no note where nothing was floored");
  }

  /** Every plot kind the commands draw, from known data. */
  static List<Chart> everyKind() {
    List<Chart> charts = new ArrayList<>();
    charts.add(spectrum());
    double[][] d = density();
    charts.add(Chart.of("SLQ", "eigenvalue λ", "density").logY().add("density", d[0], d[1], Chart.Style.LINE));
    charts.add(Chart.of("SLQ linear", "eigenvalue λ", "density").add("density", d[0], d[1], Chart.Style.LINE));
    double[] p = {60, 150, 280, 450, 660, 910, 1200, 1530, 1900, 2310};
    double[] ratio = {1, 1, 1, 0.97, 0.6, 0.45, 0.35, 0.28, 0.22, 0.18};
    charts.add(Chart.of("rank/p", "parameters p", "rank(H) / p").logX().logY()
        .add("measured", p, ratio, Chart.Style.POINTS).add("predicted", p, ratio, Chart.Style.DASHED));
    double[] big = {1000, 2000, 4000};
    charts.add(Chart.of("one decade each", "p", "r").logX().logY()
        .add("r", big, new double[] {1, 0.7, 0.5}, Chart.Style.LINE_POINTS));
    charts.add(Chart.of("1..1000", "p", "r").logX().logY()
        .add("r", new double[] {1, 10, 1000}, new double[] {1, 10, 1000}, Chart.Style.LINE_POINTS));
    double[] e = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    charts.add(Chart.of("λ_max per epoch", "epoch", "λ_max").add("full", e,
        new double[] {0.1, 0.5, 2, 3.5, 3.1, 2.2, 2.0, 1.9, 1.9}, Chart.Style.LINE_POINTS).add("layer 0", e,
        new double[] {0.01, 0.2, 0.5, 0.7, 0.6, 0.5, 0.4, 0.4, Double.NaN}, Chart.Style.LINE_POINTS));
    charts.add(Chart.of("two histograms", "eigenvalue λ", "count").logY()
        .histogram("a", bulkAndOutliers(), 60).histogram("b", new double[] {0, 0.1, 0.1, 5, 11}, 60));
    charts.add(Chart.of("tiny values", "x", "y").add("y", new double[] {1e6, 2e6, 3e6},
        new double[] {1e-7, 3e-7, 2e-7}, Chart.Style.LINE));
    return charts;
  }

  @Test
  void everyAxisHasThreeToTenNonOverlappingLabels() {
    for (Chart c : everyKind()) {
      for (int[] size : new int[][] {{800, 560}, {640, 480}, {400, 300}}) {
        Figure f = c.size(size[0], size[1]).layout();
        for (Axis a : List.of(f.x(), f.y())) {
          String where = f.title().text().plain() + " " + size[0] + "x" + size[1] + " " + a.label() + ": "
              + a.labels().stream().map(Ticks.Tick::plain).toList();
          int n = Ticks.labelled(a.ticks());
          assertTrue(n >= Ticks.MIN_LABELS && n <= Ticks.MAX_LABELS, where);
          assertFalse(Figure.labelsOverlap(a), where);
          for (Ticks.Tick t : a.labels()) {
            assertTrue(t.value() >= a.min() * (1 - 1e-12) - 1e-300 && t.value() <= a.max() * (1 + 1e-12) + 1e-300,
                where);
          }
          if (a.log() && a.decades() >= 3) {
            assertTrue(n <= Math.ceil(a.decades()) + 1, "at most one label per decade: " + where);
          }
        }
      }
    }
  }

  @Test
  void wholeNumberAxesHaveWholeNumberTicksAndTheLegendAvoidsTheData() {
    double[] e = {0, 1, 2, 3, 4};
    Figure f = Chart.of("λ_max per epoch", "epoch", "λ_max")
        .add("full", e, new double[] {1.56, 1.39, 1.36, 1.36, 1.38}, Chart.Style.LINE_POINTS)
        .add("layer 0", e, new double[] {0.58, 0.5, 0.47, 0.49, 0.52}, Chart.Style.LINE_POINTS)
        .add("layer 1", e, new double[] {0.85, 0.82, 0.81, 0.78, 0.76}, Chart.Style.LINE_POINTS)
        .add("layer 2", e, new double[] {0.42, 0.45, 0.45, 0.46, 0.45}, Chart.Style.LINE_POINTS).layout();
    for (Ticks.Tick t : f.x().labels()) assertEquals(Math.rint(t.value()), t.value(), 0, "epoch " + t.plain());
    assertEquals(4, f.series().stream().map(Figure.Series::color).distinct().count(), "a colour per series");
    Figure paired = Chart.of("t", "x", "y").add("rank", e, e, Chart.Style.POINTS).add("predicted", e, e,
        Chart.Style.DASHED).colorLikePrevious().add("p", e, e, Chart.Style.LINE).layout();
    assertEquals(paired.series().get(0).color(), paired.series().get(1).color());
    assertFalse(paired.series().get(1).color().equals(paired.series().get(2).color()));
    Figure.Box legend = f.legend().box();
    for (var m : f.marks()) {
      if (m instanceof Line l) {
        for (int k = 0; k + 1 < l.xs().length; k++) {
          for (double t = 0; t <= 1; t += 0.01) {
            double px = l.xs()[k] + t * (l.xs()[k + 1] - l.xs()[k]);
            double py = l.ys()[k] + t * (l.ys()[k + 1] - l.ys()[k]);
            assertFalse(legend.contains(px, py), "legend " + legend + " covers a line at " + px + "," + py);
          }
        }
      }
    }
  }

  @Test
  void svgIsWellFormedXmlWithTheExpectedElements() throws Exception {
    Path svg = dir.resolve("spectrum.svg");
    Chart c = spectrum();
    c.save(svg);
    Figure f = c.layout();
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setNamespaceAware(true);
    Document doc = factory.newDocumentBuilder().parse(svg.toFile());
    assertEquals("svg", doc.getDocumentElement().getLocalName());
    assertEquals("http://www.w3.org/2000/svg", doc.getDocumentElement().getNamespaceURI());
    assertEquals("800", doc.getDocumentElement().getAttribute("width"));
    long bars = f.marks().stream().filter(m -> m instanceof Bar).count();
    NodeList rects = doc.getElementsByTagNameNS("*", "rect");
    assertTrue(rects.getLength() >= bars + 2, "background, frame and one rect per bar");
    NodeList texts = doc.getElementsByTagNameNS("*", "text");
    List<String> words = new ArrayList<>();
    for (int i = 0; i < texts.getLength(); i++) words.add(texts.item(i).getTextContent());
    assertTrue(words.contains("Eigenvalues of H (exact)"), words.toString());
    assertTrue(words.contains("eigenvalue λ") && words.contains("count (eigenvalues per bin)"), words.toString());
    for (Ticks.Tick t : f.y().labels()) assertTrue(words.contains(t.text() + t.exponent()), t.plain());
    assertTrue(doc.getElementsByTagNameNS("*", "polygon").getLength() >= 1, "outlier markers");

    Path lines = dir.resolve("lines.svg");
    everyKind().get(3).save(lines);
    Document d2 = factory.newDocumentBuilder().parse(lines.toFile());
    assertTrue(d2.getElementsByTagNameNS("*", "polyline").getLength() > 0);
    assertTrue(d2.getElementsByTagNameNS("*", "circle").getLength() >= 10, "the points");
    assertTrue(Files.readString(lines).contains("<tspan") || Files.readString(lines).contains(">0.2<"));
  }

  @Test
  void writesPngAtTwiceTheLogicalSize() throws Exception {
    Path png = dir.resolve("sub/rank.png");
    Chart.of("rank vs width", "width", "rank")
        .size(640, 480)
        .add("H", new int[] {1, 2, 3}, new int[] {10, 20, 30}, Chart.Style.LINE_POINTS)
        .add("prediction", new int[] {1, 2, 3}, new int[] {10, 20, 30}, Chart.Style.DASHED)
        .save(png);
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(640 * PngCanvas.SCALE, img.getWidth());
    assertEquals(480 * PngCanvas.SCALE, img.getHeight());
    byte[] head = Files.readAllBytes(png);
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(head, 4));
  }

  @Test
  void rejectsBadInput() {
    assertThrows(IllegalArgumentException.class, () -> Chart.of("t", "x", "y").add("s", new double[2], new double[3], Chart.Style.LINE));
    assertThrows(IllegalArgumentException.class, () -> Chart.of("t", "x", "y").histogram("s", new double[] {Double.NaN}, 3));
    assertThrows(IllegalArgumentException.class, () -> Chart.of("t", "x", "y").logY(0));
    assertThrows(IllegalStateException.class, () -> Chart.of("t", "x", "y").save(dir.resolve("e.png")));
    assertThrows(IllegalStateException.class, () -> Chart.of("t", "x", "y").logX()
        .add("s", new double[] {-1, 0}, new double[] {1, 2}, Chart.Style.LINE).layout());
    assertThrows(
        IllegalArgumentException.class,
        () -> Chart.of("t", "x", "y").add("s", new double[] {1}, new double[] {1}, Chart.Style.LINE).save(dir.resolve("e.jpg")));
  }
}

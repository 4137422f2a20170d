package io.hvp4j.plot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChartTest {

  @TempDir Path dir;

  @Test
  void writesPngOfTheRequestedSize() throws Exception {
    Path png = dir.resolve("sub/rank.png");
    Chart.of("rank vs width", "width", "rank")
        .size(640, 480)
        .add("H", new int[] {1, 2, 3}, new int[] {10, 20, 30}, Chart.Style.LINE_POINTS)
        .add("prediction", new int[] {1, 2, 3}, new int[] {10, 20, 30}, Chart.Style.DASHED)
        .save(png);
    BufferedImage img = ImageIO.read(png.toFile());
    assertTrue(img.getWidth() >= 640, "at least the requested width (scaled for 120 dpi)");
    assertTrue(img.getHeight() > 0);
    byte[] head = Files.readAllBytes(png);
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(head, 4));
  }

  @Test
  void writesSvgAndDropsNonPositiveValuesOnLogAxes() throws Exception {
    Path svg = dir.resolve("density.svg");
    Chart.of("density", "eigenvalue", "count").logY().histogram("H", new double[] {-1, 0, 0, 0, 5, 5.5}, 10).save(svg);
    String text = Files.readString(svg);
    assertTrue(text.contains("<svg"), "an SVG document");
  }

  @Test
  void rejectsBadInput() {
    assertThrows(IllegalArgumentException.class, () -> Chart.of("t", "x", "y").add("s", new double[2], new double[3], Chart.Style.LINE));
    assertThrows(IllegalArgumentException.class, () -> Chart.of("t", "x", "y").histogram("s", new double[] {Double.NaN}, 3));
    assertThrows(IllegalStateException.class, () -> Chart.of("t", "x", "y").save(dir.resolve("e.png")));
    assertThrows(
        IllegalArgumentException.class,
        () -> Chart.of("t", "x", "y").add("s", new double[] {1}, new double[] {1}, Chart.Style.LINE).save(dir.resolve("e.jpg")));
  }
}

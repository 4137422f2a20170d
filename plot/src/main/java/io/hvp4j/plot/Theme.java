package io.hvp4j.plot;

import java.awt.Color;
import java.awt.Font;
import java.awt.GraphicsEnvironment;
import java.awt.font.FontRenderContext;
import java.util.Arrays;

/** The one look of every hvp4j plot (CLI, verification report, training): fonts, sizes, colours, strokes. */
final class Theme {
  private Theme() {}

  static {
    // Plots are written by servers and CI machines without a display.
    if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
  }

  /** Font family used to measure and draw (DejaVu Sans where installed, else Java's logical sans-serif). */
  static final String FAMILY = pickFamily();

  /** The font list written into SVG files, so that a viewer without DejaVu Sans still gets a sans-serif face. */
  static final String SVG_FAMILY = "'DejaVu Sans', Verdana, Helvetica, Arial, sans-serif";

  static final double TITLE = 15;
  static final double SUBTITLE = 11.5;
  static final double AXIS_LABEL = 13;
  static final double TICK_LABEL = 11.5;
  static final double LEGEND = 11;
  static final double NOTE = 10;
  /** Exponent size and rise, as fractions of the base font size. */
  static final double SUP_SCALE = 0.7;
  static final double SUP_RISE = 0.42;

  static final Color TEXT = new Color(0x22, 0x22, 0x22);
  static final Color MUTED = new Color(0x55, 0x55, 0x55);
  static final Color FRAME = new Color(0x44, 0x44, 0x44);
  static final Color GRID = new Color(0xE3, 0xE3, 0xE3);
  static final Color BACKGROUND = Color.WHITE;
  static final Color LEGEND_FILL = new Color(255, 255, 255, 225);

  /** Okabe–Ito colours (distinguishable with colour-vision deficiencies; yellow left out, too light on white). */
  static final Color[] PALETTE = {
    new Color(0x00, 0x72, 0xB2),
    new Color(0xD5, 0x5E, 0x00),
    new Color(0x00, 0x9E, 0x73),
    new Color(0xCC, 0x79, 0xA7),
    new Color(0xE6, 0x9F, 0x00),
    new Color(0x56, 0xB4, 0xE9),
    new Color(0x00, 0x00, 0x00),
  };

  static final double LINE_WIDTH = 1.8;
  static final double FRAME_WIDTH = 1.0;
  static final double GRID_WIDTH = 0.8;
  static final double BAR_EDGE = 0.7;
  static final double POINT_RADIUS = 3.2;
  static final double MAJOR_TICK = 5;
  static final double MINOR_TICK = 3;
  static final float[] DASH = {6f, 4f};

  static final FontRenderContext FRC = new FontRenderContext(null, true, true);

  static Color color(int series) {
    return PALETTE[series % PALETTE.length];
  }

  static Font font(double size, boolean bold) {
    return new Font(FAMILY, bold ? Font.BOLD : Font.PLAIN, 1).deriveFont((float) size);
  }

  /** Width in pixels of {@code text} followed by a superscript {@code exponent} at font size {@code size}. */
  static double width(String text, String exponent, double size, boolean bold) {
    double w = text.isEmpty() ? 0 : font(size, bold).getStringBounds(text, FRC).getWidth();
    if (!exponent.isEmpty()) w += font(size * SUP_SCALE, bold).getStringBounds(exponent, FRC).getWidth();
    return w;
  }

  private static String pickFamily() {
    try {
      String[] names = GraphicsEnvironment.getLocalGraphicsEnvironment().getAvailableFontFamilyNames();
      if (Arrays.asList(names).contains("DejaVu Sans")) return "DejaVu Sans";
    } catch (RuntimeException | Error e) {
      // no font configuration: the logical font below still works
    }
    return Font.SANS_SERIF;
  }
}

package io.hvp4j.plot;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;

/**
 * What a {@link Figure} needs from an output format: a few shapes and text, in pixels of the logical canvas (origin
 * top left, y down). {@link PngCanvas} and {@link SvgCanvas} implement it.
 */
interface Canvas {
  /** Horizontal placement of text relative to its x. */
  enum Anchor {
    START,
    MIDDLE,
    END
  }

  /** A rectangle; {@code fill} or {@code stroke} may be null. */
  void rect(double x, double y, double w, double h, Color fill, Color stroke, double strokeWidth);

  /** An open polyline; {@code dash} may be null (solid). */
  void polyline(double[] xs, double[] ys, Color color, double width, float[] dash);

  /** A closed filled polygon. */
  void polygon(double[] xs, double[] ys, Color fill);

  /** A filled circle. */
  void circle(double cx, double cy, double r, Color fill);

  /**
   * Text with an optional superscript {@code exponent}, {@code y} the baseline; {@code vertical} rotates it by −90°
   * about (x, y).
   */
  void text(double x, double y, String text, String exponent, double size, boolean bold, Anchor anchor,
      boolean vertical, Color color);

  /** The finished picture as the bytes of its file format. */
  byte[] encode() throws IOException;
}

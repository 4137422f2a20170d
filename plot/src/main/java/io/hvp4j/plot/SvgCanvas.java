package io.hvp4j.plot;

import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** SVG 1.1 canvas: vector shapes and real text, so a figure stays crisp at any size in a paper. */
final class SvgCanvas implements Canvas {
  private final StringBuilder svg = new StringBuilder();

  SvgCanvas(int width, int height) {
    svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .append("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"").append(width)
        .append("\" height=\"").append(height).append("\" viewBox=\"0 0 ").append(width).append(' ')
        .append(height).append("\" font-family=\"").append(Theme.SVG_FAMILY).append("\">\n");
    rect(0, 0, width, height, Theme.BACKGROUND, null, 0);
  }

  @Override
  public void rect(double x, double y, double w, double h, Color fill, Color stroke, double strokeWidth) {
    svg.append("<rect x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" width=\"").append(n(w))
        .append("\" height=\"").append(n(h)).append('"').append(paint("fill", fill));
    if (stroke != null) svg.append(paint("stroke", stroke)).append(" stroke-width=\"").append(n(strokeWidth)).append('"');
    svg.append("/>\n");
  }

  @Override
  public void polyline(double[] xs, double[] ys, Color color, double width, float[] dash) {
    svg.append("<polyline fill=\"none\" points=\"").append(points(xs, ys)).append('"').append(paint("stroke", color))
        .append(" stroke-width=\"").append(n(width)).append("\" stroke-linejoin=\"round\"");
    if (dash == null) {
      svg.append(" stroke-linecap=\"round\"");
    } else {
      svg.append(" stroke-dasharray=\"");
      for (int i = 0; i < dash.length; i++) svg.append(i == 0 ? "" : " ").append(n(dash[i]));
      svg.append('"');
    }
    svg.append("/>\n");
  }

  @Override
  public void polygon(double[] xs, double[] ys, Color fill) {
    svg.append("<polygon points=\"").append(points(xs, ys)).append('"').append(paint("fill", fill)).append("/>\n");
  }

  @Override
  public void circle(double cx, double cy, double r, Color fill) {
    svg.append("<circle cx=\"").append(n(cx)).append("\" cy=\"").append(n(cy)).append("\" r=\"").append(n(r))
        .append('"').append(paint("fill", fill)).append("/>\n");
  }

  @Override
  public void text(double x, double y, String text, String exponent, double size, boolean bold, Anchor anchor,
      boolean vertical, Color color) {
    svg.append("<text x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" font-size=\"").append(n(size))
        .append('"');
    if (bold) svg.append(" font-weight=\"bold\"");
    if (anchor != Anchor.START) svg.append(" text-anchor=\"").append(anchor == Anchor.MIDDLE ? "middle" : "end").append('"');
    if (vertical) svg.append(" transform=\"rotate(-90 ").append(n(x)).append(' ').append(n(y)).append(")\"");
    svg.append(paint("fill", color)).append('>').append(escape(text));
    if (!exponent.isEmpty()) {
      svg.append("<tspan dy=\"").append(n(-Theme.SUP_RISE * size)).append("\" font-size=\"")
          .append(n(size * Theme.SUP_SCALE)).append("\">").append(escape(exponent)).append("</tspan>");
    }
    svg.append("</text>\n");
  }

  @Override
  public byte[] encode() {
    return (svg + "</svg>\n").getBytes(StandardCharsets.UTF_8);
  }

  private static String points(double[] xs, double[] ys) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < xs.length; i++) b.append(i == 0 ? "" : " ").append(n(xs[i])).append(',').append(n(ys[i]));
    return b.toString();
  }

  private static String paint(String attribute, Color c) {
    if (c == null) return " " + attribute + "=\"none\"";
    String s = String.format(Locale.ROOT, " %s=\"#%02x%02x%02x\"", attribute, c.getRed(), c.getGreen(), c.getBlue());
    if (c.getAlpha() < 255) s += String.format(Locale.ROOT, " %s-opacity=\"%.3f\"", attribute, c.getAlpha() / 255.0);
    return s;
  }

  private static String n(double v) {
    String s = String.format(Locale.ROOT, "%.2f", v);
    s = s.replaceAll("0+$", "");
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}

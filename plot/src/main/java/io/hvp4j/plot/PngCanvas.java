package io.hvp4j.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import javax.imageio.ImageIO;

/** Java2D raster canvas, drawn at {@link #SCALE} device pixels per logical pixel so that the PNG stays sharp. */
final class PngCanvas implements Canvas {
  /** Device pixels per logical pixel. */
  static final int SCALE = 2;

  private final BufferedImage image;
  private final Graphics2D g;

  PngCanvas(int width, int height) {
    image = new BufferedImage(width * SCALE, height * SCALE, BufferedImage.TYPE_INT_RGB);
    g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
    g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
    g.scale(SCALE, SCALE);
    g.setColor(Theme.BACKGROUND);
    g.fillRect(0, 0, width, height);
  }

  @Override
  public void rect(double x, double y, double w, double h, Color fill, Color stroke, double strokeWidth) {
    Rectangle2D r = new Rectangle2D.Double(x, y, w, h);
    if (fill != null) {
      g.setColor(fill);
      g.fill(r);
    }
    if (stroke != null) {
      g.setColor(stroke);
      g.setStroke(new BasicStroke((float) strokeWidth));
      g.draw(r);
    }
  }

  @Override
  public void polyline(double[] xs, double[] ys, Color color, double width, float[] dash) {
    Path2D.Double p = new Path2D.Double();
    p.moveTo(xs[0], ys[0]);
    for (int i = 1; i < xs.length; i++) p.lineTo(xs[i], ys[i]);
    g.setColor(color);
    g.setStroke(
        dash == null
            ? new BasicStroke((float) width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND)
            : new BasicStroke((float) width, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, dash, 0f));
    g.draw(p);
  }

  @Override
  public void polygon(double[] xs, double[] ys, Color fill) {
    Path2D.Double p = new Path2D.Double();
    p.moveTo(xs[0], ys[0]);
    for (int i = 1; i < xs.length; i++) p.lineTo(xs[i], ys[i]);
    p.closePath();
    g.setColor(fill);
    g.fill(p);
  }

  @Override
  public void circle(double cx, double cy, double r, Color fill) {
    g.setColor(fill);
    g.fill(new Ellipse2D.Double(cx - r, cy - r, 2 * r, 2 * r));
  }

  @Override
  public void text(double x, double y, String text, String exponent, double size, boolean bold, Anchor anchor,
      boolean vertical, Color color) {
    AffineTransform saved = g.getTransform();
    if (vertical) {
      g.rotate(-Math.PI / 2, x, y);
    }
    double w = Theme.width(text, exponent, size, bold);
    double x0 = switch (anchor) {
      case START -> x;
      case MIDDLE -> x - w / 2;
      case END -> x - w;
    };
    g.setColor(color);
    g.setFont(Theme.font(size, bold));
    if (!text.isEmpty()) g.drawString(text, (float) x0, (float) y);
    if (!exponent.isEmpty()) {
      g.setFont(Theme.font(size * Theme.SUP_SCALE, bold));
      g.drawString(exponent, (float) (x0 + Theme.width(text, "", size, bold)), (float) (y - Theme.SUP_RISE * size));
    }
    g.setTransform(saved);
  }

  @Override
  public byte[] encode() throws IOException {
    g.dispose();
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    if (!ImageIO.write(image, "png", out)) throw new IOException("no PNG writer");
    return out.toByteArray();
  }
}

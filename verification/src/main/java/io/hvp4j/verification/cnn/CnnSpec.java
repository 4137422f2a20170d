package io.hvp4j.verification.cnn;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.graph.GraphBuilder;
import io.hvp4j.memory.DType;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Locale;

/**
 * A small bias-free CNN of the rank checks (theory.md, C1–C2): {@code channels.length} convolutions
 * ({@code conv1}, {@code conv2}, …; 1-D or 2-D, stride 1, no padding, kernel {@code kernel}), each followed by the
 * activation, then flatten and a linear head {@code fc} to {@code classes} outputs; Gaussian inputs
 * ({@code samples} of them) and targets (one-hot labels for ce), parameters from PyTorch's default uniform
 * initialisation, all drawn from {@code seed}. {@code benchmarks/peers/cnn_rank_peer.py} builds the same net.
 *
 * @param input per-sample input shape: {@code (C, L)} for 1-D, {@code (C, H, W)} for 2-D
 */
public record CnnSpec(
    String name, int[] input, int[] channels, int kernel, Activation act, int classes, Loss loss, int samples,
    long seed) {

  public CnnSpec {
    input = input.clone();
    channels = channels.clone();
  }

  /** A 1-D net on {@code (1, length)} inputs. */
  public static CnnSpec oneD(int length, int[] channels, int kernel, Activation act, int classes, Loss loss,
      int samples, long seed) {
    return new CnnSpec(label(1, channels, act, loss), new int[] {1, length}, channels, kernel, act, classes, loss,
        samples, seed);
  }

  /** A 2-D net on {@code (1, side, side)} inputs. */
  public static CnnSpec twoD(int side, int[] channels, int kernel, Activation act, int classes, Loss loss,
      int samples, long seed) {
    return new CnnSpec(label(2, channels, act, loss), new int[] {1, side, side}, channels, kernel, act, classes,
        loss, samples, seed);
  }

  private static String label(int spatial, int[] channels, Activation act, Loss loss) {
    StringBuilder sb = new StringBuilder(spatial + "d-" + act.name().toLowerCase(Locale.ROOT) + "-"
        + loss.name().toLowerCase(Locale.ROOT) + "-c");
    for (int i = 0; i < channels.length; i++) sb.append(i == 0 ? "" : "x").append(channels[i]);
    return sb.toString();
  }

  /** 1 or 2. */
  public int spatial() {
    return input.length - 1;
  }

  /** Values per input sample. */
  public int inputSize() {
    int n = 1;
    for (int d : input) n *= d;
    return n;
  }

  /** Output positions of the last convolution (per channel). */
  public int positions() {
    int n = 1;
    for (int i = 1; i < input.length; i++) n *= input[i] - channels.length * (kernel - 1);
    return n;
  }

  /** The graph (parameters {@code conv1.weight}, …, {@code fc.weight}, in that order). */
  public Graph graph() {
    GraphBuilder b = new GraphBuilder();
    Value h = b.input("x", input);
    for (int i = 0; i < channels.length; i++) {
      String m = "conv" + (i + 1);
      h = spatial() == 1
          ? b.conv1d(m, h, channels[i], kernel, 1, 0, 1, 1, false)
          : b.conv2d(m, h, channels[i], kernel, 1, 0, 1, 1, false);
      if (act != Activation.IDENTITY) h = b.activation(h, act);
    }
    return b.build(b.linear("fc", b.flatten(h), classes, false));
  }

  /** The Gaussian data (float64) in {@code arena}. */
  public Dataset data(Arena arena) {
    return Dataset.gaussian(arena, DType.F64, samples, inputSize(), classes, loss, seed);
  }

  /** The initial point. */
  public double[] parameters(Graph g) {
    return g.initialParameters(seed + 1);
  }

  @Override
  public String toString() {
    return name + " on " + Arrays.toString(input) + ", k=" + kernel + ", K=" + classes + ", N=" + samples;
  }
}

package io.hvp4j.verification.sbh;

import io.hvp4j.random.Rng;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import java.lang.foreign.Arena;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * One point of the [SBH] rank experiments: a network, a loss, a synthetic data set and a random initialization.
 *
 * <p>Inputs are {@code N × d} of rank {@code min(dataRank, N, d)}: standard Gaussian when {@code dataRank ≥
 * min(N, d)}, else the product of Gaussian {@code N × dataRank} and {@code dataRank × d} factors (never centred:
 * §A.6). Targets: uniform labels one-hot for ce, standard Gaussian for mse and cosh. Everything is drawn from
 * {@code seed}; the weights from {@code seed + 1} with {@code init}. The loss is summed over samples (as the
 * authors' code; a positive scale never changes a rank).
 *
 * @param widths   {@code d, M_1, …, M_{L−1}, K}
 * @param dataRank requested rank of the inputs (capped by N and d)
 */
record NetSpec(int[] widths, Activation activation, boolean bias, Loss loss, int samples, int dataRank,
    Initializer init, long seed) {

  NetSpec {
    widths = widths.clone();
  }

  /** A bias-free deep linear net with Glorot-normal weights. */
  static NetSpec linear(Loss loss, int samples, int dataRank, long seed, int... widths) {
    return new NetSpec(widths, Activation.IDENTITY, false, loss, samples, dataRank, Initializer.GLOROT_NORMAL, seed);
  }

  NetSpec withInit(Initializer i) {
    return new NetSpec(widths, activation, bias, loss, samples, dataRank, i, seed);
  }

  NetSpec withBias(boolean b) {
    return new NetSpec(widths, activation, b, loss, samples, dataRank, init, seed);
  }

  NetSpec withActivation(Activation a) {
    return new NetSpec(widths, a, bias, loss, samples, dataRank, init, seed);
  }

  NetSpec withLoss(Loss l) {
    return new NetSpec(widths, activation, bias, l, samples, dataRank, init, seed);
  }

  Mlp mlp() {
    return new Mlp(widths, activation, bias);
  }

  int inputs() {
    return widths[0];
  }

  int outputs() {
    return widths[widths.length - 1];
  }

  /** The rank the inputs are built to have, {@code min(dataRank, N, d)}. */
  int effectiveDataRank() {
    return Math.min(dataRank, Math.min(samples, inputs()));
  }

  /** One line, e.g. {@code "10-8-3 linear mse N=40 r=10 glorot-normal"}. */
  String describe() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < widths.length; i++) sb.append(i == 0 ? "" : "-").append(widths[i]);
    sb.append(' ').append(activation == Activation.IDENTITY ? "linear" : activation.id());
    sb.append(bias ? "+bias " : " ").append(loss.id());
    sb.append(String.format(Locale.ROOT, " N=%d r=%d", samples, effectiveDataRank()));
    if (init != Initializer.GLOROT_NORMAL) sb.append(' ').append(init.id());
    return sb.toString();
  }

  /** The data set, allocated in {@code arena} (float64). */
  Dataset data(Arena arena) {
    int n = samples, d = inputs(), k = outputs();
    SplittableRandom rng = new SplittableRandom(seed);
    Tensor x = Tensor.allocate(arena, DType.F64, n, d);
    if (dataRank >= Math.min(n, d)) {
      for (long i = 0; i < x.size(); i++) x.set(i, Rng.gaussian(rng));
    } else {
      double[][] a = gaussian(rng, n, dataRank);
      double[][] b = gaussian(rng, dataRank, d);
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < d; j++) {
          double s = 0;
          for (int c = 0; c < dataRank; c++) s += a[i][c] * b[c][j];
          x.set(i, j, s);
        }
      }
    }
    Tensor y;
    if (loss == Loss.CE) {
      int[] labels = new int[n];
      for (int i = 0; i < n; i++) labels[i] = rng.nextInt(k);
      y = Dataset.oneHot(arena, DType.F64, labels, k);
    } else {
      y = Tensor.allocate(arena, DType.F64, n, k);
      for (long i = 0; i < y.size(); i++) y.set(i, Rng.gaussian(rng));
    }
    return new Dataset(x, y, describe());
  }

  /** The initial parameters. */
  double[] parameters() {
    return init.initialize(mlp(), seed + 1);
  }

  private static double[][] gaussian(SplittableRandom rng, int rows, int cols) {
    double[][] m = new double[rows][cols];
    for (double[] row : m) for (int j = 0; j < cols; j++) row[j] = Rng.gaussian(rng);
    return m;
  }
}

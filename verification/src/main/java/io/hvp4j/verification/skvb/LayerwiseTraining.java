package io.hvp4j.verification.skvb;

import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.verification.experiments.Experiment;

/** Helpers of the training-time layerwise checks (K8–K10). */
final class LayerwiseTraining {
  private LayerwiseTraining() {}

  /** Rows {@code from, from + step, …} of {@code data} (copied), e.g. a class-balanced subset or a split. */
  static Dataset rows(Experiment ex, Dataset data, int from, int step, String what) {
    int n = (data.size() - from + step - 1) / step;
    Tensor x = Tensor.allocate(ex.arena(), DType.F64, n, data.inputDimension());
    Tensor y = Tensor.allocate(ex.arena(), DType.F64, n, data.outputDimension());
    for (int i = 0; i < n; i++) {
      x.rowSlice(i, 1).copyFrom(data.inputs().rowSlice(from + i * step, 1));
      y.rowSlice(i, 1).copyFrom(data.targets().rowSlice(from + i * step, 1));
    }
    return new Dataset(x, y, what);
  }

  /** Fraction of samples whose largest output is at the target's class. */
  static double accuracy(Experiment ex, io.hvp4j.model.Mlp mlp, Dataset data, double[] theta) {
    int correct = 0;
    for (int i = 0; i < data.size(); i++) {
      double[] f = forward(mlp, data.inputs().rowSlice(i, 1).toDoubleArray(), theta);
      double[] y = data.targets().rowSlice(i, 1).toDoubleArray();
      int a = 0, b = 0;
      for (int c = 1; c < f.length; c++) {
        if (f[c] > f[a]) a = c;
        if (y[c] > y[b]) b = c;
      }
      if (a == b) correct++;
    }
    return (double) correct / data.size();
  }

  /** A plain double-precision forward pass (for accuracy only). */
  static double[] forward(io.hvp4j.model.Mlp mlp, double[] x, double[] theta) {
    double[] a = x;
    for (int l = 0; l < mlp.layers(); l++) {
      int in = mlp.width(l), out = mlp.width(l + 1);
      double[] z = new double[out];
      for (int o = 0; o < out; o++) {
        double s = mlp.hasBias() ? theta[mlp.biasOffset(l) + o] : 0;
        for (int i = 0; i < in; i++) s += theta[mlp.weightOffset(l) + o * in + i] * a[i];
        z[o] = l < mlp.layers() - 1 ? mlp.activation().value(s) : s;
      }
      a = z;
    }
    return a;
  }
}

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

  /** Fraction of samples whose largest output is at the target's class (outputs from the engine's forward pass). */
  static double accuracy(Experiment ex, io.hvp4j.model.Mlp mlp, Dataset data, double[] theta) {
    try (io.hvp4j.model.ForwardOverReverse e =
        new io.hvp4j.model.ForwardOverReverse(
            mlp, io.hvp4j.autodiff.Loss.CE, ex.backend(), DType.F64, data.size(), 1)) {
      e.setParameters(ex.vector(theta));
      e.forwardBackward(data.inputs(), data.targets(), 1.0 / data.size(), null);
      Tensor f = e.outputs();
      int correct = 0;
      for (int i = 0; i < data.size(); i++) {
        int a = 0, b = 0;
        for (int c = 1; c < f.cols(); c++) {
          if (f.get(i, c) > f.get(i, a)) a = c;
          if (data.targets().get(i, c) > data.targets().get(i, b)) b = c;
        }
        if (a == b) correct++;
      }
      return (double) correct / data.size();
    }
  }
}

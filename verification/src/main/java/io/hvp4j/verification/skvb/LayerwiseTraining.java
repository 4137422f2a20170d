package io.hvp4j.verification.skvb;

import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.verification.experiments.Experiment;

/** Helpers of the training-time layerwise checks (K8–K10). */
final class LayerwiseTraining {
  private LayerwiseTraining() {}

  /** Fraction of samples whose largest output is at the target's class (outputs from the engine's forward pass). */
  static double accuracy(Experiment ex, io.hvp4j.model.Mlp mlp, Dataset data, double[] theta) {
    try (io.hvp4j.model.ForwardOverReverse e =
        new io.hvp4j.model.ForwardOverReverse(
            mlp, io.hvp4j.autodiff.Loss.CE, ex.backend(), DType.F64, data.size(), 1)) {
      e.setParameters(ex.vector(theta));
      e.forwardBackward(data.inputs(), data.targets(), 1.0 / data.size(), null);
      return Experiment.accuracy(e.outputs(), data.targets());
    }
  }
}

package io.hvp4j.verification.cnn;

import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.GraphEngine;
import io.hvp4j.memory.DType;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.verification.experiments.Experiment;

/** Small helpers of the CNN training checks: objectives at a point, accuracy. */
final class GraphTraining {
  private GraphTraining() {}

  /** The mean ce loss of {@code g} over {@code data} at {@code theta}, float64, one batch of all samples. */
  static GraphObjective objective(Experiment ex, Graph g, Dataset data, double[] theta, int maxBlock) {
    GraphObjective f = new GraphObjective(g, Loss.CE, Loss.Reduction.MEAN, data, ex.backend(), DType.F64,
        data.size(), maxBlock);
    f.setParameters(ex.vector(theta));
    return f;
  }

  /**
   * Fraction of samples whose largest output is the target's class, from one forward pass over all of
   * {@code data} (train-mode BatchNorm then normalises with the statistics of this whole set).
   */
  static double accuracy(Backend backend, Graph g, Dataset data, double[] theta, Experiment ex) {
    try (GraphEngine e = new GraphEngine(g, Loss.CE, backend, DType.F64, data.size(), 1)) {
      e.setParameters(ex.vector(theta));
      e.forward(data.inputs(), data.targets(), 1.0 / data.size());
      return Experiment.accuracy(e.outputs(), data.targets());
    }
  }
}

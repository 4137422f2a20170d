package io.hvp4j.verification.segdb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.verification.experiments.Experiment;

/**
 * The small-scale reproduction protocol of docs/theory.md §B.3: k clusters in d = 20 with centres of norm {@code sep},
 * {@code perCluster} points each, a 20 → M → k network with bias (Glorot-normal weights, N(0, 0.1²) biases),
 * full-batch GD on the mean loss (MSE: lr 0.1, CE: lr 0.5) for {@code steps} steps, exact dense spectra.
 */
final class Protocol {
  private Protocol() {}

  static final int DIMENSION = 20;

  /** Spectra of one run. */
  record Run(int k, int width, double[] gInit, double[] gTrained, double[] hTrained, double lossTrained) {}

  static double learningRate(Loss loss) {
    return loss == Loss.MSE ? 0.1 : 0.5;
  }

  /**
   * One run; {@code seed} fixes the data (seed) and the initialisation (seed + 1). {@code gInit} and
   * {@code gTrained} are computed only when {@code allSpectra}.
   */
  static Run run(
      Experiment ex,
      Activation act,
      Loss loss,
      int k,
      int width,
      double sep,
      int perCluster,
      int steps,
      long seed,
      boolean allSpectra) {
    Dataset data = ex.clusters(k, DIMENSION, sep, perCluster, seed);
    Mlp mlp = new Mlp(new int[] {DIMENSION, width, k}, act, true);
    double[] theta0 = Experiment.init(mlp, seed + 1);
    double[] gInit = null, gTrained = null;
    if (allSpectra) {
      gInit = ex.eigenvalues(ex.objective(mlp, loss, data, theta0), Curvature.GAUSS_NEWTON, -1);
    }
    double[] theta = ex.gradientDescent(mlp, loss, data, theta0, learningRate(loss), steps);
    MlpObjective f = ex.objective(mlp, loss, data, theta);
    if (allSpectra) {
      gTrained = ex.eigenvalues(f, Curvature.GAUSS_NEWTON, -1);
    }
    double[] h = ex.eigenvalues(f, Curvature.HESSIAN, -1);
    return new Run(k, width, gInit, gTrained, h, f.loss());
  }
}

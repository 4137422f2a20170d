package io.hvp4j.verification.experiments;

import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.objective.ParameterGroup;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/**
 * Mini-batch SGD on a graph's mean loss, float64, PyTorch semantics ({@code buf = μ·buf + g},
 * {@code θ ← θ − lr·buf}), for the CNN checks. Epoch e visits the samples in an order drawn from
 * {@code (seed, e)} only, in full batches (a last partial batch is dropped, so that train-mode BatchNorm always
 * sees {@code batch} samples). Optionally with the Hessian-trace regularizer of Sankar et al.
 * ({@code γ·(1/m)Σ_j v_jᵀ H_B v_j}, Rademacher probes on one parameter group), whose gradient
 * {@code D³L[v, v, ·]} is exact ({@link io.hvp4j.objective.Objective#thirdOrder}). Not thread-safe; owns its memory
 * until {@link #close}.
 */
public final class GraphSgd implements AutoCloseable {
  /** The regularizer: weight γ, the probed group, probes per step, and the first epoch (0-based) it is on. */
  public record Htr(double gamma, ParameterGroup group, int probes, int startEpoch) {}

  private final Arena arena = Arena.ofShared();
  private final Dataset train;
  private final Tensor bx, by;
  private final GraphObjective batchObjective;
  private final double lr, momentum;
  private final int batch;
  private final long seed;
  private final Htr htr;
  private final double[] theta, buf;
  private final Tensor thetaT, gradT, vFull, hvFull, d3;
  private int epochs;

  public GraphSgd(Graph graph, Loss loss, Dataset train, Backend backend, double[] theta0, double lr,
      double momentum, int batch, long seed, Htr htr) {
    if (batch > train.size()) throw new IllegalArgumentException("batch " + batch + " > " + train.size() + " samples");
    this.train = train;
    this.lr = lr;
    this.momentum = momentum;
    this.batch = batch;
    this.seed = seed;
    this.htr = htr;
    theta = theta0.clone();
    buf = new double[theta.length];
    bx = Tensor.allocate(arena, DType.F64, batch, train.inputDimension());
    by = Tensor.allocate(arena, DType.F64, batch, train.outputDimension());
    thetaT = Tensor.allocate(arena, DType.F64, theta.length, 1);
    gradT = Tensor.allocate(arena, DType.F64, theta.length, 1);
    vFull = Tensor.allocate(arena, DType.F64, theta.length, 1);
    hvFull = Tensor.allocate(arena, DType.F64, theta.length, 1);
    d3 = Tensor.allocate(arena, DType.F64, theta.length, 1);
    for (int i = 0; i < batch; i++) { // valid targets (the objective checks ce rows) until the first step
      bx.rowSlice(i, 1).copyFrom(train.inputs().rowSlice(i, 1));
      by.rowSlice(i, 1).copyFrom(train.targets().rowSlice(i, 1));
    }
    batchObjective = new GraphObjective(graph, loss, Loss.Reduction.MEAN, new Dataset(bx, by, "mini-batch"),
        backend, DType.F64, batch, 1);
  }

  /** One epoch; returns the mean of the batch losses. */
  public double epoch() {
    int n = train.size(), steps = n / batch;
    int[] order = new int[n];
    for (int i = 0; i < n; i++) order[i] = i;
    SplittableRandom r = new SplittableRandom(seed * 1_000_003L + epochs);
    for (int i = n - 1; i > 0; i--) {
      int j = r.nextInt(i + 1), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    double sum = 0;
    boolean penalty = htr != null && epochs >= htr.startEpoch();
    for (int s = 0; s < steps; s++) {
      for (int i = 0; i < batch; i++) {
        bx.rowSlice(i, 1).copyFrom(train.inputs().rowSlice(order[s * batch + i], 1));
        by.rowSlice(i, 1).copyFrom(train.targets().rowSlice(order[s * batch + i], 1));
      }
      double[] g = gradient();
      sum += g[theta.length];
      if (penalty) addPenaltyGradient(g, r);
      for (int i = 0; i < theta.length; i++) {
        buf[i] = momentum * buf[i] + g[i];
        theta[i] -= lr * buf[i];
      }
    }
    epochs++;
    return sum / steps;
  }

  /** The gradient at θ on the current batch, with the loss appended. */
  private double[] gradient() {
    set(theta);
    double loss = batchObjective.gradient(gradT);
    double[] g = new double[theta.length + 1];
    for (int i = 0; i < theta.length; i++) g[i] = gradT.get(i);
    g[theta.length] = loss;
    return g;
  }

  private void set(double[] t) {
    for (int i = 0; i < t.length; i++) thetaT.set(i, t[i]);
    batchObjective.invalidate();
    batchObjective.setParameters(thetaT);
  }

  /** {@code g += (γ/m) Σ_j ∇(v_jᵀH v_j)}, v_j Rademacher on the group, by the exact third-order pass. */
  private void addPenaltyGradient(double[] g, SplittableRandom r) {
    ParameterGroup grp = htr.group();
    long off = grp.offset();
    if (off < 0) throw new IllegalArgumentException("HTR group " + grp + " is not contiguous");
    set(theta);
    for (int j = 0; j < htr.probes(); j++) {
      for (int i = 0; i < theta.length; i++) vFull.set(i, 0);
      for (int i = 0; i < grp.size(); i++) vFull.set(off + i, r.nextBoolean() ? 1 : -1);
      batchObjective.thirdOrder(vFull, hvFull, d3);
      double w = htr.gamma() / htr.probes();
      for (int i = 0; i < theta.length; i++) g[i] += w * d3.get(i);
    }
  }

  public int epochsDone() {
    return epochs;
  }

  /** θ now (a copy). */
  public double[] parameters() {
    return theta.clone();
  }

  @Override
  public void close() {
    batchObjective.close();
    arena.close();
  }
}

package io.hvp4j.verification.cnn;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.objective.ParameterGroup;
import io.hvp4j.spectral.DenseAssembly;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.SymmetricEigen;
import io.hvp4j.verification.sbh.DenseCurvature;
import java.lang.foreign.Arena;
import java.util.EnumMap;
import java.util.Map;

/**
 * The dense float64 matrices {@code H}, {@code H_O}, {@code H_F} of a {@link CnnSpec} net at its initial point
 * (mean loss over its data), assembled from the graph engine's products, with their eigenvalues and ranks (kept
 * once computed). Not thread-safe; close it to free the memory.
 */
public final class CnnCurvature implements AutoCloseable {
  private final Arena arena = Arena.ofShared();
  private final VectorBackend backend;
  private final Graph graph;
  private final Dataset data;
  private final double[] theta;
  private final GraphObjective objective;
  private final Map<Curvature, double[][]> matrices = new EnumMap<>(Curvature.class);
  private final Map<Curvature, double[]> eigenvalues = new EnumMap<>(Curvature.class);

  public CnnCurvature(CnnSpec spec, int threads) {
    backend = new VectorBackend(threads);
    try {
      graph = spec.graph();
      data = spec.data(arena);
      theta = spec.parameters(graph);
      objective = new GraphObjective(graph, spec.loss(), Loss.Reduction.MEAN, data, backend, DType.F64,
          data.size(), DenseAssembly.DEFAULT_BLOCK);
      objective.setParameters(Tensor.of(arena, DType.F64, theta.length, 1, theta));
    } catch (RuntimeException | Error e) {
      backend.close();
      arena.close();
      throw e;
    }
  }

  public int parameters() {
    return graph.parameterCount();
  }

  public Dataset data() {
    return data;
  }

  /** The point (flat, PyTorch order). */
  public double[] theta() {
    return theta.clone();
  }

  /** The dense symmetrized matrix (kept; do not modify). */
  public double[][] matrix(Curvature c) {
    double[][] m = matrices.get(c);
    if (m == null) {
      try (Arena tmp = Arena.ofShared()) { // the backend's workers read it
        Tensor t = DenseAssembly.assemble(Operators.curvature(objective, c, (ParameterGroup) null), tmp).matrix();
        m = new double[t.rows()][];
        for (int i = 0; i < m.length; i++) m[i] = t.rowSlice(i, 1).toDoubleArray();
      }
      matrices.put(c, m);
    }
    return m;
  }

  /** Eigenvalues in ascending order. */
  public double[] eigenvalues(Curvature c) {
    return eigenvalues.computeIfAbsent(c, k -> SymmetricEigen.select(null).eigenvalues(matrix(k)));
  }

  public DenseCurvature.Rank rank(Curvature c) {
    return DenseCurvature.rankOf(eigenvalues(c));
  }

  @Override
  public void close() {
    try {
      objective.close();
      backend.close();
    } finally {
      arena.close();
    }
  }
}

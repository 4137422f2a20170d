package io.hvp4j.spark;

import io.hvp4j.InvalidInputException;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ScalarBackend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.GraphWeights;
import io.hvp4j.graph.Models;
import io.hvp4j.memory.DType;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.objective.Objective;
import io.hvp4j.objective.ParameterGroup;

import java.io.Serializable;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * What an executor needs to rebuild the single-machine objective of a network: an MLP (widths, activation, bias) or
 * a built-in graph ({@link Models#byName}, with the constants of an optional weights file that every executor can
 * read), the loss, the dtype and the CPU backend (scalar, or the Vector API with {@code threads} workers; 0: all
 * processors of the executor). Immutable and serializable; {@link #key} identifies it in an executor's cache.
 */
public final class Model implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int[] widths;
    private final Activation activation;
    private final boolean bias;
    private final String graphName;
    private final int classes;
    private final String graphWeights;
    private final Loss loss;
    private final DType dtype;
    private final boolean scalar;
    private final int threads;

    private Model(int[] widths, Activation activation, boolean bias, String graphName, int classes, String graphWeights,
                  Loss loss, DType dtype, boolean scalar, int threads) {
        if (threads < 0) {
            throw new InvalidInputException("threads must be >= 0 (0: all processors), got " + threads);
        }
        this.widths = widths;
        this.activation = activation;
        this.bias = bias;
        this.graphName = graphName;
        this.classes = classes;
        this.graphWeights = graphWeights;
        this.loss = loss;
        this.dtype = dtype;
        this.scalar = scalar;
        this.threads = threads;
    }

    /** The MLP {@code mlp} with {@code loss} in {@code dtype} on the Vector API backend with {@code threads}. */
    public static Model mlp(Mlp mlp, Loss loss, DType dtype, int threads) {
        return new Model(mlp.widths(), mlp.activation(), mlp.hasBias(), null, 0, null, loss, dtype, false, threads);
    }

    /**
     * The built-in graph {@code name} with {@code classes} outputs; {@code weights} (or null) is a weights file whose
     * constants (e.g. batch-norm statistics) the graph takes, at a path every executor can read.
     */
    public static Model graph(String name, int classes, Path weights, Loss loss, DType dtype, int threads) {
        Models.byName(name, classes); // an unknown name fails here, on the driver
        return new Model(null, null, false, name, classes, weights == null ? null : weights.toAbsolutePath().toString(),
                loss, dtype, false, threads);
    }

    /** The same model on the scalar reference backend (for checks). */
    public Model scalarBackend() {
        return new Model(widths, activation, bias, graphName, classes, graphWeights, loss, dtype, true, threads);
    }

    public DType dtype() {
        return dtype;
    }

    public Loss loss() {
        return loss;
    }

    /** A stable description: equal models have equal keys. */
    public String key() {
        return (widths != null ? "mlp " + Arrays.toString(widths) + " " + activation.id() + (bias ? "" : " no-bias")
                : "graph " + graphName + "/" + classes + (graphWeights == null ? "" : " " + graphWeights))
                + " " + loss.id() + " " + dtype + (scalar ? " scalar" : " threads=" + threads);
    }

    @Override
    public String toString() {
        return key();
    }

    /** The graph, with the weights file's constants when there is one (read into {@code arena}). */
    Graph graph(Arena arena) {
        Graph g = Models.byName(graphName, classes);
        return graphWeights == null ? g : GraphWeights.load(Path.of(graphWeights), g, dtype, arena).graph();
    }

    /** P. */
    public int parameterCount() {
        return widths != null ? new Mlp(widths, activation, bias).parameterCount()
                : Models.byName(graphName, classes).parameterCount();
    }

    /** Inputs and outputs per sample. */
    int[] dimensions() {
        if (widths != null) {
            return new int[] {widths[0], widths[widths.length - 1]};
        }
        Graph g = Models.byName(graphName, classes);
        return new int[] {g.inputSize(), g.outputSize()};
    }

    /** The layerwise groups, as the single-machine objective names them. */
    public List<ParameterGroup> groups() {
        return widths != null ? MlpObjective.layers(new Mlp(widths, activation, bias))
                : GraphObjective.modules(Models.byName(graphName, classes));
    }

    /** A backend for one engine (owned by the caller). */
    Backend backend() {
        return scalar ? new ScalarBackend()
                : new VectorBackend(threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
    }

    /** The single-machine objective of this model over {@code data}, summed (not averaged) over its rows. */
    Objective objective(Dataset data, Backend backend, Arena arena, int batchRows, int maxBlock) {
        if (widths != null) {
            return new MlpObjective(new Mlp(widths, activation, bias), loss, Loss.Reduction.SUM, data, backend, dtype,
                    batchRows, maxBlock);
        }
        return new GraphObjective(graph(arena), loss, Loss.Reduction.SUM, data, backend, dtype, batchRows, maxBlock);
    }
}

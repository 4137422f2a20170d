package io.hvp4j.train;

import io.hvp4j.autodiff.BatchEngine;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.GraphEngine;
import io.hvp4j.memory.DType;
import io.hvp4j.model.ForwardOverReverse;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.objective.ParameterGroup;

import java.util.List;

/**
 * What {@link Trainer} trains: a network's sizes, its parameter groups (the units the HTR probes are drawn on: the
 * Linear layers of an MLP, the modules of a graph) and its one-batch engine, which has the third-order pass.
 * {@link #of(Mlp)} and {@link #of(Graph, String)} cover both engines. Immutable.
 *
 * @param description   the network in messages ({@code 4,8,3} for an MLP, the model's name for a graph)
 * @param inputs        values per sample
 * @param outputs       network outputs per sample
 * @param parameterCount P
 * @param groupKind     what a group is, plural ({@code Linear layers}, {@code modules})
 * @param groups        the groups in flat order
 * @param engines       makes the one-batch engine for a loss, backend, dtype and batch size (blocks of one vector)
 */
public record Network(String description, int inputs, int outputs, int parameterCount, String groupKind,
                      List<ParameterGroup> groups, EngineFactory engines) {
    public Network {
        groups = List.copyOf(groups);
    }

    /** Makes a one-batch engine. */
    @FunctionalInterface
    public interface EngineFactory {
        BatchEngine create(Loss loss, Backend backend, DType dtype, int maxRows);
    }

    /** An MLP on the MLP engine; its groups are its Linear layers. */
    public static Network of(Mlp mlp) {
        return new Network(mlp.architecture(), mlp.inputs(), mlp.outputs(), mlp.parameterCount(), "Linear layers",
                MlpObjective.layers(mlp), (loss, be, dtype, rows) -> new ForwardOverReverse(mlp, loss, be, dtype, rows, 1));
    }

    /** A graph on the graph engine, named {@code name} in messages; its groups are its modules. */
    public static Network of(Graph graph, String name) {
        return new Network(name, graph.inputSize(), graph.outputSize(), graph.parameterCount(), "modules",
                GraphObjective.modules(graph), (loss, be, dtype, rows) -> new GraphEngine(graph, loss, be, dtype, rows, 1));
    }
}

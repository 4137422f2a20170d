package io.hvp4j.objective;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.GraphEngine;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The loss of any {@link Graph} over a whole data set (batching as in {@link BatchedObjective}), on the
 * {@link GraphEngine}. Inputs are the data set's rows flattened in the graph input's row-major order (an image
 * {@code (C, H, W)} as {@code C·H·W} values). The layerwise groups are the graph's modules: parameters whose names
 * share the prefix before the last dot ({@code layer1.0.conv1.weight} and {@code .bias} form {@code layer1.0.conv1}),
 * in flat order; {@link #select} makes a group of any parameters by name or glob.
 */
public final class GraphObjective extends BatchedObjective {
    private final Graph graph;
    private final GraphEngine engine;
    private final List<ParameterGroup> groups;

    /**
     * The loss of {@code graph} over {@code data}; set the parameters before the first call.
     *
     * @param graph     the network (its output width must match the targets)
     * @param loss      the loss per sample
     * @param reduction mean or sum over the samples
     * @param data      the data set in {@code dtype} (the caller's; it must outlive the objective)
     * @param backend   the kernels (the caller's)
     * @param dtype     the precision
     * @param batchSize rows per batch (bounds the working memory)
     * @param maxBlock  most vectors per product
     * @throws io.hvp4j.InvalidInputException when data and graph do not fit together
     */
    public GraphObjective(Graph graph, Loss loss, Loss.Reduction reduction, Dataset data, Backend backend,
                          DType dtype, int batchSize, int maxBlock) {
        super(checked(graph, loss, data), loss, reduction, backend, dtype, batchSize);
        this.graph = graph;
        this.engine = new GraphEngine(graph, loss, backend, dtype, this.batchSize, maxBlock);
        engine(this.engine);
        this.groups = modules(graph);
    }

    /**
     * The modules of a graph as parameter groups (see the class comment).
     *
     * @param graph the network
     * @return one group per module, in flat order
     */
    public static List<ParameterGroup> modules(Graph graph) {
        Map<String, List<Integer>> byModule = new LinkedHashMap<>();
        for (int i = 0; i < graph.parameters().size(); i++) {
            byModule.computeIfAbsent(module(graph.parameters().get(i).name()), m -> new ArrayList<>()).add(i);
        }
        List<ParameterGroup> gs = new ArrayList<>();
        for (Map.Entry<String, List<Integer>> e : byModule.entrySet()) {
            gs.add(group(graph, e.getKey(), e.getValue().stream().mapToInt(Integer::intValue).toArray()));
        }
        return List.copyOf(gs);
    }

    private static Dataset checked(Graph graph, Loss loss, Dataset data) {
        if (data.inputDimension() != graph.inputSize() || data.outputDimension() != graph.outputSize()) {
            throw new InvalidInputException("data has " + data.inputDimension() + " inputs and "
                    + data.outputDimension() + " outputs but the graph takes " + graph.input().shape() + " ("
                    + graph.inputSize() + " values) and gives " + graph.outputSize());
        }
        if (loss == Loss.CE) {
            if (graph.outputSize() < 2) {
                throw new InvalidInputException("ce needs at least 2 outputs, the graph has " + graph.outputSize());
            }
            Dataset.requireProbabilities(data.targets(), "targets");
        }
        return data;
    }

    private static String module(String parameter) {
        int dot = parameter.lastIndexOf('.');
        return dot < 0 ? parameter : parameter.substring(0, dot);
    }

    private static ParameterGroup group(Graph graph, String name, int[] members) {
        int size = 0;
        boolean consecutive = true;
        for (int j = 0; j < members.length; j++) {
            size += graph.parameters().get(members[j]).shape().intSize();
            consecutive &= j == 0 || members[j] == members[j - 1] + 1;
        }
        return new ParameterGroup(name, members, consecutive ? graph.offset(members[0]) : -1, size);
    }

    /**
     * The parameters whose names match {@code pattern}: an exact name, a module prefix ({@code block1} selects
     * {@code block1.*}), or a glob with {@code *} (any characters) and {@code ?}.
     *
     * @param pattern a name, module prefix or glob
     * @return the group of the matching parameters, named {@code pattern}
     * @throws InvalidInputException when nothing matches
     */
    public ParameterGroup select(String pattern) {
        return select(graph, pattern);
    }

    /**
     * {@link #select(String)} on a graph without an objective.
     *
     * @param graph   the network
     * @param pattern a name, module prefix or glob
     * @return the group of the matching parameters
     * @throws InvalidInputException when nothing matches
     */
    public static ParameterGroup select(Graph graph, String pattern) {
        StringBuilder re = new StringBuilder();
        for (char ch : pattern.toCharArray()) {
            re.append(ch == '*' ? ".*" : ch == '?' ? "." : Pattern.quote(String.valueOf(ch)));
        }
        Pattern glob = Pattern.compile(re.toString());
        List<Integer> hit = new ArrayList<>();
        for (int i = 0; i < graph.parameters().size(); i++) {
            String n = graph.parameters().get(i).name();
            if (glob.matcher(n).matches() || n.startsWith(pattern + ".")) {
                hit.add(i);
            }
        }
        if (hit.isEmpty()) {
            throw new InvalidInputException("no parameter matches '" + pattern + "'; the modules are "
                    + modules(graph).stream().map(ParameterGroup::name).toList());
        }
        return group(graph, pattern, hit.stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * The network.
     *
     * @return the graph
     */
    public Graph graph() {
        return graph;
    }

    @Override
    public int parameterCount() {
        return graph.parameterCount();
    }

    @Override
    public List<ParameterGroup> groups() {
        return groups;
    }

    @Override
    protected void engineProduct(Curvature c, ParameterGroup group, Tensor v, Tensor out) {
        engine.product(c, group == null ? null : group.members(), v, out);
    }

    @Override
    protected String modelDescription() {
        return graph.describe().replace("\n", " | ");
    }

    @Override
    protected String modelName() {
        return "the graph";
    }
}

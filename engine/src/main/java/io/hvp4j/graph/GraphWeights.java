package io.hvp4j.graph;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Graph.Kind;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.io.ModelWeights;
import io.hvp4j.io.Npy;
import io.hvp4j.io.SafeTensors;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Loads a graph's parameters by their {@code state_dict} names from a {@code .safetensors} or {@code .npz} file
 * ({@code safetensors.torch.save_file(model.state_dict(), f)}), or the flat vector from a {@code .npy} file of
 * {@code P} values. Named files may also hold the graph's constants (BatchNorm {@code running_mean},
 * {@code running_var}), which replace the built-in ones, and {@code num_batches_tracked} counters, which are
 * ignored; any other unknown name, a missing parameter, a shape mismatch or NaN/Inf is an
 * {@link InvalidInputException} naming the file and the array.
 */
public final class GraphWeights {
    private GraphWeights() {
    }

    /**
     * What a weights file gives.
     *
     * @param graph      the graph with the file's constants (running statistics)
     * @param parameters θ, {@code P × 1}
     */
    public record Loaded(Graph graph, Tensor parameters) {
    }

    /**
     * Reads a graph's weights (see the class comment for the formats).
     *
     * @param file  a {@code .safetensors}, {@code .npz} or flat {@code .npy} file
     * @param graph the network
     * @param dtype the parameters' dtype
     * @param arena owns the parameters
     * @return the parameters and the graph with the file's constants
     * @throws InvalidInputException naming the file and the array for any mismatch
     */
    public static Loaded load(Path file, Graph graph, DType dtype, Arena arena) {
        String lower = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        int P = graph.parameterCount();
        if (lower.endsWith(".npy")) {
            Tensor t = Npy.readMatrix(file, arena, dtype, "flat parameter vector");
            if (t.cols() != 1 || t.rows() != P) {
                throw new InvalidInputException(file + ": a flat parameter vector must have shape (" + P + ",), got "
                        + t.rows() + (t.cols() == 1 ? "" : " × " + t.cols()));
            }
            return new Loaded(graph, checkFinite(file, "the vector", t));
        }
        ModelWeights.Source src = ModelWeights.named(file, arena);
        Tensor theta = Tensor.allocate(arena, dtype, P, 1);
        Set<String> used = new HashSet<>();
        for (int i = 0; i < graph.parameters().size(); i++) {
            Value p = graph.parameters().get(i);
            if (!src.names().contains(p.name())) {
                throw new InvalidInputException(file + ": no tensor '" + p.name() + "' (the graph's parameters are "
                        + graph.parameters().stream().map(Value::name).toList() + ")");
            }
            requireShape(file, p, src.shape(p.name()));
            theta.view(graph.offset(i), p.shape().intSize(), 1)
                    .copyFrom(checkFinite(file, p.name(), src.tensor(p.name(), dtype)));
            used.add(p.name());
        }
        Map<String, double[]> constants = new LinkedHashMap<>();
        for (String n : src.names()) {
            if (used.contains(n) || n.endsWith(".num_batches_tracked")) {
                continue;
            }
            Value v = graph.value(n);
            if (v == null || v.kind() != Kind.CONSTANT) {
                throw new InvalidInputException(file + ": unexpected tensor '" + n.replaceAll("\\p{Cntrl}", "?")
                        + "' (not a parameter or buffer of the graph)");
            }
            requireShape(file, v, src.shape(n));
            constants.put(n, checkFinite(file, n, src.tensor(n, DType.F64)).toDoubleArray());
        }
        return new Loaded(constants.isEmpty() ? graph : graph.withConstants(constants), theta);
    }

    private static void requireShape(Path file, Value v, long[] shape) {
        int[] want = v.shape().dims();
        long[] w = Arrays.stream(want).asLongStream().toArray();
        if (!Arrays.equals(w, shape)) {
            throw new InvalidInputException(file + ": tensor '" + v.name() + "' has shape " + Arrays.toString(shape)
                    + " but the graph needs " + Arrays.toString(want));
        }
    }

    private static Tensor checkFinite(Path file, String what, Tensor t) {
        long bad = t.firstNonFinite();
        if (bad >= 0) {
            throw new InvalidInputException(file + ": " + what + " holds a non-finite value at index " + bad);
        }
        return t;
    }

    /**
     * Writes {@code theta} ({@code P} values in the graph's flat order, host memory) as the graph's state_dict in
     * safetensors: each parameter under its name with its shape, in the tensor's dtype; atomically. {@link #load}
     * reads it back, and so does {@code model.load_state_dict(safetensors.torch.load_file(f), strict=False)}.
     *
     * @param file  the safetensors file to write
     * @param graph the network
     * @param theta P values in flat order
     */
    public static void save(Path file, Graph graph, Tensor theta) {
        if (theta.size() != graph.parameterCount()) {
            throw new InvalidInputException(file + ": " + theta.size() + " values for a graph of "
                    + graph.parameterCount() + " parameters");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, long[]> shapes = new java.util.HashMap<>();
        Tensor flat = theta.reshape(1, (int) theta.size());
        for (int i = 0; i < graph.parameters().size(); i++) {
            Value v = graph.parameters().get(i);
            tensors.put(v.name(), flat.view(graph.offset(i), 1, v.shape().intSize()));
            shapes.put(v.name(), Arrays.stream(v.shape().dims()).asLongStream().toArray());
        }
        SafeTensors.write(file, tensors, shapes);
    }
}

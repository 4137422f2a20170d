package io.hvp4j.graph;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * An immutable network function {@code f(x; θ)} as a DAG of {@link Op} nodes in topological order. Values are the
 * one data input (batched, the batch axis first), parameters (named as in PyTorch's {@code state_dict}, in the
 * order of {@code model.parameters()}, which is the order of the flat parameter vector θ), constants (data without
 * tangents, e.g. BatchNorm running statistics) and node outputs. The output is the batched value the loss reads
 * ({@code rows × K}). Build one with {@link GraphBuilder}. Thread-safe (immutable).
 */
public final class Graph {
    /** What a value is. */
    public enum Kind {
        /** The data input (batched). */
        INPUT,
        /** A parameter tensor, part of θ. */
        PARAMETER,
        /** Data without tangents, e.g. BatchNorm running statistics. */
        CONSTANT,
        /** A node's output (batched). */
        COMPUTED
    }

    /** A value of the graph: its shape is per sample when batched, whole otherwise. */
    public static final class Value {
        final int id;
        final String name;
        final Kind kind;
        final Shape shape;
        final double[] constant; // CONSTANT only
        final Init init;         // PARAMETER only

        Value(int id, String name, Kind kind, Shape shape, double[] constant, Init init) {
            this.id = id;
            this.name = name;
            this.kind = kind;
            this.shape = shape;
            this.constant = constant;
            this.init = init;
        }

        /**
         * The value's index.
         *
         * @return its id (an index into per-value arrays, below {@link Graph#valueSlots()})
         */
        public int id() {
            return id;
        }

        /**
         * The value's name.
         *
         * @return the {@code state_dict} name of a parameter or constant, else the node's or input's name
         */
        public String name() {
            return name;
        }

        /**
         * What the value is.
         *
         * @return its kind
         */
        public Kind kind() {
            return kind;
        }

        /**
         * The value's shape.
         *
         * @return per sample when batched, whole otherwise
         */
        public Shape shape() {
            return shape;
        }

        /**
         * Whether the value has one row per sample.
         *
         * @return true for the data input and node outputs, false for parameters and constants
         */
        public boolean batched() {
            return kind == Kind.INPUT || kind == Kind.COMPUTED;
        }

        @Override
        public String toString() {
            return name + shape;
        }
    }

    /**
     * How a parameter is initialised by {@link #initialParameters}: PyTorch's defaults for its module.
     *
     * @param kind  {@code uniform} (in {@code ±bound}) or {@code constant} (every value {@code bound})
     * @param bound the bound or the constant
     */
    public record Init(String kind, double bound) {
        static Init uniform(double bound) {
            return new Init("uniform", bound);
        }

        static Init constant(double value) {
            return new Init("constant", value);
        }
    }

    /**
     * An op applied to input values, producing one value.
     *
     * @param name   the node's name
     * @param op     its rules
     * @param inputs the values it reads
     * @param output the value it writes
     */
    public record Node(String name, Op op, List<Value> inputs, Value output) {
    }

    private final List<Value> values;
    private final List<Node> nodes;
    private final List<Value> parameters;
    private final Value input;
    private final Value output;
    private final long[] offsets;
    private final long parameterCount;
    private final Map<String, Value> byName;

    Graph(List<Value> values, List<Node> nodes, Value input, Value output, java.util.Comparator<Value> order) {
        this.values = List.copyOf(values);
        this.nodes = List.copyOf(nodes);
        this.input = input;
        this.output = output;
        List<Value> ps = new ArrayList<>();
        Map<String, Value> names = new LinkedHashMap<>();
        for (Value v : values) {
            names.put(v.name, v);
            if (v.kind == Kind.PARAMETER) {
                ps.add(v);
            }
        }
        if (order != null) {
            ps.sort(order);
        }
        this.parameters = Collections.unmodifiableList(ps);
        this.byName = Collections.unmodifiableMap(names);
        offsets = new long[ps.size() + 1];
        for (int i = 0; i < ps.size(); i++) {
            offsets[i + 1] = offsets[i] + ps.get(i).shape.size();
        }
        parameterCount = offsets[ps.size()];
        if (parameterCount > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("more than 2^31 parameters: " + parameterCount);
        }
    }

    /**
     * The size of per-value arrays.
     *
     * @return one more than the largest value id
     */
    public int valueSlots() {
        int m = 0;
        for (Value v : values) {
            m = Math.max(m, v.id + 1);
        }
        return m;
    }

    /**
     * The values.
     *
     * @return every value, inputs first, in topological order (unmodifiable)
     */
    public List<Value> values() {
        return values;
    }

    /**
     * The nodes.
     *
     * @return the nodes in topological order (unmodifiable)
     */
    public List<Node> nodes() {
        return nodes;
    }

    /**
     * The parameter tensors.
     *
     * @return the parameters in the order of the flat parameter vector (unmodifiable)
     */
    public List<Value> parameters() {
        return parameters;
    }

    /**
     * The data input.
     *
     * @return the one batched input value
     */
    public Value input() {
        return input;
    }

    /**
     * The network's output.
     *
     * @return the batched value the loss reads
     */
    public Value output() {
        return output;
    }

    /**
     * Looks a value up by name.
     *
     * @param name a value's name
     * @return the value, or null
     */
    public Value value(String name) {
        return byName.get(name);
    }

    /**
     * The number of parameters.
     *
     * @return P
     */
    public int parameterCount() {
        return (int) parameterCount;
    }

    /**
     * Where a parameter tensor starts.
     *
     * @param i an index into {@link #parameters()}
     * @return its offset in the flat vector
     */
    public long offset(int i) {
        return offsets[i];
    }

    /**
     * Finds a parameter tensor.
     *
     * @param v a parameter of this graph
     * @return its index in {@link #parameters()}
     * @throws IllegalArgumentException when {@code v} is not one
     */
    public int parameterIndex(Value v) {
        int i = parameters.indexOf(v);
        if (i < 0) {
            throw new IllegalArgumentException(v + " is not a parameter");
        }
        return i;
    }

    /**
     * The input width.
     *
     * @return values per sample of the input (e.g. {@code C·H·W})
     */
    public int inputSize() {
        return input.shape.intSize();
    }

    /**
     * The output width.
     *
     * @return values per sample of the output (the number of classes K for a classifier)
     */
    public int outputSize() {
        return output.shape.intSize();
    }

    /**
     * Parameters drawn as PyTorch initialises its modules (uniform in {@code ±1/√fan_in} for linear and convolution
     * weights and biases; ones and zeros for normalisation scales and shifts), from {@code seed}: the same seed gives
     * the same vector. The distribution matches PyTorch's, the numbers do not (another generator).
     *
     * @param seed the seed
     * @return P values in flat order
     */
    public double[] initialParameters(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] theta = new double[parameterCount()];
        for (int i = 0; i < parameters.size(); i++) {
            Value p = parameters.get(i);
            int off = (int) offsets[i];
            for (int j = 0; j < p.shape.size(); j++) {
                theta[off + j] = p.init.kind().equals("constant") ? p.init.bound()
                        : (2 * r.nextDouble() - 1) * p.init.bound();
            }
        }
        return theta;
    }

    /**
     * This graph with the data of some constants replaced (for example BatchNorm running statistics read from a
     * {@code state_dict}); each name must be a constant of this graph with the same number of values.
     *
     * @param data new values by constant name (copied)
     * @return the new graph (this one is unchanged)
     * @throws io.hvp4j.InvalidInputException for an unknown name or a wrong number of values
     */
    public Graph withConstants(Map<String, double[]> data) {
        Map<Value, Value> swap = new java.util.HashMap<>();
        for (Map.Entry<String, double[]> e : data.entrySet()) {
            Value v = byName.get(e.getKey());
            if (v == null || v.kind != Kind.CONSTANT) {
                throw new io.hvp4j.InvalidInputException("'" + e.getKey() + "' is not a constant of the graph");
            }
            if (e.getValue().length != v.shape.size()) {
                throw new io.hvp4j.InvalidInputException("constant " + v.name + " has shape " + v.shape + ", got "
                        + e.getValue().length + " values");
            }
            swap.put(v, new Value(v.id, v.name, v.kind, v.shape, e.getValue().clone(), null));
        }
        List<Value> vs = new ArrayList<>();
        for (Value v : values) {
            vs.add(swap.getOrDefault(v, v));
        }
        List<Node> ns = new ArrayList<>();
        for (Node n : nodes) {
            List<Value> in = new ArrayList<>();
            for (Value v : n.inputs()) {
                in.add(swap.getOrDefault(v, v));
            }
            ns.add(new Node(n.name(), n.op(), List.copyOf(in), n.output()));
        }
        return new Graph(vs, ns, input, output, java.util.Comparator.comparingInt(parameters::indexOf));
    }

    /**
     * A constant's values.
     *
     * @param name the constant's name
     * @return its values (a copy), or null when {@code name} is not a constant
     */
    public double[] constant(String name) {
        Value v = byName.get(name);
        return v == null || v.kind != Kind.CONSTANT ? null : v.constant.clone();
    }

    /**
     * The structure, for messages and fingerprints.
     *
     * @return one line per node: name, op, input names and output shape
     */
    public String describe() {
        StringBuilder b = new StringBuilder();
        b.append("input ").append(input).append('\n');
        for (Node n : nodes) {
            b.append(n.name).append(" = ").append(n.op.type()).append('(');
            for (int i = 0; i < n.inputs.size(); i++) {
                b.append(i == 0 ? "" : ", ").append(n.inputs.get(i).name);
            }
            b.append(") -> ").append(n.output.shape).append('\n');
        }
        b.append("parameters ").append(parameterCount).append(" in ").append(parameters.size()).append(" tensors");
        return b.toString();
    }
}

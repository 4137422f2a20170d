package io.hvp4j.onnx;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.graph.GraphBuilder;
import io.hvp4j.graph.Shape;
import io.hvp4j.graph.ops.Add;
import io.hvp4j.graph.ops.BatchNormEval;
import io.hvp4j.graph.ops.Binary;
import io.hvp4j.graph.ops.Conv2d;
import io.hvp4j.graph.ops.LayerNorm;
import io.hvp4j.graph.ops.Linear;
import io.hvp4j.graph.ops.MatMul;
import io.hvp4j.graph.ops.Permute;
import io.hvp4j.graph.ops.Pool2d;
import io.hvp4j.graph.ops.Reduce;
import io.hvp4j.graph.ops.Reshape;
import io.hvp4j.graph.ops.Slice;
import io.hvp4j.graph.ops.Softmax;
import io.hvp4j.onnx.proto.OnnxProto.AttributeProto;
import io.hvp4j.onnx.proto.OnnxProto.FunctionProto;
import io.hvp4j.onnx.proto.OnnxProto.GraphProto;
import io.hvp4j.onnx.proto.OnnxProto.ModelProto;
import io.hvp4j.onnx.proto.OnnxProto.NodeProto;
import io.hvp4j.onnx.proto.OnnxProto.TensorProto;
import io.hvp4j.onnx.proto.OnnxProto.TensorShapeProto;
import io.hvp4j.onnx.proto.OnnxProto.ValueInfoProto;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One import of an ONNX graph into a {@link GraphBuilder} (see {@link OnnxModel} for the rules). Nodes are visited
 * in file order; each name maps to a batched graph value, a load-time constant, or an initializer that becomes a
 * parameter or a graph constant where an op uses it. Not thread-safe; used once.
 */
final class OnnxImporter {
    /** The ops {@link #node} maps. */
    static final Set<String> SUPPORTED_OPS = Set.of(
            "Add", "AveragePool", "BatchNormalization", "Cast", "Concat", "Constant", "ConstantOfShape", "Conv", "Div",
            "Dropout", "Elu", "Erf", "Flatten", "Gather", "Gelu", "Gemm", "GlobalAveragePool", "Identity",
            "LayerNormalization", "LeakyRelu", "MatMul", "MaxPool", "Mul", "Neg", "Pad", "Pow", "ReduceMean", "ReduceSum",
            "Relu", "Reshape", "Shape", "Sigmoid", "Slice", "Softmax", "Softplus", "Sqrt", "Squeeze", "Sub", "Tanh",
            "Transpose", "Unsqueeze");
    /** Ops that only load-time (shape) computations may use: on data they are refused. */
    private static final Set<String> SHAPE_ONLY = Set.of("Concat", "Neg", "Sqrt");
    /** The list for the refusal message, shape-only ops marked. */
    static final String SUPPORTED = new java.util.TreeSet<>(SUPPORTED_OPS).stream()
            .map(op -> SHAPE_ONLY.contains(op) ? op + "*" : op)
            .collect(java.util.stream.Collectors.joining(", ")) + " (* only in load-time shape computations)";

    /** Outputs of zero Pad nodes and their widths, for the AveragePool or Conv that reads them ({@link #pad}). */
    private final Map<String, Integer> zeroPads = new java.util.HashMap<>();

    private static final Pattern GENERATED = Pattern.compile("^(onnx::|/).*|.*::.*");

    /** What a name stands for during the import. */
    private sealed interface Val permits Batched, Static, TransposedInit {
    }

    /** A batched graph value (the input or a node output). */
    private record Batched(Value v) implements Val {
    }

    /** A load-time tensor; {@code init} is the initializer's (or renaming Identity output's) name, else null. */
    private record Static(Const c, String init) implements Val {
    }

    /** {@code Transpose(W, perm=[1, 0])} of a 2-D initializer, kept for {@code MatMul(x, Wᵀ)} (a Linear layer). */
    private record TransposedInit(Static w) implements Val {
    }

    private final Path file;
    private final ModelProto model;
    private final GraphProto g;
    private final List<NodeProto> nodes;
    private final int[] sampleShape;
    /** The data input's name and its axis 0 when the file fixes it (exported without dynamic_axes), else null. */
    private String fixedBatch;
    private final int opset;
    private final GraphBuilder b = new GraphBuilder();
    private final Map<String, Val> env = new HashMap<>();
    private final Map<String, Value> materialised = new HashMap<>();
    private final Map<String, double[]> parameterValues = new LinkedHashMap<>();
    private final Set<String> functions = new HashSet<>();
    private final List<String> warnings = new ArrayList<>();
    private NodeProto node; // the node being converted, for names of helper values
    private int helpers;

    OnnxImporter(Path file, ModelProto model, int[] sampleShape) {
        this.file = file;
        this.model = model;
        this.g = model.getGraph();
        this.sampleShape = sampleShape == null ? null : sampleShape.clone();
        this.opset = OnnxFile.opset(file, model);
        this.nodes = Fusions.gelu(g);
        for (FunctionProto f : model.getFunctionsList()) {
            functions.add(f.getDomain() + ":" + f.getName());
        }
    }

    OnnxModel run() {
        Path dir = file.toAbsolutePath().getParent();
        Set<String> initNames = new HashSet<>();
        Map<String, Integer> initOrder = new java.util.HashMap<>();
        for (TensorProto t : g.getInitializerList()) {
            String name = t.getName();
            initOrder.putIfAbsent(name, initOrder.size());
            if (name.isEmpty() || !initNames.add(name)) {
                throw new InvalidInputException("initializer " + (name.isEmpty() ? "without a name"
                        : "'" + OnnxFile.printable(name) + "' given twice"));
            }
            env.put(name, new Static(OnnxFile.tensor(t, "initializer '" + OnnxFile.printable(name) + "'", dir), name));
        }
        if (g.getSparseInitializerCount() > 0) {
            throw new InvalidInputException("sparse initializers are not supported");
        }
        input(initNames);
        if (g.getOutputCount() != 1) {
            throw new InvalidInputException("the model has " + g.getOutputCount() + " outputs; hvp4j analyses a"
                    + " network with one output f(x)");
        }
        String outName = g.getOutput(0).getName();
        boolean[] live = liveNodes(outName);
        // An op hvp4j lacks is named first, before a shape computation that feeds it fails on its own terms.
        for (int k = 0; k < nodes.size(); k++) {
            NodeProto n = nodes.get(k);
            boolean standard = n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx");
            if (live[k] && (!standard || !SUPPORTED_OPS.contains(n.getOpType()))) {
                convert(n);
            }
        }
        for (int k = 0; k < nodes.size(); k++) {
            if (live[k]) {
                convert(nodes.get(k));
            }
        }
        Val out = env.get(outName);
        if (zeroPads.containsKey(outName)) {
            throw new InvalidInputException("the output '" + OnnxFile.printable(outName) + "' is a zero Pad");
        }
        if (!(out instanceof Batched(Value v))) {
            throw new InvalidInputException("the output '" + OnnxFile.printable(outName) + "' does not depend on"
                    + " the input");
        }
        if (v.shape().rank() != 1) {
            throw new InvalidInputException("the output '" + OnnxFile.printable(outName) + "' has shape (N, "
                    + v.shape().toString().substring(1) + "; hvp4j needs (N, K) (one row of K outputs per sample)");
        }
        Graph graph = b.build(v, parameterOrder(b.parameterNames(), initOrder));
        double[] theta = new double[graph.parameterCount()];
        List<String> generated = new ArrayList<>();
        for (int k = 0; k < graph.parameters().size(); k++) {
            Value p = graph.parameters().get(k);
            double[] data = parameterValues.get(p.name());
            System.arraycopy(data, 0, theta, (int) graph.offset(k), data.length);
            if (GENERATED.matcher(p.name()).matches()) {
                generated.add(OnnxFile.printable(p.name()));
            }
        }
        if (!generated.isEmpty()) {
            warnings.add(generated.size() + " parameter(s) have names the exporter generated ("
                    + String.join(", ", generated.subList(0, Math.min(4, generated.size())))
                    + (generated.size() > 4 ? ", ..." : "") + "), not state_dict names: the exporter folded"
                    + " modules (e.g. Conv+BatchNorm) into new tensors, a different parameter space; export with"
                    + " model.eval(), do_constant_folding=False and training=torch.onnx.TrainingMode.PRESERVE");
        }
        return new OnnxModel(graph, theta, List.copyOf(warnings), opset);
    }

    /**
     * The flat order θ: the initializers' order in the file, which torch.onnx.export writes in state_dict order, so
     * that θ is {@code parameters_to_vector}'s. Where a parameter is no initializer of its own (the exporter merged
     * equal initializers and names the copies with Identity nodes, as in a fresh model) the file cannot say where it
     * goes: θ then keeps the order of first use (null), with a warning when that order puts two initializers the
     * other way round from the file.
     */
    private java.util.Comparator<Value> parameterOrder(List<String> firstUse, Map<String, Integer> initOrder) {
        if (initOrder.keySet().containsAll(firstUse)) {
            return java.util.Comparator.comparingInt(p -> initOrder.get(p.name()));
        }
        String last = null;
        for (String name : firstUse) {
            Integer at = initOrder.get(name);
            if (at == null) {
                continue;
            }
            if (last != null && at < initOrder.get(last)) {
                warnings.add("the flat parameter order follows first use in the graph ('" + OnnxFile.printable(last)
                        + "' before '" + OnnxFile.printable(name) + "'), not the file's state_dict order, because"
                        + " merged initializers leave some parameters' places open: a parameters_to_vector vector"
                        + " must be permuted to the order 'info' lists (vectors by name, .safetensors, need no order)");
                break;
            }
            last = name;
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------------ structure

    private void input(Set<String> initNames) {
        ValueInfoProto in = null;
        for (ValueInfoProto v : g.getInputList()) {
            if (!initNames.contains(v.getName())) {
                if (in != null) {
                    throw new InvalidInputException("the model has more than one data input ('"
                            + OnnxFile.printable(in.getName()) + "', '" + OnnxFile.printable(v.getName())
                            + "'); hvp4j takes one");
                }
                in = v;
            }
        }
        if (in == null) {
            throw new InvalidInputException("the model has no data input");
        }
        String name = OnnxFile.printable(in.getName());
        if (!in.getType().hasTensorType() || !OnnxFile.floating(in.getType().getTensorType().getElemType())) {
            throw new InvalidInputException("input '" + name + "' must be a floating-point tensor");
        }
        TensorShapeProto s = in.getType().getTensorType().getShape();
        int rank = s.getDimCount();
        if (rank < 2) {
            throw new InvalidInputException("input '" + name + "' has " + rank + " axes; hvp4j needs (N, ...) with the"
                    + " batch axis first");
        }
        if (sampleShape != null && sampleShape.length != rank - 1) {
            throw new InvalidInputException("input shape " + Arrays.toString(sampleShape) + " has "
                    + sampleShape.length + " axes, input '" + name + "' has " + (rank - 1) + " per sample");
        }
        if (s.getDim(0).hasDimValue()) {
            fixedBatch = "the file fixes the batch axis of input '" + name + "' to " + s.getDim(0).getDimValue()
                    + " (exported without dynamic_axes): export with dynamic_axes={'" + name + "': {0: 'n'}}";
        }
        int[] dims = new int[rank - 1];
        for (int a = 1; a < rank; a++) {
            TensorShapeProto.Dimension d = s.getDim(a);
            int given = sampleShape == null ? -1 : sampleShape[a - 1];
            if (d.hasDimValue()) {
                if (d.getDimValue() < 1 || d.getDimValue() > Integer.MAX_VALUE) {
                    throw new InvalidInputException("input '" + name + "' has dimension " + d.getDimValue());
                }
                if (given >= 0 && given != d.getDimValue()) {
                    throw new InvalidInputException("input shape " + Arrays.toString(sampleShape) + " does not match"
                            + " input '" + name + "', axis " + a + " of size " + d.getDimValue());
                }
                dims[a - 1] = (int) d.getDimValue();
            } else if (given >= 1) {
                dims[a - 1] = given;
            } else {
                throw new InvalidInputException("input '" + name + "' has a dynamic axis " + a + " ("
                        + OnnxFile.printable(d.getDimParam()) + "); give the per-sample shape (--input-shape)");
            }
        }
        env.put(in.getName(), new Batched(b.input(in.getName(), dims)));
    }

    /** Which nodes the output depends on (the rest is skipped, so a dead branch cannot hold up the import). */
    private boolean[] liveNodes(String out) {
        Set<String> needed = new HashSet<>();
        needed.add(out);
        boolean[] live = new boolean[nodes.size()];
        for (int k = nodes.size() - 1; k >= 0; k--) {
            NodeProto n = nodes.get(k);
            for (String o : n.getOutputList()) {
                if (needed.contains(o)) {
                    live[k] = true;
                }
            }
            if (live[k]) {
                needed.addAll(n.getInputList());
            }
        }
        return live;
    }

    private String describe(NodeProto n) {
        String name = n.getName().isEmpty() ? (n.getOutputCount() > 0 ? n.getOutput(0) : "?") : n.getName();
        return "node '" + OnnxFile.printable(name) + "' (" + OnnxFile.printable(n.getOpType()) + ")";
    }

    private void convert(NodeProto n) {
        node = n;
        try {
            if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
                if (functions.contains(n.getDomain() + ":" + n.getOpType())) {
                    throw new InvalidInputException("calls the model-local function '"
                            + OnnxFile.printable(n.getOpType()) + "' (the dynamo exporter's modules), which hvp4j"
                            + " does not inline; export with the TorchScript exporter (torch.onnx.export, dynamo=False)");
                }
                throw new InvalidInputException("op domain '" + OnnxFile.printable(n.getDomain())
                        + "' is not supported (only the default ONNX domain)");
            }
            if (n.getOutputCount() == 0) {
                throw new InvalidInputException("has no output");
            }
            Val out = node(n);
            define(n.getOutput(0), out);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(describe(n) + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException | ArithmeticException | IndexOutOfBoundsException e) {
            throw new InvalidInputException(describe(n) + ": " + OnnxFile.oneLine(e.getMessage()), e);
        }
    }

    private void define(String name, Val v) {
        if (name.isEmpty() || env.containsKey(name)) {
            throw new InvalidInputException("output name '" + OnnxFile.printable(name) + "' is empty or defined"
                    + " twice");
        }
        env.put(name, v);
    }

    // ------------------------------------------------------------------------------------------------ inputs

    private int inputs(NodeProto n) {
        return n.getInputCount();
    }

    /** Input {@code k}, or null when absent or empty (an omitted optional input). */
    private Val in(NodeProto n, int k) {
        if (k >= n.getInputCount() || n.getInput(k).isEmpty()) {
            return null;
        }
        Val v = env.get(n.getInput(k));
        if (v == null) {
            throw new InvalidInputException("input '" + OnnxFile.printable(n.getInput(k)) + "' is not defined before"
                    + " it is used");
        }
        return v;
    }

    private Val required(NodeProto n, int k) {
        Val v = in(n, k);
        if (v == null) {
            throw new InvalidInputException("input " + k + " is missing");
        }
        return v;
    }

    private Value batched(NodeProto n, int k) {
        if (required(n, k) instanceof Batched(Value v)) {
            return v;
        }
        throw new InvalidInputException("input " + k + " ('" + OnnxFile.printable(n.getInput(k)) + "') must depend"
                + " on the data input");
    }

    private Const stat(NodeProto n, int k) {
        Val v = required(n, k);
        if (v instanceof Static s) {
            return s.c();
        }
        if (v instanceof TransposedInit t) {
            throw transposedUse(t);
        }
        throw new InvalidInputException("input " + k + " ('" + OnnxFile.printable(n.getInput(k)) + "') must be"
                + " known at load time (a constant or shape computation), not depend on the data");
    }

    private static InvalidInputException transposedUse(TransposedInit t) {
        return new InvalidInputException("the transpose of initializer '" + OnnxFile.printable(t.w().init())
                + "' is used other than as MatMul's second input (a Linear layer)");
    }

    private static Shape shapeOf(Const c, String what) {
        int[] d = new int[c.rank()];
        for (int k = 0; k < d.length; k++) {
            if (c.dims[k] < 1) {
                throw new InvalidInputException(what + " has an empty shape " + Arrays.toString(c.dims));
            }
            d[k] = (int) c.dims[k];
        }
        return Shape.of(d);
    }

    /** A parameter for an initializer in a differentiable position (an unnamed constant becomes a graph constant). */
    private Value parameter(Val v) {
        if (v instanceof TransposedInit t) {
            throw transposedUse(t);
        }
        if (v instanceof Batched(Value x)) {
            return x;
        }
        Static s = (Static) v;
        if (s.init() == null || !s.c().floating) {
            return constant(v);
        }
        Value p = materialised.get(s.init());
        if (p != null) {
            if (p.kind() != Graph.Kind.PARAMETER) {
                throw new InvalidInputException("initializer '" + OnnxFile.printable(s.init()) + "' is used both as a"
                        + " parameter and as a constant (e.g. a BatchNorm running statistic)");
            }
            return p;
        }
        Const c = s.c();
        for (double x : c.f) {
            if (!Double.isFinite(x)) {
                throw new InvalidInputException("initializer '" + OnnxFile.printable(s.init()) + "' holds NaN or Inf");
            }
        }
        p = b.parameter(s.init(), shapeOf(c, "initializer '" + OnnxFile.printable(s.init()) + "'"), 0);
        materialised.put(s.init(), p);
        parameterValues.put(s.init(), c.f.clone());
        return p;
    }

    /** A graph constant (no tangent) for a load-time tensor; an initializer keeps its name. */
    private Value constant(Val v) {
        if (v instanceof TransposedInit t) {
            throw transposedUse(t);
        }
        if (v instanceof Batched(Value x)) {
            throw new InvalidInputException("'" + x.name() + "' must be a constant, not depend on the data");
        }
        Static s = (Static) v;
        s.c().requireNoBatch("a numeric constant");
        if (s.init() != null) {
            Value p = materialised.get(s.init());
            if (p != null) {
                if (p.kind() != Graph.Kind.CONSTANT) {
                    throw new InvalidInputException("initializer '" + OnnxFile.printable(s.init()) + "' is used both"
                            + " as a parameter and as a constant (e.g. a BatchNorm running statistic)");
                }
                return p;
            }
        }
        String name = s.init() != null ? s.init() : helperName("const");
        Value c = b.constant(name, shapeOf(s.c(), "constant '" + OnnxFile.printable(name) + "'"), s.c().doubles());
        if (s.init() != null) {
            materialised.put(s.init(), c);
        }
        return c;
    }

    private String helperName(String what) {
        return node.getOutput(0) + "#" + what + helpers++;
    }

    private Value apply(io.hvp4j.graph.Op op, Value... ins) {
        return b.apply(node.getOutput(0), op, ins);
    }

    private Value applyHelper(io.hvp4j.graph.Op op, Value... ins) {
        return b.apply(helperName(op.type()), op, ins);
    }

    // ------------------------------------------------------------------------------------------------ attributes

    private AttributeProto attr(NodeProto n, String name) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                if (!a.getRefAttrName().isEmpty()) {
                    throw new InvalidInputException("attribute '" + name + "' refers to a function attribute");
                }
                return a;
            }
        }
        return null;
    }

    private long attrInt(NodeProto n, String name, long dflt) {
        AttributeProto a = attr(n, name);
        return a == null ? dflt : a.getI();
    }

    /** A float attribute as the decimal its author wrote (ONNX stores float32: 1e-5 becomes 9.99999974e-6). */
    private double attrFloat(NodeProto n, String name, double dflt) {
        AttributeProto a = attr(n, name);
        return a == null ? dflt : Double.parseDouble(Float.toString(a.getF()));
    }

    private long[] attrInts(NodeProto n, String name) {
        AttributeProto a = attr(n, name);
        if (a == null) {
            return null;
        }
        long[] v = new long[a.getIntsCount()];
        for (int k = 0; k < v.length; k++) {
            v[k] = a.getInts(k);
        }
        return v;
    }

    private String attrString(NodeProto n, String name, String dflt) {
        AttributeProto a = attr(n, name);
        return a == null ? dflt : a.getS().toStringUtf8();
    }

    private static InvalidInputException unsupportedAttribute(String name, Object value) {
        return new InvalidInputException("attribute " + name + "=" + value + " is not supported");
    }

    /** All entries of {@code v} equal (a square kernel, uniform stride/padding), returned as one int. */
    private static int uniform(String name, long[] v, int count, long dflt) {
        if (v == null || v.length == 0) {
            return (int) dflt;
        }
        if (v.length != count) {
            throw new InvalidInputException("attribute " + name + "=" + Arrays.toString(v) + " must have " + count
                    + " entries");
        }
        for (long x : v) {
            if (x != v[0] || x < 0 || x > Integer.MAX_VALUE) {
                throw unsupportedAttribute(name, Arrays.toString(v) + " (only equal values on every side/axis)");
            }
        }
        return (int) v[0];
    }

    private void requireAutoPadNotSet(NodeProto n) {
        String p = attrString(n, "auto_pad", "NOTSET");
        if (!p.equals("NOTSET")) {
            throw unsupportedAttribute("auto_pad", p);
        }
    }

    /** Only the first output may be used (e.g. MaxPool's indices, LayerNormalization's mean are not supported). */
    private void requireOneOutputUsed(NodeProto n) {
        for (int k = 1; k < n.getOutputCount(); k++) {
            if (!n.getOutput(k).isEmpty() && isUsed(n.getOutput(k))) {
                throw new InvalidInputException("output " + k + " is used; only the first output is supported");
            }
        }
    }

    private boolean isUsed(String name) {
        for (NodeProto m : nodes) {
            if (m.getInputList().contains(name)) {
                return true;
            }
        }
        return g.getOutput(0).getName().equals(name);
    }

    /** ONNX axis {@code axis} of a batched value of per-sample rank {@code rank} as a per-sample axis. */
    private static int sampleAxis(long axis, int rank, String what) {
        long full = rank + 1, a = axis < 0 ? axis + full : axis;
        if (a < 0 || a >= full) {
            throw new InvalidInputException(what + " axis " + axis + " is out of range for rank " + full);
        }
        if (a == 0) {
            throw new InvalidInputException(what + " over axis 0, the batch axis, is not supported");
        }
        return (int) a - 1;
    }

    // ------------------------------------------------------------------------------------------------ ops

    private Val node(NodeProto n) {
        String op = n.getOpType();
        refusePaddedInputs(n);
        return switch (op) {
            case "Identity", "Dropout" -> identity(n);
            case "Pad" -> pad(n);
            case "Constant" -> new Static(constantNode(n), null);
            case "Shape" -> shape(n);
            case "Gather" -> gather(n);
            case "Unsqueeze", "Squeeze" -> squeeze(n, op.equals("Unsqueeze"));
            case "Concat" -> concat(n);
            case "Slice" -> slice(n);
            case "ConstantOfShape" -> constantOfShape(n);
            case "Cast" -> cast(n);
            case "Transpose" -> transpose(n);
            case "Reshape" -> reshape(n);
            case "Flatten" -> flatten(n);
            case "Add", "Sub", "Mul", "Div" -> binary(n, op);
            case "Pow" -> pow(n);
            case "Sqrt", "Neg" -> unaryStatic(n, op);
            case "Relu" -> activation(n, "relu");
            case "Tanh" -> activation(n, "tanh");
            case "Sigmoid" -> activation(n, "sigmoid");
            case "Erf" -> activation(n, "erf");
            case "Softplus" -> activation(n, "softplus");
            case "Elu" -> activation(n, "elu(" + attrFloat(n, "alpha", 1) + ")");
            case "LeakyRelu" -> activation(n, "leaky_relu(" + attrFloat(n, "alpha", 0.01) + ")");
            case "Gelu" -> activation(n, switch (attrString(n, "approximate", "none")) {
                case "none" -> "gelu_erf";
                case "tanh" -> "gelu_tanh";
                default -> throw unsupportedAttribute("approximate", attrString(n, "approximate", ""));
            });
            case "Softmax" -> softmax(n);
            case "Conv" -> conv(n);
            case "Gemm" -> gemm(n);
            case "MatMul" -> matmul(n);
            case "BatchNormalization" -> batchNorm(n);
            case "LayerNormalization" -> layerNorm(n);
            case "MaxPool", "AveragePool" -> pool(n, op.equals("MaxPool"));
            case "GlobalAveragePool" -> new Batched(apply(Pool2d.globalAverage(), batched(n, 0)));
            case "ReduceMean", "ReduceSum" -> reduce(n, op.equals("ReduceMean"));
            default -> throw new InvalidInputException("ONNX op '" + OnnxFile.printable(op) + "' (opset " + opset
                    + ") is not supported; supported ops: " + SUPPORTED);
        };
    }

    private Val identity(NodeProto n) {
        requireOneOutputUsed(n);
        if (n.getOpType().equals("Dropout") && in(n, 2) instanceof Static s && s.c().size() == 1
                && s.c().doubleAt(0) != 0) {
            throw new InvalidInputException("Dropout in training mode is not supported (export in eval mode)");
        }
        Val x = required(n, 0);
        if (x instanceof Static s && s.init() != null && n.getOpType().equals("Identity")) {
            // The exporter's renaming of a merged initializer: a tensor of its own, under the new name.
            return new Static(s.c(), n.getOutput(0));
        }
        return x;
    }

    /**
     * {@code Pad}: of width zero, the identity (the exporter puts such pads before some pooling ops); of equal width
     * p on every side of H and W with the value 0 (how torch 1.13 exports {@code AvgPool2d(padding=p)} with
     * {@code count_include_pad=True}, or {@code F.pad} before a convolution), a pad that the next op takes in (see
     * {@link #zeroPads}).
     */
    private Val pad(NodeProto n) {
        Val x = required(n, 0);
        String mode = attrString(n, "mode", "constant");
        long[] pads = stat(n, 1).longs("Pad pads");
        if (!mode.equals("constant") && !mode.equals("reflect") && !mode.equals("edge") && !mode.equals("wrap")) {
            throw unsupportedAttribute("mode", mode);
        }
        if (Arrays.stream(pads).allMatch(p -> p == 0)) {
            return x;
        }
        boolean zero = mode.equals("constant") && (in(n, 2) == null || stat(n, 2).size() == 0
                || Arrays.stream(stat(n, 2).doubles()).allMatch(v -> v == 0));
        long p = pads.length == 8 ? pads[2] : -1;
        boolean square = pads.length == 8 && pads[0] == 0 && pads[1] == 0 && pads[4] == 0 && pads[5] == 0
                && pads[3] == p && pads[6] == p && pads[7] == p && p > 0 && p < 1 << 16;
        if (!zero || !square || in(n, 3) != null || !(x instanceof Batched)) {
            throw unsupportedAttribute("pads", Arrays.toString(pads) + " with mode " + mode + " (supported: zeros"
                    + " of one width on every side of H and W of an (N, C, H, W) tensor, taken in by the"
                    + " AveragePool or Conv that reads it)");
        }
        zeroPads.put(n.getOutput(0), (int) p);
        return x;
    }

    /**
     * The width of the zero pad that the op {@code n} reads as its input 0 (0 for none). Only AveragePool (where
     * PyTorch counts the pad in the divisor, count_include_pad=1) and Conv take one in; any other reader is refused.
     */
    private int takePad(NodeProto n) {
        Integer p = n.getInputCount() > 0 ? zeroPads.get(n.getInput(0)) : null;
        return p == null ? 0 : p;
    }

    private void refusePaddedInputs(NodeProto n) {
        String op = n.getOpType();
        for (int k = 0; k < n.getInputCount(); k++) {
            if (zeroPads.containsKey(n.getInput(k)) && !(k == 0 && (op.equals("AveragePool") || op.equals("Conv")))) {
                throw new InvalidInputException("input '" + OnnxFile.printable(n.getInput(k)) + "' is a zero Pad,"
                        + " supported only as the input of an AveragePool or a Conv (which take it in as padding)");
            }
        }
    }

    private Const constantNode(NodeProto n) {
        if (n.getAttributeCount() != 1) {
            throw new InvalidInputException("needs exactly one value attribute");
        }
        AttributeProto a = n.getAttribute(0);
        return switch (a.getName()) {
            case "value" -> OnnxFile.tensor(a.getT(), "constant '" + OnnxFile.printable(n.getOutput(0)) + "'",
                    file.toAbsolutePath().getParent());
            case "value_float" -> Const.ofDoubles(new long[0], new double[] {a.getF()});
            case "value_floats" -> {
                double[] v = new double[a.getFloatsCount()];
                for (int k = 0; k < v.length; k++) {
                    v[k] = a.getFloats(k);
                }
                yield Const.ofDoubles(new long[] {v.length}, v);
            }
            case "value_int" -> Const.ofLongs(new long[0], new long[] {a.getI()});
            case "value_ints" -> {
                long[] v = attrInts(n, "value_ints");
                yield Const.ofLongs(new long[] {v.length}, v);
            }
            default -> throw unsupportedAttribute(OnnxFile.printable(a.getName()), "(a constant of that kind)");
        };
    }

    private Val shape(NodeProto n) {
        Val x = required(n, 0);
        long[] dims;
        boolean[] mask;
        if (x instanceof Batched(Value v)) {
            int[] s = v.shape().dims();
            dims = new long[s.length + 1];
            mask = new boolean[dims.length];
            dims[0] = Const.BATCH;
            mask[0] = true;
            for (int k = 0; k < s.length; k++) {
                dims[k + 1] = s[k];
            }
        } else {
            dims = x instanceof TransposedInit t ? new long[] {t.w().c().dims[1], t.w().c().dims[0]}
                    : ((Static) x).c().dims.clone();
            mask = new boolean[dims.length];
        }
        int r = dims.length;
        long start = clampIndex(attrInt(n, "start", 0), r), end = clampIndex(attrInt(n, "end", r), r);
        int len = (int) Math.max(0, end - start);
        int[] map = new int[len];
        for (int k = 0; k < len; k++) {
            map[k] = (int) start + k;
        }
        return new Static(Const.ofLongs(new long[] {r}, dims, mask).gather(new long[] {len}, map), null);
    }

    private static long clampIndex(long i, long r) {
        long a = i < 0 ? i + r : i;
        return Math.max(0, Math.min(r, a));
    }

    /** Row-major strides of {@code dims}. */
    private static long[] strides(long[] dims) {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int k = dims.length - 1; k >= 0; k--) {
            s[k] = acc;
            acc *= dims[k];
        }
        return s;
    }

    private static int axis(long axis, int rank, String what) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new InvalidInputException(what + " axis " + axis + " is out of range for rank " + rank);
        }
        return (int) a;
    }

    private Val gather(NodeProto n) {
        Val x = required(n, 0);
        Const idx = stat(n, 1);
        long[] ix = idx.longs("Gather indices");
        if (x instanceof Batched(Value v)) {
            // x[:, i] along a per-sample axis: a slice of one element, then that axis dropped.
            int a = sampleAxis(attrInt(n, "axis", 0), v.shape().rank(), "Gather");
            if (idx.rank() != 0) {
                throw new InvalidInputException("Gather of a data tensor needs a scalar index (x[:, i])");
            }
            int len = v.shape().dim(a);
            long i = ix[0] < 0 ? ix[0] + len : ix[0];
            if (i < 0 || i >= len) {
                throw new InvalidInputException("index " + ix[0] + " is out of range for axis of size " + len);
            }
            Value s = applyHelper(new Slice(a, (int) i, (int) i + 1, 1), v);
            int[] d = v.shape().dims();
            int[] out = new int[d.length - 1];
            for (int k = 0, o = 0; k < d.length; k++) {
                if (k != a) {
                    out[o++] = d[k];
                }
            }
            return new Batched(apply(new Reshape(Shape.of(out)), s));
        }
        Const c = stat(n, 0);
        int a = axis(attrInt(n, "axis", 0), c.rank(), "Gather");
        long len = c.dims[a];
        long[] outDims = new long[c.rank() - 1 + idx.rank()];
        int o = 0;
        for (int k = 0; k < a; k++) {
            outDims[o++] = c.dims[k];
        }
        for (long d : idx.dims) {
            outDims[o++] = d;
        }
        for (int k = a + 1; k < c.rank(); k++) {
            outDims[o++] = c.dims[k];
        }
        long outer = 1, inner = 1;
        for (int k = 0; k < a; k++) {
            outer *= c.dims[k];
        }
        for (int k = a + 1; k < c.rank(); k++) {
            inner *= c.dims[k];
        }
        int[] map = new int[Const.countFolded(outDims, "Gather output")];
        int m = 0;
        for (long p = 0; p < outer; p++) {
            for (long i : ix) {
                long j = i < 0 ? i + len : i;
                if (j < 0 || j >= len) {
                    throw new InvalidInputException("index " + i + " is out of range for axis of size " + len);
                }
                for (long q = 0; q < inner; q++) {
                    map[m++] = (int) ((p * len + j) * inner + q);
                }
            }
        }
        return new Static(c.gather(outDims, map), null);
    }

    /** Unsqueeze / Squeeze: axes from the input (opset 13+) or, for older files, the attribute. */
    private Val squeeze(NodeProto n, boolean unsqueeze) {
        Val x = required(n, 0);
        long[] axes = in(n, 1) != null ? stat(n, 1).longs(n.getOpType() + " axes") : attrInts(n, "axes");
        boolean isBatched = x instanceof Batched;
        long[] dims = isBatched ? withBatch(((Batched) x).v().shape()) : stat(n, 0).dims;
        List<Long> out = new ArrayList<>();
        if (unsqueeze) {
            if (axes == null || axes.length == 0) {
                throw new InvalidInputException("Unsqueeze needs axes");
            }
            int r = dims.length + axes.length;
            boolean[] at = new boolean[r];
            for (long a : axes) {
                int ax = axis(a, r, "Unsqueeze");
                if (at[ax]) {
                    throw new InvalidInputException("Unsqueeze axis " + a + " is given twice");
                }
                at[ax] = true;
            }
            for (int k = 0, src = 0; k < r; k++) {
                out.add(at[k] ? 1L : dims[src++]);
            }
            if (isBatched && at[0]) {
                throw new InvalidInputException("Unsqueeze at axis 0, before the batch axis, is not supported");
            }
        } else {
            boolean[] drop = new boolean[dims.length];
            if (axes == null || axes.length == 0) {
                for (int k = isBatched ? 1 : 0; k < dims.length; k++) {
                    drop[k] = dims[k] == 1;
                }
            } else {
                for (long a : axes) {
                    int ax = axis(a, dims.length, "Squeeze");
                    if (dims[ax] != 1 || (isBatched && ax == 0)) {
                        throw new InvalidInputException("Squeeze axis " + a + " is not of size 1"
                                + (isBatched && ax == 0 ? " (it is the batch axis)" : ""));
                    }
                    drop[ax] = true;
                }
            }
            for (int k = 0; k < dims.length; k++) {
                if (!drop[k]) {
                    out.add(dims[k]);
                }
            }
        }
        long[] nd = out.stream().mapToLong(Long::longValue).toArray();
        if (isBatched) {
            return new Batched(apply(new Reshape(sample(nd)), ((Batched) x).v()));
        }
        return new Static(stat(n, 0).reshaped(nd), null);
    }

    private static long[] withBatch(Shape s) {
        int[] d = s.dims();
        long[] out = new long[d.length + 1];
        out[0] = Const.BATCH;
        for (int k = 0; k < d.length; k++) {
            out[k + 1] = d[k];
        }
        return out;
    }

    /** The per-sample shape of full dims {@code d} (batch first). */
    private static Shape sample(long[] d) {
        int[] s = new int[d.length - 1];
        for (int k = 1; k < d.length; k++) {
            if (d[k] < 1 || d[k] > Integer.MAX_VALUE) {
                throw new InvalidInputException("dimension " + d[k] + " is out of range");
            }
            s[k - 1] = (int) d[k];
        }
        return Shape.of(s);
    }

    private Val concat(NodeProto n) {
        List<Const> parts = new ArrayList<>();
        for (int k = 0; k < inputs(n); k++) {
            if (in(n, k) instanceof Batched) {
                throw new InvalidInputException("Concat of tensors that depend on the data is not supported");
            }
            if (in(n, k) != null) {
                parts.add(stat(n, k));
            }
        }
        if (parts.isEmpty()) {
            throw new InvalidInputException("Concat without inputs");
        }
        Const first = parts.get(0);
        int a = axis(attrInt(n, "axis", 0), first.rank(), "Concat");
        long[] dims = first.dims.clone();
        dims[a] = 0;
        boolean floating = first.floating;
        for (Const c : parts) {
            if (c.rank() != first.rank() || c.floating != floating) {
                throw new InvalidInputException("Concat inputs differ in rank or type");
            }
            for (int k = 0; k < c.rank(); k++) {
                if (k != a && c.dims[k] != first.dims[k]) {
                    throw new InvalidInputException("Concat inputs " + Arrays.toString(first.dims) + " and "
                            + Arrays.toString(c.dims) + " differ off axis " + a);
                }
            }
            dims[a] += c.dims[a];
        }
        int total = Const.countFolded(dims, "Concat output");
        double[] f = floating ? new double[total] : null;
        long[] l = floating ? null : new long[total];
        boolean[] mask = new boolean[total];
        long outer = 1, inner = 1;
        for (int k = 0; k < a; k++) {
            outer *= dims[k];
        }
        for (int k = a + 1; k < dims.length; k++) {
            inner *= dims[k];
        }
        int o = 0;
        for (long p = 0; p < outer; p++) {
            for (Const c : parts) {
                long run = c.dims[a] * inner;
                for (long q = 0; q < run; q++) {
                    int src = (int) (p * run + q);
                    if (floating) {
                        f[o] = c.f[src];
                    } else {
                        l[o] = c.i[src];
                    }
                    mask[o++] = c.batchAt(src);
                }
            }
        }
        return new Static(Const.of(dims, floating, f, l, mask), null);
    }

    /** One axis of a Slice: normalized start, the count of elements and the step. */
    private record Range(int axis, long start, long count, long step) {
    }

    private Val slice(NodeProto n) {
        Val x = required(n, 0);
        long[] dims = x instanceof Batched(Value v) ? withBatch(v.shape()) : stat(n, 0).dims;
        Const starts = stat(n, 1), ends = stat(n, 2);
        long[] st = starts.longs("Slice starts");
        long[] en = ends.i == null ? null : ends.i.clone();
        if (en == null || en.length != st.length) {
            throw new InvalidInputException("Slice starts and ends differ in length or type");
        }
        long[] ax = in(n, 3) != null ? stat(n, 3).longs("Slice axes") : null;
        long[] sp = in(n, 4) != null ? stat(n, 4).longs("Slice steps") : null;
        if ((ax != null && ax.length != st.length) || (sp != null && sp.length != st.length)) {
            throw new InvalidInputException("Slice axes or steps differ in length from starts");
        }
        List<Range> ranges = new ArrayList<>();
        boolean[] seen = new boolean[dims.length];
        for (int k = 0; k < st.length; k++) {
            int a = axis(ax == null ? k : ax[k], dims.length, "Slice");
            if (seen[a]) {
                throw new InvalidInputException("Slice axis " + a + " is given twice");
            }
            seen[a] = true;
            long step = sp == null ? 1 : sp[k];
            // Negative steps (F.pad reverses its pad list so) only in load-time shape computations.
            if (step == 0 || step < 0 && x instanceof Batched) {
                throw unsupportedAttribute("steps", step + " (only positive steps on data)");
            }
            long d = dims[a];
            if (ends.batchAt(k) && !(x instanceof Batched && a == 0)) {
                ends.requireNoBatch("a Slice end");
            }
            long s, count;
            if (step > 0) {
                s = Math.max(0, Math.min(d, st[k] < 0 ? st[k] + d : st[k]));
                long e = Math.max(0, Math.min(d, en[k] < 0 ? en[k] + d : en[k]));
                count = e > s ? (e - s - 1) / step + 1 : 0;
            } else {
                s = Math.max(0, Math.min(d - 1, st[k] < 0 ? st[k] + d : st[k]));
                long e = Math.max(-1, Math.min(d - 1, en[k] < 0 ? Math.max(-1 - d, en[k]) + d : en[k]));
                count = d > 0 && s > e ? (s - e - 1) / -step + 1 : 0;
            }
            ranges.add(new Range(a, s, count, step));
        }
        if (x instanceof Batched(Value v)) {
            List<Slice> ops = new ArrayList<>();
            for (Range r : ranges) {
                if (r.axis() == 0) {
                    if (r.start() != 0 || r.step() != 1 || r.count() != Const.BATCH) {
                        throw new InvalidInputException("Slice along the batch axis is not supported");
                    }
                } else if (r.count() == 0) {
                    throw new InvalidInputException("Slice gives an empty tensor");
                } else if (r.start() != 0 || r.step() != 1 || r.count() != dims[r.axis()]) {
                    ops.add(new Slice(r.axis() - 1, (int) r.start(), (int) (r.start() + (r.count() - 1) * r.step() + 1),
                            (int) r.step()));
                }
            }
            Value h = v;
            for (int k = 0; k < ops.size(); k++) {
                h = k == ops.size() - 1 ? apply(ops.get(k), h) : applyHelper(ops.get(k), h);
            }
            return new Batched(h);
        }
        Const c = stat(n, 0);
        long[] outDims = dims.clone();
        long[] first = new long[dims.length], step = new long[dims.length];
        Arrays.fill(step, 1);
        for (Range r : ranges) {
            outDims[r.axis()] = r.count();
            first[r.axis()] = r.start();
            step[r.axis()] = r.step();
        }
        int total = Const.countFolded(outDims, "Slice output");
        long[] inStride = strides(dims), outStride = strides(outDims);
        int[] map = new int[total];
        for (int o = 0; o < total; o++) {
            long src = 0, rest = o;
            for (int k = 0; k < dims.length; k++) {
                long idx = rest / outStride[k];
                rest %= outStride[k];
                src += (first[k] + idx * step[k]) * inStride[k];
            }
            map[o] = (int) src;
        }
        return new Static(c.gather(outDims, map), null);
    }

    private Val constantOfShape(NodeProto n) {
        long[] dims = stat(n, 0).longs("ConstantOfShape shape");
        AttributeProto a = attr(n, "value");
        Const v = a == null ? Const.ofDoubles(new long[] {1}, new double[] {0})
                : OnnxFile.tensor(a.getT(), "ConstantOfShape value", file.toAbsolutePath().getParent());
        if (v.size() != 1) {
            throw new InvalidInputException("ConstantOfShape value must have one element");
        }
        int count = Const.countFolded(dims, "ConstantOfShape output");
        if (v.floating) {
            double[] f = new double[count];
            Arrays.fill(f, v.f[0]);
            return new Static(Const.ofDoubles(dims, f), null);
        }
        long[] l = new long[count];
        Arrays.fill(l, v.i[0]);
        return new Static(Const.ofLongs(dims, l), null);
    }

    private Val cast(NodeProto n) {
        int to = (int) attrInt(n, "to", 0);
        Val x = required(n, 0);
        boolean toFloat = OnnxFile.floating(to);
        if (x instanceof Batched) {
            if (!toFloat) {
                throw new InvalidInputException("Cast of data to type " + to + " is not supported (only to floats)");
            }
            return x;
        }
        Const c = stat(n, 0);
        if (toFloat) {
            double[] f = c.doubles();
            if (to == TensorProto.DataType.FLOAT_VALUE) {
                for (int k = 0; k < f.length; k++) {
                    f[k] = (float) f[k];
                }
            }
            return new Static(Const.of(c.dims, true, f, null, c.batch), null);
        }
        if (to == TensorProto.DataType.STRING_VALUE || to == 0 || to > TensorProto.DataType.BFLOAT16_VALUE) {
            throw unsupportedAttribute("to", to);
        }
        long[] l = new long[c.size()];
        for (int k = 0; k < l.length; k++) {
            double d = c.doubleAt(k);
            l[k] = to == TensorProto.DataType.BOOL_VALUE ? (d != 0 ? 1 : 0) : c.floating ? (long) d : c.i[k];
        }
        return new Static(Const.of(c.dims, false, null, l, c.batch), null);
    }

    private Val transpose(NodeProto n) {
        Val x = required(n, 0);
        long[] perm = attrInts(n, "perm");
        if (x instanceof Batched(Value v)) {
            int r = v.shape().rank() + 1;
            if (perm == null || perm.length != r || perm[0] != 0) {
                throw new InvalidInputException("Transpose perm " + (perm == null ? "(reversed)"
                        : Arrays.toString(perm)) + " moves the batch axis; only permutations that keep axis 0 first"
                        + " are supported");
            }
            int[] p = new int[r - 1];
            boolean id = true;
            for (int k = 1; k < r; k++) {
                p[k - 1] = (int) perm[k] - 1;
                id &= perm[k] == k;
            }
            return new Batched(id ? v : apply(new Permute(p), v));
        }
        if (x instanceof TransposedInit t) {
            throw transposedUse(t);
        }
        Static s = (Static) x;
        Const c = s.c();
        int r = c.rank();
        if (perm == null) {
            perm = new long[r];
            for (int k = 0; k < r; k++) {
                perm[k] = r - 1 - k;
            }
        }
        if (s.init() != null && r == 2 && c.floating && perm.length == 2 && perm[0] == 1 && perm[1] == 0) {
            return new TransposedInit(s);
        }
        if (perm.length != r) {
            throw new InvalidInputException("Transpose perm " + Arrays.toString(perm) + " does not match rank " + r);
        }
        long[] outDims = new long[r];
        boolean[] seen = new boolean[r];
        for (int k = 0; k < r; k++) {
            int a = axis(perm[k], r, "Transpose");
            if (seen[a]) {
                throw new InvalidInputException("Transpose perm " + Arrays.toString(perm) + " is not a permutation");
            }
            seen[a] = true;
            outDims[k] = c.dims[a];
        }
        long[] inStride = strides(c.dims), outStride = strides(outDims);
        int[] map = new int[c.size()];
        for (int o = 0; o < map.length; o++) {
            long src = 0, rest = o;
            for (int k = 0; k < r; k++) {
                src += (rest / outStride[k]) * inStride[(int) perm[k]];
                rest %= outStride[k];
            }
            map[o] = (int) src;
        }
        return new Static(c.gather(outDims, map), null);
    }

    private Val reshape(NodeProto n) {
        Val x = required(n, 0);
        Const t = stat(n, 1);
        if (t.floating || t.rank() != 1) {
            throw new InvalidInputException("Reshape shape must be a 1-D integer tensor");
        }
        boolean allowZero = attrInt(n, "allowzero", 0) != 0;
        boolean isBatched = x instanceof Batched;
        long[] in = isBatched ? withBatch(((Batched) x).v().shape()) : stat(n, 0).dims;
        long total = 1;
        for (long d : in) {
            total = Math.multiplyExact(total, d);
        }
        long[] out = t.i.clone();
        int infer = -1;
        long known = 1;
        for (int k = 0; k < out.length; k++) {
            if (out[k] == 0 && !allowZero) {
                if (k >= in.length) {
                    throw new InvalidInputException("Reshape copies axis " + k + " that the input lacks");
                }
                out[k] = in[k];
            } else if (out[k] == -1) {
                if (infer >= 0) {
                    throw new InvalidInputException("Reshape shape has two -1 entries");
                }
                infer = k;
                continue;
            } else if (out[k] < 0) {
                throw new InvalidInputException("Reshape shape entry " + out[k] + " is invalid");
            }
            known = Math.multiplyExact(known, out[k]);
        }
        if (infer >= 0) {
            if (known == 0 || total % known != 0) {
                throw new InvalidInputException("Reshape of " + Arrays.toString(in) + " to " + Arrays.toString(t.i)
                        + " does not divide");
            }
            out[infer] = total / known;
            known = total;
        }
        if (known != total) {
            throw new InvalidInputException("Reshape of " + describeDims(in, isBatched) + " to "
                    + describeDims(out, isBatched) + " changes the number of elements");
        }
        if (!isBatched) {
            return new Static(stat(n, 0).reshaped(out), null);
        }
        // The batch axis must stay first and whole: x.view(n, ...), x.reshape(x.shape[0], -1), x.flatten(1).
        boolean batchFirst = out.length >= 1 && out[0] == Const.BATCH
                && (t.batchAt(0) || t.i[0] == 0 || t.i[0] == -1);
        for (int k = 1; k < out.length && batchFirst; k++) {
            batchFirst = !t.batchAt(k) && out[k] != Const.BATCH;
        }
        if (!batchFirst) {
            throw new InvalidInputException("Reshape to " + describeDims(t.i, false) + " merges or splits the batch"
                    + " axis; hvp4j keeps axis 0 the batch (x.view(n, ...), x.reshape(x.shape[0], -1))"
                    + (fixedBatch == null ? "" : "; " + fixedBatch));
        }
        if (out.length == 1) {
            throw new InvalidInputException("Reshape to (N,) leaves no per-sample axis");
        }
        Value v = ((Batched) x).v();
        Shape target = sample(out);
        return new Batched(target.equals(v.shape()) ? v : apply(new Reshape(target), v));
    }

    private static String describeDims(long[] d, boolean batched) {
        StringBuilder s = new StringBuilder("(");
        for (int k = 0; k < d.length; k++) {
            s.append(k == 0 ? "" : ", ").append(batched && d[k] == Const.BATCH ? "N" : Long.toString(d[k]));
        }
        return s.append(')').toString();
    }

    private Val flatten(NodeProto n) {
        Value x = batched(n, 0);
        long a = attrInt(n, "axis", 1);
        int r = x.shape().rank() + 1;
        if ((a < 0 ? a + r : a) != 1) {
            throw unsupportedAttribute("axis", a + " (only 1: torch.flatten(x, 1))");
        }
        return new Batched(x.shape().rank() == 1 ? x : apply(new Reshape(null), x));
    }

    private Val binary(NodeProto n, String op) {
        Val a = required(n, 0), c = required(n, 1);
        if (!(a instanceof Batched) && !(c instanceof Batched)) {
            return new Static(foldBinary(stat(n, 0), stat(n, 1), op), null);
        }
        Value va = parameter(a), vc = parameter(c);
        if (a instanceof Batched && c instanceof Batched && va.shape().rank() != vc.shape().rank()) {
            throw new InvalidInputException("operands " + va + " and " + vc + " (per sample) of different rank would"
                    + " broadcast across the batch axis");
        }
        Binary kind = switch (op) {
            case "Add" -> Binary.ADD;
            case "Sub" -> Binary.SUB;
            case "Mul" -> Binary.MUL;
            default -> Binary.DIV;
        };
        if (kind == Binary.ADD && a instanceof Batched && c instanceof Batched && va.shape().equals(vc.shape())) {
            return new Batched(apply(Add.INSTANCE, va, vc));
        }
        return new Batched(apply(kind, va, vc));
    }

    /** NumPy broadcasting of two load-time tensors. */
    private static Const foldBinary(Const x, Const y, String op) {
        int r = Math.max(x.rank(), y.rank());
        long[] dims = new long[r];
        for (int k = 0; k < r; k++) {
            long dx = k - (r - x.rank()) >= 0 ? x.dims[k - (r - x.rank())] : 1;
            long dy = k - (r - y.rank()) >= 0 ? y.dims[k - (r - y.rank())] : 1;
            if (dx != dy && dx != 1 && dy != 1) {
                throw new InvalidInputException(op + " of shapes " + Arrays.toString(x.dims) + " and "
                        + Arrays.toString(y.dims) + " does not broadcast");
            }
            dims[k] = dx == 1 ? dy : dx;
        }
        int total = Const.countFolded(dims, op + " output");
        long[] os = strides(dims);
        boolean floating = x.floating || y.floating;
        double[] f = floating ? new double[total] : null;
        long[] l = floating ? null : new long[total];
        boolean[] mask = new boolean[total];
        for (int o = 0; o < total; o++) {
            int ix = broadcastIndex(o, dims, os, x.dims), iy = broadcastIndex(o, dims, os, y.dims);
            mask[o] = x.batchAt(ix) || y.batchAt(iy);
            if (floating) {
                double p = x.doubleAt(ix), q = y.doubleAt(iy);
                f[o] = switch (op) {
                    case "Add" -> p + q;
                    case "Sub" -> p - q;
                    case "Mul" -> p * q;
                    case "Div" -> p / q;
                    default -> Math.pow(p, q);
                };
            } else {
                long p = x.i[ix], q = y.i[iy];
                if (op.equals("Div") && q == 0) {
                    throw new InvalidInputException("integer division by zero");
                }
                l[o] = switch (op) {
                    case "Add" -> p + q;
                    case "Sub" -> p - q;
                    case "Mul" -> p * q;
                    case "Div" -> p / q; // truncation, as ONNX runtimes divide integers
                    default -> (long) Math.pow(p, q);
                };
            }
        }
        return Const.of(dims, floating, f, l, mask);
    }

    private static int broadcastIndex(int o, long[] dims, long[] os, long[] src) {
        int off = dims.length - src.length;
        long idx = 0, stride = 1;
        for (int k = src.length - 1; k >= 0; k--) {
            long coord = (o / os[k + off]) % dims[k + off];
            if (src[k] != 1) {
                idx += coord * stride;
            }
            stride *= src[k];
        }
        return (int) idx;
    }

    private Val pow(NodeProto n) {
        Val x = required(n, 0);
        if (!(x instanceof Batched(Value v))) {
            Const base = stat(n, 0);
            return new Static(foldBinary(base, stat(n, 1), "Pow"), null);
        }
        Const e = stat(n, 1);
        if (e.size() != 1 || e.doubleAt(0) != 2) {
            throw new InvalidInputException("Pow of data is supported with exponent 2 only");
        }
        return new Batched(apply(Binary.MUL, v, v));
    }

    private Val unaryStatic(NodeProto n, String op) {
        Const c = stat(n, 0);
        c.requireNoBatch(op + " input");
        double[] f = c.doubles();
        for (int k = 0; k < f.length; k++) {
            f[k] = op.equals("Sqrt") ? Math.sqrt(f[k]) : -f[k];
        }
        if (!c.floating && op.equals("Neg")) {
            long[] l = c.i.clone();
            for (int k = 0; k < l.length; k++) {
                l[k] = -l[k];
            }
            return new Static(Const.ofLongs(c.dims, l), null);
        }
        return new Static(Const.ofDoubles(c.dims, f), null);
    }

    private Val activation(NodeProto n, String name) {
        return new Batched(apply(new io.hvp4j.graph.ops.Activation(io.hvp4j.autodiff.Activations.parse(name)),
                batched(n, 0)));
    }

    private Val softmax(NodeProto n) {
        Value x = batched(n, 0);
        int a = sampleAxis(attrInt(n, "axis", -1), x.shape().rank(), "Softmax");
        return new Batched(apply(new Softmax(a), x));
    }

    private Val conv(NodeProto n) {
        requireAutoPadNotSet(n);
        Value x = batched(n, 0);
        if (x.shape().rank() != 3) {
            throw new InvalidInputException("only 2-D convolutions of (N, C, H, W) inputs are supported, got (N, "
                    + x.shape().toString().substring(1));
        }
        Value w = parameter(required(n, 1));
        int stride = uniform("strides", attrInts(n, "strides"), 2, 1);
        int pad = uniform("pads", attrInts(n, "pads"), 4, 0) + takePad(n);
        int dil = uniform("dilations", attrInts(n, "dilations"), 2, 1);
        long group = attrInt(n, "group", 1);
        if (group < 1 || group > Integer.MAX_VALUE) {
            throw unsupportedAttribute("group", group);
        }
        long[] ks = attrInts(n, "kernel_shape");
        if (ks != null && (w.shape().rank() != 4 || ks.length != 2 || ks[0] != w.shape().dim(2)
                || ks[1] != w.shape().dim(3))) {
            throw new InvalidInputException("kernel_shape " + Arrays.toString(ks) + " does not match weight "
                    + w.shape());
        }
        Conv2d op = new Conv2d(stride, pad, dil, (int) group);
        Val bias = in(n, 2);
        return new Batched(bias == null ? apply(op, x, w) : apply(op, x, w, parameter(bias)));
    }

    private Val gemm(NodeProto n) {
        Value x = batched(n, 0);
        if (attrInt(n, "transA", 0) != 0) {
            throw unsupportedAttribute("transA", attrInt(n, "transA", 0));
        }
        if (attrFloat(n, "alpha", 1) != 1 || attrFloat(n, "beta", 1) != 1) {
            throw unsupportedAttribute("alpha/beta", attrFloat(n, "alpha", 1) + "/" + attrFloat(n, "beta", 1)
                    + " (only 1)");
        }
        if (x.shape().rank() != 1) {
            throw new InvalidInputException("Gemm input must be (N, in)");
        }
        Val c = in(n, 2);
        if (attrInt(n, "transB", 0) != 0) {
            Value w = parameter(required(n, 1));
            return new Batched(c == null ? apply(io.hvp4j.graph.ops.Linear.INSTANCE, x, w)
                    : apply(Linear.INSTANCE, x, w, parameter(c)));
        }
        Value w = parameter(required(n, 1));
        Value y = rowTimesMatrix(x, w, c == null);
        return new Batched(c == null ? y : apply(Binary.ADD, y, parameter(c)));
    }

    /** {@code x·W} for a per-sample vector {@code x} and an unbatched matrix: through a (1, in) row. */
    private Value rowTimesMatrix(Value x, Value w, boolean last) {
        Value row = applyHelper(new Reshape(Shape.of(1, x.shape().dim(0))), x);
        Value prod = applyHelper(MatMul.INSTANCE, row, w);
        Reshape back = new Reshape(Shape.of(prod.shape().dim(1)));
        return last ? apply(back, prod) : applyHelper(back, prod);
    }

    private Val matmul(NodeProto n) {
        Val a = required(n, 0), c = required(n, 1);
        if (a instanceof Batched(Value x) && c instanceof TransposedInit t) {
            return new Batched(apply(Linear.INSTANCE, x, parameter(t.w())));
        }
        if (!(a instanceof Batched) && !(c instanceof Batched)) {
            throw new InvalidInputException("MatMul of two constants is not supported");
        }
        Value va = parameter(a), vc = parameter(c);
        if (a instanceof Batched && c instanceof Batched) {
            if (va.shape().rank() < 2 || vc.shape().rank() < 2) {
                throw new InvalidInputException("MatMul of data tensors needs (N, ..., m, n) operands");
            }
            return new Batched(apply(MatMul.INSTANCE, va, vc));
        }
        if (a instanceof Batched) {
            if (vc.shape().rank() != 2) {
                throw new InvalidInputException("MatMul with a constant operand of shape " + vc.shape()
                        + " (only matrices)");
            }
            return new Batched(va.shape().rank() == 1 ? rowTimesMatrix(va, vc, true) : apply(MatMul.INSTANCE, va, vc));
        }
        if (va.shape().rank() != 2 || vc.shape().rank() < 2) {
            throw new InvalidInputException("MatMul of a constant " + va.shape() + " and data " + vc
                    + " would mix samples");
        }
        return new Batched(apply(MatMul.INSTANCE, va, vc));
    }

    private Val batchNorm(NodeProto n) {
        requireOneOutputUsed(n);
        if (attrInt(n, "training_mode", 0) != 0) {
            throw unsupportedAttribute("training_mode", "1 (export in eval mode: model.eval(),"
                    + " training=TrainingMode.PRESERVE)");
        }
        Value x = batched(n, 0);
        double eps = attrFloat(n, "epsilon", 1e-5);
        Value scale = parameter(required(n, 1)), bias = parameter(required(n, 2));
        Value mean = constant(required(n, 3)), var = constant(required(n, 4));
        return new Batched(apply(new BatchNormEval(eps), x, scale, bias, mean, var));
    }

    private Val layerNorm(NodeProto n) {
        requireOneOutputUsed(n);
        Value x = batched(n, 0);
        int a = sampleAxis(attrInt(n, "axis", -1), x.shape().rank(), "LayerNormalization");
        int[] d = x.shape().dims();
        int[] norm = Arrays.copyOfRange(d, a, d.length);
        LayerNorm op = new LayerNorm(norm, attrFloat(n, "epsilon", 1e-5));
        Value scale = parameter(required(n, 1));
        Val bias = in(n, 2);
        return new Batched(bias == null ? apply(op, x, scale) : apply(op, x, scale, parameter(bias)));
    }

    private Val pool(NodeProto n, boolean max) {
        requireOneOutputUsed(n);
        requireAutoPadNotSet(n);
        Value x = batched(n, 0);
        if (x.shape().rank() != 3) {
            throw new InvalidInputException("only 2-D pooling of (N, C, H, W) inputs is supported");
        }
        int k = uniform("kernel_shape", attrInts(n, "kernel_shape"), 2, -1);
        if (k < 1) {
            throw new InvalidInputException("kernel_shape is missing");
        }
        int stride = uniform("strides", attrInts(n, "strides"), 2, 1);
        int ownPad = uniform("pads", attrInts(n, "pads"), 4, 0);
        if (max && takePad(n) > 0) {
            throw new InvalidInputException("a zero Pad before MaxPool is not supported (MaxPool pads with -inf)");
        }
        int pad = ownPad + takePad(n);
        if (uniform("dilations", attrInts(n, "dilations"), 2, 1) != 1) {
            throw unsupportedAttribute("dilations", Arrays.toString(attrInts(n, "dilations")));
        }
        if (attrInt(n, "ceil_mode", 0) != 0) {
            throw unsupportedAttribute("ceil_mode", attrInt(n, "ceil_mode", 0));
        }
        if (max && attrInt(n, "storage_order", 0) != 0) {
            throw unsupportedAttribute("storage_order", attrInt(n, "storage_order", 0));
        }
        if (!max && ownPad > 0 && attrInt(n, "count_include_pad", 0) == 0) {
            throw unsupportedAttribute("count_include_pad", "0 with padding (only count_include_pad=1, PyTorch's"
                    + " default)");
        }
        return new Batched(apply(new Pool2d(max ? Pool2d.Mode.MAX : Pool2d.Mode.AVG, k, stride, pad), x));
    }

    private Val reduce(NodeProto n, boolean mean) {
        Value x = batched(n, 0);
        long[] axes = in(n, 1) != null ? stat(n, 1).longs(n.getOpType() + " axes") : attrInts(n, "axes");
        boolean keep = attrInt(n, "keepdims", 1) != 0;
        if (axes == null || axes.length == 0) {
            if (attrInt(n, "noop_with_empty_axes", 0) != 0) {
                return new Batched(x);
            }
            throw new InvalidInputException(n.getOpType() + " over all axes includes the batch axis; not supported");
        }
        int[] ax = new int[axes.length];
        for (int k = 0; k < ax.length; k++) {
            ax[k] = sampleAxis(axes[k], x.shape().rank(), n.getOpType());
        }
        return new Batched(apply(new Reduce(mean ? Reduce.Mode.MEAN : Reduce.Mode.SUM, keep, ax), x));
    }
}

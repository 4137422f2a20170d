package io.hvp4j.graph;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.ElementwiseFunction;
import io.hvp4j.graph.Graph.Init;
import io.hvp4j.graph.Graph.Kind;
import io.hvp4j.graph.Graph.Node;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.graph.ops.Activation;
import io.hvp4j.graph.ops.Add;
import io.hvp4j.graph.ops.BatchNormEval;
import io.hvp4j.graph.ops.BatchNormTrain;
import io.hvp4j.graph.ops.Binary;
import io.hvp4j.graph.ops.Conv2d;
import io.hvp4j.graph.ops.Identity;
import io.hvp4j.graph.ops.LayerNorm;
import io.hvp4j.graph.ops.Linear;
import io.hvp4j.graph.ops.MatMul;
import io.hvp4j.graph.ops.Permute;
import io.hvp4j.graph.ops.Pool2d;
import io.hvp4j.graph.ops.Reduce;
import io.hvp4j.graph.ops.Reshape;
import io.hvp4j.graph.ops.Softmax;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Builds a {@link Graph} in code, with modules named as in PyTorch so that parameter names come out as in
 * {@code model.state_dict()}: {@code linear("fc1", x, 120, true)} creates {@code fc1.weight} {@code (120, in)} and
 * {@code fc1.bias}. Parameters are registered in call order, which must be the order of the PyTorch model's
 * {@code parameters()} for the flat vectors to agree. Not thread-safe; one builder makes one graph.
 */
public final class GraphBuilder {
    private final List<Value> values = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    /** An empty builder. */
    public GraphBuilder() {
    }
    private Value input;
    private int anonymous;

    private Value add(String name, Kind kind, Shape shape, double[] constant, Init init) {
        if (!names.add(name)) {
            throw new InvalidInputException("graph: the name '" + name + "' is used twice");
        }
        Value v = new Value(values.size(), name, kind, shape, constant, init);
        values.add(v);
        return v;
    }

    /**
     * The data input (one per graph).
     *
     * @param name its name
     * @param dims the per-sample shape, e.g. {@code 1, 28, 28} or {@code 784}
     * @return the input value (batched)
     */
    public Value input(String name, int... dims) {
        if (input != null) {
            throw new IllegalStateException("the graph already has an input: " + input.name);
        }
        input = add(name, Kind.INPUT, Shape.of(dims), null, null);
        return input;
    }

    /**
     * The names of the parameters added so far, in the order they were added.
     *
     * @return the names (a copy)
     */
    public List<String> parameterNames() {
        List<String> out = new ArrayList<>();
        for (Value v : values) {
            if (v.kind() == Graph.Kind.PARAMETER) {
                out.add(v.name());
            }
        }
        return out;
    }

    /**
     * A parameter initialised uniformly in {@code ±bound} (PyTorch's default for its module).
     *
     * @param name  its {@code state_dict} name
     * @param shape its shape
     * @param bound the initializer's bound
     * @return the parameter
     */
    public Value parameter(String name, Shape shape, double bound) {
        return add(name, Kind.PARAMETER, shape, null, Init.uniform(bound));
    }

    /**
     * A parameter initialised to one value (ones for normalisation scales, zeros for shifts).
     *
     * @param name  its {@code state_dict} name
     * @param shape its shape
     * @param value every entry's initial value
     * @return the parameter
     */
    public Value parameterFilled(String name, Shape shape, double value) {
        return add(name, Kind.PARAMETER, shape, null, Init.constant(value));
    }

    /**
     * A constant: data without a tangent (for example a BatchNorm running mean).
     *
     * @param name  its name
     * @param shape its shape
     * @param data  its values, {@code shape.size()} of them (copied)
     * @return the constant
     */
    public Value constant(String name, Shape shape, double[] data) {
        if (data.length != shape.size()) {
            throw new InvalidInputException("constant " + name + ": " + data.length + " values for shape " + shape);
        }
        return add(name, Kind.CONSTANT, shape, data.clone(), null);
    }

    /**
     * Applies an op.
     *
     * @param name   the node's name, or null for a generated one
     * @param op     the op
     * @param inputs its inputs
     * @return the output value
     */
    public Value apply(String name, Op op, Value... inputs) {
        for (Value v : inputs) {
            if (v == null || values.get(v.id) != v) {
                throw new IllegalArgumentException("input " + v + " is not a value of this builder");
            }
        }
        Shape[] shapes = new Shape[inputs.length];
        boolean[] batched = new boolean[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            shapes[i] = inputs[i].shape;
            batched[i] = inputs[i].batched();
        }
        Shape out = op.outputShape(shapes, batched);
        Value v = add(name != null ? name : op.type() + "_" + anonymous++, Kind.COMPUTED, out, null, null);
        nodes.add(new Node(v.name, op, List.of(inputs), v));
        return v;
    }

    /** Runs a module's construction; if it fails, the values it registered are removed again. */
    private Value module(java.util.function.Supplier<Value> body) {
        int mark = values.size();
        try {
            return body.get();
        } catch (RuntimeException e) {
            while (values.size() > mark) {
                names.remove(values.remove(values.size() - 1).name);
            }
            throw e;
        }
    }

    // ---- modules, named as PyTorch names their parameters

    /**
     * {@code nn.Linear(in, out, bias)}: parameters {@code module.weight} (out, in) and {@code module.bias}.
     *
     * @param module the module's name
     * @param x      the input value
     * @param out    output features
     * @param bias   whether there is a bias
     * @return the output value
     */
    public Value linear(String module, Value x, int out, boolean bias) {
        return module(() -> linearModule(module, x, out, bias));
    }

    private Value linearModule(String module, Value x, int out, boolean bias) {
        int in = x.shape.dim(-1);
        double bound = 1 / Math.sqrt(in);
        Value w = parameter(module + ".weight", Shape.of(out, in), bound);
        if (!bias) {
            return apply(module, Linear.INSTANCE, x, w);
        }
        Value b = parameter(module + ".bias", Shape.of(out), bound);
        return apply(module, Linear.INSTANCE, x, w, b);
    }

    /**
     * {@code nn.Conv2d(C, out, kernel, stride, padding, dilation, groups, bias)} with square kernels on
     * {@code (C, H, W)}: parameters {@code module.weight} {@code (out, C/groups, kernel, kernel)} and
     * {@code module.bias}.
     *
     * @param module   the module's name
     * @param x        the input value
     * @param out      output channels
     * @param kernel   the kernel's side
     * @param stride   the stride
     * @param padding  zero padding on each side
     * @param dilation the dilation
     * @param groups   the groups (dividing C and out)
     * @param bias     whether there is a bias
     * @return the output value
     */
    public Value conv2d(String module, Value x, int out, int kernel, int stride, int padding, int dilation, int groups,
                        boolean bias) {
        return module(() -> conv2dModule(module, x, out, kernel, stride, padding, dilation, groups, bias));
    }

    private Value conv2dModule(String module, Value x, int out, int kernel, int stride, int padding, int dilation,
                               int groups, boolean bias) {
        if (x.shape.rank() != 3) {
            throw new InvalidInputException("Conv2d " + module + ": input " + x + " must be (C, H, W)");
        }
        int cin = x.shape.dim(0);
        if (cin % groups != 0) {
            throw new InvalidInputException("Conv2d " + module + ": " + cin + " channels not divisible by groups " + groups);
        }
        double bound = 1 / Math.sqrt((double) cin / groups * kernel * kernel);
        Value w = parameter(module + ".weight", Shape.of(out, cin / groups, kernel, kernel), bound);
        Conv2d op = new Conv2d(stride, padding, dilation, groups);
        if (!bias) {
            return apply(module, op, x, w);
        }
        Value b = parameter(module + ".bias", Shape.of(out), bound);
        return apply(module, op, x, w, b);
    }

    /**
     * {@code nn.Conv1d(C, out, kernel, stride, padding, dilation, groups, bias)} on {@code (C, L)}: parameters
     * {@code module.weight} {@code (out, C/groups, kernel)} and {@code module.bias}.
     *
     * @param module   the module's name
     * @param x        the input value
     * @param out      output channels
     * @param kernel   the kernel's length
     * @param stride   the stride
     * @param padding  zero padding on each side
     * @param dilation the dilation
     * @param groups   the groups (dividing C and out)
     * @param bias     whether there is a bias
     * @return the output value
     */
    public Value conv1d(String module, Value x, int out, int kernel, int stride, int padding, int dilation, int groups,
                        boolean bias) {
        return module(() -> {
            if (x.shape.rank() != 2) {
                throw new InvalidInputException("Conv1d " + module + ": input " + x + " must be (C, L)");
            }
            int cin = x.shape.dim(0);
            if (cin % groups != 0) {
                throw new InvalidInputException("Conv1d " + module + ": " + cin + " channels not divisible by groups "
                        + groups);
            }
            double bound = 1 / Math.sqrt((double) cin / groups * kernel);
            Value w = parameter(module + ".weight", Shape.of(out, cin / groups, kernel), bound);
            Conv2d op = Conv2d.conv1d(stride, padding, dilation, groups);
            return bias ? apply(module, op, x, w, parameter(module + ".bias", Shape.of(out), bound))
                    : apply(module, op, x, w);
        });
    }

    /**
     * {@code nn.BatchNorm2d(C, eps)} (or 1d) in eval mode: parameters {@code module.weight} (ones) and
     * {@code module.bias} (zeros), constants {@code module.running_mean} and {@code module.running_var}.
     *
     * @param module      the module's name
     * @param x           the input value, {@code (C, ...)}
     * @param eps         added to the variance
     * @param runningMean C values, or null for zeros
     * @param runningVar  C values, or null for ones
     * @return the output value
     */
    public Value batchNorm(String module, Value x, double eps, double[] runningMean, double[] runningVar) {
        return module(() -> batchNormModule(module, x, eps, runningMean, runningVar));
    }

    private Value batchNormModule(String module, Value x, double eps, double[] runningMean, double[] runningVar) {
        int C = x.shape.dim(0);
        Value g = parameterFilled(module + ".weight", Shape.of(C), 1);
        Value b = parameterFilled(module + ".bias", Shape.of(C), 0);
        double[] mu = runningMean != null ? runningMean : new double[C];
        double[] var = runningVar;
        if (var == null) {
            var = new double[C];
            Arrays.fill(var, 1);
        }
        Value m = constant(module + ".running_mean", Shape.of(C), mu);
        Value v = constant(module + ".running_var", Shape.of(C), var);
        return apply(module, new BatchNormEval(eps), x, g, b, m, v);
    }

    /**
     * {@code nn.LayerNorm(normalizedShape, eps)} over the last {@code normalizedShape.length} axes of {@code x}:
     * parameters {@code module.weight} (ones) and {@code module.bias} (zeros) of shape {@code normalizedShape}.
     *
     * @param module          the module's name
     * @param x               the input value
     * @param normalizedShape the trailing axes normalised over
     * @param eps             added to the variance
     * @return the output value
     */
    public Value layerNorm(String module, Value x, int[] normalizedShape, double eps) {
        return module(() -> {
            LayerNorm op = new LayerNorm(normalizedShape, eps);
            Value g = parameterFilled(module + ".weight", Shape.of(normalizedShape), 1);
            Value b = parameterFilled(module + ".bias", Shape.of(normalizedShape), 0);
            return apply(module, op, x, g, b);
        });
    }

    /**
     * {@code torch.softmax(x, axis + 1)}: softmax over a per-sample axis.
     *
     * @param x    the input value
     * @param axis the per-sample axis (negative counts from the end)
     * @return the output value
     */
    public Value softmax(Value x, int axis) {
        return apply(null, new Softmax(axis), x);
    }

    /**
     * {@code torch.matmul(a, b)} of {@code (..., m, n)} and {@code (..., n, p)}: both batched with the same leading
     * axes, or one of them a parameter or constant matrix.
     *
     * @param a the left operand
     * @param b the right operand
     * @return the output value
     */
    public Value matmul(Value a, Value b) {
        return apply(null, MatMul.INSTANCE, a, b);
    }

    /**
     * {@code x.permute(0, 1 + axes[0], 1 + axes[1], ...)}: a permutation of the per-sample axes.
     *
     * @param x    the input value
     * @param axes the permutation of the per-sample axes
     * @return the output value
     */
    public Value permute(Value x, int... axes) {
        return apply(null, new Permute(axes), x);
    }

    /**
     * An element-wise activation.
     *
     * @param x the input value
     * @param f the function
     * @return the output value
     */
    public Value activation(Value x, ElementwiseFunction f) {
        return apply(null, new Activation(f), x);
    }

    /**
     * {@code a + b}: a residual add of equal shapes, or with broadcasting ({@link Binary}) when the shapes differ
     * and broadcast; shapes of equal size that do not broadcast keep {@link Add}'s element-by-element meaning.
     *
     * @param a a value
     * @param b another
     * @return the output value
     */
    public Value add(Value a, Value b) {
        return apply(null, a.batched() && a.shape.equals(b.shape) || !broadcasts(a, b) ? Add.INSTANCE : Binary.ADD,
                a, b);
    }

    /**
     * {@code nn.AvgPool2d(kernel, stride)} on {@code (C, H, W)}.
     *
     * @param x      the input value
     * @param kernel the window's side
     * @param stride the stride
     * @return the output value
     */
    public Value avgPool2d(Value x, int kernel, int stride) {
        return apply(null, new Pool2d(Pool2d.Mode.AVG, kernel, stride, 0), x);
    }

    /**
     * {@code nn.MaxPool2d(kernel, stride, padding)} on {@code (C, H, W)}.
     *
     * @param x       the input value
     * @param kernel  the window's side
     * @param stride  the stride
     * @param padding padding on each side
     * @return the output value
     */
    public Value maxPool2d(Value x, int kernel, int stride, int padding) {
        return apply(null, new Pool2d(Pool2d.Mode.MAX, kernel, stride, padding), x);
    }

    /**
     * {@code nn.AdaptiveAvgPool2d(1)}: {@code (C, H, W) → (C, 1, 1)}.
     *
     * @param x the input value
     * @return the output value
     */
    public Value globalAvgPool(Value x) {
        return apply(null, Pool2d.globalAverage(), x);
    }

    /**
     * {@code torch.flatten(x, 1)}.
     *
     * @param x the input value
     * @return the output value
     */
    public Value flatten(Value x) {
        return apply(null, new Reshape(null), x);
    }

    // ---- arithmetic, reductions, dropout (NumPy/ONNX broadcasting; see Binary and Reduce)

    private static boolean broadcasts(Value a, Value b) {
        try {
            Binary.ADD.outputShape(new Shape[] {a.shape, b.shape}, new boolean[] {a.batched(), b.batched()});
            return true;
        } catch (InvalidInputException e) {
            return false;
        }
    }

    /**
     * {@code a − b} with broadcasting.
     *
     * @param a a value
     * @param b another
     * @return the output value
     */
    public Value sub(Value a, Value b) {
        return apply(null, Binary.SUB, a, b);
    }

    /**
     * {@code a · b} element-wise with broadcasting.
     *
     * @param a a value
     * @param b another
     * @return the output value
     */
    public Value mul(Value a, Value b) {
        return apply(null, Binary.MUL, a, b);
    }

    /**
     * {@code a / b} element-wise with broadcasting.
     *
     * @param a a value
     * @param b another
     * @return the output value
     */
    public Value div(Value a, Value b) {
        return apply(null, Binary.DIV, a, b);
    }

    /**
     * {@code x.sum(axes, keepdim)} over per-sample axes.
     *
     * @param x        the input value
     * @param keepdims whether the reduced axes stay with size 1
     * @param axes     per-sample axes (none: all)
     * @return the output value
     */
    public Value reduceSum(Value x, boolean keepdims, int... axes) {
        return apply(null, new Reduce(Reduce.Mode.SUM, keepdims, axes), x);
    }

    /**
     * {@code x.mean(axes, keepdim)} over per-sample axes.
     *
     * @param x        the input value
     * @param keepdims whether the reduced axes stay with size 1
     * @param axes     per-sample axes (none: all)
     * @return the output value
     */
    public Value reduceMean(Value x, boolean keepdims, int... axes) {
        return apply(null, new Reduce(Reduce.Mode.MEAN, keepdims, axes), x);
    }

    /**
     * {@code nn.Dropout(p)} in eval mode: the identity.
     *
     * @param x the input value
     * @param p the drop probability, in [0, 1) (unused in eval mode)
     * @return the output value
     */
    public Value dropout(Value x, double p) {
        return apply(null, Identity.dropout(p), x);
    }

    /**
     * {@code nn.Identity()}.
     *
     * @param x the input value
     * @return the output value
     */
    public Value identity(Value x) {
        return apply(null, Identity.identity(), x);
    }

    /**
     * {@code nn.BatchNorm2d(C, eps)} (or 1d) in train mode: normalised with the batch's statistics, so the samples
     * are coupled ({@link BatchNormTrain}); parameters {@code module.weight} (ones) and {@code module.bias} (zeros).
     * The running statistics are not kept.
     *
     * @param module the module's name
     * @param x      the input value, {@code (C, ...)}
     * @param eps    added to the variance
     * @return the output value
     */
    public Value batchNormTrain(String module, Value x, double eps) {
        return module(() -> apply(module, new BatchNormTrain(eps), x,
                parameterFilled(module + ".weight", Shape.of(x.shape.dim(0)), 1),
                parameterFilled(module + ".bias", Shape.of(x.shape.dim(0)), 0)));
    }

    /**
     * An activation by name.
     *
     * @param x    the input value
     * @param name as {@link io.hvp4j.autodiff.Activations#parse} reads it: relu, gelu_erf, elu(0.5), ...
     * @return the output value
     */
    public Value activation(Value x, String name) {
        return activation(x, io.hvp4j.autodiff.Activations.parse(name));
    }

    /**
     * The graph whose network output is {@code output} (batched, {@code (K,)} for a classifier). Nodes the output
     * does not depend on are dropped; a parameter they alone used is refused, so that θ has no dead entries.
     *
     * @param output the network's output value
     * @return the graph
     */
    public Graph build(Value output) {
        return build(output, null);
    }

    /**
     * {@link #build(Value)} with the flat parameter order given by {@code parameterOrder} (a stable sort of the
     * order in which the parameters were added), for example the order of a file's {@code state_dict}.
     *
     * @param output         the network's output value
     * @param parameterOrder the order of the parameters in θ, or null for the order they were added in
     * @return the graph
     */
    public Graph build(Value output, java.util.Comparator<Value> parameterOrder) {
        if (input == null) {
            throw new IllegalStateException("the graph has no input");
        }
        if (!output.batched()) {
            throw new InvalidInputException("the graph output " + output + " must be batched");
        }
        boolean[] live = new boolean[values.size()];
        live[output.id] = true;
        List<Node> kept = new ArrayList<>();
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (live[n.output().id]) {
                kept.add(0, n);
                for (Value v : n.inputs()) {
                    live[v.id] = true;
                }
            }
        }
        List<Value> vs = new ArrayList<>();
        for (Value v : values) {
            if (live[v.id] || v == input) {
                vs.add(v);
            } else if (v.kind == Kind.PARAMETER) {
                throw new InvalidInputException("parameter " + v.name + " does not affect the output");
            }
        }
        return new Graph(vs, kept, input, output, parameterOrder);
    }
}

package io.hvp4j.onnx;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Graph;

import java.nio.file.Path;
import java.util.List;

/**
 * A PyTorch (or other) network read from an ONNX file as an hvp4j {@link Graph}, with its parameter values.
 *
 * <p>Export a model so that its parameters keep their {@code state_dict} names and BatchNorm stays a separate op:
 * {@code model.eval(); torch.onnx.export(model, x, "m.onnx", do_constant_folding=False,
 * training=torch.onnx.TrainingMode.PRESERVE, opset_version=17, dynamic_axes={"x": {0: "n"}})}. Opsets 13–18 of
 * the TorchScript exporter are read; model-local functions (the dynamo exporter's modules) are refused by name.
 *
 * <p>What the import does:
 * <ul>
 *   <li>The one data input is batched along ONNX axis 0; the per-sample shape is the rest (dynamic per-sample
 *       dimensions need {@code sampleShape}). The first graph output is f(x), which must be {@code (N, K)}.</li>
 *   <li><b>Parameters</b> are the floating-point initializers that ops use differentiably (Conv, Gemm/MatMul
 *       weights and biases, BatchNorm/LayerNorm scale and shift, operands of Add/Sub/Mul/Div beside an
 *       activation), named exactly as in the file. BatchNorm's running mean and variance (inputs 3 and 4) are
 *       constants; shape, index and axes tensors are folded. An {@code Identity} node whose output renames an
 *       initializer (PyTorch's exporter merges equal initializers, for example all-ones BatchNorm weights, and
 *       gives the other {@code state_dict} names as such outputs) makes a parameter of its own, with its own
 *       tangent.</li>
 *   <li><b>Order</b> of the flat vector θ: the order in which the nodes (in file order) first use each
 *       parameter; for a PyTorch model built in forward order that is the order of {@code model.parameters()}.
 *       {@link Graph#parameters()} and {@link Graph#offset} list it.</li>
 *   <li><b>Shape subgraphs</b> ({@code Shape}, {@code Gather}, {@code Unsqueeze}, {@code Squeeze}, {@code Concat},
 *       {@code Slice}, {@code Constant}, {@code ConstantOfShape}, {@code Cast}, arithmetic on them) are folded at
 *       load time, so {@code x.view(x.size(0), -1)} and {@code x.reshape(x.shape[0], -1)} work; the batch size
 *       stays free (a value that depends on it is refused except as a reshape's leading dimension).</li>
 *   <li>Anything else is an {@link InvalidInputException} with one line: an unsupported op (naming the node, the
 *       opset and the supported ops), an unsupported attribute value, a malformed or truncated file, missing
 *       external data.</li>
 * </ul>
 *
 * @param graph      the network function f(x; θ)
 * @param parameters θ as read from the file, in the graph's flat order ({@code P} values)
 * @param warnings   one line each, e.g. about parameter names that the exporter generated ({@code onnx::Conv_45})
 * @param opset      the default-domain opset of the file
 */
public record OnnxModel(Graph graph, double[] parameters, List<String> warnings, int opset) {
    /**
     * Whether a name is an ONNX file's.
     *
     * @param file a file name or path, or null
     * @return whether it ends in {@code .onnx} (any case)
     */
    public static boolean isOnnx(String file) {
        return file != null && file.toLowerCase(java.util.Locale.ROOT).endsWith(".onnx");
    }

    /**
     * Loads a file with the per-sample input shape it states.
     *
     * @param file an {@code .onnx} file
     * @return the network, its parameters and any warnings
     * @throws InvalidInputException for a file that cannot be read or imported (one line)
     */
    public static OnnxModel load(Path file) {
        return load(file, null);
    }

    /**
     * Loads {@code file}; {@code sampleShape} (the input's shape without the batch axis, e.g. {@code 3,32,32}) fixes
     * dynamic per-sample dimensions and must agree with the fixed ones; null takes the file's.
     *
     * @param file        an {@code .onnx} file
     * @param sampleShape the input's shape without the batch axis, or null
     * @return the network, its parameters and any warnings
     * @throws InvalidInputException for a file that cannot be read or imported (one line)
     */
    public static OnnxModel load(Path file, int[] sampleShape) {
        try {
            return new OnnxImporter(file, OnnxFile.read(file), sampleShape).run();
        } catch (InvalidInputException e) {
            String m = e.getMessage();
            throw m.startsWith(file.toString()) ? e : new InvalidInputException(file + ": " + m, e);
        } catch (IllegalArgumentException | ArithmeticException e) {
            // Shapes from the file that the graph layer refuses (a zero or overflowing dimension).
            throw new InvalidInputException(file + ": " + OnnxFile.oneLine(e.getMessage()), e);
        }
    }
}

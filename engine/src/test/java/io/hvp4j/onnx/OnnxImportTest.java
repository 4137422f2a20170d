package io.hvp4j.onnx;

import com.google.protobuf.ByteString;
import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.onnx.proto.OnnxProto.AttributeProto;
import io.hvp4j.onnx.proto.OnnxProto.FunctionProto;
import io.hvp4j.onnx.proto.OnnxProto.GraphProto;
import io.hvp4j.onnx.proto.OnnxProto.ModelProto;
import io.hvp4j.onnx.proto.OnnxProto.NodeProto;
import io.hvp4j.onnx.proto.OnnxProto.OperatorSetIdProto;
import io.hvp4j.onnx.proto.OnnxProto.StringStringEntryProto;
import io.hvp4j.onnx.proto.OnnxProto.TensorProto;
import io.hvp4j.onnx.proto.OnnxProto.TensorShapeProto;
import io.hvp4j.onnx.proto.OnnxProto.TypeProto;
import io.hvp4j.onnx.proto.OnnxProto.ValueInfoProto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static io.hvp4j.onnx.OnnxReferenceTest.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the importer makes of exported models (names, order, constants, warnings) and how it refuses bad ones. */
class OnnxImportTest {
    @TempDir
    Path dir;

    private static List<String> names(Graph g) {
        return g.parameters().stream().map(Value::name).toList();
    }

    @Test
    void parametersKeepStateDictNamesIncludingIdentityRenamedOnes() {
        OnnxModel m = OnnxModel.load(fixture("cnn_bn_res.onnx"));
        Graph g = m.graph();
        // bn2's weight and bias are Identity renamings of bn1's equal initializers in the file: own parameters.
        assertEquals(List.of("conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias",
                "fc.weight", "fc.bias"), names(g));
        assertEquals(4 * 3 * 9 + 4 + 4 + 4 * 4 * 9 + 4 + 4 + 3 * 36 + 3, g.parameterCount());
        // Running statistics are constants (no tangent), also where they are renamings of parameters' values.
        assertArrayEquals(new double[] {1, 1, 1, 1}, g.constant("bn2.running_var"));
        assertArrayEquals(new double[] {0, 0, 0, 0}, g.constant("bn2.running_mean"));
        assertTrue(g.constant("bn1.running_var") != null);
        assertTrue(m.warnings().isEmpty(), m.warnings().toString());
        assertEquals(17, m.opset());
        assertEquals(Arrays.asList(3, 6, 6), Arrays.stream(g.input().shape().dims()).boxed().toList());
    }

    @Test
    void foldedExportWarnsAboutGeneratedNames() {
        OnnxModel m = OnnxModel.load(fixture("cnn_folded.onnx"));
        assertEquals(1, m.warnings().size());
        assertTrue(m.warnings().get(0).contains("onnx::") && m.warnings().get(0).contains("do_constant_folding=False"),
                m.warnings().get(0));
    }

    @Test
    void opsetsOfTheTorchScriptExporterGiveTheSameGraph() {
        Graph a = OnnxModel.load(fixture("lenet.onnx")).graph();
        for (String f : new String[] {"lenet_opset13.onnx", "lenet_opset15.onnx"}) {
            Graph b = OnnxModel.load(fixture(f)).graph();
            assertEquals(names(a), names(b));
            assertEquals(a.parameterCount(), b.parameterCount());
        }
    }

    // ------------------------------------------------------------------------------------------ hand-made models

    private static ValueInfoProto info(String name, Object... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            s.addDim(d instanceof String p ? TensorShapeProto.Dimension.newBuilder().setDimParam(p)
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s))).build();
    }

    private static TensorProto floats(String name, long[] dims, float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(b.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    private static NodeProto node(String op, String name, List<String> in, String out, AttributeProto... attrs) {
        return NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(in).addOutput(out)
                .addAllAttribute(List.of(attrs)).build();
    }

    private static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) {
            a.addInts(x);
        }
        return a.build();
    }

    /** x (N, 2, 3, 3) → Conv 2→2 3×3 (pads as given) → Flatten → y. */
    private static GraphProto.Builder convGraph(long... pads) {
        float[] w = new float[2 * 2 * 9];
        Arrays.fill(w, 0.1f);
        return GraphProto.newBuilder()
                .addInput(info("x", "n", 2, 3, 3)).addOutput(info("y", "n", 2 * 9))
                .addInitializer(floats("conv.weight", new long[] {2, 2, 3, 3}, w))
                .addNode(node("Conv", "/conv/Conv", List.of("x", "conv.weight"), "h", ints("pads", pads)))
                .addNode(node("Flatten", "/Flatten", List.of("h"), "y"));
    }

    private Path write(GraphProto.Builder g, int opset) throws IOException {
        ModelProto m = ModelProto.newBuilder().setIrVersion(8).setGraph(g)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).build();
        Path p = dir.resolve("m.onnx");
        Files.write(p, m.toByteArray());
        return p;
    }

    private static String refusal(Path p) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> OnnxModel.load(p));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        return e.getMessage();
    }

    /**
     * x (N, 2) → Gemm a (2→2) → Tanh → Gemm b (2→2) → y, with b's initializers first in the file, as torch.onnx.export
     * writes them for a module that registers {@code b} before {@code a} but calls {@code a} first.
     */
    private static GraphProto.Builder reversedRegistration() {
        return GraphProto.newBuilder()
                .addInput(info("x", "n", 2)).addOutput(info("y", "n", 2))
                .addInitializer(floats("b.weight", new long[] {2, 2}, 1, 2, 3, 4))
                .addInitializer(floats("b.bias", new long[] {2}, 5, 6))
                .addInitializer(floats("a.weight", new long[] {2, 2}, 7, 8, 9, 10))
                .addInitializer(floats("a.bias", new long[] {2}, 11, 12))
                .addNode(node("Gemm", "/a/Gemm", List.of("x", "a.weight", "a.bias"), "h", transB()))
                .addNode(node("Tanh", "/Tanh", List.of("h"), "t"))
                .addNode(node("Gemm", "/b/Gemm", List.of("t", "b.weight", "b.bias"), "y", transB()));
    }

    private static AttributeProto transB() {
        return AttributeProto.newBuilder().setName("transB").setType(AttributeProto.AttributeType.INT).setI(1).build();
    }

    @Test
    void anExportedModelKeepsItsRegistrationOrder() {
        // head is registered before conv but runs after it: θ is parameters_to_vector's order.
        assertEquals(List.of("head.weight", "head.bias", "conv.weight", "conv.bias"),
                names(OnnxModel.load(fixture("pads_order.onnx")).graph()));
    }

    @Test
    void theFlatOrderIsTheFilesStateDictOrderNotTheOrderOfUse() throws IOException {
        OnnxModel m = OnnxModel.load(write(reversedRegistration(), 17));
        assertEquals(List.of("b.weight", "b.bias", "a.weight", "a.bias"), names(m.graph()));
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, m.parameters());
        assertTrue(m.warnings().isEmpty(), m.warnings().toString());
    }

    @Test
    void anIdentityCopyLeavesTheOrderOfUseAndAWarningWhenTheFileDisagrees() throws IOException {
        // b.bias is an Identity copy of a.bias (merged equal initializers): it has no place in the file's order.
        GraphProto.Builder g = reversedRegistration();
        g.removeInitializer(1);
        g.addNode(0, node("Identity", "/Identity", List.of("a.bias"), "b.bias"));
        OnnxModel m = OnnxModel.load(write(g, 17));
        assertEquals(List.of("a.weight", "a.bias", "b.weight", "b.bias"), names(m.graph()));
        assertEquals(1, m.warnings().size(), m.warnings().toString());
        assertTrue(m.warnings().get(0).contains("'a.bias' before 'b.weight'")
                && m.warnings().get(0).contains("parameters_to_vector"), m.warnings().get(0));
    }

    private static TensorProto longs(String name, long... v) {
        return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE).addDims(v.length)
                .addAllInt64Data(Arrays.stream(v).boxed().toList()).build();
    }

    /** The loss and gradient of a model at the seed's parameters and data, for comparing two graphs. */
    private static double[] lossAndGradient(Path p) {
        Graph g = OnnxModel.load(p).graph();
        try (io.hvp4j.api.Session s = io.hvp4j.api.Session.builder().model(g).gaussianData(3).threads(1).open()) {
            double[] grad = s.gradient();
            double[] out = Arrays.copyOf(grad, grad.length + 1);
            out[grad.length] = s.loss();
            return out;
        }
    }

    @Test
    void aZeroPadIsTakenInByTheAveragePoolOrConvThatReadsIt() throws IOException {
        // torch 1.13 exports AvgPool2d(3, 2, padding=1) (count_include_pad=True) as Pad + AveragePool.
        GraphProto.Builder padded = convGraph(1, 1, 1, 1).removeNode(1)
                .addInitializer(longs("pads", 0, 0, 1, 1, 0, 0, 1, 1))
                .addNode(node("Pad", "/Pad", List.of("h", "pads"), "hp"))
                .addNode(node("AveragePool", "/AveragePool", List.of("hp"), "a", ints("kernel_shape", 3, 3),
                        ints("strides", 2, 2)))
                .addNode(node("Flatten", "/Flatten", List.of("a"), "y"));
        padded.setOutput(0, info("y", "n", 2 * 4));
        double[] viaPad = lossAndGradient(write(padded, 17));
        GraphProto.Builder inPool = convGraph(1, 1, 1, 1).removeNode(1)
                .addNode(node("AveragePool", "/AveragePool", List.of("h"), "a", ints("kernel_shape", 3, 3),
                        ints("strides", 2, 2), ints("pads", 1, 1, 1, 1), AttributeProto.newBuilder()
                                .setName("count_include_pad").setType(AttributeProto.AttributeType.INT).setI(1).build()))
                .addNode(node("Flatten", "/Flatten", List.of("a"), "y"));
        inPool.setOutput(0, info("y", "n", 2 * 4));
        assertArrayEquals(lossAndGradient(write(inPool, 17)), viaPad);
        // F.pad before a convolution: the same as the convolution's own padding.
        GraphProto.Builder padConv = convGraph(0, 0, 0, 0).addInitializer(longs("pads", 0, 0, 1, 1, 0, 0, 1, 1));
        padConv.setNode(0, node("Conv", "/conv/Conv", List.of("xp", "conv.weight"), "h", ints("pads", 0, 0, 0, 0)))
                .addNode(0, node("Pad", "/Pad", List.of("x", "pads"), "xp"));
        assertArrayEquals(lossAndGradient(write(convGraph(1, 1, 1, 1), 17)), lossAndGradient(write(padConv, 17)));
        // Anything else reading a zero pad, or another pad, is refused at its own node.
        GraphProto.Builder max = convGraph(1, 1, 1, 1).removeNode(1)
                .addInitializer(longs("pads", 0, 0, 1, 1, 0, 0, 1, 1))
                .addNode(node("Pad", "/Pad", List.of("h", "pads"), "hp"))
                .addNode(node("Flatten", "/Flatten", List.of("hp"), "y"));
        String m = refusal(write(max, 17));
        assertTrue(m.contains("/Flatten") && m.contains("is a zero Pad"), m);
        GraphProto.Builder uneven = padded.clone();
        uneven.setInitializer(1, longs("pads", 0, 0, 1, 0, 0, 0, 1, 0));
        m = refusal(write(uneven, 17));
        assertTrue(m.contains("/Pad") && m.contains("pads=[0, 0, 1, 0, 0, 0, 1, 0]"), m);
    }

    @Test
    void aHandMadeModelLoads() throws IOException {
        Graph g = OnnxModel.load(write(convGraph(1, 1, 1, 1), 17)).graph();
        assertEquals(List.of("conv.weight"), names(g));
        assertEquals(18, g.outputSize());
    }

    @Test
    void unsupportedOpNamesTheNodeTheOpsetAndTheSupportedOps() throws IOException {
        GraphProto.Builder g = convGraph(1, 1, 1, 1);
        g.setNode(1, node("Hardmax", "/head/Hardmax", List.of("h"), "y"));
        String m = refusal(write(g, 16));
        assertTrue(m.contains("'Hardmax'") && m.contains("/head/Hardmax") && m.contains("opset 16")
                && m.contains("supported ops: Add, AveragePool"), m);
    }

    @Test
    void anUnsupportedOpIsNamedBeforeAnEarlierNodeFailsOnItsOwnTerms() throws IOException {
        // The Reshape would be refused (it moves the batch axis); the Hardmax after it is what the model lacks.
        GraphProto.Builder g = convGraph(1, 1, 1, 1).addInitializer(longs("shape", -1));
        g.setNode(1, node("Reshape", "/Reshape", List.of("h", "shape"), "r"));
        g.addNode(node("Hardmax", "/head/Hardmax", List.of("r"), "y"));
        String m = refusal(write(g, 17));
        assertTrue(m.contains("'Hardmax'") && m.contains("/head/Hardmax") && m.contains("Concat*"), m);
    }

    @Test
    void unsupportedAttributeValueIsNamed() throws IOException {
        String m = refusal(write(convGraph(1, 0, 1, 0), 17));
        assertTrue(m.contains("pads=[1, 0, 1, 0]") && m.contains("/conv/Conv"), m);
    }

    @Test
    void opsetsOutsideThirteenToEighteenAreRefused() throws IOException {
        assertTrue(refusal(write(convGraph(0, 0, 0, 0), 12)).contains("opset 12 is not supported"));
        assertTrue(refusal(write(convGraph(0, 0, 0, 0), 19)).contains("opset 19 is not supported"));
        OnnxModel.load(write(convGraph(0, 0, 0, 0), 18));
    }

    @Test
    void malformedAndTruncatedFilesAreRefused() throws IOException {
        byte[] good = Files.readAllBytes(fixture("lenet.onnx"));
        Path p = dir.resolve("t.onnx");
        Files.write(p, Arrays.copyOf(good, good.length / 2));
        assertTrue(refusal(p).contains("not a valid ONNX model"), refusal(p));
        Files.writeString(p, "this is not a protobuf file at all\n");
        refusal(p);
        Files.write(p, new byte[0]);
        assertTrue(refusal(p).contains("no graph"), refusal(p));
        assertTrue(refusal(dir.resolve("absent.onnx")).contains("no such file"));
    }

    @Test
    void externalDataIsReadBesideTheModelAndMissingDataIsRefused() throws IOException {
        GraphProto.Builder g = convGraph(1, 1, 1, 1);
        TensorProto w = g.getInitializer(0);
        g.setInitializer(0, w.toBuilder().clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("m.weights"))
                .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue("8")));
        Path p = write(g, 17);
        String m = refusal(p);
        assertTrue(m.contains("conv.weight") && m.contains("'m.weights' is missing"), m);
        byte[] raw = w.getRawData().toByteArray();
        byte[] file = new byte[8 + raw.length];
        System.arraycopy(raw, 0, file, 8, raw.length);
        Files.write(dir.resolve("m.weights"), Arrays.copyOf(file, file.length - 1));
        assertTrue(refusal(p).contains("too short"), refusal(p));
        Files.write(dir.resolve("m.weights"), file);
        assertEquals(0.1f, (float) OnnxModel.load(p).parameters()[0]);
        g.setInitializer(0, g.getInitializer(0).toBuilder().setExternalData(0,
                StringStringEntryProto.newBuilder().setKey("location").setValue("../escape.bin")));
        assertTrue(refusal(write(g, 17)).contains("outside the model's folder"));
    }

    @Test
    void dynamicSampleAxesNeedTheInputShape() throws IOException {
        GraphProto.Builder g = convGraph(1, 1, 1, 1);
        g.setInput(0, info("x", "n", 2, "h", "w"));
        Path p = write(g, 17);
        assertTrue(refusal(p).contains("--input-shape"));
        assertEquals(2 * 9, OnnxModel.load(p, new int[] {2, 3, 3}).graph().outputSize());
        assertEquals(2 * 16, OnnxModel.load(p, new int[] {2, 4, 4}).graph().outputSize());
        assertThrows(InvalidInputException.class, () -> OnnxModel.load(p, new int[] {3, 3, 3}));
    }

    @Test
    void reshapesThatMoveTheBatchAxisAreRefused() throws IOException {
        GraphProto.Builder g = convGraph(1, 1, 1, 1);
        g.addInitializer(TensorProto.newBuilder().setName("shape").setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(1).addInt64Data(-1));
        g.setNode(1, node("Reshape", "/Reshape", List.of("h", "shape"), "y"));
        assertTrue(refusal(write(g, 17)).contains("batch axis"));
        // Exported without dynamic_axes: x.view(x.size(0), -1) traced as the constant (2, -1); the refusal says so.
        GraphProto.Builder fixed = convGraph(1, 1, 1, 1).setInput(0, info("x", 2, 2, 3, 3));
        fixed.addInitializer(TensorProto.newBuilder().setName("shape").setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(2).addInt64Data(2).addInt64Data(-1));
        fixed.setNode(1, node("Reshape", "/Reshape", List.of("h", "shape"), "y"));
        String why = refusal(write(fixed, 17));
        assertTrue(why.contains("fixes the batch axis of input 'x' to 2") && why.contains("dynamic_axes"), why);
    }

    @Test
    void modelLocalFunctionsAreRefusedByName() throws IOException {
        GraphProto.Builder g = convGraph(1, 1, 1, 1);
        g.setNode(1, node("Flatten_0", "/f", List.of("h"), "y").toBuilder().setDomain("pkg.torch.mod").build());
        ModelProto m = ModelProto.newBuilder().setIrVersion(8).setGraph(g)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(18))
                .addFunctions(FunctionProto.newBuilder().setName("Flatten_0").setDomain("pkg.torch.mod")).build();
        Path p = dir.resolve("f.onnx");
        Files.write(p, m.toByteArray());
        assertTrue(refusal(p).contains("model-local function 'Flatten_0'"));
    }

    @Test
    void twoDataInputsOrOutputsAreRefused() throws IOException {
        GraphProto.Builder g = convGraph(1, 1, 1, 1).addInput(info("z", "n", 4));
        assertTrue(refusal(write(g, 17)).contains("more than one data input"));
        g = convGraph(1, 1, 1, 1).addOutput(info("h", "n", 2, 3, 3));
        assertTrue(refusal(write(g, 17)).contains("2 outputs"));
    }
}

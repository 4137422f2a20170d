package io.hvp4j.cli;

import com.google.protobuf.ByteString;
import io.hvp4j.onnx.proto.OnnxProto.AttributeProto;
import io.hvp4j.onnx.proto.OnnxProto.GraphProto;
import io.hvp4j.onnx.proto.OnnxProto.ModelProto;
import io.hvp4j.onnx.proto.OnnxProto.NodeProto;
import io.hvp4j.onnx.proto.OnnxProto.OperatorSetIdProto;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --model FILE.onnx} through the commands: the file's weights, vectors by parameter name in and out,
 * the generated-name warning, and refusals (exit 2, one line). The engine's tests check the numbers.
 */
class OnnxModelCommandsTest {
    @TempDir
    Path dir;

    private static TraceCommandTest.Result run(String... args) {
        return TraceCommandTest.run(args);
    }

    /** x (n, 4) → Gemm with {@code weight} (3, 4) and {@code bias} → Tanh → y (n, 3). */
    private Path model(String weight, String bias) throws IOException {
        ByteBuffer w = ByteBuffer.allocate(4 * 15).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 15; i++) {
            w.putFloat((i % 7 - 3) * 0.25f);
        }
        TensorShapeProto.Builder in = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("n"))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(4));
        GraphProto g = GraphProto.newBuilder()
                .addInput(ValueInfoProto.newBuilder().setName("x").setType(TypeProto.newBuilder().setTensorType(
                        TypeProto.Tensor.newBuilder().setElemType(1).setShape(in))))
                .addOutput(ValueInfoProto.newBuilder().setName("y"))
                .addInitializer(TensorProto.newBuilder().setName(weight).setDataType(1).addDims(3).addDims(4)
                        .setRawData(ByteString.copyFrom(w.array(), 0, 48)))
                .addInitializer(TensorProto.newBuilder().setName(bias).setDataType(1).addDims(3)
                        .setRawData(ByteString.copyFrom(w.array(), 48, 12)))
                .addNode(NodeProto.newBuilder().setOpType("Gemm").addInput("x").addInput(weight).addInput(bias)
                        .addOutput("h").addAttribute(AttributeProto.newBuilder().setName("transB").setI(1)
                                .setType(AttributeProto.AttributeType.INT)))
                .addNode(NodeProto.newBuilder().setOpType("Tanh").addInput("h").addOutput("y"))
                .build();
        Path p = dir.resolve("m.onnx");
        Files.write(p, ModelProto.newBuilder().setIrVersion(8).setGraph(g)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17)).build().toByteArray());
        return p;
    }

    @Test
    void gradAndHvpTakeAndGiveVectorsByName() throws IOException {
        String m = model("fc.weight", "fc.bias").toString();
        Path g = dir.resolve("g.safetensors"), hv = dir.resolve("hv.safetensors"), hv2 = dir.resolve("hv.npy");
        TraceCommandTest.Result r = run("grad", "--model", m, "--data", "gaussian:5", "--threads", "1", "--out",
                g.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("P=15") && r.err().isEmpty(), r.out() + r.err());
        r = run("hvp", "--model", m, "--data", "gaussian:5", "--threads", "1", "--vector", g.toString(), "--out",
                hv.toString());
        assertEquals(0, r.code(), r.err());
        r = run("hvp", "--model", m, "--data", "gaussian:5", "--threads", "1", "--params", "fc.bias", "--vector",
                g.toString(), "--out", hv2.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("'fc.weight' is not a parameter"), r.err());
        r = run("trace", "--model", m, "--data", "gaussian:5", "--threads", "1", "--method", "exact", "--diagonal",
                dir.resolve("d.safetensors").toString());
        assertEquals(0, r.code(), r.err());
        // The file's weights, replaced by name from a state_dict-like file (here the gradient's).
        r = run("grad", "--model", m, "--data", "gaussian:5", "--threads", "1", "--weights", g.toString());
        assertEquals(0, r.code(), r.err());
        r = run("grad", "--arch", "4,3", "--data", "gaussian:5", "--out", g.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("need --model"), r.err());
    }

    /** eigs --out writes unit vectors u with H u = θ u, flat (.npy) and by name (.safetensors, read by hvp). */
    @Test
    void eigsWritesTheEigenvectors() throws IOException {
        String m = model("fc.weight", "fc.bias").toString();
        Path u = dir.resolve("u.npy"), hu = dir.resolve("hu.npy"), named = dir.resolve("u.safetensors");
        TraceCommandTest.Result r = run("eigs", "--model", m, "--data", "gaussian:5", "--threads", "1", "--top", "2",
                "--bottom", "1", "--json", "--out", u.toString());
        assertEquals(0, r.code(), r.err());
        double[] theta = java.util.regex.Pattern.compile("\"value\"\\s*:\\s*([-0-9.eE+]+)").matcher(r.out())
                .results().mapToDouble(x -> Double.parseDouble(x.group(1))).toArray();
        assertEquals(3, theta.length, r.out());
        r = run("hvp", "--model", m, "--data", "gaussian:5", "--threads", "1", "--vector", u.toString(), "--out",
                hu.toString());
        assertEquals(0, r.code(), r.err());
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            io.hvp4j.memory.Tensor U = io.hvp4j.io.Npy.readMatrix(u, arena, io.hvp4j.memory.DType.F64, "u");
            io.hvp4j.memory.Tensor HU = io.hvp4j.io.Npy.readMatrix(hu, arena, io.hvp4j.memory.DType.F64, "hu");
            assertEquals(15, U.rows());
            assertEquals(3, U.cols());
            double scale = Math.max(Math.abs(theta[0]), Math.abs(theta[2]));
            for (int j = 0; j < 3; j++) {
                double norm = 0, res = 0;
                for (int i = 0; i < 15; i++) {
                    norm += U.get(i, j) * U.get(i, j);
                    double d = HU.get(i, j) - theta[j] * U.get(i, j);
                    res += d * d;
                }
                assertEquals(1, norm, 1e-12);
                // The Ritz residual of a converged pair is below Lanczos' tolerance times |θ|_max.
                assertTrue(Math.sqrt(res) <= 1e-6 * scale, "pair " + j + ": residual " + Math.sqrt(res));
            }
        }
        r = run("eigs", "--model", m, "--data", "gaussian:5", "--threads", "1", "--top", "2", "--method", "power",
                "--out", named.toString());
        assertEquals(0, r.code(), r.err());
        r = run("hvp", "--model", m, "--data", "gaussian:5", "--threads", "1", "--vector", named.toString(), "--out",
                dir.resolve("hu.safetensors").toString());
        assertEquals(0, r.code(), r.err());
        r = run("eigs", "--arch", "4,3", "--data", "gaussian:5", "--out", named.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("need --model"), r.err());
    }

    @Test
    void generatedNamesWarnAndBadFilesAreOneLineErrors() throws IOException {
        String m = model("onnx::Gemm_5", "onnx::Gemm_6").toString();
        TraceCommandTest.Result r = run("grad", "--model", m, "--data", "gaussian:3", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("hvp4j: warning:") && r.err().contains("onnx::Gemm_5"), r.err());
        Path bad = dir.resolve("bad.onnx");
        Files.write(bad, new byte[] {8, 1, 0x3a, 100, 1});
        r = run("hvp", "--model", bad.toString(), "--data", "gaussian:3", "--out", dir.resolve("o.npy").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("hvp4j: error: " + bad) && r.err().strip().lines().count() == 1, r.err());
        r = run("grad", "--model", dir.resolve("absent.onnx").toString(), "--data", "gaussian:3");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no such file"), r.err());
        r = run("grad", "--model", "lenet5", "--input-shape", "1,28,28", "--data", "gaussian:3");
        assertEquals(2, r.code());
    }
}

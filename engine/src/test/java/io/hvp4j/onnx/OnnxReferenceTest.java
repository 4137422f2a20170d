package io.hvp4j.onnx;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ScalarBackend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.io.NpyArray;
import io.hvp4j.io.Npz;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.GraphObjective;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import io.hvp4j.spectral.DenseAssembly;
import io.hvp4j.spectral.NumericalRank;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.SymmetricEigen;

import java.lang.foreign.Arena;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exported PyTorch models against PyTorch float64 references ({@code src/test/python/onnx_fixtures.py} makes both):
 * the loss, gradient and the products with {@code H}, {@code H_O} (Gauss–Newton) and {@code H_F} along a random
 * direction, each parameter by its {@code state_dict} name. Tolerance: relative error (2-norm over all
 * parameters) at most 1e-10; both sides compute in float64 from the same float32-exact weights, so the error is
 * rounding in different summation orders (observed about 1e-15), far below what any wrong rule term gives.
 */
class OnnxReferenceTest {
    static Path fixture(String name) {
        try {
            return Path.of(OnnxReferenceTest.class.getResource("/io/hvp4j/onnx/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static double relErr(double[] got, double[] want) {
        double d = 0, n = 0;
        for (int i = 0; i < got.length; i++) {
            d += (got[i] - want[i]) * (got[i] - want[i]);
            n += want[i] * want[i];
        }
        return Math.sqrt(d / n);
    }

    /** The reference arrays {@code prefix.NAME} for every parameter, flat in the graph's order. */
    static double[] flat(Graph g, Map<String, NpyArray> ref, String prefix) {
        double[] out = new double[g.parameterCount()];
        for (int k = 0; k < g.parameters().size(); k++) {
            Value p = g.parameters().get(k);
            NpyArray a = ref.get(prefix + "." + p.name());
            assertTrue(a != null, "no reference " + prefix + "." + p.name());
            assertEquals(p.shape().size(), a.size(), p.name());
            for (int i = 0; i < a.size(); i++) {
                out[(int) g.offset(k) + i] = a.getDouble(i);
            }
        }
        return out;
    }

    private static double[] rows(NpyArray a) {
        double[] d = new double[(int) a.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = a.getDouble(i);
        }
        return d;
    }

    /** The fixture's data set in float64, flattened rows. */
    static Dataset data(Graph g, Map<String, NpyArray> ref, Arena arena, String name) {
        NpyArray x = ref.get("x"), y = ref.get("y");
        int n = (int) x.shape()[0];
        return new Dataset(Tensor.of(arena, DType.F64, n, g.inputSize(), rows(x)),
                Tensor.of(arena, DType.F64, n, g.outputSize(), rows(y)), name);
    }

    /**
     * The dense H, H_O and H_F of small exported CNNs have the rank numpy.linalg.matrix_rank gives the dense
     * PyTorch float64 matrices (default tolerance σ_max·P·ε): what {@code rank --model} computes.
     */
    @ParameterizedTest
    @ValueSource(strings = {"cnn_bn_res"})
    void denseRanksMatchNumpyOnPyTorchMatrices(String name) {
        checkDenseRanks(name);
    }

    /** The same for the LeNet-style fixture (777 parameters: three dense assemblies of 777 products each). */
    @org.junit.jupiter.api.Test
    @org.junit.jupiter.api.Tag("slow")
    void denseRanksOfLenetMatchNumpy() {
        checkDenseRanks("lenet");
    }

    private static void checkDenseRanks(String name) {
        OnnxModel m = OnnxModel.load(fixture(name + ".onnx"));
        Graph g = m.graph();
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
            Map<String, NpyArray> ref = Npz.read(fixture(name + ".npz"), arena);
            Dataset d = data(g, ref, arena, name);
            try (GraphObjective f = new GraphObjective(g, Loss.CE, Loss.Reduction.MEAN, d, be, DType.F64, d.size(),
                    DenseAssembly.DEFAULT_BLOCK)) {
                f.setParameters(Tensor.of(arena, DType.F64, g.parameterCount(), 1, m.parameters()));
                for (Curvature c : Curvature.values()) {
                    try (Arena tmp = Arena.ofConfined()) {
                        DenseAssembly.Result res = DenseAssembly.assemble(Operators.curvature(f, c, null), tmp);
                        double[] eig = SymmetricEigen.select(SymmetricEigen.Kind.AUTO)
                                .decomposeInPlace(res.matrix(), false);
                        int rank = NumericalRank.ofEigenvalues(eig, DType.F64, NumericalRank.Tolerance.DEFAULT).rank();
                        assertEquals((int) ref.get("rank." + c.id()).getLong(0), rank, name + " " + c.id());
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} on {2}")
    @CsvSource({
        "cnn_bn_res, cnn_bn_res.onnx, vector", "cnn_bn_res, cnn_bn_res.onnx, scalar",
        "lenet, lenet.onnx, vector", "lenet, lenet_opset13.onnx, vector", "lenet, lenet_opset15.onnx, vector",
        "attention, attention.onnx, vector", "attention, attention.onnx, scalar",
        "attention, attention_opset18.onnx, vector",
        "activations, activations.onnx, vector", "activations, activations.onnx, scalar",
        "pads_order, pads_order.onnx, vector",
        "gelu_tanh, gelu_tanh.onnx, vector", "gelu_tanh, gelu_tanh.onnx, scalar",
    })
    void productsMatchPyTorchFloat64(String name, String file, String backend) {
        OnnxModel m = OnnxModel.load(fixture(file));
        Graph g = m.graph();
        try (Arena arena = Arena.ofShared();
             Backend be = backend.equals("scalar") ? new ScalarBackend() : new VectorBackend(2)) {
            Map<String, NpyArray> ref = Npz.read(fixture(name + ".npz"), arena);
            List<String> names = g.parameters().stream().map(Value::name).toList();
            long refCount = ref.keySet().stream().filter(k -> k.startsWith("p.")).count();
            assertEquals(refCount, names.size(), "parameters " + names);
            // The file's values are the state_dict's, by name (float32 widened exactly).
            assertArrayEquals(flat(g, ref, "p"), m.parameters(), 0.0);
            Dataset data = data(g, ref, arena, name);
            int n = data.size();
            int P = g.parameterCount();
            try (GraphObjective f = new GraphObjective(g, Loss.CE, Loss.Reduction.MEAN, data, be, DType.F64, n, 1)) {
                f.setParameters(Tensor.of(arena, DType.F64, P, 1, m.parameters()));
                Tensor grad = Tensor.allocate(arena, DType.F64, P, 1);
                double loss = f.gradient(grad);
                assertEquals(ref.get("loss").getDouble(0), loss, 1e-12 * Math.abs(loss), "loss");
                double e = relErr(grad.toDoubleArray(), flat(g, ref, "grad"));
                assertTrue(e <= 1e-10, "gradient rel err " + e);
                Tensor v = Tensor.of(arena, DType.F64, P, 1, flat(g, ref, "v"));
                for (Curvature c : Curvature.values()) {
                    String key = switch (c) {
                        case HESSIAN -> "hvp";
                        case GAUSS_NEWTON -> "ggn";
                        case FUNCTIONAL -> "functional";
                    };
                    Tensor out = Tensor.allocate(arena, DType.F64, P, 1);
                    f.apply(c, null, v, out);
                    double err = relErr(out.toDoubleArray(), flat(g, ref, key));
                    assertTrue(err <= 1e-10, key + " rel err " + err);
                }
            }
        }
    }
}

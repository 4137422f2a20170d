package io.hvp4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.InvalidInputException;
import io.hvp4j.api.Session;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.io.NpyArray;
import io.hvp4j.io.Npz;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code Session.builder().model("file.onnx")}: the exported network with its own weights, checked against the
 * fixture's PyTorch float64 loss, gradient and H·v (tolerances as in {@link OnnxReferenceTest}: the same float64
 * computation, different summation orders).
 */
class OnnxSessionTest {
    @Test
    void sessionOnAnOnnxFileMatchesPyTorch() {
        Path file = OnnxReferenceTest.fixture("lenet.onnx");
        Graph g = OnnxModel.load(file).graph();
        try (Arena arena = Arena.ofShared()) {
            Map<String, NpyArray> ref = Npz.read(OnnxReferenceTest.fixture("lenet.npz"), arena);
            Dataset data = OnnxReferenceTest.data(g, ref, arena, "lenet");
            try (Session s = Session.builder().model(file.toString()).data(data).threads(2).open()) {
                assertEquals(g.parameterCount(), s.parameterCount());
                // The file's weights are the default parameters.
                assertArrayEquals(OnnxReferenceTest.flat(g, ref, "p"), s.objective().parameters().toDoubleArray(),
                        0.0);
                double loss = ref.get("loss").getDouble(0);
                assertEquals(loss, s.loss(), 1e-12 * Math.abs(loss), "loss");
                double e = OnnxReferenceTest.relErr(s.gradient(), OnnxReferenceTest.flat(g, ref, "grad"));
                assertTrue(e <= 1e-10, "gradient rel err " + e);
                double[] hv = s.hvp(OnnxReferenceTest.flat(g, ref, "v"));
                double h = OnnxReferenceTest.relErr(hv, OnnxReferenceTest.flat(g, ref, "hvp"));
                assertTrue(h <= 1e-10, "H·v rel err " + h);
            }
        }
    }

    @Test
    void aMissingOnnxFileIsOneClearError() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Session.builder().model("no/such/net.onnx"));
        assertTrue(e.getMessage().contains("no/such/net.onnx"), e.getMessage());
    }
}

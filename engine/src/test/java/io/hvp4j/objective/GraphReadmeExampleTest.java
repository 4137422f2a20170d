package io.hvp4j.objective;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.GraphBuilder;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.PowerIteration;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's graph example, verbatim between the markers, so that it stays true. */
class GraphReadmeExampleTest {
    @Test
    void readmeExampleRuns() throws IOException {
        // README snippet start
        GraphBuilder b = new GraphBuilder();
        Graph.Value x = b.input("x", 1, 28, 28);
        Graph.Value h = b.activation(b.conv2d("conv1", x, 6, 5, 1, 2, 1, 1, true), Activation.TANH); // conv1.weight, .bias
        h = b.linear("fc", b.flatten(b.avgPool2d(h, 2, 2)), 10, true);                               // fc.weight, .bias
        Graph net = b.build(h);
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2);
             GraphObjective f = new GraphObjective(net, Loss.CE, Loss.Reduction.MEAN,
                     Dataset.gaussian(arena, DType.F64, 64, net.inputSize(), 10, Loss.CE, 1), be, DType.F64, 64, 16)) {
            f.setParameters(Tensor.of(arena, DType.F64, net.parameterCount(), 1, net.initialParameters(0)));
            int p = net.parameterCount();                                     // 11,926
            Tensor v = Tensor.allocate(arena, DType.F64, p, 1), hv = Tensor.allocate(arena, DType.F64, p, 1);
            v.set(0, 1);
            f.apply(Curvature.HESSIAN, null, v, hv);                          // all parameters
            ParameterGroup conv = f.select("conv1");                          // a module, a name or a glob ('layers.0.*')
            double top = PowerIteration.compute(Operators.curvature(f, Curvature.HESSIAN, conv), 1, 7) // dominant
                    .pairs().get(0).value();
        }
        // README snippet end
        assertEquals(11_926, net.parameterCount());
    }

    @Test
    void readmeHoldsThisSnippet() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        String me = Files.readString(Path.of("src/test/java/io/hvp4j/objective/GraphReadmeExampleTest.java"));
        String code = me.substring(me.indexOf("// README snippet start") + 24, me.indexOf("        // README snippet end"));
        StringBuilder plain = new StringBuilder();
        for (String line : code.split("\n")) {
            plain.append(line.length() >= 8 ? line.substring(8) : line.strip()).append('\n');
        }
        assertTrue(readme.contains(plain.toString()), "README's graph example differs from the tested copy");
    }
}

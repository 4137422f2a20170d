package io.hvp4j.objective;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.graph.GraphBuilder;
import io.hvp4j.graph.Models;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.SymmetricOperator;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A graph objective over a data set: batching, module groups, selections, and the spectral operators on it. */
class GraphObjectiveTest {
    static Graph tinyCnn() {
        GraphBuilder b = new GraphBuilder();
        Value x = b.input("x", 1, 6, 6);
        Value h = b.activation(b.conv2d("features.0", x, 3, 3, 1, 1, 1, 1, true), Activation.TANH);
        h = b.batchNorm("features.1", h, 1e-5, null, null);
        h = b.avgPool2d(h, 2, 2);
        return b.build(b.linear("head", b.flatten(h), 4, true));
    }

    private static double maxDiff(Tensor a, Tensor b) {
        double m = 0;
        for (long i = 0; i < a.size(); i++) {
            m = Math.max(m, Math.abs(a.get(i) - b.get(i)));
        }
        return m;
    }

    @Test
    void batchesAddUpAndGroupsAreModules() {
        Graph g = tinyCnn();
        try (Arena arena = Arena.ofShared(); VectorBackend be = new VectorBackend(2)) {
            Dataset data = Dataset.gaussian(arena, DType.F64, 10, g.inputSize(), 4, Loss.CE, 3);
            Tensor theta = Tensor.of(arena, DType.F64, g.parameterCount(), 1, g.initialParameters(1));
            try (GraphObjective one = new GraphObjective(g, Loss.CE, Loss.Reduction.MEAN, data, be, DType.F64, 10, 3);
                 GraphObjective three = new GraphObjective(g, Loss.CE, Loss.Reduction.MEAN, data, be, DType.F64, 4, 3)) {
                one.setParameters(theta);
                three.setParameters(theta);
                assertEquals(1, one.batches());
                assertEquals(3, three.batches());
                int P = g.parameterCount();
                Tensor g1 = Tensor.allocate(arena, DType.F64, P, 1), g3 = Tensor.allocate(arena, DType.F64, P, 1);
                assertEquals(one.gradient(g1), three.gradient(g3), 1e-14);
                assertTrue(maxDiff(g1, g3) < 1e-14);
                Tensor v = Tensor.allocate(arena, DType.F64, P, 3);
                SplittableRandom r = new SplittableRandom(2);
                for (long i = 0; i < v.size(); i++) {
                    v.set(i, r.nextGaussian());
                }
                Tensor o1 = Tensor.allocate(arena, DType.F64, P, 3), o3 = Tensor.allocate(arena, DType.F64, P, 3);
                one.apply(Curvature.HESSIAN, null, v, o1);
                three.apply(Curvature.HESSIAN, null, v, o3);
                // Sums of the same terms in another grouping: rounding only.
                assertTrue(maxDiff(o1, o3) < 1e-13, "one batch vs three: " + maxDiff(o1, o3));
                // The third-order pass over batches: also the sum of the batches' terms.
                Tensor v1 = v.view(0, P, 1).reshape(P, 1);
                Tensor u = Tensor.allocate(arena, DType.F64, P, 1);
                u.copyFrom(v1);
                Tensor h1 = Tensor.allocate(arena, DType.F64, P, 1), h3 = Tensor.allocate(arena, DType.F64, P, 1);
                Tensor t1 = Tensor.allocate(arena, DType.F64, P, 1), t3 = Tensor.allocate(arena, DType.F64, P, 1);
                double q1 = one.thirdOrder(u, h1, t1), q3 = three.thirdOrder(u, h3, t3);
                assertEquals(q1, q3, 1e-13 * Math.abs(q1));
                assertTrue(maxDiff(t1, t3) < 1e-13, "third order, one batch vs three: " + maxDiff(t1, t3));
                Tensor hu = Tensor.allocate(arena, DType.F64, P, 1);
                one.apply(Curvature.HESSIAN, null, u, hu);
                assertTrue(maxDiff(h1, hu) < 1e-14, "the pass's H·v is the product");
                List<String> names = one.groups().stream().map(ParameterGroup::name).toList();
                assertEquals(List.of("features.0", "features.1", "head"), names);
                ParameterGroup sel = one.select("features.*");
                assertEquals(one.groups().get(0).size() + one.groups().get(1).size(), sel.size());
                assertEquals(sel.size(), one.select("features").size());
                assertThrows(InvalidInputException.class, () -> one.select("nope*"));
                // The layerwise operator is the sub-block of the full one.
                SymmetricOperator full = Operators.curvature(one, Curvature.GAUSS_NEWTON, null);
                ParameterGroup head = one.groups().get(2);
                SymmetricOperator block = Operators.curvature(one, Curvature.GAUSS_NEWTON, head);
                assertEquals("H_O (head)", block.description());
                Tensor e = Tensor.allocate(arena, DType.F64, P, 1), col = Tensor.allocate(arena, DType.F64, P, 1);
                Tensor eh = Tensor.allocate(arena, DType.F64, head.size(), 1);
                Tensor colh = Tensor.allocate(arena, DType.F64, head.size(), 1);
                e.set(head.offset() + 2, 1);
                eh.set(2, 1);
                full.apply(e, col);
                block.apply(eh, colh);
                for (int i = 0; i < head.size(); i++) {
                    assertEquals(col.get(head.offset() + i), colh.get(i), 1e-14);
                }
            }
        }
    }

    @Test
    void builtInModelsHaveTheirPyTorchParameterCounts() {
        assertEquals(61_706, Models.lenet5(10).parameterCount());
        assertEquals(14_650, Models.resnet8(16, 10, true, true).parameterCount());
        assertEquals("layers.2.bn2.bias", Models.byName("resnet8", 10).parameters().get(20).name());
        assertThrows(InvalidInputException.class, () -> Models.byName("vgg99", 10));
        Graph g = Models.lenet5(10);
        try (Arena arena = Arena.ofShared(); VectorBackend be = new VectorBackend(2)) {
            Dataset wrong = Dataset.gaussian(arena, DType.F32, 4, 10, 10, Loss.CE, 1);
            assertThrows(InvalidInputException.class,
                    () -> new GraphObjective(g, Loss.CE, Loss.Reduction.MEAN, wrong, be, DType.F32, 4, 1));
        }
    }
}

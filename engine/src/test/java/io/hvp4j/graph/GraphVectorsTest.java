package io.hvp4j.graph;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.io.SafeTensors;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Name-keyed vector files: round trips of one and several vectors, and refusals naming the key. */
class GraphVectorsTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsAndRefusesMissingOrExtraNames() {
        Graph g = Models.lenet5(10);
        List<Value> ps = g.parameters();
        int P = g.parameterCount();
        try (Arena arena = Arena.ofConfined()) {
            for (int k : new int[] {1, 3}) {
                Tensor v = Tensor.allocate(arena, DType.F64, P, k);
                for (long i = 0; i < v.size(); i++) {
                    v.set(i, i * 0.5 - 7);
                }
                Path f = dir.resolve("v" + k + ".safetensors");
                GraphVectors.write(f, ps, v, false);
                try (Arena r = Arena.ofConfined()) {
                    SafeTensors s = SafeTensors.read(f, r);
                    assertArrayEquals(k == 1 ? new long[] {6, 1, 5, 5} : new long[] {3, 6, 1, 5, 5},
                            s.shape("conv1.weight"));
                    // Vector 1 of conv1.bias, element 2: row offset(1) + 2 of column 1.
                    if (k == 3) {
                        assertEquals(v.get((int) g.offset(1) + 2, 1), s.tensor("conv1.bias", DType.F64).get(6 + 2));
                    }
                }
                Tensor back = GraphVectors.read(f, ps, DType.F64, arena);
                assertEquals(k, back.cols());
                assertArrayEquals(v.toDoubleArray(), back.toDoubleArray());
            }
            // The block of one module: its own parameters only.
            List<Value> fc3 = List.of(g.value("fc3.weight"), g.value("fc3.bias"));
            Path all = dir.resolve("v1.safetensors");
            InvalidInputException extra = assertThrows(InvalidInputException.class,
                    () -> GraphVectors.read(all, fc3, DType.F64, arena));
            assertTrue(extra.getMessage().contains("'conv1.weight' is not a parameter"), extra.getMessage());
            Map<String, Tensor> only = new LinkedHashMap<>();
            only.put("fc3.weight", Tensor.allocate(arena, DType.F32, 10, 84));
            Path part = dir.resolve("part.safetensors");
            SafeTensors.write(part, only);
            InvalidInputException missing = assertThrows(InvalidInputException.class,
                    () -> GraphVectors.read(part, fc3, DType.F64, arena));
            assertTrue(missing.getMessage().contains("no tensor 'fc3.bias'"), missing.getMessage());
            only.put("fc3.bias", Tensor.allocate(arena, DType.F32, 1, 9));
            SafeTensors.write(part, only, Map.of("fc3.bias", new long[] {9}));
            InvalidInputException shape = assertThrows(InvalidInputException.class,
                    () -> GraphVectors.read(part, fc3, DType.F64, arena));
            assertTrue(shape.getMessage().contains("'fc3.bias' has shape [9]"), shape.getMessage());
        }
    }
}

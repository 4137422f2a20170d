package io.hvp4j.onnx;

import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.ScalarBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.io.FuzzLoop;
import io.hvp4j.io.Mutator;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.GraphObjective;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutation fuzzing of the ONNX reader and importer, seeded with the exported fixtures: every mutant either
 * imports (and then a small model also runs a gradient) or fails with a one-line InvalidInputException.
 */
class OnnxFuzzTest {
    private static final int ITERATIONS = 1000;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void mutatedModelsImportOrFailCleanly() throws IOException {
        List<byte[]> seeds = new ArrayList<>();
        for (String f : new String[] {"cnn_bn_res.onnx", "lenet.onnx", "attention.onnx", "activations.onnx"}) {
            seeds.add(Files.readAllBytes(OnnxReferenceTest.fixture(f)));
        }
        Mutator m = new Mutator(0x5eed_0020L);
        int[] ran = new int[1];
        FuzzLoop.Counts c = FuzzLoop.run(ITERATIONS, m, seeds, dir.resolve("fuzz.onnx"),
                (seed, it) -> m.mutate(seed, seed.length, 0, 0), (p, it) -> {
                    Graph g = OnnxModel.load(p).graph();
                    if (g.parameterCount() > 100_000 || g.inputSize() > 10_000 || g.outputSize() < 2
                            || g.outputSize() > 1000) {
                        return;
                    }
                    try (Arena arena = Arena.ofConfined(); ScalarBackend be = new ScalarBackend()) {
                        Dataset data = Dataset.gaussian(arena, DType.F64, 2, g.inputSize(), g.outputSize(),
                                Loss.CE, it);
                        try (GraphObjective f = new GraphObjective(g, Loss.CE, Loss.Reduction.MEAN, data, be,
                                DType.F64, 2, 1)) {
                            f.setParameters(Tensor.of(arena, DType.F64, g.parameterCount(), 1,
                                    OnnxModel.load(p).parameters()));
                            f.gradient(Tensor.allocate(arena, DType.F64, g.parameterCount(), 1));
                            ran[0]++;
                        }
                    }
                });
        assertTrue(c.rejected() > ITERATIONS / 10, "too few mutants refused: " + c);
        assertTrue(ran[0] > 0, "no mutant imported and ran: " + c);
    }
}

package io.hvp4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.autodiff.Activation;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class GaussianClustersTest {
    @Test
    void shapesLabelsSeparationAndDeterminism() {
        try (Arena arena = Arena.ofConfined()) {
            GaussianClusters.Spec spec = new GaussianClusters.Spec(4, 20, 3.0, 500);
            Dataset d = GaussianClusters.generate(arena, DType.F64, spec, 7);
            assertEquals(2000, d.size());
            assertEquals(20, d.inputDimension());
            assertEquals(4, d.outputDimension());
            for (int c = 0; c < 4; c++) {
                // Cluster means estimate the centres (norm 3) with noise ~ sqrt(20/500) = 0.2 in norm.
                double[] mean = new double[20];
                for (int i = c * 500; i < (c + 1) * 500; i++) {
                    assertEquals(1.0, d.targets().get(i, c));
                    for (int j = 0; j < 20; j++) mean[j] += d.inputs().get(i, j) / 500;
                }
                double norm = 0;
                for (double m : mean) norm += m * m;
                assertEquals(3.0, Math.sqrt(norm), 0.15, "cluster " + c);
                // Within-cluster variance per coordinate is 1.
                double var = 0;
                for (int i = c * 500; i < (c + 1) * 500; i++) {
                    for (int j = 0; j < 20; j++) var += Math.pow(d.inputs().get(i, j) - mean[j], 2) / (500.0 * 20);
                }
                assertEquals(1.0, var, 0.05);
            }
            Dataset again = GaussianClusters.generate(arena, DType.F64, spec, 7);
            assertArrayEquals(d.inputs().toDoubleArray(), again.inputs().toDoubleArray(), 0);
            assertThrows(InvalidInputException.class, () -> new GaussianClusters.Spec(0, 2, 1, 1));
            assertThrows(InvalidInputException.class, () -> new GaussianClusters.Spec(2, 2, Double.NaN, 1));
        }
    }

    @Test
    void biasInitOption() {
        Mlp mlp = new Mlp(new int[] {20, 400, 3}, Activation.RELU, true);
        double[] zero = Initializer.GLOROT_NORMAL.initialize(mlp, 5);
        double[] withBias = Initializer.GLOROT_NORMAL.initialize(mlp, 5, 0.1);
        double ss = 0;
        for (int l = 0; l < 2; l++) {
            for (int i = 0; i < mlp.width(l) * mlp.width(l + 1); i++) {
                assertEquals(zero[mlp.weightOffset(l) + i], withBias[mlp.weightOffset(l) + i], 0.0);
            }
            for (int i = 0; i < mlp.width(l + 1); i++) {
                assertEquals(0.0, zero[mlp.biasOffset(l) + i]);
                ss += withBias[mlp.biasOffset(l) + i] * withBias[mlp.biasOffset(l) + i];
            }
        }
        assertEquals(0.1, Math.sqrt(ss / 403), 0.012);
    }
}

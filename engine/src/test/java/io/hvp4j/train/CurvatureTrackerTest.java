package io.hvp4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.data.GaussianClusters;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.spectral.DenseAssembly;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.SymmetricEigen;
import java.lang.foreign.Arena;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class CurvatureTrackerTest {
    @Test
    void exactTracesPartitionAndLambdaMaxMatchesDenseEigenvalues() {
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
            Mlp mlp = new Mlp(new int[] {5, 7, 6, 3}, Activation.TANH, false);
            Dataset d = GaussianClusters.generate(arena, DType.F64, new GaussianClusters.Spec(3, 5, 2, 6), 1);
            try (MlpObjective f = new MlpObjective(mlp, Loss.CE, Loss.Reduction.MEAN, d, be, DType.F64, 18, 8)) {
                double[] theta = Initializer.GLOROT_NORMAL.initialize(mlp, 2);
                f.setParameters(Tensor.of(arena, DType.F64, theta.length, 1, theta));
                CurvatureTracker.Measurement m = CurvatureTracker.measure(f, EnumSet.of(
                        CurvatureTracker.Quantity.LAMBDA_MAX, CurvatureTracker.Quantity.TRACE,
                        CurvatureTracker.Quantity.LAYERWISE), 0, 3);
                double sum = 0;
                for (double t : m.layerTrace()) sum += t;
                // Without biases the weight blocks partition all parameters.
                assertEquals(m.trace(), sum, 1e-12 * Math.abs(m.trace()));
                double[] eig = SymmetricEigen.select(null).decomposeInPlace(DenseAssembly.assemble(
                        Operators.curvature(f, Curvature.HESSIAN, -1), arena).matrix(), false);
                assertEquals(eig[eig.length - 1], m.lambdaMax(), 1e-8 * Math.abs(eig[eig.length - 1]));
                double[] eig1 = SymmetricEigen.select(null).decomposeInPlace(DenseAssembly.assemble(
                        Operators.curvature(f, Curvature.HESSIAN, 1), arena).matrix(), false);
                assertEquals(eig1[eig1.length - 1], m.layerLambdaMax()[1], 1e-8 * Math.abs(eig1[eig1.length - 1]));
                assertNull(m.spectrum());
            }
        }
    }

    @Test
    void parsing() {
        assertEquals(EnumSet.of(CurvatureTracker.Quantity.LAMBDA_MAX, CurvatureTracker.Quantity.SPECTRUM),
                CurvatureTracker.Quantity.parseList("lambda-max, spectrum"));
        assertThrows(InvalidInputException.class, () -> CurvatureTracker.Quantity.parseList("lambda,trace"));
    }
}

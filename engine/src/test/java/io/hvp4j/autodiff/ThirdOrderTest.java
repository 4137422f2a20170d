package io.hvp4j.autodiff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.backend.Backend;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The gradient of the Hessian-trace penalty, {@code D³L[v, v, ·] = ∇(vᵀHv)}, computed by the Taylor-mode pass,
 * against the central difference of exact HVPs {@code (H(θ+εv)v − H(θ−εv)v)/(2ε)} in f64 (spec K5: relative error
 * ≤ 1e−6 with ε = 1e−4·‖θ‖/‖v‖; the truncation error is O(ε²), the rounding error ~1e−16/ε relative).
 */
class ThirdOrderTest {
    static double norm(double[] a) {
        double s = 0;
        for (double x : a) s += x * x;
        return Math.sqrt(s);
    }

    /** Relative error of the third-order gradient against central differences of HVPs, for one problem. */
    static double error(Fixtures.Problem pr, Backend be, int batch, long seed) {
        try (Arena arena = Arena.ofConfined(); MlpObjective f = pr.objective(be, DType.F64, arena, batch, 1)) {
            int p = f.parameterCount();
            double[] v = Fixtures.randomVector(p, seed);
            double eps = 1e-4 * norm(pr.theta()) / norm(v);
            Tensor vt = Tensor.of(arena, DType.F64, p, 1, v);
            Tensor hv = Tensor.allocate(arena, DType.F64, p, 1), d3 = Tensor.allocate(arena, DType.F64, p, 1);
            double quad = f.thirdOrder(vt, hv, d3);
            Tensor ref = Tensor.allocate(arena, DType.F64, p, 1);
            f.apply(Curvature.HESSIAN, -1, vt, ref);
            assertEquals(0, Fixtures.relativeError(hv.toDoubleArray(), ref.toDoubleArray()), 1e-13, "H·v of the third-order pass");
            double vhv = 0;
            for (int i = 0; i < p; i++) vhv += v[i] * ref.get(i);
            assertEquals(vhv, quad, 1e-12 * Math.abs(vhv) + 1e-300, "vᵀHv");
            double[] fd = new double[p];
            for (int sign = -1; sign <= 1; sign += 2) {
                double[] th = pr.theta().clone();
                for (int i = 0; i < p; i++) th[i] += sign * eps * v[i];
                f.setParameters(Tensor.of(arena, DType.F64, p, 1, th));
                f.apply(Curvature.HESSIAN, -1, vt, ref);
                for (int i = 0; i < p; i++) fd[i] += sign * ref.get(i) / (2 * eps);
            }
            return Fixtures.relativeError(d3.toDoubleArray(), fd);
        }
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    void everyActivationAgainstCentralDifferences(Loss loss) {
        try (Arena arena = Arena.ofConfined(); Backend be = Backends.create("vector")) {
            for (Activation act : Activation.values()) {
                Fixtures.Problem pr = Fixtures.problem(arena, new int[] {4, 6, 5, 3}, act, true, loss, 7, 11);
                double err = error(pr, be, 7, 5);
                assertTrue(err <= 1e-6, act + "/" + loss + ": relative error " + err);
            }
        }
    }

    @Test
    void batchesScalarBackendAndNoBias() {
        try (Arena arena = Arena.ofConfined(); Backend be = Backends.create("scalar")) {
            Fixtures.Problem pr = Fixtures.problem(arena, new int[] {3, 5, 4}, Activation.TANH, false, Loss.CE, 9, 3);
            double err = error(pr, be, 4, 8);
            assertTrue(err <= 1e-6, "relative error " + err);
        }
    }

    @Test
    void thirdDerivativesOfActivationsAgainstDifferencesOfSecond() {
        for (Activation act : Activation.values()) {
            for (double z : new double[] {-2.3, -0.7, 0.4, 1.9}) {
                double h = 1e-5;
                double fd = (act.d2(z + h) - act.d2(z - h)) / (2 * h);
                assertEquals(fd, act.d3(z), 1e-8 * Math.max(1, Math.abs(fd)), act + " at " + z);
            }
        }
    }
}

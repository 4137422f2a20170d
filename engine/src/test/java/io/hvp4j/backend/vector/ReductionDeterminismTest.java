package io.hvp4j.backend.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The same reduction gives the same bits whether the Vector API runs interpreted (the first calls) or compiled
 * by C2 (after some thousands): with {@code reduceLanes(ADD)} the two forms added the lanes in different orders.
 */
class ReductionDeterminismTest {
    @Test
    void dotSumAndNormKeepTheirBitsAcrossJitCompilation() {
        SplittableRandom r = new SplittableRandom(3);
        try (Arena arena = Arena.ofConfined(); VectorBackend be = new VectorBackend(1)) {
            for (DType dt : DType.values()) {
                int n = 67;
                double[] a = new double[n], b = new double[n];
                for (int i = 0; i < n; i++) {
                    a[i] = r.nextGaussian() * Math.exp(4 * r.nextGaussian());
                    b[i] = r.nextGaussian();
                }
                Tensor x = Tensor.of(arena, dt, 1, n, a), y = Tensor.of(arena, dt, 1, n, b);
                double dot = be.dot(x, y), sum = be.sum(x), nrm = be.nrm2(x);
                for (int rep = 0; rep < 40_000; rep++) {
                    assertEquals(Double.doubleToRawLongBits(dot), Double.doubleToRawLongBits(be.dot(x, y)),
                            dt + " dot, call " + rep);
                    assertEquals(Double.doubleToRawLongBits(sum), Double.doubleToRawLongBits(be.sum(x)),
                            dt + " sum, call " + rep);
                    assertEquals(Double.doubleToRawLongBits(nrm), Double.doubleToRawLongBits(be.nrm2(x)),
                            dt + " nrm2, call " + rep);
                }
            }
        }
    }
}

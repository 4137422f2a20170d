package io.hvp4j.data;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/**
 * Probability rows for cross-entropy must sum to 1 to their dtype's rounding: PyTorch multiplies the row's
 * log-sum-exp by its sum, so a row off by δ would change every product by about δ relative.
 */
class CrossEntropyTargetsTest {
    @Test
    void rowsOffByMoreThanRoundingAreRefusedWithTheFix() {
        try (Arena arena = Arena.ofConfined()) {
            // float32 softmax rows stored as float64: off by about 1e-8, which PyTorch's loss would see.
            Tensor off = Tensor.of(arena, DType.F64, 1, 3, new double[] {0.2, 0.3, 0.5 + 1e-8});
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> Dataset.requireProbabilities(off, "y.npy"));
            assertTrue(e.getMessage().contains("y.npy: ce target row 0 sums to") && e.getMessage().contains("normalise"),
                    e.getMessage());
            Dataset.requireProbabilities(Tensor.of(arena, DType.F64, 1, 3, new double[] {0.1, 0.2, 0.7}), "ok");
            // The same rows in float32 (each value rounded): within float32 rounding, accepted.
            Dataset.requireProbabilities(Tensor.of(arena, DType.F32, 1, 3, new double[] {0.1, 0.2, 0.7}), "ok");
            Dataset.requireProbabilities(Tensor.of(arena, DType.F32, 1, 3, new double[] {0.2, 0.3, 0.5 + 1e-8}), "ok");
            assertThrows(InvalidInputException.class, () -> Dataset.requireProbabilities(
                    Tensor.of(arena, DType.F32, 1, 3, new double[] {0.2, 0.3, 0.5001}), "y"));
            assertThrows(InvalidInputException.class, () -> Dataset.requireProbabilities(
                    Tensor.of(arena, DType.F64, 1, 2, new double[] {Double.NaN, 1}), "y"));
        }
    }
}

package io.hvp4j.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hvp4j.io.Npy;
import io.hvp4j.memory.DType;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A session reads image inputs in the model's layout, (N, C, H, W), as the command line does, or flattened. */
class SessionDataFilesTest {
    @Test
    void imagesInTheModelsLayoutEqualFlattenedRows(@TempDir Path dir) {
        int n = 4, d = 28 * 28, k = 10;
        SplittableRandom r = new SplittableRandom(2);
        double[] x = new double[n * d], y = new double[n * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextGaussian();
        }
        for (int i = 0; i < n; i++) {
            y[i * k + r.nextInt(k)] = 1;
        }
        Path images = dir.resolve("x4.npy"), rows = dir.resolve("x2.npy"), targets = dir.resolve("y.npy");
        Npy.write(images, x, new long[] {n, 1, 28, 28}, DType.F64);
        Npy.write(rows, x, new long[] {n, d}, DType.F64);
        Npy.write(targets, y, new long[] {n, k}, DType.F64);
        try (Session a = Session.builder().model("lenet5").data(images, targets).threads(1).open();
             Session b = Session.builder().model("lenet5").data(rows, targets).threads(1).open()) {
            assertEquals(b.loss(), a.loss());
            assertArrayEquals(b.gradient(), a.gradient());
        }
    }
}

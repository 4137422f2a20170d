package io.hvp4j.spectral;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.backend.Backend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.io.FuzzLoop;
import io.hvp4j.io.Mutator;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutation fuzzing of randomized-rank checkpoints: a damaged checkpoint is refused with InvalidInputException, or
 * (when the mutation leaves it intact) resumed to the bits of an uninterrupted run. Half of the mutants get their
 * CRC-32C recomputed, so that the size checks behind the checksum see them too; those may also resume to another
 * result, but never end in any other exception.
 */
class RandomizedRankCheckpointFuzzTest {
    private static final int ITERATIONS = 2000;

    @TempDir
    Path dir;

    /** A symmetric matrix of rank {@code r} (sum of r random rank-one terms). */
    static double[][] lowRank(int n, int r, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] a = new double[n][n];
        for (int k = 0; k < r; k++) {
            double[] u = new double[n];
            for (int i = 0; i < n; i++) u[i] = Nets.gaussian(rng);
            double s = k % 2 == 0 ? 1 + k : -1 - k;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) a[i][j] += s * u[i] * u[j];
            }
        }
        return a;
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS) // a hang in a reader fails instead of stalling CI
    void damagedCheckpointsAreRefusedOrResumeExactly() throws IOException {
        SymmetricOperator op = Operators.dense(lowRank(16, 7, 3));
        try (Backend be = new VectorBackend(1)) {
            double[] reference = RandomizedRank.compute(op, be, new RandomizedRank.Options().block(2)).eigenvalues();
            Path ck = dir.resolve("rr.ckpt");
            RuntimeException stop = new RuntimeException("killed");
            int[] updates = {0};
            assertSame(stop, assertThrows(RuntimeException.class, () -> RandomizedRank.compute(op, be,
                    new RandomizedRank.Options().block(2).checkpoint(ck, 0, "fuzz").progress(RandomizedRankTest.staged((stage, d, t) -> {
                        if (stage.equals("basis") && ++updates[0] == 2) {
                            throw stop;
                        }
                    })))));
            byte[] seed = Files.readAllBytes(ck);
            Mutator m = new Mutator(0x5eed_0008L);
            boolean[] forged = new boolean[1];
            // The header (magic, fingerprint, sizes, residuals, T's block shapes) comes first; the int after the
            // fingerprint is m, the basis size.
            int header = 8 + 2 + (seed[8] << 8 | seed[9] & 0xFF);
            FuzzLoop.Counts c = FuzzLoop.run(ITERATIONS, m, List.of(seed), ck, (s, it) -> {
                byte[] b = m.mutate(s, Math.min(s.length, header + 200), 0, 0);
                forged[0] = it % 2 == 1;
                return forged[0] ? Mutator.withCrc32c(b, b.length - 8, ByteOrder.BIG_ENDIAN) : b;
            }, (p, it) -> {
                byte[] b = Files.readAllBytes(p);
                RandomizedRank.Result r = RandomizedRank.compute(op, be,
                        new RandomizedRank.Options().block(2).checkpoint(p, 0, "fuzz"));
                if (!forged[0]) {
                    assertTrue(java.util.Arrays.equals(seed, b), "a damaged checkpoint was resumed");
                    assertArrayEquals(reference, r.eigenvalues(), 0.0, "iteration " + it);
                }
            });
            assertTrue(c.rejected() > ITERATIONS * 3 / 4, "too few mutants refused: " + c);
            assertTrue(c.ok() > ITERATIONS / 100, "too few mutants resumed: " + c);
        }
    }
}

package io.hvp4j.io;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.util.concurrent.TimeUnit;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mutation fuzzing of the npz reader: every input either reads or fails with InvalidInputException. */
class NpzFuzzTest {
    private static final int ITERATIONS = 3000;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS) // a hang in a reader fails instead of stalling CI
    void mutatedArchivesReadOrFailCleanly() throws IOException {
        List<byte[]> seeds = List.of(
                Files.readAllBytes(NpzTest.resource(dir, "numpy_savez.npz")),
                Files.readAllBytes(NpzTest.resource(dir, "numpy_savez_compressed.npz")));
        Mutator m = new Mutator(0x5eed_0003L);
        FuzzLoop.Counts c = FuzzLoop.run(ITERATIONS, m, seeds, dir.resolve("fuzz.npz"), (seed, it) -> {
            // The whole archive counts as "header"; the length field edited is one of the first central
            // directory record's size fields: compressed size, size, local header offset.
            int cen = NpzTest.indexOf(seed, new byte[] {'P', 'K', 1, 2});
            return m.mutate(seed, seed.length, cen + new int[] {20, 24, 42}[m.random().nextInt(3)], 4);
        }, (p, it) -> {
            try (Arena arena = Arena.ofConfined()) {
                for (NpyArray x : Npz.read(p, arena).values()) {
                    try {
                        if (x.rank() == 1 && !x.type().isFloat()) {
                            Npy.toLabels(x, "fuzz");
                        } else {
                            Npy.toMatrix(x, arena, DType.F32, "fuzz");
                        }
                    } catch (InvalidInputException e) {
                        FuzzLoop.requireOneLine(e);
                    }
                }
            }
        });
        assertTrue(c.ok() > ITERATIONS / 100, "too few mutants read successfully: " + c);
        assertTrue(c.rejected() > ITERATIONS / 2, "too few mutants rejected: " + c);
    }
}

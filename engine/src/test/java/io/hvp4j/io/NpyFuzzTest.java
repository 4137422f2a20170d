package io.hvp4j.io;

import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.util.concurrent.TimeUnit;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mutation fuzzing of the npy reader: every input either reads or fails with InvalidInputException. */
class NpyFuzzTest {
    private static final int ITERATIONS = 3000;

    @TempDir
    Path dir;

    private List<byte[]> seeds() throws IOException {
        List<byte[]> seeds = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            Path p = dir.resolve("seed.npy");
            Npy.write(p, Tensor.of(arena, DType.F64, 2, 3, new double[] {1, 2, 3, 4, 5, 6}), false);
            seeds.add(Files.readAllBytes(p));
            Npy.write(p, Tensor.of(arena, DType.F32, 3, 1, new double[] {1, 2, 3}), true);
            seeds.add(Files.readAllBytes(p));
            Npy.write(p, new long[] {0, 1, 2, 1}, new long[] {4});
            seeds.add(Files.readAllBytes(p));
            Npy.write(p, new double[] {3}, new long[0], DType.F64);
            seeds.add(Files.readAllBytes(p));
        }
        seeds.add(NpyTest.npy(2, NpyTest.dict("<f4", "(2, 2)"), NpyTest.f32(1, 2, 3, 4)));
        seeds.add(NpyTest.npy(3, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 2), }\n",
                NpyTest.f64(1, 2)));
        return seeds;
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS) // a hang in a reader fails instead of stalling CI
    void mutatedFilesReadOrFailCleanly() throws IOException {
        List<byte[]> seeds = seeds();
        Mutator m = new Mutator(0x5eed_0001L);
        FuzzLoop.Counts c = FuzzLoop.run(ITERATIONS, m, seeds, dir.resolve("fuzz.npy"), (seed, it) -> {
            boolean v1 = seed[6] == 1;
            return m.mutate(seed, Math.min(seed.length, 128 + 12), 8, v1 ? 2 : 4);
        }, (p, it) -> {
            try (Arena arena = Arena.ofConfined()) {
                switch (it % 4) {
                    case 0 -> {
                        NpyArray a = Npy.read(p, arena);
                        for (long i = 0; i < a.size(); i++) {
                            a.getDouble(i);
                        }
                    }
                    case 1 -> Npy.readMatrix(p, arena, DType.F64, "fuzz");
                    case 2 -> Npy.readMatrix(p, arena, DType.F32, "fuzz");
                    default -> Npy.readLabels(p);
                }
            }
        });
        int ok = c.ok();
        int rejected = c.rejected();
        assertTrue(ok > ITERATIONS / 50, "too few mutants read successfully: " + ok);
        assertTrue(rejected > ITERATIONS / 2, "too few mutants rejected: " + rejected);
    }
}

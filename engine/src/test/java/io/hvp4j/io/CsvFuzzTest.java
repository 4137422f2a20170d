package io.hvp4j.io;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.util.concurrent.TimeUnit;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mutation fuzzing of the CSV reader: every input either reads or fails with InvalidInputException. */
class CsvFuzzTest {
    private static final int ITERATIONS = 4000;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS) // a hang in a reader fails instead of stalling CI
    void mutatedFilesReadOrFailCleanly() throws IOException {
        List<byte[]> seeds = List.of(
                "x0,x1,label\n1.5,-2e-1,0\n3,4,2\n".getBytes(StandardCharsets.UTF_8),
                "# savetxt\n1.000000000000000000e+00,2.5\r\n-3,4E2\n\n".getBytes(StandardCharsets.UTF_8),
                "\"a\", \"b\"\n 1 , 2 \n".getBytes(StandardCharsets.UTF_8));
        Mutator m = new Mutator(0x5eed_0004L);
        FuzzLoop.Counts c = FuzzLoop.run(ITERATIONS, m, seeds, dir.resolve("fuzz.csv"),
                (seed, it) -> m.mutate(seed, seed.length, 0, 0), (p, it) -> {
                    try (Arena arena = Arena.ofConfined()) {
                        Csv.Header mode = Csv.Header.values()[it % 3];
                        Csv.Table t;
                        try {
                            t = Csv.read(p, mode);
                        } catch (InvalidInputException e) {
                            // The two-pass reader refuses the same files with the same message.
                            assertEquals(e.getMessage(), assertThrows(InvalidInputException.class,
                                    () -> Csv.read(p, mode, cols -> cols, arena, DType.F64)).getMessage());
                            throw e;
                        }
                        Csv.Columns two = Csv.read(p, mode, cols -> cols, arena, DType.F64);
                        assertEquals(t.header(), two.header());
                        assertArrayEquals(t.values(), two.left().toDoubleArray());
                        assertTrue(t.rows() > 0 && t.cols() > 0 && t.values().length == (long) t.rows() * t.cols());
                        for (double v : t.values()) {
                            assertTrue(Double.isFinite(v));
                        }
                        t.columns(0, t.cols(), arena, DType.F32);
                        try {
                            t.labels(t.cols() - 1);
                        } catch (InvalidInputException e) {
                            FuzzLoop.requireOneLine(e);
                        }
                    }
                });
        assertTrue(c.ok() > ITERATIONS / 20, "too few mutants read successfully: " + c);
        assertTrue(c.rejected() > ITERATIONS / 5, "too few mutants rejected: " + c);
    }
}

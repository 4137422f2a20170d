package io.hvp4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutation fuzzing of the training checkpoint reader: every mutant is refused with InvalidInputException or read.
 * Half of the mutants get their CRC-32C recomputed, so that the structural checks behind the checksum (string
 * lengths, P, trailing bytes) see them too; a mutant with its checksum left alone is read only when it is
 * unchanged.
 */
class TrainingCheckpointFuzzTest {
    private static final int ITERATIONS = 4000;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS) // a hang in a reader fails instead of stalling CI
    void mutatedCheckpointsAreReadOrRefusedCleanly() throws IOException {
        Path f = dir.resolve("seed.ckpt");
        List<byte[]> seeds = new ArrayList<>();
        for (TrainingCheckpoint.State s : List.of(TrainingCheckpointTest.STATE,
                new TrainingCheckpoint.State("", 0, new double[0], new double[0], ""),
                new TrainingCheckpoint.State("arch=2", 3, new double[] {1, 2, 3, 4, 5}, new double[5], "epoch,loss\n"))) {
            TrainingCheckpoint.write(f, s);
            seeds.add(Files.readAllBytes(f));
        }
        Mutator m = new Mutator(0x5eed_0007L);
        boolean[] forged = new boolean[1];
        FuzzLoop.Counts c = FuzzLoop.run(ITERATIONS, m, seeds, dir.resolve("fuzz.ckpt"), (seed, it) -> {
            // Aim the length edits at the fingerprint length, epochsDone, P or the log length.
            ByteBuffer bb = ByteBuffer.wrap(seed).order(ByteOrder.LITTLE_ENDIAN);
            int fp = bb.getInt(12);
            int p = bb.getInt(20 + fp);
            int[] fields = {12, 16 + fp, 20 + fp, 24 + fp + 16 * p};
            byte[] b = m.mutate(seed, seed.length, fields[m.random().nextInt(fields.length)], 4);
            forged[0] = it % 2 == 1;
            return forged[0] ? Mutator.withCrc32c(b, b.length - 16, ByteOrder.LITTLE_ENDIAN) : b;
        }, (p, it) -> {
            TrainingCheckpoint.State s = TrainingCheckpoint.read(p);
            assertTrue(s.parameters().length == s.momentum().length && s.epochsDone() >= 0);
            if (!forged[0]) {
                byte[] b = Files.readAllBytes(p);
                assertTrue(seeds.stream().anyMatch(x -> Arrays.equals(x, b)), "a damaged checkpoint was read");
            }
            // What is accepted round-trips: written again, it reads back the same.
            Path again = dir.resolve("again.ckpt");
            TrainingCheckpoint.write(again, s);
            TrainingCheckpoint.State t = TrainingCheckpoint.read(again);
            assertArrayEquals(s.parameters(), t.parameters(), 0);
            assertArrayEquals(s.momentum(), t.momentum(), 0);
            assertTrue(s.fingerprint().equals(t.fingerprint()) && s.log().equals(t.log())
                    && s.epochsDone() == t.epochsDone());
        });
        assertTrue(c.ok() > 0, "no mutant read: " + c);
        assertTrue(c.rejected() > ITERATIONS * 3 / 4, "too few mutants refused: " + c);
    }
}

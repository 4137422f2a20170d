package io.hvp4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hvp4j.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingCheckpointTest {
    static final TrainingCheckpoint.State STATE = new TrainingCheckpoint.State("arch=3,2;lr=0.1;λ", 7,
            new double[] {1.5, -0.0, Double.MIN_VALUE}, new double[] {0, 2, -3}, "0,,\n1,0.5,");

    @Test
    void roundTripIsExact(@TempDir Path dir) {
        Path f = dir.resolve("ck.bin");
        TrainingCheckpoint.write(f, STATE);
        TrainingCheckpoint.State s = TrainingCheckpoint.read(f);
        assertEquals(STATE.fingerprint(), s.fingerprint());
        assertEquals(7, s.epochsDone());
        assertArrayEquals(STATE.parameters(), s.parameters(), 0);
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(s.parameters()[1]));
        assertArrayEquals(STATE.momentum(), s.momentum(), 0);
        assertEquals(STATE.log(), s.log());
    }

    @Test
    void damagedOrForeignFilesAreRefused(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("ck.bin");
        TrainingCheckpoint.write(f, STATE);
        byte[] good = Files.readAllBytes(f);
        for (int i = 0; i < good.length; i += 7) {
            byte[] bad = good.clone();
            bad[i] ^= 0x10;
            Files.write(f, bad);
            assertThrows(InvalidInputException.class, () -> TrainingCheckpoint.read(f), "flipped byte " + i);
        }
        for (int n : new int[] {0, 5, 20, good.length - 1}) {
            Files.write(f, Arrays.copyOf(good, n));
            assertThrows(InvalidInputException.class, () -> TrainingCheckpoint.read(f), "truncated to " + n);
        }
        Files.writeString(f, "not a checkpoint at all, just text");
        assertThrows(InvalidInputException.class, () -> TrainingCheckpoint.read(f));
    }
}

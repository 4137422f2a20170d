package io.hvp4j.spectral;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.hvp4j.InvalidInputException;
import java.util.concurrent.TimeUnit;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutation fuzzing of dense-assembly checkpoints: a damaged checkpoint is either refused with
 * InvalidInputException or (when the mutation leaves it valid) resumed to the bits of an uninterrupted run.
 */
class DenseAssemblyFuzzTest {
    private static final int ITERATIONS = 3000;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS) // a hang in a reader fails instead of stalling CI
    void damagedCheckpointsAreRefusedOrResumeExactly() throws IOException {
        int n = 12;
        SymmetricOperator op = DenseAssemblyTest.limited(Operators.dense(DenseAssemblyTest.randomSymmetric(n, 7)), 3);
        long[] reference;
        try (Arena arena = Arena.ofConfined()) {
            reference = DenseAssemblyTest.bits(DenseAssembly.assemble(op, arena).matrix());
        }
        Path ck = dir.resolve("ck.bin");
        try (Arena arena = Arena.ofConfined()) {
            DenseAssembly.Options o = new DenseAssembly.Options().checkpoint(ck).fingerprint("fuzz")
                    .checkpointEverySeconds(-1).progress((done, total) -> {
                        if (done >= 6) {
                            throw new IllegalStateException("stop");
                        }
                    });
            assertThrows(IllegalStateException.class, () -> DenseAssembly.assemble(op, arena, o));
        }
        byte[] seed = Files.readAllBytes(ck);
        assertTrue(seed.length == DenseAssembly.HEADER_BYTES + 6L * n * 8 + DenseAssembly.TRAILER_BYTES);
        Random rnd = new Random(0x5eed_0005L);
        int resumed = 0;
        int refused = 0;
        for (int it = 0; it < ITERATIONS; it++) {
            byte[] b = mutate(seed, rnd);
            Files.write(ck, b);
            try (Arena arena = Arena.ofConfined()) {
                DenseAssembly.Result r = DenseAssembly.assemble(op, arena,
                        new DenseAssembly.Options().checkpoint(ck).fingerprint("fuzz").checkpointEverySeconds(-1));
                assertArrayEquals(reference, DenseAssemblyTest.bits(r.matrix()), "iteration " + it);
                resumed++;
            } catch (InvalidInputException e) {
                refused++;
                assertTrue(!e.getMessage().contains("\n"), e.getMessage());
            } catch (Throwable t) {
                fail("iteration " + it + ": unexpected " + t, t);
            }
        }
        assertTrue(refused > ITERATIONS * 9 / 10, "refused " + refused + ", resumed " + resumed);
    }

    /** Bit flips, truncation, insertion, and edits of the header's integer fields. */
    static byte[] mutate(byte[] in, Random rnd) {
        byte[] b = in.clone();
        switch (rnd.nextInt(6)) {
            case 0 -> b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
            case 1 -> b = Arrays.copyOf(b, rnd.nextInt(b.length));
            case 2 -> {
                int p = rnd.nextInt(b.length + 1);
                byte[] out = new byte[b.length + 1 + rnd.nextInt(16)];
                System.arraycopy(b, 0, out, 0, p);
                System.arraycopy(b, p, out, out.length - (b.length - p), b.length - p);
                b = out;
            }
            case 3 -> b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            default -> { // header field: version, order, n, block, columns, reserved
                int field = 8 + 4 * rnd.nextInt(6);
                int v = switch (rnd.nextInt(4)) {
                    case 0 -> rnd.nextInt();
                    case 1 -> -1;
                    case 2 -> Integer.MAX_VALUE;
                    default -> ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(field) + rnd.nextInt(5) - 2;
                };
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(field, v);
            }
        }
        return b;
    }
}

package io.hvp4j.io;

import io.hvp4j.InvalidInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The loop shared by the reader fuzz tests: mutate a seed file, write it, read it; the reader must either
 * succeed or throw InvalidInputException with a one-line message. Anything else fails the test with the bytes.
 */
public final class FuzzLoop {
    /** Mutates seed {@code seed} (its index in the list) of iteration {@code it}. */
    @FunctionalInterface
    public interface Mutation {
        byte[] apply(byte[] seed, int it);
    }

    /** Reads the file of iteration {@code it}. */
    @FunctionalInterface
    public interface Reader {
        void read(Path file, int it) throws Exception;
    }

    /** Counts of one run. */
    public record Counts(int ok, int rejected) {
    }

    private FuzzLoop() {
    }

    public static Counts run(int iterations, Mutator m, List<byte[]> seeds, Path file, Mutation mutation, Reader reader)
            throws IOException {
        int ok = 0;
        int rejected = 0;
        for (int it = 0; it < iterations; it++) {
            byte[] b = mutation.apply(seeds.get(m.random().nextInt(seeds.size())), it);
            Files.write(file, b);
            try {
                reader.read(file, it);
                ok++;
            } catch (InvalidInputException e) {
                rejected++;
                requireOneLine(e);
            } catch (Throwable t) {
                fail("iteration " + it + ": unexpected " + t + " for bytes " + Mutator.hex(b), t);
            }
        }
        return new Counts(ok, rejected);
    }

    public static void requireOneLine(InvalidInputException e) {
        String msg = e.getMessage();
        assertTrue(msg != null && !msg.isBlank() && !msg.contains("\n"), msg);
    }
}

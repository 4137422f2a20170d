package io.hvp4j.io;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.util.concurrent.TimeUnit;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mutation fuzzing of the safetensors reader: every input either reads or fails with InvalidInputException. */
class SafeTensorsFuzzTest {
    private static final int ITERATIONS = 3000;

    @TempDir
    Path dir;

    private List<byte[]> seeds() throws IOException {
        List<byte[]> seeds = new ArrayList<>();
        Path p = dir.resolve("seed.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            LinkedHashMap<String, Tensor> ts = new LinkedHashMap<>();
            ts.put("0.weight", Tensor.of(arena, DType.F32, 2, 3, new double[] {1, 2, 3, 4, 5, 6}));
            ts.put("0.bias", Tensor.of(arena, DType.F32, 2, 1, new double[] {7, 8}));
            ts.put("1.weight", Tensor.of(arena, DType.F64, 1, 2, new double[] {9, 10}));
            SafeTensors.write(p, ts, Map.of("0.bias", new long[] {2}), Map.of("format", "pt"));
            seeds.add(Files.readAllBytes(p));
            SafeTensors.write(p, Map.of("v", Tensor.of(arena, DType.F64, 3, 1, new double[] {1, 2, 3})));
            seeds.add(Files.readAllBytes(p));
        }
        ByteBuffer bb = ByteBuffer.allocate(4 + 4 + 16).order(ByteOrder.LITTLE_ENDIAN);
        bb.putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-2f));
        bb.putShort((short) 0x3fc0).putShort((short) 0xbf00);
        bb.putLong(1).putLong(2);
        seeds.add(SafeTensorsTest.st("{" + SafeTensorsTest.entry("h", "F16", "[2]", 0, 4) + ","
                + SafeTensorsTest.entry("b", "BF16", "[2,1]", 4, 8) + ","
                + SafeTensorsTest.entry("i", "I64", "[2]", 8, 24) + "}", bb.array()));
        return seeds;
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS) // a hang in a reader fails instead of stalling CI
    void mutatedFilesReadOrFailCleanly() throws IOException {
        List<byte[]> seeds = seeds();
        Mutator m = new Mutator(0x5eed_0002L);
        int[] tensorsRead = new int[1];
        FuzzLoop.Counts c = FuzzLoop.run(ITERATIONS, m, seeds, dir.resolve("fuzz.safetensors"), (seed, it) -> {
            int headerEnd = (int) Math.min(seed.length,
                    8 + ByteBuffer.wrap(seed).order(ByteOrder.LITTLE_ENDIAN).getLong(0));
            return m.mutate(seed, headerEnd, 0, 8);
        }, (p, it) -> {
            try (Arena arena = Arena.ofConfined()) {
                SafeTensors s = SafeTensors.read(p, arena);
                s.metadata();
                for (String name : s.names()) {
                    s.shape(name);
                    s.dtype(name);
                    for (DType want : DType.values()) {
                        try {
                            s.tensor(name, want).toDoubleArray();
                            tensorsRead[0]++;
                        } catch (InvalidInputException e) {
                            FuzzLoop.requireOneLine(e);
                        }
                    }
                }
            }
        });
        int ok = c.ok();
        int rejected = c.rejected();
        assertTrue(ok > ITERATIONS / 50, "too few mutants read successfully: " + ok);
        assertTrue(rejected > ITERATIONS / 2, "too few mutants rejected: " + rejected);
        assertTrue(tensorsRead[0] > 0);
    }
}

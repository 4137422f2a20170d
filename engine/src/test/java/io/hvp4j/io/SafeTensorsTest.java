package io.hvp4j.io;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {
    @TempDir
    Path dir;

    static byte[] st(String json, byte[] data) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(h.length).put(h).put(data).array();
    }

    static byte[] f32(float... v) {
        ByteBuffer bb = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float d : v) {
            bb.putFloat(d);
        }
        return bb.array();
    }

    static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin
                + "," + end + "]}";
    }

    Path file(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    String fails(byte[] content) throws IOException {
        Path p = file("weights.safetensors", content);
        try (Arena arena = Arena.ofConfined()) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> SafeTensors.read(p, arena));
            assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            return e.getMessage();
        }
    }

    void assertFails(byte[] content, String fragment) throws IOException {
        String msg = fails(content);
        assertTrue(msg.contains(fragment), "expected '" + fragment + "' in: " + msg);
    }

    void assertFailsJson(String json, byte[] data, String fragment) throws IOException {
        assertFails(st(json, data), fragment);
    }

    // ------------------------------------------------------------------ round trips

    @Test
    void roundTripWithShapesAndMetadata() {
        Path p = dir.resolve("w.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = Tensor.of(arena, DType.F32, 2, 3, new double[] {1, 2, 3, 4, 5, 6.5});
            Tensor b = Tensor.of(arena, DType.F64, 2, 1, new double[] {0.1, -0.2});
            Tensor e = Tensor.allocate(arena, DType.F64, 0, 4);
            LinkedHashMap<String, Tensor> ts = new LinkedHashMap<>();
            ts.put("0.weight", w);
            ts.put("0.bias", b);
            ts.put("empty", e);
            ts.put("ünïcode \"name\"", b);
            SafeTensors.write(p, ts, Map.of("0.bias", new long[] {2}), Map.of("format", "pt", "k\"ey", "v\n"));
            assertEquals(0, (readLong(p) + 8) % 8);

            SafeTensors s = SafeTensors.read(p, arena);
            assertEquals(List.of("0.weight", "0.bias", "empty", "ünïcode \"name\""), List.copyOf(s.names()));
            assertEquals(Map.of("format", "pt", "k\"ey", "v\n"), s.metadata());
            assertEquals("F32", s.dtype("0.weight"));
            assertEquals("F64", s.dtype("0.bias"));
            assertArrayEquals(new long[] {2, 3}, s.shape("0.weight"));
            assertArrayEquals(new long[] {2}, s.shape("0.bias"));
            assertArrayEquals(new long[] {2, 1}, s.shape("ünïcode \"name\""));
            Tensor w2 = s.tensor("0.weight", DType.F32);
            assertEquals(2, w2.rows());
            assertEquals(3, w2.cols());
            assertArrayEquals(w.toDoubleArray(), w2.toDoubleArray());
            assertArrayEquals(w.toDoubleArray(), s.tensor("0.weight", DType.F64).toDoubleArray());
            Tensor b2 = s.tensor("0.bias", DType.F64);
            assertEquals(2, b2.rows());
            assertEquals(1, b2.cols());
            assertArrayEquals(b.toDoubleArray(), b2.toDoubleArray());
            assertEquals((float) 0.1, (float) s.tensor("0.bias", DType.F32).get(0));
            assertEquals(0, s.tensor("empty", DType.F64).size());
            // tensors are copies: changing one does not change the next one read
            w2.set(0, 99);
            assertEquals(1.0, s.tensor("0.weight", DType.F32).get(0));
            String m = assertThrows(InvalidInputException.class, () -> s.tensor("missing", DType.F32)).getMessage();
            assertTrue(m.contains("no tensor named 'missing'") && m.contains("0.weight"), m);
            assertThrows(InvalidInputException.class, () -> s.shape("missing"));
        }
    }

    private static long readLong(Path p) {
        try {
            return ByteBuffer.wrap(Files.readAllBytes(p), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void emptyFileAndPaddedHeader() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors s = SafeTensors.read(file("e.safetensors", st("{}      ", new byte[0])), arena);
            assertTrue(s.names().isEmpty());
            Path p = dir.resolve("w.safetensors");
            SafeTensors.write(p, Map.of());
            assertTrue(SafeTensors.read(p, arena).names().isEmpty());
        }
    }

    @Test
    void halfPrecisionAndOtherDtypes() throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(8 + 16).order(ByteOrder.LITTLE_ENDIAN);
        bb.putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-2f));   // F16 [2]
        bb.putShort((short) (Float.floatToIntBits(3.25f) >>> 16)).putShort((short) (Float.floatToIntBits(-0.5f) >>> 16));
        bb.putLong(7).putLong(8);                                                         // I64 [2]
        String json = "{" + entry("h", "F16", "[2]", 0, 4) + "," + entry("b", "BF16", "[1,2]", 4, 8) + ","
                + entry("i", "I64", "[2]", 8, 24) + "}";
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors s = SafeTensors.read(file("h.safetensors", st(json, bb.array())), arena);
            assertArrayEquals(new double[] {1.5, -2}, s.tensor("h", DType.F64).toDoubleArray());
            assertArrayEquals(new double[] {3.25, -0.5}, s.tensor("b", DType.F32).toDoubleArray());
            assertEquals("I64", s.dtype("i"));
            String m = assertThrows(InvalidInputException.class, () -> s.tensor("i", DType.F64)).getMessage();
            assertTrue(m.contains("dtype I64") && m.contains("h.safetensors"), m);
        }
    }

    @Test
    void tensorRejectsNonFiniteAndBadRanks() throws IOException {
        String json = "{" + entry("a", "F32", "[3]", 0, 12) + "," + entry("s", "F32", "[]", 12, 16) + ","
                + entry("c", "F32", "[1,1,1]", 16, 20) + "," + entry("d", "F64", "[1]", 20, 28) + "}";
        ByteBuffer bb = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
        bb.putFloat(1).putFloat(Float.NaN).putFloat(2).putFloat(1).putFloat(1).putDouble(1e300);
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors s = SafeTensors.read(file("n.safetensors", st(json, bb.array())), arena);
            String m = assertThrows(InvalidInputException.class, () -> s.tensor("a", DType.F64)).getMessage();
            assertTrue(m.contains("tensor 'a'") && m.contains("NaN at index 1"), m);
            m = assertThrows(InvalidInputException.class, () -> s.tensor("s", DType.F64)).getMessage();
            assertTrue(m.contains("scalar cannot be loaded"), m);
            // N-d (a convolution weight) loads as its first axis by the rest.
            Tensor c = s.tensor("c", DType.F64);
            assertEquals(1, c.rows());
            assertEquals(1, c.cols());
            assertEquals(1.0, c.get(0));
            m = assertThrows(InvalidInputException.class, () -> s.tensor("d", DType.F32)).getMessage();
            assertTrue(m.contains("overflows f32"), m);
            assertEquals(1e300, s.tensor("d", DType.F64).get(0));
        }
    }

    // ------------------------------------------------------------------ malformed files

    @Test
    void headerLength() throws IOException {
        assertFails(new byte[5], "only 5 bytes");
        byte[] b = st("{}", new byte[0]);
        b[0] = 3;
        assertFails(b, "header length 3 exceeds the file size (10 bytes)");
        b[0] = 0;
        assertFails(b, "cannot hold a JSON object");
        b = st("{}", new byte[0]);
        b[7] = (byte) 0x80;
        assertFails(b, "exceeds the file size");
        b = st("{}", new byte[0]);
        b[7] = 0x7f;
        assertFails(b, "exceeds the file size");
    }

    @Test
    void headerLimit() throws IOException {
        // a file with a (mostly blank) header of just over 100 MB: refused without parsing
        Path p = dir.resolve("big.safetensors");
        try (var ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            long n = SafeTensors.MAX_HEADER + 1;
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).flip());
            ch.write(ByteBuffer.wrap(new byte[] {'{', '}'}), 8 + n - 2); // sparse
        }
        try (Arena arena = Arena.ofConfined()) {
            String m = assertThrows(InvalidInputException.class, () -> SafeTensors.read(p, arena)).getMessage();
            assertTrue(m.contains("allowed"), m);
        }
    }

    @Test
    void malformedJson() throws IOException {
        String[][] cases = {
            {"[1,2]", "does not start with '{'"},
            {" {}", "does not start with '{'"},
            {"{\"a\"", "expected ':'"},
            {"{\"a\":", "unexpected end"},
            {"{\"a\":1,}", "expected a string key"},
            {"{\"a\" 1}", "expected ':'"},
            {"{\"a\":1 \"b\":2}", "expected ',' or '}'"},
            {"{'a':1}", "expected a string key"},
            {"{\"a\":[1,]}", "unexpected ']'"},
            {"{\"a\":01}", "leading zero"},
            {"{\"a\":1.}", "no digits after '.'"},
            {"{\"a\":1e}", "no digits in exponent"},
            {"{\"a\":-}", "invalid number"},
            {"{\"a\":tru}", "unexpected 't'"},
            {"{\"a\":NaN}", "unexpected 'N'"},
            {"{\"a\":\"x\ty\"}", "control character"},
            {"{\"a\":\"\\x\"}", "invalid escape"},
            {"{\"a\":\"\\ud800\"}", "surrogate"},
            {"{\"a\":\"\\u12\"}", "\\u escape"},
            {"{\"a\":\"abc}", "unterminated string"},
            {"{} x", "after the JSON value"},
            {"{}{}", "after the JSON value"},
            {"{\"a\":" + "[".repeat(100) + "]".repeat(100) + "}", "nesting deeper"},
            {"{\"__metadata__\":{},\"__metadata__\":{}}", "duplicate key \"__metadata__\""},
        };
        for (String[] c : cases) {
            String msg = fails(st(c[0], new byte[0]));
            assertTrue(msg.contains(c[1]), c[0] + " -> expected '" + c[1] + "' in: " + msg);
            if (!c[1].startsWith("does not")) {
                assertTrue(msg.contains("malformed JSON header at character"), msg);
            }
        }
        byte[] bad = st("{\"a\":\"xx\"}", new byte[0]);
        bad[14] = (byte) 0xc3; // truncated 2-byte sequence
        assertFails(bad, "not valid UTF-8");
    }

    @Test
    void duplicateTensorNames() throws IOException {
        String e = entry("w", "F32", "[1]", 0, 4);
        assertFailsJson("{" + e + "," + e + "}", f32(1), "duplicate key \"w\"");
    }

    @Test
    void badEntries() throws IOException {
        byte[] d = f32(1, 2, 3, 4, 5, 6);
        assertFailsJson("{\"w\":1}", d, "tensor 'w' is not an object");
        assertFailsJson("{\"w\":{\"dtype\":\"F32\",\"shape\":[6]}}", d, "lacks \"data_offsets\"");
        assertFailsJson("{\"w\":{\"shape\":[6],\"data_offsets\":[0,24]}}", d, "lacks \"dtype\"");
        assertFailsJson("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,24]}}", d, "lacks \"shape\"");
        assertFailsJson("{\"w\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24],\"x\":1}}", d,
                "unexpected key \"x\"");
        assertFailsJson("{\"w\":{\"dtype\":32,\"shape\":[6],\"data_offsets\":[0,24]}}", d, "not a string");
        assertFailsJson("{" + entry("w", "F128", "[6]", 0, 24) + "}", d, "unknown dtype \"F128\"");
        assertFailsJson("{" + entry("w", "F32", "6", 0, 24) + "}", d, "\"shape\" is not an array");
        assertFailsJson("{" + entry("w", "F32", "[6.0]", 0, 24) + "}", d, "6.0 is not an integer");
        assertFailsJson("{" + entry("w", "F32", "[\"6\"]", 0, 24) + "}", d, "is not an integer");
        assertFailsJson("{" + entry("w", "F32", "[-6]", 0, 24) + "}", d, "-6 is negative");
        assertFailsJson("{" + entry("w", "F32", "[99999999999999999999]", 0, 24) + "}", d, "too large");
        assertFailsJson("{" + entry("w", "F32", "[4294967296,4294967296]", 0, 24) + "}", d, "is too large");
        assertFailsJson("{\"w\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0]}}", d, "must have 2 entries");
        assertFailsJson("{\"w\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24,48]}}", d,
                "must have 2 entries");
        assertFailsJson("{" + entry("w", "F32", "[6]", 24, 0) + "}", d, "reversed");
        assertFailsJson("{" + entry("w", "F32", "[6]", 0, 28) + "}", d, "exceed the data buffer of 24 bytes");
        assertFailsJson("{" + entry("w", "F32", "[6]", 0, 9223372036854775807L) + "}", d, "too large");
        assertFailsJson("{" + entry("w", "F32", "[6]", 0, 999999999999999999L) + "}", d, "exceed the data buffer");
        assertFailsJson("{" + entry("0.weight", "F32", "[4,6]", 0, 20) + "}", d,
                "tensor '0.weight' data_offsets [0, 20] hold 20 bytes but F32 [4, 6] needs 96");
        assertFailsJson("{\"__metadata__\":{\"a\":1}}", new byte[0], "is not a string");
        assertFailsJson("{\"__metadata__\":[]}", new byte[0], "must be an object");
    }

    @Test
    void tilingOfTheBuffer() throws IOException {
        byte[] d = f32(1, 2, 3, 4);
        assertFailsJson("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}",
                d, "overlap");
        assertFailsJson("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 0, 8) + "}",
                d, "overlap");
        assertFailsJson("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[2]", 8, 16) + "}",
                d, "data bytes [4, 8) belong to no tensor");
        assertFailsJson("{" + entry("a", "F32", "[1]", 4, 8) + "," + entry("b", "F32", "[2]", 8, 16) + "}",
                d, "data bytes [0, 4) belong to no tensor");
        assertFailsJson("{" + entry("a", "F32", "[3]", 0, 12) + "}", d, "data bytes [12, 16) at the end");
        assertFailsJson("{}", d, "data bytes [0, 16) at the end");
        // order in the header does not matter; zero-size tensors may sit anywhere on a boundary
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors s = SafeTensors.read(file("ok.safetensors", st("{" + entry("b", "F32", "[2]", 8, 16) + ","
                    + entry("z", "F32", "[0,3]", 8, 8) + "," + entry("a", "F32", "[2]", 0, 8) + "}", d)), arena);
            assertEquals(List.of("b", "z", "a"), List.copyOf(s.names()));
            assertArrayEquals(new double[] {3, 4}, s.tensor("b", DType.F64).toDoubleArray());
            assertEquals(0, s.tensor("z", DType.F64).rows());
            assertEquals(3, s.tensor("z", DType.F64).cols());
        }
    }

    // ------------------------------------------------------------------ I/O, atomic writes, arenas

    @Test
    void missingFileAndBadTargets() {
        try (Arena arena = Arena.ofConfined()) {
            Path missing = dir.resolve("nope.safetensors");
            assertEquals("cannot read " + missing + ": no such file",
                    assertThrows(InvalidInputException.class, () -> SafeTensors.read(missing, arena)).getMessage());
            assertTrue(assertThrows(InvalidInputException.class, () -> SafeTensors.read(dir, arena))
                    .getMessage().contains("is a directory"));
            Tensor t = Tensor.vector(arena, DType.F32, 3);
            assertThrows(IllegalArgumentException.class,
                    () -> SafeTensors.write(dir.resolve("x"), Map.of("__metadata__", t)));
            assertThrows(IllegalArgumentException.class,
                    () -> SafeTensors.write(dir.resolve("x"), Map.of("a", t), Map.of("a", new long[] {4}), null));
            assertThrows(IllegalArgumentException.class,
                    () -> SafeTensors.write(dir.resolve("x"), Map.of("a", t), Map.of("b", new long[] {3}), null));
            assertFalse(Files.exists(dir.resolve("x")));
        }
    }

    @Test
    void failedWriteLeavesNoPartialFile() throws IOException {
        Path out = dir.resolve("out.safetensors");
        Files.writeString(out, "previous");
        Arena arena = Arena.ofConfined();
        LinkedHashMap<String, Tensor> ts = new LinkedHashMap<>();
        ts.put("w", Tensor.of(arena, DType.F32, 1, 2, new double[] {1, 2}));
        arena.close();
        assertThrows(IllegalStateException.class, () -> SafeTensors.write(out, ts));
        assertEquals("previous", Files.readString(out));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(out), s.toList());
        }
    }

    @Test
    void readingAfterArenaClosedThrowsIllegalState() {
        Path p = dir.resolve("w.safetensors");
        try (Arena a = Arena.ofConfined()) {
            SafeTensors.write(p, Map.of("w", Tensor.of(a, DType.F64, 1, 2, new double[] {1, 2})));
        }
        Arena arena = Arena.ofConfined();
        SafeTensors s = SafeTensors.read(p, arena);
        Tensor t = s.tensor("w", DType.F64);
        arena.close();
        assertThrows(IllegalStateException.class, () -> t.get(0));
        assertThrows(IllegalStateException.class, () -> s.tensor("w", DType.F64));
        assertThrows(IllegalStateException.class, () -> s.tensor("w", DType.F32));
        assertThrows(IllegalStateException.class, () -> SafeTensors.read(p, arena));
        assertArrayEquals(new long[] {1, 2}, s.shape("w")); // header information stays available
    }
}

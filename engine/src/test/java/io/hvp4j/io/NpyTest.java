package io.hvp4j.io;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyTest {
    @TempDir
    Path dir;

    // ------------------------------------------------------------------ helpers

    /** An npy file with the given version, literal header text (not padded) and data bytes. */
    static byte[] npy(int major, String header, byte[] data) {
        byte[] h = header.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int prefix = major == 1 ? 10 : 12;
        ByteBuffer bb = ByteBuffer.allocate(prefix + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            bb.putShort((short) h.length);
        } else {
            bb.putInt(h.length);
        }
        return bb.put(h).put(data).array();
    }

    static String dict(String descr, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }\n";
    }

    static byte[] f64(double... v) {
        ByteBuffer bb = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) {
            bb.putDouble(d);
        }
        return bb.array();
    }

    static byte[] f32(float... v) {
        ByteBuffer bb = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float d : v) {
            bb.putFloat(d);
        }
        return bb.array();
    }

    static byte[] i64(long... v) {
        ByteBuffer bb = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long d : v) {
            bb.putLong(d);
        }
        return bb.array();
    }

    Path file(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    static String fails(Path p) {
        try (Arena arena = Arena.ofConfined()) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.read(p, arena));
            assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            return e.getMessage();
        }
    }

    void assertFails(byte[] content, String fragment) throws IOException {
        String msg = fails(file("bad.npy", content));
        assertTrue(msg.contains(fragment), "expected '" + fragment + "' in: " + msg);
    }

    // ------------------------------------------------------------------ round trips

    @Test
    void roundTripMatrixAndVectorBothDtypes() {
        for (DType dt : DType.values()) {
            try (Arena arena = Arena.ofConfined()) {
                double[] vals = {1.5, -2.25, 3, 0, 1e-3, 7};
                Tensor m = Tensor.of(arena, dt, 2, 3, vals);
                Path pm = dir.resolve("m-" + dt + ".npy");
                Npy.write(pm, m, false);
                NpyArray a = Npy.read(pm, arena);
                assertEquals(NpyType.of(dt), a.type());
                assertArrayEquals(new long[] {2, 3}, a.shape());
                Tensor back = Npy.readMatrix(pm, arena, dt, "matrix");
                assertEquals(2, back.rows());
                assertEquals(3, back.cols());
                assertArrayEquals(m.toDoubleArray(), back.toDoubleArray());

                Tensor v = Tensor.of(arena, dt, 4, 1, new double[] {1, 2, 3, 4});
                Path pv = dir.resolve("v-" + dt + ".npy");
                Npy.write(pv, v, true);
                assertArrayEquals(new long[] {4}, Npy.read(pv, arena).shape());
                Tensor vb = Npy.readMatrix(pv, arena, dt, "vector");
                assertEquals(4, vb.rows());
                assertEquals(1, vb.cols());
                assertArrayEquals(v.toDoubleArray(), vb.toDoubleArray());
            }
        }
    }

    @Test
    void writtenHeaderIsNumpyStyle() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Path p = dir.resolve("h.npy");
            Npy.write(p, Tensor.of(arena, DType.F64, 3, 1, new double[] {1, 2, 3}), true);
            byte[] b = Files.readAllBytes(p);
            assertEquals(128 + 24, b.length);
            assertEquals(1, b[6]);
            assertEquals(0, b[7]);
            int hlen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
            assertEquals(118, hlen);
            String h = new String(b, 10, hlen, StandardCharsets.ISO_8859_1);
            assertTrue(h.startsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"), h);
            assertTrue(h.endsWith("\n"));
            assertEquals(0, (10 + hlen) % 64);
        }
    }

    @Test
    void largeHeaderAndManyShapesStayAligned() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            for (int rows : new int[] {0, 1, 7, 1000, 123456}) {
                Path p = dir.resolve("r" + rows + ".npy");
                Tensor t = Tensor.allocate(arena, DType.F32, rows, 3);
                for (long i = 0; i < t.size(); i++) {
                    t.set(i, i * 0.5);
                }
                Npy.write(p, t, false);
                byte[] b = Files.readAllBytes(p);
                int hlen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
                assertEquals(0, (10 + hlen) % 64);
                assertArrayEquals(t.toDoubleArray(), Npy.readMatrix(p, arena, DType.F32, "m").toDoubleArray());
            }
        }
    }

    @Test
    void version2And3HeadersAndScalars() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            NpyArray a2 = Npy.read(file("v2.npy", npy(2, dict("<f8", "(2, 2)"), f64(1, 2, 3, 4))), arena);
            assertArrayEquals(new long[] {2, 2}, a2.shape());
            assertEquals(4.0, a2.getDouble(3));
            // version 3 allows UTF-8 in the header; whitespace variations and a double-quoted key
            NpyArray a3 = Npy.read(file("v3.npy", npy(3,
                    "{\"descr\": '<f4',\n 'shape': (3,),'fortran_order':False}   \n", f32(1, 2, 3))), arena);
            assertEquals(NpyType.F32, a3.type());
            assertEquals(3.0, a3.getDouble(2));
            NpyArray scalar = Npy.read(file("s.npy", npy(1, dict("<f8", "()"), f64(42))), arena);
            assertEquals(0, scalar.rank());
            assertEquals(1, scalar.size());
            assertEquals(42.0, scalar.getDouble(0));
            NpyArray empty = Npy.read(file("e.npy", npy(1, dict("<f8", "(0, 5)"), new byte[0])), arena);
            assertEquals(0, empty.size());
            NpyArray py2 = Npy.read(file("l.npy", npy(1, dict("<i8", "(2L,)"), i64(5, 6))), arena);
            assertEquals(6, py2.getLong(1));
            // a scalar written by us round-trips
            Path ps = dir.resolve("ws.npy");
            Npy.write(ps, new double[] {2.5}, new long[0], DType.F32);
            assertEquals(2.5, Npy.read(ps, arena).getDouble(0));
            assertEquals("()", Npy.read(ps, arena).shapeString());
        }
    }

    @Test
    void readMatrixConvertsAndRejectsBadValues() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Npy.readMatrix(file("a.npy", npy(1, dict("<f8", "(2, 2)"), f64(0.1, 2, 3, 4))),
                    arena, DType.F32, "inputs");
            assertEquals(DType.F32, t.dtype());
            assertEquals((float) 0.1, (float) t.get(0));
            Tensor ti = Npy.readMatrix(file("i.npy", npy(1, dict("<i8", "(3,)"),
                    i64(1L << 53, -(1L << 53), 7))), arena, DType.F64, "targets");
            assertEquals(9007199254740992.0, ti.get(0));
            assertEquals(-9007199254740992.0, ti.get(1));
            Tensor tf = Npy.readMatrix(file("f.npy", npy(1, dict("<f4", "(2,)"), f32(1.5f, 2))),
                    arena, DType.F64, "v");
            assertEquals(1.5, tf.get(0));

            String m = assertThrows(InvalidInputException.class, () -> Npy.readMatrix(
                    file("n.npy", npy(1, dict("<f8", "(2, 3)"), f64(1, 2, 3, 4, Double.NaN, 6))),
                    arena, DType.F64, "vector")).getMessage();
            assertTrue(m.contains("n.npy") && m.contains("vector") && m.contains("NaN") && m.contains("index 4"), m);
            m = assertThrows(InvalidInputException.class, () -> Npy.readMatrix(
                    file("n2.npy", npy(1, dict("<f4", "(3,)"), f32(1, Float.NEGATIVE_INFINITY, 0))),
                    arena, DType.F64, "vector")).getMessage();
            assertTrue(m.contains("-Inf") && m.contains("index 1"), m);
            m = assertThrows(InvalidInputException.class, () -> Npy.readMatrix(
                    file("n3.npy", npy(1, dict("<f8", "(2,)"), f64(1, 1e300))),
                    arena, DType.F32, "w")).getMessage();
            assertTrue(m.contains("overflows f32") && m.contains("index 1"), m);
            m = assertThrows(InvalidInputException.class, () -> Npy.readMatrix(
                    file("big.npy", npy(1, dict("<i8", "(2,)"), i64(0, (1L << 53) + 1))),
                    arena, DType.F64, "w")).getMessage();
            assertTrue(m.contains("2^53") && m.contains("index 1"), m);
            m = assertThrows(InvalidInputException.class, () -> Npy.readMatrix(
                    file("r3.npy", npy(1, dict("<f8", "(1, 1, 1)"), f64(1))), arena, DType.F64, "w")).getMessage();
            assertTrue(m.contains("1-d or 2-d"), m);
            m = assertThrows(InvalidInputException.class, () -> Npy.readMatrix(
                    file("r0.npy", npy(1, dict("<f8", "()"), f64(1))), arena, DType.F64, "w")).getMessage();
            assertTrue(m.contains("1-d or 2-d"), m);
        }
    }

    @Test
    void labels() throws IOException {
        assertArrayEquals(new int[] {0, 3, 1}, Npy.readLabels(file("l.npy", npy(1, dict("<i8", "(3,)"), i64(0, 3, 1)))));
        assertArrayEquals(new int[] {2, 0}, Npy.readLabels(file("lf.npy", npy(1, dict("<f8", "(2,)"), f64(2, 0)))));
        ByteBuffer i32 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(4).putInt(5);
        assertArrayEquals(new int[] {4, 5}, Npy.readLabels(file("l4.npy", npy(1, dict("<i4", "(2,)"), i32.array()))));
        assertArrayEquals(new int[] {}, Npy.readLabels(file("l0.npy", npy(1, dict("<i8", "(0,)"), new byte[0]))));
        Path lw = dir.resolve("lw.npy");
        Npy.write(lw, new long[] {9, 8}, new long[] {2});
        assertArrayEquals(new int[] {9, 8}, Npy.readLabels(lw));

        String m = assertThrows(InvalidInputException.class, () -> Npy.readLabels(
                file("x1.npy", npy(1, dict("<f8", "(2,)"), f64(1, 1.5))))).getMessage();
        assertTrue(m.contains("not an integer") && m.contains("index 1"), m);
        m = assertThrows(InvalidInputException.class, () -> Npy.readLabels(
                file("x2.npy", npy(1, dict("<i8", "(2,)"), i64(1, -1))))).getMessage();
        assertTrue(m.contains("negative"), m);
        m = assertThrows(InvalidInputException.class, () -> Npy.readLabels(
                file("x3.npy", npy(1, dict("<i8", "(1,)"), i64(1L << 40))))).getMessage();
        assertTrue(m.contains("too large"), m);
        m = assertThrows(InvalidInputException.class, () -> Npy.readLabels(
                file("x4.npy", npy(1, dict("<i8", "(1, 1)"), i64(1))))).getMessage();
        assertTrue(m.contains("1-d"), m);
        m = assertThrows(InvalidInputException.class, () -> Npy.readLabels(
                file("x5.npy", npy(1, dict("<f8", "(1,)"), f64(Double.NaN))))).getMessage();
        assertTrue(m.contains("not an integer"), m);
    }

    // ------------------------------------------------------------------ malformed files

    @Test
    void badMagicVersionAndSizes() throws IOException {
        byte[] good = npy(1, dict("<f8", "(2,)"), f64(1, 2));
        assertFails(new byte[0], "only 0 bytes");
        assertFails(Arrays.copyOf(good, 9), "only 9 bytes");
        byte[] b = good.clone();
        b[1] = 'X';
        assertFails(b, "bad magic");
        b = good.clone();
        b[6] = 4;
        assertFails(b, "version 4.0");
        b = good.clone();
        b[7] = 1;
        assertFails(b, "version 1.1");
        assertFails(Arrays.copyOf(npy(2, dict("<f8", "()"), new byte[0]), 11), "truncated npy header");
        b = good.clone();
        b[8] = (byte) 0xff;
        b[9] = (byte) 0xff;
        assertFails(b, "exceeds the file size");
        byte[] v2 = npy(2, dict("<f8", "(2,)"), f64(1, 2));
        v2[11] = (byte) 0x80; // header length 2^31 + ...
        assertFails(v2, "exceeds the file size");
        // header length within the file but beyond the limit: a file of more than 1 MiB
        StringBuilder pad = new StringBuilder(dict("<f8", "()"));
        pad.setLength(pad.length() - 1);
        pad.append(" ".repeat(Npy.MAX_HEADER)).append('\n');
        assertFails(npy(2, pad.toString(), f64(1)), "allowed");
    }

    @Test
    void truncatedAndTrailing() throws IOException {
        byte[] good = npy(1, dict("<f8", "(2, 3)"), f64(1, 2, 3, 4, 5, 6));
        assertFails(Arrays.copyOf(good, good.length - 1), "truncated");
        assertFails(Arrays.copyOf(good, good.length + 1), "trailing bytes");
        assertFails(npy(1, dict("<f8", "(2, 3)"), new byte[0]), "needs 48 data bytes but 0 follow");
    }

    @Test
    void unsupportedDtypesAndOrder() throws IOException {
        assertFails(npy(1, dict(">f8", "(1,)"), f64(1)), "big-endian");
        assertFails(npy(1, dict("|f8", "(1,)"), f64(1)), "byte order");
        assertFails(npy(1, dict("=f8", "(1,)"), f64(1)), "byte order");
        assertFails(npy(1, dict("f8", "(1,)"), f64(1)), "byte order");
        assertFails(npy(1, dict("<c16", "(1,)"), new byte[16]), "unsupported dtype '<c16'");
        assertFails(npy(1, dict("|u1", "(1,)"), new byte[1]), "unsupported dtype");
        assertFails(npy(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (1,), }\n", f64(1)), "Fortran");
        assertFails(npy(1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }\n", f64(1)),
                "structured");
    }

    @Test
    void malformedHeaderDicts() throws IOException {
        String[][] cases = {
            {"'descr': '<f8', 'fortran_order': False, 'shape': (1,)", "expected '{'"},
            {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,)", "header ended"},
            {"{'descr': '<f8', 'fortran_order': False}", "lacks 'shape'"},
            {"{'descr': '<f8', 'shape': (1,)}", "lacks 'fortran_order'"},
            {"{}", "lacks 'descr', 'fortran_order', 'shape'"},
            {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "unexpected key 'extra'"},
            {"{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", "duplicate key 'descr'"},
            {"{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}", "True or False"},
            {"{'descr': '<f8', 'fortran_order': Falsey, 'shape': (1,)}", "True or False"},
            {"{'descr': '<f8', 'fortran_order': False, 'shape': [1]}", "not a list"},
            {"{'descr': '<f8', 'fortran_order': False, 'shape': (1)}", "is not a tuple"},
            {"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}", "negative dimension"},
            {"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,)}", "too large"},
            {"{'descr': '<f8', 'fortran_order': False, 'shape': (01,)}", "leading zero"},
            {"{'descr': '<f8', 'fortran_order': False, 'shape': (1.0,)}", "invalid dimension"},
            {"{'descr': '<f8', 'fortran_order': False, 'shape': (0x1,)}", "invalid dimension"},
            {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,,)}", "expected a dimension"},
            {"{'descr': '<f8', 'fortran_order': False, 'shape': (1 2)}", "expected ','"},
            {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} x", "after the dictionary"},
            {"{'descr': '<f8, 'fortran_order': False, 'shape': (1,)}", "expected ','"},
            {"{'descr' '<f8', 'fortran_order': False, 'shape': (1,)}", "expected ':'"},
            {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,)", "header ended"},
            {"{descr: '<f8', 'fortran_order': False, 'shape': (1,)}", "quoted string"},
            {"{'descr': '<f\\x38', 'fortran_order': False, 'shape': (1,)}", "unsupported character"},
        };
        for (String[] c : cases) {
            String msg = fails(file("bad.npy", npy(1, c[0] + "\n", f64(1))));
            assertTrue(msg.contains(c[1]), c[0] + " -> expected '" + c[1] + "' in: " + msg);
            assertTrue(msg.contains("bad.npy"), msg);
        }
    }

    @Test
    void shapeProductOverflowAndHugeClaims() throws IOException {
        assertFails(npy(1, dict("<f8", "(4294967296, 4294967296)"), f64(1)), "too large");
        assertFails(npy(1, dict("<f8", "(999999999999999999, 999999999999999999, 9)"), f64(1)), "too large");
        assertFails(npy(1, dict("<f8", "(1152921504606846976,)"), f64(1)), "too large"); // 2^60 * 8 overflows
        // a huge but representable claim is checked against the file size before any allocation
        assertFails(npy(1, dict("<f8", "(100000000000,)"), f64(1)), "truncated");
        assertFails(npy(1, dict("<f8", "(0, 99999999999999999)"), f64(1)), "trailing bytes");
    }

    @Test
    void invalidUtf8InVersion3Header() throws IOException {
        byte[] b = npy(3, dict("<f8", "(1,)"), f64(1));
        b[13] = (byte) 0xff;
        assertFails(b, "UTF-8");
    }

    // ------------------------------------------------------------------ I/O problems, atomic writes, arenas

    @Test
    void missingFileAndDirectory() {
        try (Arena arena = Arena.ofConfined()) {
            Path missing = dir.resolve("nope.npy");
            String m = assertThrows(InvalidInputException.class, () -> Npy.read(missing, arena)).getMessage();
            assertEquals("cannot read " + missing + ": no such file", m);
            m = assertThrows(InvalidInputException.class, () -> Npy.read(dir, arena)).getMessage();
            assertTrue(m.contains("is a directory"), m);
            Path devNull = Path.of("/dev/null");
            if (Files.exists(devNull)) {
                m = assertThrows(InvalidInputException.class, () -> Npy.read(devNull, arena)).getMessage();
                assertTrue(m.contains("not a regular file"), m);
            }
            m = assertThrows(InvalidInputException.class, () -> Npy.readLabels(missing)).getMessage();
            assertTrue(m.contains("no such file"), m);
            Tensor t = Tensor.vector(arena, DType.F64, 2);
            m = assertThrows(InvalidInputException.class,
                    () -> Npy.write(dir.resolve("no/such/dir/x.npy"), t, true)).getMessage();
            assertTrue(m.startsWith("cannot write"), m);
            m = assertThrows(InvalidInputException.class, () -> Npy.write(dir, t, true)).getMessage();
            assertTrue(m.contains("is a directory"), m);
        }
    }

    @Test
    void failedWriteLeavesNoPartialFile() throws IOException {
        Path out = dir.resolve("out.npy");
        Files.writeString(out, "previous");
        Arena arena = Arena.ofConfined();
        Tensor t = Tensor.of(arena, DType.F64, 2, 1, new double[] {1, 2});
        arena.close();
        assertThrows(IllegalStateException.class, () -> Npy.write(out, t, true));
        assertEquals("previous", Files.readString(out));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(out), s.toList(), "temporary files left behind");
        }
        Path fresh = dir.resolve("fresh.npy");
        assertThrows(IllegalStateException.class, () -> Npy.write(fresh, t, false));
        assertFalse(Files.exists(fresh));
        try (Arena a2 = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> Npy.write(fresh, Tensor.allocate(a2, DType.F64, 2, 2), true));
            assertFalse(Files.exists(fresh));
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(1, s.count());
        }
    }

    @Test
    void overwriteReplacesExistingFile() throws IOException {
        Path out = dir.resolve("o.npy");
        Npy.write(out, new double[] {1, 2, 3}, new long[] {3}, DType.F64);
        Npy.write(out, new double[] {4}, new long[] {1, 1}, DType.F64);
        try (Arena arena = Arena.ofConfined()) {
            assertArrayEquals(new long[] {1, 1}, Npy.read(out, arena).shape());
        }
    }

    @Test
    void readingAfterArenaClosedThrowsIllegalState() throws IOException {
        Path p = file("ok.npy", npy(1, dict("<f8", "(2,)"), f64(1, 2)));
        Arena arena = Arena.ofConfined();
        NpyArray a = Npy.read(p, arena);
        Tensor t = Npy.readMatrix(p, arena, DType.F64, "v");
        arena.close();
        assertThrows(IllegalStateException.class, () -> a.getDouble(0));
        assertThrows(IllegalStateException.class, () -> t.get(0));
        assertThrows(IllegalStateException.class, () -> Npy.read(p, arena));
        assertThrows(IllegalStateException.class, () -> Npy.readMatrix(p, arena, DType.F32, "v"));
    }

    @Test
    void npyArrayValidatesItsParts() {
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class,
                    () -> new NpyArray(NpyType.F64, new long[] {2}, arena.allocate(8)));
            assertThrows(IllegalArgumentException.class,
                    () -> new NpyArray(NpyType.F64, new long[] {-1}, arena.allocate(8)));
            NpyArray a = new NpyArray(NpyType.I64, new long[] {1}, arena.allocate(8));
            long[] s = a.shape();
            s[0] = 5;
            assertArrayEquals(new long[] {1}, a.shape());
            Path p = dir.resolve("a.npy");
            Npy.write(p, a);
            assertEquals(NpyType.I64, Npy.read(p, arena).type());
        }
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    void largeFilesOfTheWantedTypeAreMappedReadOnly() throws Exception {
        Path p = dir.resolve("big.npy");
        double[] values = new double[3 * 1000];
        for (int i = 0; i < values.length; i++) values[i] = Math.sin(i);
        Npy.write(p, values, new long[] {1000, 3}, DType.F64);
        MapThreshold.with(1024, () -> {
            try (Arena arena = Arena.ofConfined()) {
                Tensor t = Npy.readMatrix(p, arena, DType.F64, "inputs");
                assertTrue(t.segment().isMapped() && t.segment().isReadOnly());
                assertArrayEquals(values, t.toDoubleArray(), 0.0);
                // Another dtype is converted into memory as before.
                Tensor f = Npy.readMatrix(p, arena, DType.F32, "inputs");
                assertFalse(f.segment().isMapped());
            }
        });
        // The older property name is still honoured.
        System.setProperty(Npy.MAP_THRESHOLD_PROPERTY, "1024");
        try (Arena arena = Arena.ofConfined()) {
            assertTrue(Npy.readMatrix(p, arena, DType.F64, "inputs").segment().isMapped());
        } finally {
            System.clearProperty(Npy.MAP_THRESHOLD_PROPERTY);
        }
    }
}

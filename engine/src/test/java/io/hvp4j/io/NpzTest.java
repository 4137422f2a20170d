package io.hvp4j.io;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpzTest {
    @TempDir
    Path dir;

    static Path resource(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        try (InputStream in = NpzTest.class.getResourceAsStream(name)) {
            Files.copy(in, p);
        }
        return p;
    }

    /** Files written by numpy 2.4 (np.savez with keyword names; np.savez_compressed with positional arrays). */
    @Test
    void readsNumpyArchives() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, NpyArray> a = Npz.read(resource(dir, "numpy_savez.npz"), arena);
            assertEquals(List.of("0.weight", "0.bias", "2.weight", "labels"), List.copyOf(a.keySet()));
            Tensor w0 = Npy.toMatrix(a.get("0.weight"), arena, DType.F64, "w0");
            assertArrayEquals(new double[] {0, 1, 2, 3, 4, 5}, w0.toDoubleArray());
            assertEquals(2, w0.rows());
            assertArrayEquals(new double[] {0.5, -1}, Npy.toMatrix(a.get("0.bias"), arena, DType.F32, "b").toDoubleArray());
            assertArrayEquals(new int[] {0, 1, 2}, Npy.toLabels(a.get("labels"), "labels"));
            Map<String, NpyArray> c = Npz.read(resource(dir, "numpy_savez_compressed.npz"), arena);
            assertEquals(List.of("arr_0", "arr_1", "arr_2"), List.copyOf(c.keySet()));
            assertSame(a.get("2.weight"), c.get("arr_2"));
            assertSame(a.get("0.weight"), c.get("arr_0"));
        }
    }

    @Test
    void writeReadRoundTrip() {
        for (boolean compressed : new boolean[] {false, true}) {
            try (Arena arena = Arena.ofConfined()) {
                Path p = dir.resolve("rt" + compressed + ".npz");
                Map<String, NpyArray> m = new LinkedHashMap<>();
                m.put("x", array(arena, Tensor.of(arena, DType.F64, 2, 2, new double[] {1, 2, 3, 4})));
                m.put("y", array(arena, Tensor.of(arena, DType.F32, 3, 1, new double[] {5, 6, 7})));
                Npz.write(p, m, compressed);
                Map<String, NpyArray> back = Npz.read(p, arena);
                assertEquals(m.keySet(), back.keySet());
                for (String k : m.keySet()) {
                    assertSame(m.get(k), back.get(k));
                }
            }
        }
    }

    /** Same type, shape and bytes. */
    static void assertSame(NpyArray a, NpyArray b) {
        assertEquals(a.type(), b.type());
        assertArrayEquals(a.shape(), b.shape());
        assertArrayEquals(a.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                b.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }

    static NpyArray array(Arena arena, Tensor t) {
        NpyType type = NpyType.of(t.dtype());
        java.lang.foreign.MemorySegment seg = arena.allocate(t.segment().byteSize());
        for (long i = 0; i < t.size(); i++) {
            if (t.dtype() == DType.F32) {
                seg.setAtIndex((java.lang.foreign.ValueLayout.OfFloat) type.fileLayout(), i, (float) t.get(i));
            } else {
                seg.setAtIndex((java.lang.foreign.ValueLayout.OfDouble) type.fileLayout(), i, t.get(i));
            }
        }
        return new NpyArray(type, new long[] {t.rows(), t.cols()}, seg);
    }

    /** A stored archive with the given members (name -> raw member bytes) and CRCs as given or computed. */
    static byte[] zip(Map<String, byte[]> members, boolean badCrc) throws IOException {
        java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bos)) {
            for (Map.Entry<String, byte[]> e : members.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                ze.setMethod(ZipEntry.STORED);
                ze.setSize(e.getValue().length);
                ze.setCompressedSize(e.getValue().length);
                ze.setCrc(crc.getValue());
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        byte[] z = bos.toByteArray();
        if (badCrc) { // the same wrong CRC in the local header (offset 14) and the central directory (16)
            ByteBuffer bb = ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN);
            int cen = indexOf(z, new byte[] {'P', 'K', 1, 2});
            bb.putInt(14, bb.getInt(14) ^ 1);
            bb.putInt(cen + 16, bb.getInt(cen + 16) ^ 1);
        }
        return z;
    }

    private String error(byte[] file) throws IOException {
        Path p = dir.resolve("bad.npz");
        Files.write(p, file);
        try (Arena arena = Arena.ofConfined()) {
            return assertThrows(InvalidInputException.class, () -> Npz.read(p, arena)).getMessage();
        }
    }

    @Test
    void rejectsMalformedArchives() throws IOException {
        byte[] good = NpyTest.npy(1, NpyTest.dict("<f8", "(2,)"), NpyTest.f64(1, 2));
        assertTrue(error(new byte[0]).contains("not a valid npz"));
        assertTrue(error("not a zip file at all".getBytes()).contains("not a valid npz"));
        assertTrue(error(zip(Map.of("a.txt", good), false)).contains("is not an .npy array"));
        assertTrue(error(zip(Map.of("a.npy", good), true)).contains("CRC-32 mismatch"));
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 3);
        assertTrue(error(zip(Map.of("a.npy", truncated), false)).contains("needs 16 data bytes"));
        byte[] extra = java.util.Arrays.copyOf(good, good.length + 8);
        assertTrue(error(zip(Map.of("a.npy", extra), false)).contains("trailing bytes"));
        assertTrue(error(zip(Map.of(), false)).contains("no arrays"));
        byte[] z = zip(Map.of("a.npy", good), false);
        assertTrue(error(java.util.Arrays.copyOf(z, z.length - 10)).contains("npz"));
    }

    /** A central directory that claims a huge uncompressed size is refused before anything is allocated. */
    @Test
    void refusesHugeDeclaredSizes() throws IOException {
        byte[] good = NpyTest.npy(1, NpyTest.dict("<f8", "(2,)"), NpyTest.f64(1, 2));
        java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
        try (ZipOutputStream zo = new ZipOutputStream(bos)) {
            zo.putNextEntry(new ZipEntry("a.npy"));
            zo.write(good);
            zo.closeEntry();
        }
        byte[] z = bos.toByteArray();
        // Patch the central directory's uncompressed size (offset 24 of the header "PK\1\2").
        int cen = indexOf(z, new byte[] {'P', 'K', 1, 2});
        ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN).putInt(cen + 24, 0x7fff_0000);
        String msg = error(z);
        assertTrue(msg.contains("more than deflate can produce") || msg.contains("npz"), msg);
        // A header shape that needs more bytes than the member holds.
        byte[] lie = NpyTest.npy(1, NpyTest.dict("<f8", "(100000000000,)"), NpyTest.f64(1, 2));
        assertTrue(error(zip(Map.of("a.npy", lie), false)).contains("is truncated"));
    }

    static int indexOf(byte[] b, byte[] pat) {
        outer:
        for (int i = 0; i + pat.length <= b.length; i++) {
            for (int j = 0; j < pat.length; j++) {
                if (b[i + j] != pat[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("pattern not found");
    }

    @SuppressWarnings("unused")
    private static void unused(OutputStream o) {
    }
}

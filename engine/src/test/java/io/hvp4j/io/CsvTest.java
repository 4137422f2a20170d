package io.hvp4j.io;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CsvTest {
    @TempDir
    Path dir;

    private Path file(String text) throws IOException {
        Path p = dir.resolve("d.csv");
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    private String error(String text) throws IOException {
        Path p = file(text);
        return assertThrows(InvalidInputException.class, () -> Csv.read(p)).getMessage();
    }

    @Test
    void readsWithAndWithoutHeader() throws IOException {
        Csv.Table t = Csv.read(file("x0,x1,\"label\"\r\n1.5, -2e-1 ,0\n\n# comment\n3,4,2\n"));
        assertEquals(List.of("x0", "x1", "label"), t.header());
        assertEquals(2, t.rows());
        assertEquals(3, t.cols());
        assertArrayEquals(new double[] {1.5, -0.2, 0, 3, 4, 2}, t.values());
        assertArrayEquals(new int[] {0, 2}, t.labels(2));
        try (Arena arena = Arena.ofConfined()) {
            assertArrayEquals(new double[] {1.5, -0.2, 3, 4}, t.columns(0, 2, arena, DType.F64).toDoubleArray());
        }
        Csv.Table u = Csv.read(file("# written by numpy.savetxt\n1,2\n3,4"));
        assertNull(u.header());
        assertArrayEquals(new double[] {1, 2, 3, 4}, u.values());
        // Numeric column names (pandas' default) need Header.PRESENT.
        Csv.Table v = Csv.read(file("0,1\n3,4\n"), Csv.Header.PRESENT);
        assertEquals(List.of("0", "1"), v.header());
        assertEquals(1, v.rows());
    }

    @Test
    void rejectsBadFieldsWithLineAndColumn() throws IOException {
        assertEquals(dir.resolve("d.csv") + ": line 3, column 2: 'abc' is not a number", error("a,b\n1,2\n3,abc\n"));
        assertEquals(dir.resolve("d.csv") + ": line 2: has 3 field(s) but the first line has 2", error("1,2\n3,4,5\n"));
        assertEquals(dir.resolve("d.csv") + ": line 1, column 2: 'NaN' is not allowed (NaN and Inf are not valid"
                + " data)", error("1,NaN\n"));
        assertEquals(dir.resolve("d.csv") + ": line 2, column 1: '-inf' is not allowed (NaN and Inf are not valid"
                + " data)", error("1,2\n-inf,3\n"));
        assertEquals(dir.resolve("d.csv") + ": line 1, column 1: '1e999' overflows a double", error("1e999\n"));
        assertEquals(dir.resolve("d.csv") + ": line 1, column 2: empty field", error("1,,3\n"));
        assertEquals(dir.resolve("d.csv") + ": no data rows (only a header)", error("a,b\n"));
        assertEquals(dir.resolve("d.csv") + ": no data rows", error(""));
        assertEquals(dir.resolve("d.csv") + ": line 2, column 1: '0x10' is not a number", error("1\n0x10\n"));
        assertEquals(dir.resolve("d.csv") + ": line 2, column 1: '1d' is not a number", error("1\n1d\n"));
        String longField = "1".repeat(Csv.MAX_FIELD + 1);
        assertEquals(dir.resolve("d.csv") + ": line 1, column 1: field longer than 256 characters", error(longField));
        Path p = file("1,2\n0.5,3\n");
        assertEquals(dir.resolve("d.csv") + ": row 2, column 1: label 0.5 is not a non-negative integer",
                assertThrows(InvalidInputException.class, () -> Csv.read(p).labels(0)).getMessage());
        assertThrows(InvalidInputException.class, () -> Csv.read(dir));
        assertThrows(InvalidInputException.class, () -> Csv.read(dir.resolve("missing.csv")));
    }

    @Test
    void twoPassReadSplitsColumnsIntoMemoryOrAMappedTemporaryFile() throws Exception {
        StringBuilder sb = new StringBuilder("# savetxt header\nx0,x1,x2,label\n");
        for (int r = 0; r < 500; r++) {
            sb.append(r * 0.5).append(',').append(-r).append(",\"").append(r % 7).append("e-1\",").append(r % 3)
                    .append(r % 50 == 0 ? "\n\n" : "\r\n");
        }
        Path p = file(sb.toString());
        Csv.Table table = Csv.read(p);
        for (long threshold : new long[] {Long.MAX_VALUE, 1024}) {
            MapThreshold.with(threshold, () -> {
                for (DType dt : DType.values()) {
                    try (Arena arena = Arena.ofConfined()) {
                        Csv.Columns c = Csv.read(p, Csv.Header.AUTO, cols -> 3, arena, dt);
                        assertEquals(List.of("x0", "x1", "x2", "label"), c.header());
                        assertEquals(500, c.rows());
                        assertEquals(4, c.cols());
                        assertArrayEquals(table.columns(0, 3, arena, dt).toDoubleArray(), c.left().toDoubleArray());
                        assertArrayEquals(table.labels(3), c.labels());
                        // Large data live in a mapped temporary file (already unlinked), small data in memory.
                        assertEquals(threshold == 1024, c.left().segment().isMapped());
                        Csv.Columns all = Csv.read(p, Csv.Header.AUTO, cols -> cols, arena, dt);
                        assertNull(all.right());
                        assertArrayEquals(table.columns(0, 4, arena, dt).toDoubleArray(), all.left().toDoubleArray());
                    }
                }
            });
        }
    }

    @Test
    void twoPassReadReportsLinesAndRefusedSplits() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Path p = file("1,2\n3,4\n5,x\n");
            assertEquals(p + ": line 3, column 2: 'x' is not a number", assertThrows(InvalidInputException.class,
                    () -> Csv.read(p, Csv.Header.AUTO, c -> 1, arena, DType.F64)).getMessage());
            Path big = file("1,2\n3,1e39\n");
            assertEquals(big + ": line 2, column 2: value 1.0E39 overflows f32", assertThrows(
                    InvalidInputException.class, () -> Csv.read(big, Csv.Header.AUTO, c -> 1, arena, DType.F32))
                    .getMessage());
            assertEquals(1e39, Csv.read(big, Csv.Header.AUTO, c -> 1, arena, DType.F64).right().get(1));
            assertEquals("refused", assertThrows(InvalidInputException.class, () -> Csv.read(big, Csv.Header.AUTO,
                    c -> {
                        throw new InvalidInputException("refused");
                    }, arena, DType.F64)).getMessage());
            Path labels = file("1,2\n3,0.5\n");
            assertEquals(labels + ": row 2, column 2: label 0.5 is not a non-negative integer",
                    assertThrows(InvalidInputException.class,
                            () -> Csv.read(labels, Csv.Header.AUTO, c -> 1, arena, DType.F64).labels()).getMessage());
        }
    }
}

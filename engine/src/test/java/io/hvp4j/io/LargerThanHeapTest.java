package io.hvp4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data sets larger than the heap stream through: a JVM with {@code -Xmx64m} computes gradients over a 147 MiB {@code .npy}, a 75 MiB IDX image file (raw and gzip;
 * 600 MiB once converted to f64) and a CSV of 9 million values (69 MiB in f64) with
 * {@link LargerThanHeapProbe}, and the sums must equal what the generated data imply. Data read into the heap fail
 * the child with an OutOfMemoryError; data read into off-heap memory (which {@code -Xmx} does not bound) show in
 * the peak of native allocations, required to stay below 64 MiB; the control run, with mapping switched off, shows
 * that the bound catches an .npy read into memory.
 */
class LargerThanHeapTest {
    @TempDir
    Path dir;

    private static final int NPY_ROWS = 600_000, NPY_COLS = 64;
    private static final int IDX_ITEMS = 100_000, SIDE = 28;
    private static final int CSV_ROWS = 450_000, CSV_COLS = 20;

    @Test
    void gradientsOverFilesLargerThanTheHeap() throws Exception {
        Path npy = dir.resolve("x.npy"), images = dir.resolve("images-idx3-ubyte"),
                gz = dir.resolve("images-idx3-ubyte.gz"), labels = dir.resolve("labels-idx1-ubyte"),
                csv = dir.resolve("d.csv");
        Map<String, Double> expected = new HashMap<>();
        expected.put("npy", writeNpy(npy) / NPY_ROWS + 1);
        expected.put("idx", -writeIdx(images, gz, labels) / IDX_ITEMS - 1);
        expected.put("csv", -writeCsv(csv) / CSV_ROWS);

        String out = child(List.of(), "npy", npy.toString(), "idx", images.toString(), labels.toString(),
                "idx", gz.toString(), labels.toString(), "csv", csv.toString());
        List<String> lines = out.lines().filter(l -> l.matches("(npy|idx|csv) .*")).toList();
        assertEquals(4, lines.size(), out);
        for (String l : lines) {
            String[] f = l.split(" ");
            double want = expected.get(f[0]), got = Double.parseDouble(f[1]);
            // npy is computed in f32 (batch sums of 1024 rows), the others in f64.
            double tol = (f[0].equals("npy") ? 1e-4 : 1e-9) * Math.abs(want);
            assertEquals(want, got, tol, l);
        }
        System.out.print(out); // the sums and the native peak, for the test report
        assertTrue(otherPeakKb(out) < LIMIT_KB, out);
        // The control: with mapping switched off the same .npy is read into off-heap memory, past the bound.
        String control = child(List.of("-D" + MappedFiles.THRESHOLD_PROPERTY + "=" + Long.MAX_VALUE), "npy",
                npy.toString());
        assertTrue(otherPeakKb(control) > LIMIT_KB, control);
    }

    private static final long LIMIT_KB = 64 << 10;

    private static long otherPeakKb(String out) {
        return out.lines().filter(l -> l.startsWith("other_peak_kb ")).mapToLong(l -> Long.parseLong(l.substring(14)))
                .findFirst().orElseThrow(() -> new AssertionError(out));
    }

    private Process start(List<String> flags, String... args) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx64m", "-XX:NativeMemoryTracking=summary",
                "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=" + dir));
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), LargerThanHeapProbe.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private String child(List<String> flags, String... args) throws Exception {
        Process p = start(flags, args);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    /** An f32 (rows, cols) .npy written in chunks; returns the sum of its values. */
    private static double writeNpy(Path file) throws IOException {
        double sum = 0;
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            out.write(Npy.header(NpyType.F32, new long[] {NPY_ROWS, NPY_COLS}));
            ByteBuffer row = ByteBuffer.allocate(4 * NPY_COLS).order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < NPY_ROWS; r++) {
                row.clear();
                for (int j = 0; j < NPY_COLS; j++) {
                    float v = ((r * 31 + j * 17) % 97) / 97f;
                    row.putFloat(v);
                    sum += v;
                }
                out.write(row.array());
            }
        }
        return sum;
    }

    /** Unsigned-byte images (raw and gzip) and labels {@code i mod 10}; returns the sum of the pixels / 255. */
    private static double writeIdx(Path images, Path gz, Path labels) throws IOException {
        double sum = 0;
        int pixels = SIDE * SIDE;
        try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(images), 1 << 20);
             OutputStream zip = new GZIPOutputStream(new BufferedOutputStream(Files.newOutputStream(gz), 1 << 20),
                     1 << 16)) {
            byte[] header = ByteBuffer.allocate(16).putInt(0x0803).putInt(IDX_ITEMS).putInt(SIDE).putInt(SIDE)
                    .array();
            raw.write(header);
            zip.write(header);
            byte[] item = new byte[pixels];
            for (int i = 0; i < IDX_ITEMS; i++) {
                for (int k = 0; k < pixels; k++) {
                    item[k] = (byte) ((i * 7 + k) % 256);
                    sum += (item[k] & 0xFF) / 255.0;
                }
                raw.write(item);
                zip.write(item);
            }
        }
        ByteBuffer lb = ByteBuffer.allocate(8 + IDX_ITEMS).putInt(0x0801).putInt(IDX_ITEMS);
        for (int i = 0; i < IDX_ITEMS; i++) lb.put((byte) (i % 10));
        Files.write(labels, lb.array());
        return sum;
    }

    /**
     * A CSV with a header, {@code CSV_COLS − 1} input columns {@code (r + j) mod 10} and a target column
     * {@code r mod 3}; returns {@code Σ_r y_r·(Σ_j x_rj + 1)} (the gradient's sum is minus its mean).
     */
    private static double writeCsv(Path file) throws IOException {
        double sum = 0;
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            StringBuilder sb = new StringBuilder();
            for (int j = 0; j < CSV_COLS; j++) sb.append(j == 0 ? "" : ",").append("c").append(j);
            out.write((sb + "\n").getBytes(StandardCharsets.US_ASCII));
            byte[] line = new byte[2 * CSV_COLS];
            for (int r = 0; r < CSV_ROWS; r++) {
                int xs = 0;
                for (int j = 0; j < CSV_COLS - 1; j++) {
                    int v = (r + j) % 10;
                    xs += v;
                    line[2 * j] = (byte) ('0' + v);
                    line[2 * j + 1] = ',';
                }
                int y = r % 3;
                line[2 * CSV_COLS - 2] = (byte) ('0' + y);
                line[2 * CSV_COLS - 1] = '\n';
                out.write(line);
                sum += y * (xs + 1.0);
            }
        }
        return sum;
    }
}

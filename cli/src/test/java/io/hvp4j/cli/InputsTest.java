package io.hvp4j.cli;

import static io.hvp4j.cli.MainTest.ARCH;
import static io.hvp4j.cli.MainTest.N;
import static io.hvp4j.cli.MainTest.args;
import static io.hvp4j.cli.MainTest.concat;
import static io.hvp4j.cli.MainTest.random;
import static io.hvp4j.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.io.Npy;
import io.hvp4j.io.NpyArray;
import io.hvp4j.io.Npz;
import io.hvp4j.memory.DType;
import io.hvp4j.model.Mlp;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Weight sets (.safetensors, .npz named and unnamed, flat .npy) and data files (.npy, .csv, .npz) agree bitwise. */
class InputsTest {
    @TempDir
    Path dir;

    static NpyArray f64(Arena arena, double[] v, long... shape) {
        return NpyArray.ofDoubles(arena, v, shape);
    }

    private byte[] gradient(String... extra) throws IOException {
        Path out = dir.resolve("g.npy");
        MainTest.Result r = run(concat(args("grad", "--arch", ARCH, "--act", "tanh", "--threads", "2", "--seed", "3"),
                concat(extra, "--out", out.toString())));
        assertEquals(0, r.code(), r.err());
        return Files.readAllBytes(out);
    }

    @Test
    void weightSetsInEveryFormatGiveTheSameGradient() throws IOException {
        Mlp mlp = MainTest.mlp();
        double[] theta = random(mlp.parameterCount(), 5);
        Path flat = dir.resolve("theta.npy"), named = dir.resolve("named.npz"), unnamed = dir.resolve("unnamed.npz");
        Npy.write(flat, theta, new long[] {theta.length}, DType.F64);
        try (Arena arena = Arena.ofConfined()) {
            Map<String, NpyArray> byName = new LinkedHashMap<>(), byPosition = new LinkedHashMap<>();
            int[] index = {0, 2};
            for (int l = 0; l < mlp.layers(); l++) {
                int in = mlp.width(l), out = mlp.width(l + 1);
                double[] w = new double[in * out], b = new double[out];
                System.arraycopy(theta, mlp.weightOffset(l), w, 0, w.length);
                System.arraycopy(theta, mlp.biasOffset(l), b, 0, out);
                byName.put(index[l] + ".weight", f64(arena, w, out, in));
                byName.put(index[l] + ".bias", f64(arena, b, out));
                byPosition.put("arr_" + 2 * l, f64(arena, w, out, in));
                byPosition.put("arr_" + (2 * l + 1), f64(arena, b, out));
            }
            Npz.write(named, byName, false);
            Npz.write(unnamed, byPosition, true);
        }
        byte[] reference = gradient("--data", "gaussian:10", "--weights", flat.toString());
        assertArrayEquals(reference, gradient("--data", "gaussian:10", "--weights", named.toString()));
        assertArrayEquals(reference, gradient("--data", "gaussian:10", "--weights", unnamed.toString()));
        // A flat vector of the wrong length is refused.
        Npy.write(flat, new double[] {1, 2}, new long[] {2}, DType.F64);
        MainTest.Result r = run("grad", "--arch", ARCH, "--weights", flat.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("must have shape (43,)"), r.err());
        r = run("grad", "--arch", ARCH, "--weights", dir.resolve("w.pt").toString());
        assertEquals(2, r.code());
    }

    @Test
    void dataFromCsvAndNpzMatchesNpy() throws IOException {
        double[] x = random(N * 4, 21);
        long[] labels = new long[N];
        for (int i = 0; i < N; i++) labels[i] = i % 3;
        Path xf = dir.resolve("x.npy"), lf = dir.resolve("l.npy"), csv = dir.resolve("d.csv"),
                xcsv = dir.resolve("x.csv"), npz = dir.resolve("d.npz");
        Npy.write(xf, x, new long[] {N, 4}, DType.F64);
        Npy.write(lf, labels, new long[] {N});
        StringBuilder all = new StringBuilder("x0,x1,x2,x3,label\n"), onlyX = new StringBuilder();
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < 4; j++) {
                // Shortest repr: parses back to the same double.
                all.append(x[i * 4 + j]).append(',');
                onlyX.append(x[i * 4 + j]).append(j < 3 ? "," : "\n");
            }
            all.append(labels[i]).append('\n');
        }
        Files.writeString(csv, all);
        Files.writeString(xcsv, onlyX);
        try (Arena arena = Arena.ofConfined()) {
            double[] l = new double[N];
            for (int i = 0; i < N; i++) l[i] = labels[i];
            Npz.write(npz, Map.of("x", f64(arena, x, N, 4), "y", f64(arena, l, N)), false);
        }
        byte[] reference = gradient("--loss", "ce", "--inputs", xf.toString(), "--targets", lf.toString());
        assertArrayEquals(reference, gradient("--loss", "ce", "--inputs", csv.toString()));
        assertArrayEquals(reference, gradient("--loss", "ce", "--inputs", xcsv.toString(), "--targets", lf.toString()));
        assertArrayEquals(reference, gradient("--loss", "ce", "--inputs", npz.toString()));
        // A bad field is reported with its line and column, exit 2.
        Files.writeString(csv, all.toString().replace(Double.toString(x[6]), "oops"));
        MainTest.Result r = run("grad", "--arch", ARCH, "--loss", "ce", "--inputs", csv.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("line 3, column 3: 'oops' is not a number"), r.err());
        // --inputs X.npy alone has no targets.
        r = run("grad", "--arch", ARCH, "--inputs", xf.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().toLowerCase(Locale.ROOT).contains("needs --targets"), r.err());
    }

    /** An IDX file of unsigned bytes: magic, type 0x08, the dimensions, the bytes. */
    private static byte[] idx(int[] dims, byte[] payload) {
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(4 + 4 * dims.length + payload.length);
        bb.put((byte) 0).put((byte) 0).put((byte) 0x08).put((byte) dims.length);
        for (int d : dims) bb.putInt(d);
        return bb.put(payload).array();
    }

    @Test
    void idxImagesAndLabelsMatchNpyStoredOrStreamed() throws IOException {
        byte[] pixels = new byte[N * 4];
        double[] x = new double[N * 4];
        long[] labels = new long[N];
        byte[] labelBytes = new byte[N];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 37 + 11);
            x[i] = (pixels[i] & 0xFF) / 255.0;
        }
        for (int i = 0; i < N; i++) labelBytes[i] = (byte) (labels[i] = (i * 5) % 3);
        Path xf = dir.resolve("x.npy"), lf = dir.resolve("l.npy");
        Npy.write(xf, x, new long[] {N, 4}, DType.F64);
        Npy.write(lf, labels, new long[] {N});
        Path images = Files.write(dir.resolve("train-images-idx3-ubyte"), idx(new int[] {N, 2, 2}, pixels));
        Path gz = dir.resolve("train-images-idx3-ubyte.gz");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write(Files.readAllBytes(images));
        }
        Path lab = Files.write(dir.resolve("train-labels-idx1-ubyte"), idx(new int[] {N}, labelBytes));
        byte[] reference = gradient("--loss", "ce", "--inputs", xf.toString(), "--targets", lf.toString());
        assertArrayEquals(reference, gradient("--loss", "ce", "--inputs", images.toString(), "--targets",
                lab.toString()));
        byte[] batched = gradient("--loss", "ce", "--batch-size", "3", "--inputs", xf.toString(), "--targets",
                lf.toString());
        System.setProperty(io.hvp4j.io.MappedFiles.THRESHOLD_PROPERTY, "1");
        try {
            for (Path p : new Path[] {images, gz}) {
                assertArrayEquals(batched, gradient("--loss", "ce", "--batch-size", "3", "--inputs", p.toString(),
                        "--targets", lab.toString()));
            }
        } finally {
            System.clearProperty(io.hvp4j.io.MappedFiles.THRESHOLD_PROPERTY);
        }
        MainTest.Result r = run("grad", "--arch", ARCH, "--loss", "mse", "--inputs", images.toString(), "--targets", lab.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("IDX targets are class labels"), r.err());
        r = run("grad", "--arch", "5,5,3", "--loss", "ce", "--inputs", images.toString(), "--targets", lab.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("not a perfect square"), r.err());
        // The format comes from the extension, else from the first bytes, not from "idx<digit>" in the name:
        // val_idx1.npy is npy (it was refused as "not an IDX file"), and IDX files named anyhow are IDX.
        Path npyNamedIdx = Files.copy(xf, dir.resolve("features_idx2.npy"));
        Path labelsNamedIdx = Files.copy(lf, dir.resolve("labels_idx1.npy"));
        assertArrayEquals(reference, gradient("--loss", "ce", "--inputs", npyNamedIdx.toString(), "--targets",
                labelsNamedIdx.toString()));
        Path plainImages = Files.copy(images, dir.resolve("images.bin"));
        Path plainGz = Files.copy(gz, dir.resolve("images.gz"));
        Path plainLabels = Files.copy(lab, dir.resolve("labels.ubyte"));
        for (Path p : new Path[] {plainImages, plainGz}) {
            assertArrayEquals(reference, gradient("--loss", "ce", "--inputs", p.toString(), "--targets",
                    plainLabels.toString()));
        }
    }
}

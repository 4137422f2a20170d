package io.hvp4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --model NAME} on the commands that take graphs, with {@code --layer} and {@code --params} blocks. */
class GraphModelCommandsTest {
    private static TraceCommandTest.Result run(String... args) {
        return TraceCommandTest.run(args);
    }

    @Test
    void hvpGradAndEigsRunOnABuiltInGraph(@TempDir Path dir) {
        Path hv = dir.resolve("hv.npy"), g = dir.resolve("g.npy");
        TraceCommandTest.Result r = run("hvp", "--model", "resnet8", "--data", "gaussian:3", "--params", "layers.0.bn1",
                "--dtype", "f64", "--threads", "1", "--out", hv.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("P=14650") && r.out().contains("params=layers.0.bn1"), r.out());
        assertTrue(Files.exists(hv));
        r = run("grad", "--model", "lenet5", "--data", "gaussian:2", "--threads", "1", "--out", g.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("P=61706"), r.out());
        r = run("eigs", "--model", "resnet8", "--data", "gaussian:2", "--layer", "14", "--top", "1", "--threads", "1",
                "--dtype", "f64");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("H (fc) n=170"), r.out());
    }

    @Test
    void badBlocksAndMissingSupportAreOneLineErrors(@TempDir Path dir) {
        String out = dir.resolve("hv.npy").toString();
        TraceCommandTest.Result r = run("hvp", "--model", "resnet8", "--data", "gaussian:2", "--params", "nope*",
                "--out", out);
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no parameter matches 'nope*'"), r.err());
        r = run("hvp", "--model", "resnet8", "--data", "gaussian:2", "--layer", "15", "--out", out);
        assertEquals(2, r.code());
        assertTrue(r.err().contains("15 modules"), r.err());
        r = run("hvp", "--arch", "4,3,2", "--data", "gaussian:2", "--params", "0.weight", "--out", out);
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--params needs --model"), r.err());
        r = run("hvp", "--model", "lenet5", "--arch", "4,2", "--out", out);
        assertEquals(2, r.code());
        // Vectors are .npy (or .safetensors with --model): another extension is refused before any work.
        r = run("grad", "--model", "lenet5", "--data", "gaussian:2", "--out", dir.resolve("g.txt").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("not .txt; name the file .npy"), r.err());
        assertTrue(!Files.exists(dir.resolve("g.txt")));
        r = run("hvp", "--arch", "4,3,2", "--data", "gaussian:2", "--out", dir.resolve("hv.csv").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("vectors are .npy files, not .csv"), r.err());
    }

    /** {@code trace --params} is the trace of the block (checked as Σ e_iᵀ H e_i from hvp on an identity block). */
    @Test
    void traceAndGradOfAParameterBlock(@TempDir Path dir) throws Exception {
        String[] m = {"--model", "lenet5", "--data", "gaussian:2", "--dtype", "f64", "--threads", "1"};
        Path eye = dir.resolve("eye.npy"), hv = dir.resolve("hv.npy"), g = dir.resolve("g.npy"), gb = dir.resolve("gb.npy");
        double[] id = new double[36];
        for (int i = 0; i < 6; i++) {
            id[i * 6 + i] = 1;
        }
        io.hvp4j.io.Npy.write(eye, id, new long[] {6, 6}, io.hvp4j.memory.DType.F64);
        TraceCommandTest.Result r = run(cat(new String[] {"hvp", "--params", "conv1.bias", "--vector", eye.toString(),
                "--out", hv.toString()}, m));
        assertEquals(0, r.code(), r.err());
        double[] h = read(hv);
        double want = 0;
        for (int i = 0; i < 6; i++) {
            want += h[i * 6 + i];
        }
        r = run(cat(new String[] {"trace", "--params", "conv1.bias", "--method", "exact", "--json"}, m));
        assertEquals(0, r.code(), r.err());
        double got = ((Number) ((java.util.Map<?, ?>) io.hvp4j.io.Json.read(r.out())).get("trace")).doubleValue();
        assertEquals(want, got, 1e-12 * (1 + Math.abs(want)), r.out());
        assertTrue(r.out().contains("\"block_params\": 6"), r.out());
        r = run(cat(new String[] {"trace", "--params", "conv1.bias", "--layerwise"}, m));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--layerwise and --params exclude each other"), r.err());

        // grad --params: the block's entries of the full gradient (conv1.bias sits at flat offsets 150..155).
        assertEquals(0, run(cat(new String[] {"grad", "--out", g.toString()}, m)).code());
        r = run(cat(new String[] {"grad", "--params", "conv1.bias", "--out", gb.toString()}, m));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("block=conv1.bias (6 params)"), r.out());
        double[] full = read(g), block = read(gb);
        assertEquals(6, block.length);
        for (int i = 0; i < 6; i++) {
            assertEquals(full[150 + i], block[i], 0);
        }
    }

    @Test
    void generatedClustersFeedGraphModelsToo() {
        TraceCommandTest.Result r = run("grad", "--model", "lenet5", "--data", "clusters:1", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("P=61706"), r.out());
        r = run("info", "--arch", "4,3,2", "--data", "clusters:5");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("10 samples"), r.out());
    }

    private static String[] cat(String[] a, String[] b) {
        String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static double[] read(Path file) {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            io.hvp4j.memory.Tensor t = io.hvp4j.io.Npy.readMatrix(file, arena, io.hvp4j.memory.DType.F64, "test");
            double[] v = new double[(int) t.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = t.get(i);
            }
            return v;
        }
    }
}

package io.hvp4j.cli;

import io.hvp4j.random.Rng;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.io.Npy;
import io.hvp4j.io.NpyArray;
import io.hvp4j.io.SafeTensors;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line run in-process: results against the engine, and every kind of bad input. */
class MainTest {
    /** Network used throughout: 4 inputs, 5 tanh hidden units, 3 outputs, with biases: P = 25 + 18 = 43. */
    static final String ARCH = "4,5,3";
    static final int[] WIDTHS = {4, 5, 3};
    static final int N = 10;
    static final long SEED = 3;

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : List.of(err.split("\\R"));
        }
    }

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Main.run(args, o, e);
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static String[] args(String... a) {
        return a;
    }

    static String[] concat(String[] a, String... b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
    }

    /** Common options: the network above on generated data, 2 threads. */
    static String[] model(String... extra) {
        return concat(args("--arch", ARCH, "--act", "tanh", "--data", "gaussian:" + N, "--seed",
                Long.toString(SEED), "--threads", "2"), extra);
    }

    /** The same problem built directly on the engine. */
    static MlpObjective objective(Arena arena, Mlp mlp, double[] theta, int maxBlock) {
        Dataset data = Dataset.gaussian(arena, DType.F64, N, WIDTHS[0], WIDTHS[WIDTHS.length - 1], Loss.CE, SEED);
        MlpObjective obj = new MlpObjective(mlp, Loss.CE, Loss.Reduction.MEAN, data, new VectorBackend(2), DType.F64,
                N, maxBlock);
        obj.setParameters(Tensor.of(arena, DType.F64, theta.length, 1, theta));
        return obj;
    }

    static Mlp mlp() {
        return new Mlp(WIDTHS, Activation.TANH, true);
    }

    static double[] theta(Mlp mlp) {
        return Initializer.GLOROT_NORMAL.initialize(mlp, SEED);
    }

    static double[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = Rng.gaussian(r);
        return v;
    }

    record Read(long[] shape, double[] values) {
    }

    static Read read(Path p) {
        try (Arena a = Arena.ofConfined()) {
            NpyArray arr = Npy.read(p, a);
            double[] v = new double[(int) arr.size()];
            for (int i = 0; i < v.length; i++) v[i] = arr.getDouble(i);
            return new Read(arr.shape(), v);
        }
    }

    static void assertClose(double[] expected, double[] actual, double tol) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol * Math.max(1, Math.abs(expected[i])), "element " + i);
        }
    }

    void assertOk(Result r) {
        assertEquals(0, r.code(), () -> "exit code; stderr: " + r.err() + " stdout: " + r.out());
    }

    // -------------------------------------------------------------------------------------------- results

    @Test
    void hvpRoundTripMatchesEngine() {
        Mlp mlp = mlp();
        int P = mlp.parameterCount();
        double[] v = random(P, 7);
        Path vf = dir.resolve("v.npy"), out = dir.resolve("hv.npy");
        Npy.write(vf, v, new long[] {P}, DType.F64);
        for (String product : new String[] {"hessian", "ggn", "functional"}) {
            Result r = hvp("--vector", vf.toString(), "--product", product, "--out", out.toString());
            assertOk(r);
            assertTrue(r.out().contains("P=" + P) && r.out().contains("k=1"), r.out());
            Read res = read(out);
            assertArrayEquals(new long[] {P}, res.shape());
            try (Arena arena = Arena.ofShared(); MlpObjective obj = objective(arena, mlp, theta(mlp), 1)) {
                Tensor o = Tensor.allocate(arena, DType.F64, P, 1);
                obj.apply(Curvature.parse(product), -1, Tensor.of(arena, DType.F64, P, 1, v), o);
                assertClose(o.toDoubleArray(), res.values(), 1e-12);
            }
        }
    }

    static Result hvp(String... extra) {
        return run(concat(args("hvp"), concat(model(), extra)));
    }

    @Test
    void layerBlockWithBothVectorShapes() {
        Mlp mlp = mlp();
        int P = mlp.parameterCount();
        int layer = 1, off = mlp.layerOffset(layer), n = mlp.layerParameterCount(layer);
        double[] full = random(P, 11);
        double[] part = new double[n];
        System.arraycopy(full, off, part, 0, n);
        Path vFull = dir.resolve("vfull.npy"), vPart = dir.resolve("vpart.npy");
        Npy.write(vFull, full, new long[] {P}, DType.F64);
        Npy.write(vPart, part, new long[] {n, 1}, DType.F64);
        Path oFull = dir.resolve("ofull.npy"), oPart = dir.resolve("opart.npy");
        assertOk(hvp("--vector", vFull.toString(), "--layer", "1", "--out", oFull.toString()));
        assertOk(hvp("--vector", vPart.toString(), "--layer", "1", "--out", oPart.toString()));
        double[] expected;
        try (Arena arena = Arena.ofShared(); MlpObjective obj = objective(arena, mlp, theta(mlp), 1)) {
            Tensor o = Tensor.allocate(arena, DType.F64, n, 1);
            obj.apply(Curvature.HESSIAN, layer, Tensor.of(arena, DType.F64, n, 1, part), o);
            expected = o.toDoubleArray();
        }
        Read rp = read(oPart);
        assertArrayEquals(new long[] {n, 1}, rp.shape());
        assertClose(expected, rp.values(), 1e-12);
        Read rf = read(oFull);
        assertArrayEquals(new long[] {P}, rf.shape());
        for (int i = 0; i < P; i++) {
            if (i < off || i >= off + n) {
                assertEquals(0.0, rf.values()[i], "outside the layer, element " + i);
            } else {
                assertEquals(expected[i - off], rf.values()[i], 1e-12 * Math.max(1, Math.abs(expected[i - off])));
            }
        }
    }

    @Test
    void blockOfVectorsMatchesSingleProducts() {
        Mlp mlp = mlp();
        int P = mlp.parameterCount(), k = 20; // more than one chunk of 16
        double[] v = random(P * k, 5);
        Path vf = dir.resolve("V.npy"), out = dir.resolve("HV.npy");
        Npy.write(vf, v, new long[] {P, k}, DType.F64);
        Result r = hvp("--vector", vf.toString(), "--out", out.toString());
        assertOk(r);
        assertTrue(r.out().contains("k=" + k), r.out());
        Read res = read(out);
        assertArrayEquals(new long[] {P, k}, res.shape());
        try (Arena arena = Arena.ofShared(); MlpObjective obj = objective(arena, mlp, theta(mlp), 1)) {
            for (int j = 0; j < k; j++) {
                double[] col = new double[P], got = new double[P];
                for (int i = 0; i < P; i++) {
                    col[i] = v[i * k + j];
                    got[i] = res.values()[i * k + j];
                }
                Tensor o = Tensor.allocate(arena, DType.F64, P, 1);
                obj.apply(Curvature.HESSIAN, -1, Tensor.of(arena, DType.F64, P, 1, col), o);
                assertClose(o.toDoubleArray(), got, 1e-11);
            }
        }
    }

    @Test
    void randomVectorF32AndBatches() {
        Path out = dir.resolve("hv32.npy");
        Result r = hvp("--dtype", "f32", "--batch-size", "3", "--out", out.toString());
        assertOk(r);
        Read res = read(out);
        assertArrayEquals(new long[] {mlp().parameterCount()}, res.shape());
        try (Arena a = Arena.ofConfined()) {
            assertEquals("F32", Npy.read(out, a).type().name());
        }
        // Same random vector in f64 and whole-batch: agrees to f32 accuracy.
        Path out64 = dir.resolve("hv64.npy");
        assertOk(hvp("--out", out64.toString()));
        double[] a = res.values(), b = read(out64).values();
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        assertTrue(Math.sqrt(num / den) < 1e-4, "f32 vs f64: " + Math.sqrt(num / den));
    }

    @Test
    void gradientMatchesEngine() {
        Mlp mlp = mlp();
        Path out = dir.resolve("g.npy");
        Result r = run(concat(args("grad"), concat(model(), "--out", out.toString())));
        assertOk(r);
        Read res = read(out);
        assertArrayEquals(new long[] {mlp.parameterCount()}, res.shape());
        try (Arena arena = Arena.ofShared(); MlpObjective obj = objective(arena, mlp, theta(mlp), 1)) {
            Tensor g = Tensor.allocate(arena, DType.F64, mlp.parameterCount(), 1);
            double loss = obj.gradient(g);
            assertClose(g.toDoubleArray(), res.values(), 1e-12);
            assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "loss=%.17g", loss)), r.out());
        }
    }

    @Test
    void inputsAndTargetsFromFiles() {
        // mse on files gives the same gradient as the engine on the same tensors; ce with int64 labels too.
        Mlp mlp = mlp();
        double[] x = random(N * 4, 21), y = random(N * 3, 22);
        Path xf = dir.resolve("x.npy"), yf = dir.resolve("y.npy"), lf = dir.resolve("labels.npy");
        Npy.write(xf, x, new long[] {N, 4}, DType.F64);
        Npy.write(yf, y, new long[] {N, 3}, DType.F64);
        long[] labels = new long[N];
        for (int i = 0; i < N; i++) labels[i] = i % 3;
        Npy.write(lf, labels, new long[] {N});
        Path g1 = dir.resolve("g1.npy"), g2 = dir.resolve("g2.npy");
        String[] base = args("grad", "--arch", ARCH, "--act", "tanh", "--seed", Long.toString(SEED), "--threads", "2",
                "--inputs", xf.toString());
        assertOk(run(concat(base, "--loss", "mse", "--targets", yf.toString(), "--out", g1.toString())));
        assertOk(run(concat(base, "--loss", "ce", "--targets", lf.toString(), "--out", g2.toString())));
        try (Arena arena = Arena.ofShared(); VectorBackend be = new VectorBackend(2)) {
            Tensor xt = Tensor.of(arena, DType.F64, N, 4, x);
            Dataset mse = new Dataset(xt, Tensor.of(arena, DType.F64, N, 3, y), "t");
            int[] lab = new int[N];
            for (int i = 0; i < N; i++) lab[i] = (int) labels[i];
            Dataset ce = new Dataset(xt, Dataset.oneHot(arena, DType.F64, lab, 3), "t");
            Object[][] cases = {{Loss.MSE, mse, g1}, {Loss.CE, ce, g2}};
            for (Object[] c : cases) {
                try (MlpObjective obj = new MlpObjective(mlp, (Loss) c[0], Loss.Reduction.MEAN, (Dataset) c[1], be,
                        DType.F64, N, 1)) {
                    obj.setParameters(Tensor.of(arena, DType.F64, mlp.parameterCount(), 1, theta(mlp)));
                    Tensor g = Tensor.allocate(arena, DType.F64, mlp.parameterCount(), 1);
                    obj.gradient(g);
                    assertClose(g.toDoubleArray(), read((Path) c[2]).values(), 1e-12);
                }
            }
        }
    }

    /** A state_dict of nn.Sequential(Linear(4,5), Tanh(), Linear(5,3)): indices 0 and 2. */
    Map<String, Object> stateDict(Arena arena, Mlp mlp, double[] theta) {
        Map<String, Object> m = new LinkedHashMap<>();
        int[] index = {0, 2};
        for (int l = 0; l < mlp.layers(); l++) {
            int in = mlp.width(l), out = mlp.width(l + 1);
            double[] w = new double[in * out];
            System.arraycopy(theta, mlp.weightOffset(l), w, 0, w.length);
            m.put(index[l] + ".weight", Tensor.of(arena, DType.F32, out, in, w));
            double[] b = new double[out];
            System.arraycopy(theta, mlp.biasOffset(l), b, 0, out);
            m.put(index[l] + ".bias", Tensor.of(arena, DType.F32, out, 1, b));
        }
        return m;
    }

    static void writeSafeTensors(Path file, Map<String, Object> tensors) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : tensors.entrySet()) {
            Tensor x = (Tensor) e.getValue();
            t.put(e.getKey(), x);
            if (e.getKey().endsWith(".bias") || x.cols() == 1 && !e.getKey().endsWith(".weight")) {
                shapes.put(e.getKey(), new long[] {x.rows()});
            }
        }
        SafeTensors.write(file, t, shapes, Map.of());
    }

    @Test
    void safetensorsWeights() {
        Mlp mlp = mlp();
        SplittableRandom r = new SplittableRandom(9);
        double[] theta = new double[mlp.parameterCount()];
        for (int i = 0; i < theta.length; i++) theta[i] = (float) (0.5 * Rng.gaussian(r));
        Path wf = dir.resolve("w.safetensors"), out = dir.resolve("g.npy");
        try (Arena arena = Arena.ofShared()) {
            writeSafeTensors(wf, stateDict(arena, mlp, theta));
        }
        assertOk(run(concat(args("grad"), concat(model(), "--weights", wf.toString(), "--out", out.toString()))));
        try (Arena arena = Arena.ofShared(); MlpObjective obj = objective(arena, mlp, theta, 1)) {
            Tensor g = Tensor.allocate(arena, DType.F64, mlp.parameterCount(), 1);
            obj.gradient(g);
            assertClose(g.toDoubleArray(), read(out).values(), 1e-12);
        }
    }

    // -------------------------------------------------------------------------------------------- bad input

    /** Exit 2, exactly one {@code hvp4j: error:} line, nothing on stdout, and no output file. */
    void assertBadInput(Path out, String... args) {
        assertError(null, out, args);
    }

    /** As {@link #assertBadInput}, and the message contains {@code fragment}. */
    void assertError(String fragment, Path out, String... args) {
        List<String> before = listing();
        Result r = run(args);
        assertEquals(2, r.code(), () -> "exit code for " + String.join(" ", args) + "; stderr: " + r.err()
                + " stdout: " + r.out());
        assertEquals(1, r.errLines().size(), () -> "one stderr line expected: " + r.err());
        assertTrue(r.errLines().get(0).startsWith("hvp4j: error: "), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        if (fragment != null) {
            assertTrue(r.err().contains(fragment), () -> "expected '" + fragment + "' in: " + r.err());
        }
        assertEquals("", r.out(), "stdout");
        if (out != null) {
            assertFalse(Files.exists(out), "output file left behind: " + out);
        }
        assertEquals(before, listing(), "files created");
    }

    List<String> listing() {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    String[] hvpArgs(Path out, String... extra) {
        return concat(args("hvp"), concat(model(), concat(extra, "--out", out.toString())));
    }

    @Test
    void badVectors() throws IOException {
        Mlp mlp = mlp();
        int P = mlp.parameterCount();
        Path out = dir.resolve("hv.npy");
        assertError("no such file", out, hvpArgs(out, "--vector", dir.resolve("missing.npy").toString()));
        Path garbage = dir.resolve("garbage.npy");
        Files.writeString(garbage, "this is not an npy file at all");
        assertBadInput(out, hvpArgs(out, "--vector", garbage.toString()));
        Path truncated = dir.resolve("truncated.npy");
        Npy.write(truncated, random(P, 1), new long[] {P}, DType.F64);
        byte[] bytes = Files.readAllBytes(truncated);
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 9));
        assertBadInput(out, hvpArgs(out, "--vector", truncated.toString()));
        Path wrong = dir.resolve("wrong.npy");
        Npy.write(wrong, random(P + 1, 1), new long[] {P + 1}, DType.F64);
        assertError("has " + (P + 1) + " rows", out, hvpArgs(out, "--vector", wrong.toString()));
        Path threeD = dir.resolve("threeD.npy");
        Npy.write(threeD, random(P * 2, 1), new long[] {P, 1, 2}, DType.F64);
        assertBadInput(out, hvpArgs(out, "--vector", threeD.toString()));
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY}) {
            double[] v = random(P, 1);
            v[P / 2] = bad;
            Path nan = dir.resolve("nan" + (Double.isNaN(bad) ? "" : "inf") + ".npy");
            Npy.write(nan, v, new long[] {P}, DType.F64);
            assertError(Double.isNaN(bad) ? "NaN" : "Inf", out, hvpArgs(out, "--vector", nan.toString()));
        }
        // Layer: the layer's rows or P rows; anything else (here layer 0's count with --layer 1) is wrong.
        Path layer0 = dir.resolve("layer0.npy");
        Npy.write(layer0, random(mlp.layerParameterCount(0), 1), new long[] {mlp.layerParameterCount(0)}, DType.F64);
        assertBadInput(out, hvpArgs(out, "--vector", layer0.toString(), "--layer", "1"));
        assertError("add --layer 0", out, hvpArgs(out, "--vector", layer0.toString()));
        assertError("--layer 2 is out of range", out, hvpArgs(out, "--layer", "2"));
        assertBadInput(out, hvpArgs(out, "--layer", "-1"));
    }

    @Test
    void cudaBackendWithoutADeviceExitsTwoWithOneLine() {
        io.hvp4j.cuda.CudaProbe.Result probe = io.hvp4j.cuda.CudaProbe.probe();
        org.junit.jupiter.api.Assumptions.assumeFalse(probe.usable(), "a CUDA device is usable here");
        Path out = dir.resolve("hv.npy");
        assertError("hvp4j: error: CUDA not available: " + probe.reason(), out, hvpArgs(out, "--backend", "cuda"));
        // auto falls back to the CPU backend.
        Result r = run(hvpArgs(out, "--backend", "auto"));
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void badNamesAndNumbers() {
        Path out = dir.resolve("hv.npy");
        assertError("unknown product 'hessain'", out, hvpArgs(out, "--product", "hessain"));
        assertError("unknown activation 'swish'", out, hvpArgs(out, "--act", "swish"));
        assertError("unknown loss 'hinge'", out, hvpArgs(out, "--loss", "hinge"));
        assertError("unknown reduction 'max'", out, hvpArgs(out, "--reduction", "max"));
        assertError("unknown dtype 'f16'", out, hvpArgs(out, "--dtype", "f16"));
        assertError("unknown init 'zeros'", out, hvpArgs(out, "--init", "zeros"));
        assertError("unknown backend 'gpu'", out, hvpArgs(out, "--backend", "gpu"));
        assertError("--threads must be positive", out, hvpArgs(out, "--threads", "0"));
        assertError("--threads must be positive", out, hvpArgs(out, "--threads", "-3"));
        assertError("'many' is not an int", out, hvpArgs(out, "--threads", "many"));
        assertError("--batch-size must be positive", out, hvpArgs(out, "--batch-size", "0"));
        assertError("N >= 1", out, hvpArgs(out, "--data", "gaussian:0"));
        assertError("--data must be gaussian:N", out, hvpArgs(out, "--data", "mnist"));
        assertError("Unknown option: '--no-such-option'", out, hvpArgs(out, "--no-such-option"));
        assertError("--arch must be comma-separated", out, "hvp", "--arch", "4,x,3", "--out", out.toString());
        assertError("widths must be positive", out, "hvp", "--arch", "4,0,3", "--out", out.toString());
        assertError("Missing required option: '--arch", out, "hvp", "--out", out.toString());
        assertError("Missing required option: '--out", out, "hvp", "--arch", ARCH);
        assertError("at least 2 outputs", out, "hvp", "--arch", "4,5,1", "--loss", "ce", "--out", out.toString());
        assertBadInput(null, "frobnicate");
        assertBadInput(null);
        assertBadInput(out, hvpArgs(dir.resolve("no/such/dir/hv.npy")));
        assertBadInput(null, hvpArgs(dir));
    }

    @Test
    void badDataFiles() throws IOException {
        Path out = dir.resolve("g.npy");
        Path x = dir.resolve("x.npy"), y = dir.resolve("y.npy"), xNan = dir.resolve("xnan.npy"),
                x3 = dir.resolve("x3.npy"), labels = dir.resolve("labels.npy"), y7 = dir.resolve("y7.npy"),
                notProb = dir.resolve("notprob.npy");
        Npy.write(x, random(N * 4, 1), new long[] {N, 4}, DType.F64);
        Npy.write(y, random(N * 3, 2), new long[] {N, 3}, DType.F64);
        double[] xn = random(N * 4, 1);
        xn[5] = Double.NaN;
        Npy.write(xNan, xn, new long[] {N, 4}, DType.F64);
        Npy.write(x3, random(N * 3, 1), new long[] {N, 3}, DType.F64);
        long[] lab = new long[N];
        lab[3] = 3; // only classes 0..2
        Npy.write(labels, lab, new long[] {N});
        Npy.write(y7, random(7 * 3, 2), new long[] {7, 3}, DType.F64);
        Npy.write(notProb, random(N * 3, 2), new long[] {N, 3}, DType.F64);
        String[] g = args("grad", "--arch", ARCH, "--out", out.toString());
        assertBadInput(out, concat(g, "--loss", "mse", "--inputs", xNan.toString(), "--targets", y.toString()));
        assertBadInput(out, concat(g, "--loss", "mse", "--inputs", x3.toString(), "--targets", y.toString()));
        assertBadInput(out, concat(g, "--loss", "mse", "--inputs", x.toString(), "--targets", y7.toString()));
        assertBadInput(out, concat(g, "--loss", "mse", "--inputs", x.toString()));
        assertBadInput(out, concat(g, "--loss", "mse", "--inputs", x.toString(), "--targets", y.toString(),
                "--data", "gaussian:5"));
        assertBadInput(out, concat(g, "--loss", "ce", "--inputs", x.toString(), "--targets", labels.toString()));
        assertBadInput(out, concat(g, "--loss", "ce", "--inputs", x.toString(), "--targets", notProb.toString()));
        assertBadInput(out, concat(g, "--loss", "mse", "--inputs", dir.resolve("nope.npy").toString(),
                "--targets", y.toString()));
        assertBadInput(out, concat(g, "--loss", "mse", "--inputs", dir.toString(), "--targets", y.toString()));
    }

    @Test
    void badWeights() throws IOException {
        Mlp mlp = mlp();
        double[] theta = theta(mlp);
        Path out = dir.resolve("g.npy");
        Map<Path, String> files = new LinkedHashMap<>();
        try (Arena arena = Arena.ofShared()) {
            // Wrong shape for --arch (arch says 4,5,3; file is 4,6,3).
            Mlp other = new Mlp(new int[] {4, 6, 3}, Activation.TANH, true);
            Path f = dir.resolve("arch.safetensors");
            writeSafeTensors(f, stateDict(arena, other, theta(other)));
            files.put(f, "has shape [6, 4]");
            // Missing bias.
            Map<String, Object> m = stateDict(arena, mlp, theta);
            m.remove("2.bias");
            f = dir.resolve("nobias.safetensors");
            writeSafeTensors(f, m);
            files.put(f, "no '2.bias'");
            // Unknown extra tensor.
            m = stateDict(arena, mlp, theta);
            m.put("running_mean", Tensor.allocate(arena, DType.F32, 3, 1));
            f = dir.resolve("extra.safetensors");
            writeSafeTensors(f, m);
            files.put(f, "unexpected tensor 'running_mean'");
            // Three Linear layers for a two-layer --arch.
            m = stateDict(arena, mlp, theta);
            m.put("4.weight", Tensor.allocate(arena, DType.F32, 3, 3));
            f = dir.resolve("count.safetensors");
            writeSafeTensors(f, m);
            files.put(f, "has 3 Linear layer(s)");
            // NaN in a weight.
            m = stateDict(arena, mlp, theta);
            ((Tensor) m.get("0.weight")).set(3, Double.NaN);
            f = dir.resolve("nan.safetensors");
            writeSafeTensors(f, m);
            files.put(f, "NaN");
            // Transposed weight.
            m = stateDict(arena, mlp, theta);
            Tensor w = (Tensor) m.get("0.weight");
            m.put("0.weight", w.reshape(w.cols(), w.rows()));
            f = dir.resolve("transposed.safetensors");
            writeSafeTensors(f, m);
            files.put(f, "needs [5, 4]");
        }
        Path garbage = dir.resolve("garbage.safetensors");
        Files.write(garbage, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        files.put(garbage, null);
        files.put(dir.resolve("missing.safetensors"), "no such file");
        for (Map.Entry<Path, String> f : files.entrySet()) {
            assertError(f.getValue(), out, concat(args("grad"), concat(model(), "--weights", f.getKey().toString(),
                    "--out", out.toString())));
        }
        // Extra bias with --no-bias: the good file with biases.
        Path good = dir.resolve("good.safetensors");
        try (Arena arena = Arena.ofShared()) {
            writeSafeTensors(good, stateDict(arena, mlp, theta));
        }
        assertError("--no-bias", out, concat(args("grad"), concat(model(), "--no-bias", "--weights", good.toString(), "--out",
                out.toString())));
        assertBadInput(out, concat(args("grad"), concat(model(), "--init", "he-normal", "--weights", good.toString(),
                "--out", out.toString())));
        // The good file itself works.
        assertOk(run(concat(args("grad"), concat(model(), "--weights", good.toString(), "--out", out.toString()))));
    }

    // -------------------------------------------------------------------------------------------- misc

    @Test
    void helpAndVersion() {
        for (String[] a : new String[][] {{"--help"}, {"hvp", "--help"}, {"grad", "--help"}, {"selfcheck", "--help"},
            {"--version"}, {"hvp", "--version"}}) {
            Result r = run(a);
            assertEquals(0, r.code(), String.join(" ", a));
            assertFalse(r.out().isBlank(), String.join(" ", a));
        }
        assertTrue(run("--version").out().startsWith("hvp4j "));
    }

    @Test
    void resourceLimitIsExitCode3() {
        Path out = dir.resolve("hv.npy");
        Result r = run("hvp", "--arch", "784,512,10", "--data", "gaussian:2000000000", "--out", out.toString());
        assertEquals(3, r.code(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("hvp4j: error: "), r.err());
        assertFalse(Files.exists(out));
        // Working memory of one batch of a million rows of a wide network.
        r = run("grad", "--arch", "4,100000,3", "--data", "gaussian:1000000");
        assertEquals(3, r.code(), r.err());
        assertTrue(r.err().contains("--batch-size"), r.err());
        // 1.8e9 parameters: 14 GB of heap to draw them (it was an OutOfMemoryError in the initializer), or more
        // off-heap memory than the machine has.
        // Only where 14 GB is more than the heap or the memory budget (a machine of under ~64 GiB).
        if (Runtime.getRuntime().maxMemory() < 14_000_000_000L || Problem.memoryBudget() < 14_000_000_000L) {
            r = run("hvp", "--arch", "30000,30000,30000,10", "--out", out.toString());
            assertEquals(3, r.code(), r.err());
            assertTrue(r.err().contains("parameters of --arch 30000,30000,30000,10"), r.err());
            assertFalse(Files.exists(out));
        }
    }

    @Test
    void internalErrorsAreOneLineUnlessVerbose() {
        java.io.StringWriter quiet = new java.io.StringWriter(), loud = new java.io.StringWriter();
        RuntimeException bug = new IllegalStateException("broken\ninvariant");
        assertEquals(4, Main.report(bug, false, new java.io.PrintWriter(quiet)));
        assertEquals(1, quiet.toString().split("\\R").length, quiet.toString());
        assertTrue(quiet.toString().startsWith("hvp4j: internal error: java.lang.IllegalStateException: broken invariant"),
                quiet.toString());
        assertEquals(4, Main.report(bug, true, new java.io.PrintWriter(loud)));
        assertTrue(loud.toString().contains("\tat "), loud.toString());
        java.io.StringWriter heap = new java.io.StringWriter(), offHeap = new java.io.StringWriter();
        assertEquals(3, Main.report(new OutOfMemoryError("Java heap space"), false, new java.io.PrintWriter(heap)));
        assertTrue(heap.toString().contains("-Xmx"), heap.toString());
        // Off-heap (FFM) memory has no JVM limit to raise: no flag is suggested.
        assertEquals(3, Main.report(new OutOfMemoryError("Cannot allocate 8 GiB"), false,
                new java.io.PrintWriter(offHeap)));
        assertFalse(offHeap.toString().contains("-X"), offHeap.toString());
        assertEquals(2, Main.report(new picocli.CommandLine.ExecutionException(new picocli.CommandLine(new Main()),
                "wrapped", new io.hvp4j.InvalidInputException("bad")), false, new java.io.PrintWriter(quiet)));
    }

    @Test
    void negatableBias() {
        Path a = dir.resolve("a.npy"), b = dir.resolve("b.npy");
        assertOk(run(concat(args("grad"), concat(model(), "--no-bias", "--out", a.toString()))));
        assertOk(run(concat(args("grad"), concat(model(), "--bias", "--out", b.toString()))));
        assertEquals(4 * 5 + 5 * 3, read(a).values().length);
        assertEquals(mlp().parameterCount(), read(b).values().length);
    }

    @Test
    void selfcheckPassesOnTinyNetwork() {
        Result r = run("selfcheck", "--arch", "5,6,4", "--data", "gaussian:20", "--reps", "1", "--threads", "2");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("PASS"), r.out());
        assertFalse(r.out().contains("FAIL"), r.out());
    }
}

package io.hvp4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.io.Json;
import io.hvp4j.spectral.SymmetricEigen;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code hvp4j rank} and {@code hvp4j spectrum} in-process. */
class RankCommandTest {
    @TempDir
    Path dir;

    record Result(int code, String out, String err) {
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

    static String[] with(String[] a, String... b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
    }

    /** d = 4, widths (3, 3), K = 2, N = 5, mse: r = 4, q = s = 2: H_O = 8, H_F = 20, H = 24; P = 27. */
    static final String[] LINEAR = {"--arch", "4,3,3,2", "--act", "identity", "--no-bias", "--loss", "mse",
        "--data", "gaussian:5", "--threads", "1"};

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Object o) {
        return (Map<String, Object>) o;
    }

    static int integer(Object o) {
        return ((Number) o).intValue();
    }

    @Test
    void linearNetworkMatchesThePredictionAsJson() {
        Result r = run(with(with(new String[] {"rank"}, LINEAR), "--json"));
        assertEquals(0, r.code(), r.err());
        Map<String, Object> j = obj(Json.read(r.out().trim()));
        assertEquals(27, integer(j.get("params")));
        Map<String, Object> rank = obj(j.get("rank"));
        Map<String, Object> pred = obj(j.get("predicted"));
        assertEquals(List.of("H", "H_O", "H_F"), new ArrayList<>(rank.keySet()));
        assertEquals(24, integer(rank.get("H")));
        assertEquals(8, integer(rank.get("H_O")));
        assertEquals(20, integer(rank.get("H_F")));
        for (String k : rank.keySet()) {
            assertEquals(integer(pred.get(k)), integer(rank.get(k)), k);
        }
        assertEquals(4, integer(j.get("input_rank")));
        assertEquals("default", j.get("tolerance_spec"));
        assertEquals("dense", j.get("method"));
        assertNull(j.get("layer"));
        double tauH = ((Number) obj(j.get("tolerance")).get("H")).doubleValue();
        double sigmaH = ((Number) obj(j.get("sigma_max")).get("H")).doubleValue();
        assertEquals(sigmaH * 27 * 0x1p-52, tauH, 0.0);
        Map<String, Object> ladder = obj(obj(j.get("ladder")).get("H"));
        assertEquals(List.of("1e-12", "1e-10", "1e-8", "1e-6", "1e-4"), new ArrayList<>(ladder.keySet()));
        assertEquals(24, integer(ladder.get("1e-12")));
        assertTrue(((Number) obj(j.get("gap")).get("H")).doubleValue() > 1e6);
        assertTrue(((Number) obj(j.get("asymmetry")).get("H")).doubleValue() < 1e-12);
        assertTrue(((Number) j.get("seconds")).doubleValue() >= 0);
    }

    @Test
    void randomizedAgreesWithDense() {
        for (String tol : new String[] {"default", "rel:1e-8", "abs:1e-9"}) {
            Result d = run(with(with(new String[] {"rank"}, LINEAR), "--json", "--tol", tol));
            Result r = run(with(with(new String[] {"rank"}, LINEAR), "--json", "--tol", tol, "--method", "randomized",
                    "--block", "4"));
            assertEquals(0, d.code(), d.err());
            assertEquals(0, r.code(), r.err());
            Map<String, Object> jd = obj(Json.read(d.out().trim()));
            Map<String, Object> jr = obj(Json.read(r.out().trim()));
            assertEquals("randomized", jr.get("method"));
            assertEquals(jd.get("rank"), jr.get("rank"), tol);
            assertEquals(jd.get("predicted"), jr.get("predicted"));
            assertEquals(jd.get("ladder"), jr.get("ladder"), tol);
            for (String k : List.of("H", "H_O", "H_F")) {
                double sd = ((Number) obj(jd.get("sigma_max")).get(k)).doubleValue();
                double sr = ((Number) obj(jr.get("sigma_max")).get(k)).doubleValue();
                assertEquals(sd, sr, 1e-9 * sd, k);
                assertTrue(integer(obj(jr.get("basis")).get(k)) <= 27, k);
            }
        }
        Result t = run(with(with(new String[] {"rank"}, LINEAR), "--method", "randomized", "--operator", "ggn"));
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("method=randomized"), t.out());
        Result a = run(with(with(new String[] {"rank"}, LINEAR), "--json", "--method", "auto"));
        assertEquals(0, a.code(), a.err());
        assertEquals("dense", obj(Json.read(a.out().trim())).get("method"));
    }

    @Test
    void randomizedSeedExampleCrossEntropy() {
        Result r = run("rank", "--arch", "25,5,10,10", "--act", "identity", "--no-bias", "--loss", "ce", "--data",
                "gaussian:50", "--threads", "1", "--json", "--method", "randomized", "--sketch-seed", "7");
        assertEquals(0, r.code(), r.err());
        Map<String, Object> rank = obj(obj(Json.read(r.out().trim())).get("rank"));
        assertEquals(245, integer(rank.get("H")));
        assertEquals(145, integer(rank.get("H_O")));
        assertEquals(165, integer(rank.get("H_F")));
    }

    @Test
    void seedExampleCrossEntropy() {
        // docs/theory.md §A.5/§A.11 #2: d = 25, widths (5, 10), K = 10, ce: (H_O, H_F, H) = (145, 165, 245).
        Result r = run("rank", "--arch", "25,5,10,10", "--act", "identity", "--no-bias", "--loss", "ce", "--data",
                "gaussian:50", "--threads", "1", "--json");
        assertEquals(0, r.code(), r.err());
        Map<String, Object> j = obj(Json.read(r.out().trim()));
        Map<String, Object> rank = obj(j.get("rank"));
        assertEquals(245, integer(rank.get("H")));
        assertEquals(145, integer(rank.get("H_O")));
        assertEquals(165, integer(rank.get("H_F")));
        assertEquals(rank, obj(j.get("predicted")).entrySet().stream()
                .filter(e -> rank.containsKey(e.getKey()))
                .collect(LinkedHashMap::new, (m, e) -> m.put(e.getKey(), e.getValue()), Map::putAll));
        assertEquals(9, integer(obj(j.get("predicted")).get("k_prime")));
    }

    @Test
    void tableAndSingleOperatorAndLayer() {
        Result t = run(with(new String[] {"rank"}, LINEAR));
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().startsWith("rank: P=27"), t.out());
        assertTrue(t.out().lines().anyMatch(l -> l.matches("H\\s+24\\s+24\\s.*")), t.out());
        assertTrue(t.out().lines().anyMatch(l -> l.matches("H_O\\s+8\\s+8\\s.*")), t.out());

        Result g = run(with(with(new String[] {"rank"}, LINEAR), "--operator", "ggn", "--json"));
        assertEquals(0, g.code(), g.err());
        Map<String, Object> j = obj(Json.read(g.out().trim()));
        assertEquals(List.of("H_O"), new ArrayList<>(obj(j.get("rank")).keySet()));

        Result l = run(with(with(new String[] {"rank"}, LINEAR), "--layer", "1", "--json"));
        assertEquals(0, l.code(), l.err());
        Map<String, Object> lj = obj(Json.read(l.out().trim()));
        assertEquals(1, integer(lj.get("layer")));
        assertEquals(9, integer(lj.get("dimension")));
        assertNull(lj.get("predicted"));
        // The diagonal blocks of H_F vanish for linear nets (docs/theory.md §A.3).
        assertEquals(0, integer(obj(lj.get("rank")).get("H_F")));

        Result nonlinear = run("rank", "--arch", "3,4,2", "--act", "tanh", "--data", "gaussian:6", "--json");
        assertEquals(0, nonlinear.code(), nonlinear.err());
        assertNull(obj(Json.read(nonlinear.out().trim())).get("predicted"));
    }

    @Test
    void bothEigensolversGiveTheSameRanks() {
        Result e = run(with(with(new String[] {"rank"}, LINEAR), "--eigen", "ejml", "--json"));
        assertEquals(0, e.code(), e.err());
        assertEquals("ejml", obj(Json.read(e.out().trim())).get("eigensolver"));
        Result n = run(with(with(new String[] {"rank"}, LINEAR), "--eigen", "lapack", "--json"));
        if (SymmetricEigen.lapackAvailable()) {
            assertEquals(0, n.code(), n.err());
            assertEquals(obj(Json.read(e.out().trim())).get("rank"),
                    obj(Json.read(n.out().trim())).get("rank"));
        } else {
            assertEquals(2, n.code());
            assertTrue(n.err().contains("not available"), n.err());
        }
    }

    @Test
    void checkpointsResumeAndAreRefusedForOtherArguments() throws IOException {
        Path ck = dir.resolve("h.ckpt");
        String[] base = with(with(new String[] {"rank"}, LINEAR), "--operator", "hessian", "--json", "--block", "4",
                "--checkpoint", ck.toString());
        Result first = run(with(base, "--keep-checkpoint"));
        assertEquals(0, first.code(), first.err());
        assertTrue(Files.exists(ck));
        // Another --block resumes too (the checkpoint's block size is kept).
        Result otherBlock = run(with(base, "--block", "8", "--keep-checkpoint"));
        assertEquals(0, otherBlock.code(), otherBlock.err());
        assertEquals(obj(Json.read(first.out().trim())).get("gap"),
                obj(Json.read(otherBlock.out().trim())).get("gap"));
        Result again = run(base); // resumes from the complete checkpoint, then removes it
        assertEquals(0, again.code(), again.err());
        assertEquals(obj(Json.read(first.out().trim())).get("rank"),
                obj(Json.read(again.out().trim())).get("rank"));
        assertEquals(obj(Json.read(first.out().trim())).get("gap"),
                obj(Json.read(again.out().trim())).get("gap"));
        assertFalse(Files.exists(ck));

        assertEquals(0, run(with(base, "--keep-checkpoint")).code());
        Result other = run(with(base, "--seed", "7"));
        assertEquals(2, other.code());
        assertTrue(other.err().startsWith("hvp4j: error: checkpoint"), other.err());
        assertTrue(other.err().contains("fingerprint differs"), other.err());
        assertEquals(1, other.err().lines().count(), other.err());

        // --operator all uses one file per operator.
        Path all = dir.resolve("all.ckpt");
        Result a = run(with(with(new String[] {"rank"}, LINEAR), "--checkpoint", all.toString(), "--keep-checkpoint"));
        assertEquals(0, a.code(), a.err());
        for (String s : new String[] {"H", "H_O", "H_F"}) {
            assertTrue(Files.exists(dir.resolve("all.ckpt." + s)), s);
        }
    }

    @Test
    void spectrumWritesEveryEigenvalue() throws IOException {
        Path csv = dir.resolve("spectrum.csv");
        Result r = run(with(with(new String[] {"spectrum"}, LINEAR), "--operator", "functional", "--method", "exact",
                "--out", csv.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("spectrum: P=27 operator=H_F n=27"), r.out());
        assertTrue(r.out().contains("rank=20"), r.out());
        List<String> lines = Files.readAllLines(csv);
        assertEquals("index,eigenvalue", lines.get(0));
        assertEquals(28, lines.size());
        double prev = Double.NEGATIVE_INFINITY, sum = 0, maxAbs = 0;
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",");
            assertEquals(i - 1, Integer.parseInt(f[0]));
            double v = Double.parseDouble(f[1]);
            assertTrue(v >= prev, "ascending");
            prev = v;
            sum += v;
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        // tr(H_F) = 0 for linear nets (docs/theory.md §A.3).
        assertEquals(0, sum, 1e-10 * maxAbs);

        Result s = run(with(with(new String[] {"spectrum"}, LINEAR), "--layer", "0"));
        assertEquals(0, s.code(), s.err());
        assertEquals(13, s.out().lines().count()); // header + 12 parameters of layer 0
    }

    static Stream<Arguments> badInputs() {
        return Stream.<Object>of(
                new String[] {"rank", "--method", "svd"},
                new String[] {"rank", "--tol", "rel:-1e-3"},
                new String[] {"rank", "--tol", "rel:NaN"},
                new String[] {"rank", "--tol", "tol:1e-3"},
                new String[] {"rank", "--tol", "1e-8"},
                new String[] {"rank", "--operator", "jacobian"},
                new String[] {"rank", "--layer", "3"},
                new String[] {"rank", "--eigen", "magma"},
                new String[] {"rank", "--block", "0"},
                new String[] {"spectrum", "--operator", "all"},
                new String[] {"spectrum", "--method", "slq", "--steps", "1"},
                new String[] {"spectrum", "--method", "lanczos", "--k", "0"},
                new String[] {"spectrum", "--out", "/nonexistent-dir/x.csv"}).map(a -> Arguments.of(a));
        // P above the dense limit is a resource limit (exit 3): ExitCodesTest.
    }

    @ParameterizedTest
    @MethodSource("badInputs")
    void badInputIsExitTwoWithOneLine(String[] extra) {
        String[] args = with(new String[] {extra[0]}, LINEAR);
        args = with(args, java.util.Arrays.copyOfRange(extra, 1, extra.length));
        Result r = run(args);
        assertEquals(2, r.code(), r.err() + r.out());
        assertTrue(r.err().startsWith("hvp4j: error: "), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertEquals("", r.out());
        if (extra[0].equals("rank") && extra[1].equals("--method")) {
            assertTrue(r.err().contains("expected dense, randomized or auto"), r.err());
        }
    }
}

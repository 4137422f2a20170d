package io.hvp4j.cli;

import static io.hvp4j.cli.RankCommandTest.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.graph.Graph;
import io.hvp4j.graph.Models;
import io.hvp4j.io.Npy;
import io.hvp4j.memory.DType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rank --model}: the conv1 block of LeNet-5's H, H_O and H_F against PyTorch float64
 * ({@code lenet5_rank_reference.py}, its output committed as {@code lenet5_rank_reference.json}). Parameters and
 * data are the script's closed formulas, so both sides see the same numbers up to the last bit of {@code sin}.
 * The reference ranks are numpy's {@code matrix_rank} with its default tolerance, the one {@code rank} uses; the
 * script reports that the singular values next to the cut are at least 100× away from it, so rounding differences
 * between the two implementations cannot move a rank.
 */
class RankModelTest {
    private static final int SAMPLES = 4;

    /** The reference script's {@code wave}: sin of a quadratic, so that no weight matrix has a low-rank pattern. */
    static double wave(long i, double b) {
        double d = i;
        return Math.sin(d * d * 0.618 + 1.7 * d + b);
    }

    @Test
    void conv1BlockRanksMatchPyTorch(@TempDir Path dir) throws IOException {
        Graph g = Models.lenet5(10);
        double[] theta = new double[g.parameterCount()];
        int i = 0;
        for (Graph.Value p : g.parameters()) {
            boolean bias = p.name().endsWith("bias");
            long n = p.shape().intSize();
            double fanIn = bias ? 0 : (double) n / p.shape().dims()[0];
            for (int j = 0; j < n; j++, i++) {
                theta[i] = wave(i, 0.5) * (bias ? 0.1 : 1 / Math.sqrt(fanIn));
            }
        }
        double[] x = new double[SAMPLES * 784];
        for (int j = 0; j < x.length; j++) {
            x[j] = wave(j, 0.1);
        }
        long[] y = new long[SAMPLES];
        for (int s = 0; s < SAMPLES; s++) {
            y[s] = s % 10;
        }
        Path w = dir.resolve("theta.npy"), xf = dir.resolve("x.npy"), yf = dir.resolve("y.npy");
        Npy.write(w, theta, new long[] {theta.length}, DType.F64);
        Npy.write(xf, x, new long[] {SAMPLES, 784}, DType.F64);
        Npy.write(yf, y, new long[] {SAMPLES});

        TraceCommandTest.Result r = TraceCommandTest.run("rank", "--model", "lenet5", "--weights", w.toString(),
                "--inputs", xf.toString(), "--targets", yf.toString(), "--params", "conv1", "--dtype", "f64",
                "--threads", "1", "--json");
        assertEquals(0, r.code(), r.err());
        Map<String, Object> got = obj(io.hvp4j.io.Json.read(r.out().trim()));
        Map<String, Object> ref = obj(io.hvp4j.io.Json.read(reference()));
        assertEquals(((Number) ref.get("n")).intValue(), ((Number) got.get("dimension")).intValue());
        assertEquals("dense", got.get("method"));
        for (String op : new String[] {"H", "H_O", "H_F"}) {
            Map<String, Object> e = obj(ref.get(op));
            assertEquals(((Number) e.get("rank")).intValue(), ((Number) obj(got.get("rank")).get(op)).intValue(), op);
            double sigma = ((Number) e.get("sigma_max")).doubleValue();
            double mine = ((Number) obj(got.get("sigma_max")).get(op)).doubleValue();
            // Products are exact up to rounding; 1e-9 relative leaves room for summation order (f64).
            assertEquals(sigma, mine, 1e-9 * sigma, op + " sigma_max");
        }
        // H_O = Σ J_iᵀ ∇²ℓ_i J_i has rank at most N·(K − 1): the reference reaches it.
        assertEquals(SAMPLES * 9, ((Number) obj(got.get("rank")).get("H_O")).intValue());
        assertTrue(got.containsKey("predicted") && got.get("predicted") == null, "no closed form for a CNN");
    }

    private static String reference() throws IOException {
        try (InputStream in = RankModelTest.class.getResourceAsStream("lenet5_rank_reference.json")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}

package io.hvp4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.ScalarBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code hvp4j trace} and {@code hvp4j eigs} on a tiny network, against exact values computed here. */
class TraceCommandTest {
    static final String ARCH = "4,5,3";
    static final int[] WIDTHS = {4, 5, 3};
    static final int N = 10;
    static final long SEED = 3;

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

    static String[] cmd(String command, String... extra) {
        List<String> a = new ArrayList<>(List.of(command, "--arch", ARCH, "--act", "tanh", "--loss", "ce", "--data",
                "gaussian:" + N, "--seed", Long.toString(SEED), "--threads", "1"));
        a.addAll(Arrays.asList(extra));
        return a.toArray(String[]::new);
    }

    /** The dense curvature of the same problem as the CLI builds it (block {@code layer}, or all for -1). */
    static double[][] dense(Curvature c, int layer) {
        try (Arena arena = Arena.ofConfined()) {
            Mlp mlp = new Mlp(WIDTHS, Activation.TANH, true);
            double[] theta = Initializer.GLOROT_NORMAL.initialize(mlp, SEED);
            Dataset data = Dataset.gaussian(arena, DType.F64, N, 4, 3, Loss.CE, SEED);
            try (MlpObjective f = new MlpObjective(mlp, Loss.CE, Loss.Reduction.MEAN, data, new ScalarBackend(),
                    DType.F64, N, 1)) {
                f.setParameters(Tensor.of(arena, DType.F64, theta.length, 1, theta));
                int n = layer < 0 ? mlp.parameterCount() : mlp.layerParameterCount(layer);
                double[][] m = new double[n][n];
                Tensor e = Tensor.allocate(arena, DType.F64, n, 1), out = Tensor.allocate(arena, DType.F64, n, 1);
                for (int j = 0; j < n; j++) {
                    e.zero();
                    e.set(j, 1);
                    f.apply(c, layer, e, out);
                    for (int i = 0; i < n; i++) m[i][j] = out.get(i);
                }
                return m;
            }
        }
    }

    static double trace(double[][] m) {
        double s = 0;
        for (int i = 0; i < m.length; i++) s += m[i][i];
        return s;
    }

    static double number(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\": (-?[0-9.eE+-]+)").matcher(json);
        assertTrue(m.find(), key + " in " + json);
        return Double.parseDouble(m.group(1));
    }

    static List<Double> numbers(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\": (-?[0-9.eE+-]+)").matcher(json);
        List<Double> out = new ArrayList<>();
        while (m.find()) out.add(Double.parseDouble(m.group(1)));
        return out;
    }

    @Test
    void diagonalEstimatesAgainstTheDenseDiagonal(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        double[][] h = dense(Curvature.HESSIAN, -1);
        java.nio.file.Path exact = dir.resolve("exact.npy"), est = dir.resolve("est.npy");
        assertEquals(0, run(cmd("trace", "--method", "exact", "--diagonal", exact.toString())).code());
        assertEquals(0, run(cmd("trace", "--probes", "400", "--diagonal", est.toString())).code());
        // The diagonal comes from the trace's own products (it used a second, hidden set of probes whose sum did
        // not match the printed trace): Rademacher probes make its sum the trace estimate, up to rounding.
        Result r = run(cmd("trace", "--probes", "400", "--diagonal", est.toString(), "--json"));
        assertEquals(0, r.code(), r.err());
        assertEquals(400, number(r.out(), "products"), 0);
        assertEquals(0, number(r.out(), "diagonal_products"), 0);
        double estTrace = number(r.out(), "trace");
        r = run(cmd("trace", "--method", "exact", "--diagonal", exact.toString(), "--json"));
        double exactTrace = number(r.out(), "trace");
        assertEquals(h.length, number(r.out(), "products"), 0);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            io.hvp4j.io.NpyArray ae = io.hvp4j.io.Npy.read(exact, arena), ah = io.hvp4j.io.Npy.read(est, arena);
            double se = 0, sh = 0;
            for (int i = 0; i < ae.size(); i++) se += ae.getDouble(i);
            for (int i = 0; i < ah.size(); i++) sh += ah.getDouble(i);
            assertEquals(exactTrace, se, 0, "the exact diagonal sums to the exact trace, in the same order");
            assertEquals(estTrace, sh, 1e-12 * Math.abs(estTrace) + 1e-12);
            double[] de = new double[(int) ae.size()], dh = new double[(int) ah.size()];
            for (int i = 0; i < de.length; i++) de[i] = ae.getDouble(i);
            for (int i = 0; i < dh.length; i++) dh[i] = ah.getDouble(i);
            assertEquals(h.length, de.length);
            for (int i = 0; i < h.length; i++) {
                double off = 0;
                for (int j = 0; j < h.length; j++) if (j != i) off += h[i][j] * h[i][j];
                assertEquals(h[i][i], de[i], 1e-12 * Math.max(1, Math.abs(h[i][i])), "exact " + i);
                assertEquals(h[i][i], dh[i], 4 * Math.sqrt(off / 400) + 1e-12, "estimate " + i);
            }
        }
    }

    @Test
    void exactTraceAndLayerwiseTracesMatchTheDenseMatrix() {
        for (String op : new String[] {"hessian", "ggn", "functional"}) {
            Curvature c = Curvature.parse(op);
            double exact = trace(dense(c, -1));
            Result r = run(cmd("trace", "--operator", op, "--method", "exact", "--json"));
            assertEquals(0, r.code(), r.err());
            assertEquals(exact, number(r.out(), "trace"), 1e-12 * Math.max(1, Math.abs(exact)), op);
            assertEquals(43, number(r.out(), "products"));

            Result lw = run(cmd("trace", "--operator", op, "--method", "exact", "--layerwise", "--json"));
            assertEquals(0, lw.code(), lw.err());
            List<Double> traces = numbers(lw.out(), "trace");
            assertEquals(3, traces.size()); // the total, then the two layers
            assertEquals(exact, traces.get(0), 1e-12 * Math.max(1, Math.abs(exact)));
            for (int l = 0; l < 2; l++) {
                assertEquals(trace(dense(c, l)), traces.get(l + 1), 1e-12 * Math.max(1, Math.abs(exact)));
            }
        }
    }

    @Test
    void hutchinsonAndHutchPlusPlusAreWithinFourStandardErrors() {
        double exact = trace(dense(Curvature.HESSIAN, -1));
        for (String method : new String[] {"hutchinson", "hutchpp", "xtrace"}) {
            Result r = run(cmd("trace", "--method", method, "--probes", "30", "--json"));
            assertEquals(0, r.code(), r.err());
            double est = number(r.out(), "trace"), se = number(r.out(), "standard_error");
            assertTrue(se > 0, method);
            assertTrue(Math.abs(est - exact) <= 4 * se, method + ": " + est + " ± " + se + " vs " + exact);
            assertEquals(30, number(r.out(), "products"));
        }
        Result text = run(cmd("trace", "--method", "hutchpp", "--probes", "12", "--layerwise"));
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("layer 0 (25 params)"), text.out());
        assertTrue(text.out().contains("layer 1 (18 params)"), text.out());
        assertTrue(text.out().contains("sum of layers"), text.out());
        // Deterministic for a fixed seed.
        assertEquals(run(cmd("trace", "--probes", "7", "--json")).out().replaceAll("\"seconds\": [0-9.]+", ""),
                run(cmd("trace", "--probes", "7", "--json")).out().replaceAll("\"seconds\": [0-9.]+", ""));
    }

    @Test
    void eigsMatchesDenseExtremeEigenvalues() {
        for (String op : new String[] {"hessian", "ggn", "functional"}) {
          for (String method : new String[] {"lanczos", "block-lanczos"}) {
            double[][] h = dense(Curvature.parse(op), -1);
            double[] ev = io.hvp4j.cli.TraceCommandTest.jacobi(h);
            Result r = run(cmd("eigs", "--operator", op, "--top", "2", "--bottom", "1", "--json", "--method", method,
                    "--block", "3"));
            assertTrue(r.out().contains("\"method\": \"" + method + "\""), r.out());
            assertEquals(0, r.code(), r.err());
            List<Double> values = numbers(r.out(), "value");
            assertEquals(3, values.size());
            double scale = Math.max(Math.abs(ev[0]), Math.abs(ev[ev.length - 1]));
            assertEquals(ev[ev.length - 1], values.get(0), 1e-8 * scale, op);
            assertEquals(ev[0], values.get(2), 1e-8 * scale, op);
            assertTrue(r.out().contains("\"converged\": true}"), r.out());
            for (double res : numbers(r.out(), "residual")) assertTrue(res <= 1e-9 * scale, "residual " + res);
          }
        }
        Result text = run(cmd("eigs", "--top", "2", "--bottom", "2", "--layer", "1"));
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().startsWith("eigs: H (layer 1) n=18"), text.out());
        assertTrue(text.out().contains("top:") && text.out().contains("bottom:") && text.out().contains("residual"));
        double lmax = jacobi(dense(Curvature.GAUSS_NEWTON, -1))[42];
        Result power = run(cmd("eigs", "--operator", "ggn", "--method", "power", "--top", "1", "--tol", "1e-12",
                "--max-iter", "3000", "--json"));
        assertEquals(0, power.code(), power.err());
        assertEquals(lmax, numbers(power.out(), "value").get(0), 1e-6 * lmax);
        assertTrue(power.out().contains("\"dominant_negative\": false"));
    }

    @Test
    void badInputExitsWithCodeTwoAndOneLine() {
        String[][] bad = {
            cmd("trace", "--operator", "hessain"),
            cmd("trace", "--method", "magic"),
            cmd("trace", "--method", "xtrace", "--probes", "7"),
            cmd("trace", "--method", "xtrace", "--probes", "2"),
            cmd("trace", "--method", "hutchpp", "--probes", "2"),
            cmd("trace", "--probes", "0"),
            cmd("trace", "--dist", "cauchy"),
            cmd("eigs", "--top", "0", "--bottom", "0"),
            cmd("eigs", "--method", "power", "--bottom", "2"),
            cmd("eigs", "--layer", "2"),
            cmd("eigs", "--method", "arnoldi"),
            cmd("eigs", "--method", "block-lanczos", "--block", "0"),
            cmd("eigs", "--tol", "-1"),
            cmd("eigs", "--max-iter", "0"),
        };
        for (String[] a : bad) {
            Result r = run(a);
            assertEquals(2, r.code(), String.join(" ", a) + ": " + r.err());
            assertTrue(r.out().isEmpty(), r.out());
            String[] lines = r.err().split("\\R");
            assertEquals(1, lines.length, r.err());
            assertTrue(lines[0].startsWith("hvp4j: error: "), r.err());
        }
        Result big = run("trace", "--arch", "200,100,10", "--data", "gaussian:2", "--method", "exact");
        assertEquals(3, big.code()); // a resource limit, overridden by --force
        assertTrue(big.err().contains("refused above 20000"), big.err());
    }

    /** Cyclic Jacobi eigenvalues, ascending (reference). */
    static double[] jacobi(double[][] matrix) {
        int n = matrix.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) a[i] = matrix[i].clone();
        for (int i = 0; i < n; i++) for (int j = 0; j < i; j++) a[i][j] = a[j][i] = 0.5 * (a[i][j] + a[j][i]);
        for (int sweep = 0; sweep < 60; sweep++) {
            double off = 0, all = 0;
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) {
                all += a[i][j] * a[i][j];
                if (i != j) off += a[i][j] * a[i][j];
            }
            if (off <= 1e-34 * all) break;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (a[p][q] == 0) continue;
                    double tau = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
                    double cs = 1 / Math.sqrt(1 + t * t), sn = t * cs;
                    for (int k = 0; k < n; k++) {
                        double x = a[k][p], y = a[k][q];
                        a[k][p] = cs * x - sn * y;
                        a[k][q] = sn * x + cs * y;
                    }
                    for (int k = 0; k < n; k++) {
                        double x = a[p][k], y = a[q][k];
                        a[p][k] = cs * x - sn * y;
                        a[q][k] = sn * x + cs * y;
                    }
                }
            }
        }
        double[] ev = new double[n];
        for (int i = 0; i < n; i++) ev[i] = a[i][i];
        Arrays.sort(ev);
        return ev;
    }
}

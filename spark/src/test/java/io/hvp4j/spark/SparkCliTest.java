package io.hvp4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.cli.Main;
import io.hvp4j.io.Npy;
import io.hvp4j.memory.DType;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --spark} of the command line, in this JVM (local mode, loopback). */
class SparkCliTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static List<Double> eigenvalues(String text) {
        List<Double> v = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\s+\\d+\\s+(-?[0-9.]+e[-+][0-9]+)\\s+residual").matcher(text);
        while (m.find()) {
            v.add(Double.parseDouble(m.group(1)));
        }
        return v;
    }

    @Test
    void eigsOnSparkGivesTheInProcessEigenvalues() {
        int n = 240, d = 8, k = 3;
        SplittableRandom r = new SplittableRandom(3);
        double[] x = new double[n * d], y = new double[n];
        for (int i = 0; i < x.length; i++) x[i] = io.hvp4j.random.Rng.gaussian(r);
        for (int i = 0; i < n; i++) y[i] = r.nextInt(k);
        Path xs = dir.resolve("x.npy"), ys = dir.resolve("y.npy");
        Npy.write(xs, x, new long[] {n, d}, DType.F64);
        Npy.write(ys, java.util.Arrays.stream(y).mapToLong(v -> (long) v).toArray(), new long[] {n});
        String[] common = {"eigs", "--arch", "8,12,3", "--inputs", xs.toString(), "--targets", ys.toString(),
            "--top", "3", "--threads", "2"};
        Run here = run(common);
        assertEquals(0, here.code(), here.err());
        List<String> args = new ArrayList<>(List.of(common));
        args.addAll(List.of("--spark", "local[2]", "--partitions", "3"));
        Run spark = run(args.toArray(String[]::new));
        assertEquals(0, spark.code(), spark.err());
        List<Double> a = eigenvalues(here.out()), b = eigenvalues(spark.out());
        assertEquals(3, a.size(), here.out());
        assertEquals(a.size(), b.size(), spark.out());
        for (int i = 0; i < a.size(); i++) {
            // f64; products agree to ~1e-15 relative (only the order of batch sums differs), Lanczos converged to 1e-9
            assertEquals(a.get(i), b.get(i), 1e-9 * Math.abs(a.get(i)), "eigenvalue " + i);
        }
        assertTrue(spark.err().isBlank(), "nothing on stderr: " + spark.err());
    }

    @Test
    void anUnreachableClusterIsOneLineAndExitCodeOne() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // free once closed: nothing listens there
        }
        long t0 = System.nanoTime();
        Run r = run("eigs", "--arch", "4,3,2", "--spark", "spark://127.0.0.1:" + port);
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("hvp4j: error: cannot reach the Spark master"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(System.nanoTime() - t0 < (SparkDistributed.CONNECT_SECONDS + 20) * 1e9, "within the timeout");
    }

    @Test
    void badSparkOptionsAreExitCodeTwo() {
        Run r = run("eigs", "--arch", "4,3,2", "--spark", "yarn");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--spark must be"), r.err());
        // Spark itself refused these with a stack trace and exit code 4.
        for (String m : new String[] {"local[0]", "local[99999999999]", "local[2,0]", "spark://127.0.0.1:99999",
            "spark://127.0.0.1:0"}) {
            r = run("eigs", "--arch", "4,3,2", "--spark", m);
            assertEquals(2, r.code(), m + ": " + r.err());
            assertEquals(1, r.err().strip().split("\\R").length, m + ": " + r.err());
            assertTrue(r.err().contains("--spark " + m + ": "), r.err());
        }
        r = run("eigs", "--arch", "4,3,2", "--partitions", "2");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--partitions needs --spark"), r.err());
        r = run("eigs", "--arch", "4,3,2", "--data", "gaussian:10", "--spark", "local[2]", "--partitions", "20",
                "--batch-size", "5");
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}

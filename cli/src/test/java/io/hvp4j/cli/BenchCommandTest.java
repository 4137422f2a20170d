package io.hvp4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code hvp4j bench}: the JSON shape and bad input (no timing assertions: timings depend on the machine). */
class BenchCommandTest {
    private static final Pattern NUMBER = Pattern.compile("\"([a-z_0-9A-Z]+)\": (-?[0-9][0-9.eE+-]*|null)");

    /** Top-level and nested {@code "key": number} pairs (null as NaN). */
    private static Map<String, Double> numbers(String json) {
        Map<String, Double> m = new LinkedHashMap<>();
        Matcher x = NUMBER.matcher(json);
        while (x.find()) {
            m.putIfAbsent(x.group(1), x.group(2).equals("null") ? Double.NaN : Double.parseDouble(x.group(2)));
        }
        return m;
    }

    private static TraceCommandTest.Result run(String... args) {
        return TraceCommandTest.run(args);
    }

    @Test
    void mlpJsonHasEveryFigure() {
        TraceCommandTest.Result r = run("bench", "--arch", "6,5,3", "--act", "tanh", "--loss", "mse", "--batch", "7",
                "--block", "3", "--reps", "2", "--warmup-ms", "0", "--threads", "1", "--dtype", "f64", "--json");
        assertEquals(0, r.code(), r.err());
        String out = r.out().trim();
        assertTrue(out.startsWith("{") && out.endsWith("}") && !out.contains("\n"), out);
        Map<String, Double> n = numbers(out);
        for (String key : new String[] {"forward_ms", "grad_ms", "hvp_ms", "ggn_ms", "functional_ms", "hvp_block_ms",
            "hvp_block_ms_per_vector", "forward_gflops", "grad_gflops", "hvp_gflops", "ggn_gflops",
            "functional_gflops", "hvp_block_gflops", "hvp_grad_ratio", "peak_gflops", "hvp_fraction_of_peak",
            "peak_memory_ratio", "block_peak_memory_ratio", "off_heap", "heap", "total"}) {
            assertTrue(n.containsKey(key), key + " missing in " + out);
            assertTrue(n.get(key) > 0 || key.equals("heap") && n.get(key) >= 0, key + " = " + n.get(key));
        }
        assertEquals(3, n.get("block"));
        assertEquals(7, n.get("batch"));
        // P = 6·5 + 5 + 5·3 + 3; the flop model's F = 2B·Σ in·out.
        assertEquals(53, n.get("params"));
        assertEquals(2.0 * 7 * (6 * 5 + 5 * 3), n.get("F"));
        assertEquals(n.get("hvp_block_ms") / 3, n.get("hvp_block_ms_per_vector"), 1e-9 * n.get("hvp_block_ms"));
        assertEquals(n.get("hvp_ms") / n.get("grad_ms"), n.get("hvp_grad_ratio"), 1e-9 * n.get("hvp_grad_ratio"));
        // The HVP needs the tangent buffers on top of what the gradient needs.
        assertTrue(out.contains("\"memory_bytes\": {\"gradient\": {"), out);
    }

    @Test
    void graphModelJsonHasTheMlpKeys() {
        TraceCommandTest.Result r = run("bench", "--model", "lenet5", "--batch", "2", "--block", "2", "--reps", "1",
                "--warmup-ms", "0", "--threads", "1", "--dtype", "f32", "--json");
        assertEquals(0, r.code(), r.err());
        Map<String, Double> n = numbers(r.out().trim());
        for (String key : new String[] {"forward_ms", "grad_ms", "hvp_ms", "ggn_ms", "functional_ms", "hvp_block_ms",
            "hvp_block_ms_per_vector", "forward_gflops", "grad_gflops", "hvp_gflops", "ggn_gflops",
            "functional_gflops", "hvp_block_gflops", "hvp_grad_ratio", "peak_gflops", "hvp_fraction_of_peak",
            "peak_memory_ratio", "block_peak_memory_ratio"}) {
            assertTrue(n.containsKey(key) && n.get(key) > 0, key + " in " + r.out());
        }
        assertEquals(61_706, n.get("params"));
        assertTrue(r.out().contains("\"model\": \"lenet5\""), r.out());
        TraceCommandTest.Result bad = run("bench", "--model", "vgg99", "--batch", "2");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("built-in models"), bad.err());
        TraceCommandTest.Result both = run("bench", "--model", "lenet5", "--arch", "4,2", "--batch", "2");
        assertEquals(2, both.code());
    }

    @Test
    void mlpTableWithoutJson() {
        TraceCommandTest.Result r = run("bench", "--arch", "4,3,2", "--batch", "5", "--block", "2", "--reps", "1",
                "--warmup-ms", "0", "--threads", "2", "--no-memory");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("H·v / gradient time"), r.out());
        assertTrue(!r.out().contains("peak memory"), r.out());
    }

    @Test
    void gemmJson() {
        TraceCommandTest.Result r = run("bench", "--gemm", "--shape", "9x7x5", "--trans", "TN", "--dtype", "f32",
                "--threads", "2", "--reps", "2", "--warmup-ms", "0", "--json");
        assertEquals(0, r.code(), r.err());
        Map<String, Double> n = numbers(r.out());
        assertTrue(n.get("gflops") > 0, r.out());
        assertTrue(n.containsKey("openblas_gflops"), r.out()); // a number, or null without OpenBLAS
        assertTrue(r.out().contains("\"shape\": \"9x7x5\"") && r.out().contains("\"trans\": \"TN\""), r.out());
        TraceCommandTest.Result square = run("bench", "--gemm", "--n", "8", "--reps", "1", "--warmup-ms", "0",
                "--threads", "1");
        assertEquals(0, square.code(), square.err());
        assertTrue(square.out().startsWith("GEMM NN 8x8x8 f64, 1 thread(s): hvp4j "), square.out());
    }

    @Test
    void badInputExitsWithTwoAndOneLine() {
        String[][] bad = {
            {"bench", "--arch", "4,3,2"},                                        // no --batch
            {"bench", "--batch", "4"},                                           // no --arch
            {"bench", "--arch", "4,3,2", "--batch", "0"},
            {"bench", "--arch", "4,3,2", "--batch", "4", "--block", "0"},
            {"bench", "--arch", "4,3,2", "--batch", "4", "--reps", "0"},
            {"bench", "--arch", "4,3,2", "--batch", "4", "--dtype", "f16"},
            {"bench", "--arch", "4,3,2", "--batch", "4", "--act", "swish"},
            {"bench", "--arch", "4,3,1", "--batch", "4", "--loss", "ce"},
            {"bench", "--arch", "4,3,2", "--batch", "4", "--threads", "0"},
            {"bench", "--arch", "4,3,2", "--batch", "4", "--n", "8"},
            {"bench", "--gemm"},
            {"bench", "--gemm", "--n", "8", "--shape", "8x8x8"},
            {"bench", "--gemm", "--n", "0"},
            {"bench", "--gemm", "--shape", "8x8"},
            {"bench", "--gemm", "--shape", "8xax8"},
            {"bench", "--gemm", "--n", "8", "--trans", "NX"},
            {"bench", "--gemm", "--n", "8", "--arch", "4,3,2"},
            {"bench", "--gemm", "--n", "8", "--warmup-ms", "-1"},
            {"bench", "--arch", "4,3,2", "--batch", "4", "--bogus"},
            {"bench", "--arch", "4,3,2", "--batch", "4", "--data", "gaussian:9"},
            {"bench", "--arch", "4,3,2", "--batch", "4", "--batch-size", "2"},
            {"bench", "--arch", "4,3,2", "--batch", "4", "--weights", "/nonexistent/w.safetensors"},
        };
        for (String[] args : bad) {
            TraceCommandTest.Result r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.out().isEmpty(), String.join(" ", args) + " printed " + r.out());
            assertTrue(r.err().startsWith("hvp4j: error: ") && r.err().trim().lines().count() == 1,
                    String.join(" ", args) + ": " + r.err());
        }
    }
}

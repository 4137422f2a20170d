package io.hvp4j.cli;

import static io.hvp4j.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exit codes of every kind: 0 success, 1 a check failed, 2 bad usage or input, 3 resource limits. */
class ExitCodesTest {
    @TempDir
    Path dir;

    /** Exit {@code code} with exactly one {@code hvp4j: error:} line on stderr containing {@code fragment}. */
    static void assertExit(int code, String fragment, String... args) {
        MainTest.Result r = run(args);
        assertEquals(code, r.code(), String.join(" ", args) + "\n" + r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("hvp4j: error: "), r.err());
        assertTrue(r.err().contains(fragment), r.err());
    }

    @Test
    void success() {
        for (String cmd : new String[] {"info", "grad", "hvp", "rank", "trace", "eigs", "spectrum"}) {
            MainTest.Result r = run(MainTest.concat(new String[] {cmd, "--arch", "3,4,2", "--data", "gaussian:6",
                "--threads", "1"}, cmd.equals("hvp") ? new String[] {"--out", dir.resolve("hv.npy").toString()}
                    : new String[0]));
            assertEquals(0, r.code(), cmd + ": " + r.err());
            assertTrue(r.err().isEmpty(), cmd + " wrote to stderr: " + r.err());
        }
    }

    @Test
    void failedCheckIsOne() {
        SelfcheckCommand s = new SelfcheckCommand();
        s.check("a check that passes", 0.5, 1);
        assertEquals(Main.OK, s.summarize(new PrintWriter(new StringWriter()), System.nanoTime()));
        s.check("a check that fails", 2, 1);
        StringWriter out = new StringWriter();
        assertEquals(Main.CHECK_FAILED, s.summarize(new PrintWriter(out), System.nanoTime()));
        assertTrue(out.toString().contains("FAIL: 1 of 2 checks passed"), out.toString());
    }

    @Test
    void usageErrorsAreTwo() {
        assertExit(2, "Unknown option", "grad", "--arch", "3,4,2", "--bogus");
        assertExit(2, "Missing required option", "grad");
        assertExit(2, "Unmatched argument", "frobnicate");
        assertExit(2, "missing command", new String[0]);
        assertExit(2, "Invalid value", "grad", "--arch", "3,4,2", "--threads", "many");
        assertExit(2, "Missing required parameter", "grad", "--arch");
        assertExit(2, "--max-time must be a duration", "rank", "--arch", "3,4,2", "--max-time", "soon");
    }

    @Test
    void badInputIsTwo() {
        assertExit(2, "unknown activation", "info", "--arch", "3,4,2", "--act", "swish");
        assertExit(2, "no such file", "grad", "--arch", "3,4,2", "--weights", dir.resolve("none.npz").toString());
        assertExit(2, "needs --targets", "grad", "--arch", "3,4,2", "--inputs", dir.resolve("x.npy").toString());
        // 26 parameters: 20 + 10 pairs would overlap (it returned 4 pairs twice).
        assertExit(2, "--top 20 + --bottom 10 = 30 exceeds the dimension 26", "eigs", "--arch", "3,4,2", "--data",
                "gaussian:6", "--top", "20", "--bottom", "10");
        assertExit(2, "--top 27 exceeds the dimension 26", "eigs", "--arch", "3,4,2", "--data", "gaussian:6",
                "--top", "27", "--method", "power");
        assertExit(2, "name the file .csv", "spectrum", "--arch", "3,4,2", "--data", "gaussian:6", "--out",
                dir.resolve("s.npy").toString());
        assertExit(2, "--grid must be >= 2, got 1", "spectrum", "--arch", "3,4,2", "--method", "slq", "--grid", "1");
        // Root may write anywhere isWritable looks (/proc): the file is tried before the work, not after it.
        assertExit(2, "--out /proc/hv.npy: ", "hvp", "--arch", "3,4,2", "--out",
                "/proc/hv.npy");
    }

    @Test
    void timeLimitIsThreeAndForceOverridesIt() {
        Path ck = dir.resolve("ck");
        String[] rank = {"rank", "--arch", "3,4,2", "--data", "gaussian:6", "--threads", "1", "--block", "2",
            "--operator", "hessian", "--checkpoint", ck.toString()};
        assertExit(3, "more than --max-time", MainTest.concat(rank, "--max-time", "0.000001s"));
        // Two blocks of 13 columns: the first is half the job, so it is projected at once (no warm-up wait).
        String[] halves = {"rank", "--arch", "3,4,2", "--data", "gaussian:6", "--threads", "1", "--block", "13",
            "--operator", "hessian"};
        assertExit(3, "(13 of 26 done", MainTest.concat(halves, "--max-time", "0.000001s"));
        // The refusal kept the columns done so far; a rerun resumes from them.
        assertTrue(Files.exists(ck));
        MainTest.Result forced = run(MainTest.concat(rank, "--max-time", "0.000001s", "--force", "--json"));
        assertEquals(0, forced.code(), forced.err());
        assertFalse(Files.exists(ck), "a finished run removes its checkpoint");
        MainTest.Result plain = run(MainTest.concat(rank, "--json"));
        assertEquals(0, plain.code(), plain.err());
        assertEquals(rankOf(plain.out()), rankOf(forced.out()));
    }

    private static String rankOf(String json) {
        int i = json.indexOf("\"rank\"");
        return json.substring(i, json.indexOf('}', i));
    }

    @Test
    void resourceRefusalsAreThree() {
        assertExit(3, "add --force", "trace", "--arch", "200,100,10", "--data", "gaussian:2", "--method", "exact");
        assertExit(3, "the dense method handles at most", "rank", "--arch", "300,200,10", "--data", "gaussian:2");
        assertExit(3, "--batch-size", "grad", "--arch", "4,100000,3", "--data", "gaussian:1000000");
        // A full Lanczos basis (P vectors of P doubles) larger than this JVM's heap.
        long h = (long) Math.ceil(Math.sqrt(Runtime.getRuntime().maxMemory() / 8.0) / 300) + 1;
        assertExit(3, "of Java heap", "eigs", "--arch", "300," + h + ",2", "--data", "gaussian:2", "--top", "1",
                "--max-iter", "10000000");
    }
}

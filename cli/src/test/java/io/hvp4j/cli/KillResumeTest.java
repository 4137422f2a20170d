package io.hvp4j.cli;

import static io.hvp4j.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real {@code hvp4j rank} process is killed with SIGKILL ({@link Process#destroyForcibly}) in the middle of
 * its dense assembly; the same command run again resumes from the checkpoint and ends with a matrix whose bits
 * equal those of an uninterrupted run (compared through the complete checkpoint files, which hold every
 * column, and through the printed ranks and singular values). A checkpoint for other arguments and a
 * corrupted one are refused with exit code 2.
 */
class KillResumeTest {
    /**
     * P = 16·24 + 24 + 24·4 + 4 = 508 columns, two per product, a checkpoint after every product: about a
     * second of assembly on one thread, far longer than the 5 ms between looks at the checkpoint.
     */
    static final String[] RANK = {"rank", "--arch", "16,24,4", "--act", "tanh", "--data", "gaussian:300",
        "--threads", "1", "--operator", "hessian", "--block", "2", "--checkpoint-every", "0s", "--json",
        "--keep-checkpoint", "--eigen", "ejml"};

    @TempDir
    Path dir;

    static String[] with(Path checkpoint, String... extra) {
        return MainTest.concat(MainTest.concat(RANK, "--checkpoint", checkpoint.toString()), extra);
    }

    /** Columns stored in a checkpoint (header field at byte 24), or -1 while there is none. */
    static int columns(Path ck) throws IOException {
        if (!Files.exists(ck)) {
            return -1;
        }
        byte[] b = Files.readAllBytes(ck);
        return b.length < 28 ? -1 : ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(24);
    }

    /** The JSON without its timing. */
    static String result(String json) {
        return json.replaceAll("\"seconds\": [^,}]*", "");
    }

    @Test
    void killedRunResumesToTheSameBits() throws Exception {
        Path ck = dir.resolve("ck"), ref = dir.resolve("ref");
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(List.of(with(ck)));
        Process p = new ProcessBuilder(cmd).redirectOutput(dir.resolve("out.txt").toFile())
                .redirectError(dir.resolve("err.txt").toFile()).start();
        int n = 508;
        int stored = -1;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (p.isAlive() && System.nanoTime() < deadline) {
            stored = columns(ck);
            if (stored > 0) {
                break;
            }
            Thread.sleep(5);
        }
        assertTrue(p.isAlive(), "the assembly ended before it could be killed: " + Files.readString(dir.resolve("err.txt")));
        p.destroyForcibly(); // SIGKILL on Linux
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertNotEquals(0, p.exitValue());
        int atKill = columns(ck);
        assertTrue(atKill > 0 && atKill < n, "columns in the checkpoint after the kill: " + atKill);
        // A kill during a write leaves at most a temporary file beside it; the checkpoint itself is whole.

        // Different arguments and a corrupted checkpoint are refused, and the checkpoint is left as it was.
        byte[] partial = Files.readAllBytes(ck);
        MainTest.Result other = run(with(ck, "--seed", "1"));
        assertEquals(2, other.code(), other.err());
        assertTrue(other.err().contains("other arguments"), other.err());
        byte[] corrupt = partial.clone();
        corrupt[100] ^= 1;
        Path bad = dir.resolve("bad");
        Files.write(bad, corrupt);
        MainTest.Result damaged = run(with(bad));
        assertEquals(2, damaged.code(), damaged.err());
        assertTrue(damaged.err().contains("corrupted"), damaged.err());
        assertArrayEquals(partial, Files.readAllBytes(ck));

        // Rerun with the same arguments: resumes and finishes.
        MainTest.Result resumed = run(with(ck));
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(n, columns(ck));
        // An uninterrupted run in a fresh checkpoint file.
        MainTest.Result straight = run(with(ref));
        assertEquals(0, straight.code(), straight.err());
        assertArrayEquals(Files.readAllBytes(ref), Files.readAllBytes(ck), "assembled matrices differ");
        assertEquals(result(straight.out()), result(resumed.out()));
    }

    /** The same for the randomized basis: killed after its first checkpoint, resumed to the same ranks and σ. */
    @Test
    void killedRandomizedRunResumesToTheSameResult() throws Exception {
        String[] args = {"rank", "--arch", "16,24,4", "--act", "tanh", "--data", "gaussian:300", "--threads", "1",
            "--operator", "all", "--method", "randomized", "--block", "2", "--blas", "engine",
            "--checkpoint-every", "0s", "--json", "--keep-checkpoint", "--eigen", "ejml"};
        Path ck = dir.resolve("rr"), ref = dir.resolve("rref");
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(List.of(MainTest.concat(args, "--checkpoint", ck.toString())));
        Process p = new ProcessBuilder(cmd).redirectOutput(dir.resolve("rout.txt").toFile())
                .redirectError(dir.resolve("rerr.txt").toFile()).start();
        Path first = Path.of(ck + ".H");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (p.isAlive() && System.nanoTime() < deadline && !(Files.exists(first) && Files.size(first) > 0)) {
            Thread.sleep(5);
        }
        assertTrue(p.isAlive(), "the run ended before it could be killed: " + Files.readString(dir.resolve("rerr.txt")));
        p.destroyForcibly();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertNotEquals(0, p.exitValue());
        MainTest.Result resumed = run(MainTest.concat(args, "--checkpoint", ck.toString()));
        assertEquals(0, resumed.code(), resumed.err());
        MainTest.Result straight = run(MainTest.concat(args, "--checkpoint", ref.toString()));
        assertEquals(0, straight.code(), straight.err());
        assertEquals(result(straight.out()), result(resumed.out()));
        MainTest.Result other = run(MainTest.concat(args, "--checkpoint", ck.toString(), "--sketch-seed", "5"));
        assertEquals(2, other.code(), other.err());
        assertTrue(other.err().contains("other arguments"), other.err());
    }
}

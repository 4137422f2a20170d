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
    }
}

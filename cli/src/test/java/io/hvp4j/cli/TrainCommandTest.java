package io.hvp4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.io.SafeTensors;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train}: outputs, PyTorch names, and resuming from a checkpoint with identical bits. */
class TrainCommandTest {
    static final String[] RUN = {"train", "--arch", "5,6,3", "--act", "tanh", "--loss", "ce", "--data",
        "clusters:8,2", "--bias-std", "0.1", "--lr", "0.1", "--batch", "5", "--momentum", "0.9", "--htr", "0.01",
        "--htr-probes", "2", "--threads", "2", "--track", "lambda_max,trace,layerwise"};

    static String[] args(String... extra) {
        List<String> a = new ArrayList<>(Arrays.asList(RUN));
        a.addAll(Arrays.asList(extra));
        return a.toArray(new String[0]);
    }

    static byte[] weights(Path dir, int epoch) throws IOException {
        return Files.readAllBytes(dir.resolve(String.format("weights-epoch-%04d.safetensors", epoch)));
    }

    @Test
    void resumedRunHasTheBitsOfAnUninterruptedOne(@TempDir Path dir) throws IOException {
        Path straight = dir.resolve("straight"), resumed = dir.resolve("resumed"), ck = dir.resolve("ck");
        RankCommandTest.Result r = RankCommandTest.run(args("--epochs", "4", "--out", straight.toString()));
        assertEquals(0, r.code(), r.err());
        // "Killed" after epoch 2: a run asked for 2 epochs leaves the same checkpoint as a 4-epoch run killed then.
        assertEquals(0, RankCommandTest.run(args("--epochs", "2", "--out", resumed.toString(), "--checkpoint",
                ck.toString())).code());
        r = RankCommandTest.run(args("--epochs", "4", "--out", resumed.toString(), "--checkpoint", ck.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("resuming after epoch 2"), r.out());
        for (int e = 1; e <= 4; e++) {
            assertArrayEquals(weights(straight, e), weights(resumed, e), "epoch " + e);
        }
        assertEquals(Files.readString(straight.resolve("metrics.csv")), Files.readString(resumed.resolve("metrics.csv")));
        List<String> csv = Files.readAllLines(straight.resolve("metrics.csv"));
        assertEquals("epoch,batch_loss,htr_penalty,lambda_max,trace,lambda_max_layer0,lambda_max_layer1,"
                + "trace_layer0,trace_layer1", csv.get(0));
        assertEquals(6, csv.size());
        for (String f : new String[] {"loss.png", "lambda_max.png", "trace.png"}) {
            assertTrue(Files.size(straight.resolve(f)) > 1000, f);
        }
    }

    @Test
    void divergenceInTheFirstEpochLeavesNoEmptyFolder(@TempDir Path dir) {
        Path out = dir.resolve("diverged");
        RankCommandTest.Result r = RankCommandTest.run("train", "--arch", "10,16,3", "--data", "gaussian:64",
                "--lr", "1e300", "--batch", "1", "--epochs", "2", "--threads", "1", "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("diverged in epoch 1") && r.err().contains("learning rate"), r.err());
        assertFalse(Files.exists(out), "the folder this run created is removed when nothing was written to it");
    }

    @Test
    void plotsCanBeSvg(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("svg");
        RankCommandTest.Result r = RankCommandTest.run(args("--epochs", "1", "--out", out.toString(),
                "--plot-format", "svg"));
        assertEquals(0, r.code(), r.err());
        for (String f : new String[] {"loss.svg", "lambda_max.svg", "trace.svg"}) {
            String svg = Files.readString(out.resolve(f));
            assertTrue(svg.startsWith("<?xml") && svg.contains("<svg") && svg.contains(">epoch</text>"), f);
        }
        assertFalse(Files.exists(out.resolve("loss.png")));
        r = RankCommandTest.run(args("--epochs", "1", "--out", dir.resolve("x").toString(), "--plot-format", "jpg"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--plot-format must be png or svg"), r.err());
    }

    @Test
    void checkpointOfOtherArgumentsIsRefused(@TempDir Path dir) {
        Path ck = dir.resolve("ck"), out = dir.resolve("o");
        assertEquals(0, RankCommandTest.run(args("--epochs", "1", "--out", out.toString(), "--checkpoint",
                ck.toString())).code());
        List<String> changed = new ArrayList<>(Arrays.asList(args("--epochs", "2", "--out", out.toString(),
                "--checkpoint", ck.toString())));
        changed.set(changed.indexOf("--lr") + 1, "0.2");
        RankCommandTest.Result r = RankCommandTest.run(changed.toArray(new String[0]));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("other arguments") && r.err().contains("lr=0.1"), r.err());
        // Fewer epochs than the checkpoint holds: refused, not reported as a shorter run.
        assertEquals(0, RankCommandTest.run(args("--epochs", "2", "--out", out.toString(), "--checkpoint",
                ck.toString())).code());
        r = RankCommandTest.run(args("--epochs", "1", "--out", out.toString(), "--checkpoint", ck.toString()));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("already holds 2 epochs, more than --epochs 1"), r.err());
    }

    @Test
    void weightsAreAPyTorchStateDictThatLoadsBack(@TempDir Path dir) {
        Mlp mlp = new Mlp(new int[] {4, 5, 3}, Activation.RELU, true);
        try (Arena arena = Arena.ofConfined()) {
            double[] theta = Initializer.GLOROT_NORMAL.initialize(mlp, 3, 0.1);
            Path f = dir.resolve("w.safetensors");
            io.hvp4j.io.ModelWeights.save(f, mlp, Tensor.of(arena, DType.F32, theta.length, 1, theta));
            SafeTensors st = SafeTensors.read(f, arena);
            assertEquals(java.util.Set.of("0.weight", "0.bias", "2.weight", "2.bias"), st.names());
            assertArrayEquals(new long[] {5, 4}, st.shape("0.weight"));
            assertArrayEquals(new long[] {3}, st.shape("2.bias"));
            double[] back = io.hvp4j.io.ModelWeights.load(f, mlp, DType.F32, arena).toDoubleArray();
            for (int i = 0; i < theta.length; i++) assertEquals((float) theta[i], back[i], 0.0);
        }
    }

    @Test
    void badArgumentsAreRejected(@TempDir Path dir) {
        String out = dir.resolve("o").toString();
        assertEquals(2, RankCommandTest.run(args("--epochs", "0", "--out", out)).code());
        assertEquals(2, RankCommandTest.run(args("--epochs", "1", "--optimizer", "adam", "--out", out)).code());
        assertEquals(2, RankCommandTest.run(args("--epochs", "1", "--htr-layers", "5", "--out", out)).code());
        assertEquals(2, RankCommandTest.run(args("--epochs", "1", "--track", "magic", "--out", out)).code());
        assertEquals(2, RankCommandTest.run(args("--epochs", "1", "--data", "clusters:x", "--out", out)).code());
    }

    static final String[] LENET = {"train", "--model", "lenet5", "--data", "gaussian:8", "--dtype", "f32", "--lr",
        "0.05", "--batch", "4", "--momentum", "0.9", "--htr", "0.05", "--htr-layers", "conv2", "--htr-probes", "2",
        "--htr-every", "2", "--threads", "2", "--track", "trace,layerwise", "--track-probes", "2", "--track-samples",
        "4"};

    @Test
    void lenet5WithHtrOnAMiddleModuleResumesWithTheSameBits(@TempDir Path dir) throws IOException {
        Path straight = dir.resolve("straight"), resumed = dir.resolve("resumed"), ck = dir.resolve("ck");
        List<String> base = Arrays.asList(LENET);
        RankCommandTest.Result r = RankCommandTest.run(with(base, "--epochs", "2", "--out", straight.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("htr penalty") && r.out().contains("of lenet5, P=61706"), r.out());
        assertEquals(0, RankCommandTest.run(with(base, "--epochs", "1", "--out", resumed.toString(), "--checkpoint",
                ck.toString())).code());
        r = RankCommandTest.run(with(base, "--epochs", "2", "--out", resumed.toString(), "--checkpoint",
                ck.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("resuming after epoch 1"), r.out());
        for (int e = 1; e <= 2; e++) {
            assertArrayEquals(weights(straight, e), weights(resumed, e), "epoch " + e);
        }
        List<String> csv = Files.readAllLines(straight.resolve("metrics.csv"));
        assertEquals("epoch,batch_loss,htr_penalty,trace,trace_layer0,trace_layer1,trace_layer2,trace_layer3,"
                + "trace_layer4", csv.get(0));
        assertEquals(Files.readString(straight.resolve("metrics.csv")), Files.readString(resumed.resolve("metrics.csv")));
        try (Arena arena = Arena.ofConfined()) {
            io.hvp4j.graph.Graph g = io.hvp4j.graph.Models.lenet5(10);
            Tensor w = io.hvp4j.graph.GraphWeights.load(straight.resolve("weights-epoch-0002.safetensors"), g,
                    DType.F32, arena).parameters();
            assertEquals(g.parameterCount(), w.size());
            assertArrayEquals(new long[] {16, 6, 5, 5}, SafeTensors.read(straight.resolve("weights-epoch-0002.safetensors"),
                    arena).shape("conv2.weight"));
        }
        r = RankCommandTest.run(with(base, "--epochs", "1", "--out", dir.resolve("x").toString(), "--htr-layers",
                "conv9"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("conv9") && r.err().contains("fc1"), r.err());
    }

    private static String[] with(List<String> base, String... extra) {
        List<String> a = new ArrayList<>(base);
        int i = a.indexOf("--htr-layers");
        for (int j = 0; j < extra.length; j += 2) {
            if (extra[j].equals("--htr-layers")) {
                a.set(i + 1, extra[j + 1]);
            } else {
                a.add(extra[j]);
                a.add(extra[j + 1]);
            }
        }
        return a.toArray(new String[0]);
    }
}

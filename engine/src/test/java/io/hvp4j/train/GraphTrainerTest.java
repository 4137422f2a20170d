package io.hvp4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.graph.GraphBuilder;
import io.hvp4j.graph.Models;
import io.hvp4j.memory.DType;
import io.hvp4j.model.Initializer;
import java.lang.foreign.Arena;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Training a graph with the Hessian-trace regularizer: the MLP as a graph follows the MLP trainer's trajectory (HTR
 * included, f64, to rounding); LeNet-5 with HTR on a middle module trains, differs from plain SGD, and resumes from
 * a saved state with the same bits.
 */
class GraphTrainerTest {
    @Test
    void mlpAsAGraphFollowsTheMlpTrainer() {
        GraphBuilder b = new GraphBuilder();
        Value h = b.input("x", 5);
        h = b.activation(b.linear("0", h, 8, true), Activation.TANH);
        Graph g = b.build(b.linear("2", h, 3, true));
        Trainer.Options o = new Trainer.Options(0.05, 0.9, 5, 3, new Trainer.Htr(0.1, new int[] {1}, 2, 2, 1));
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
            Dataset d = TrainerTest.data(arena, DType.F64);
            double[] theta0 = Initializer.GLOROT_NORMAL.initialize(TrainerTest.MLP, 9, 0.1);
            double[] a, c;
            double pa, pc;
            try (Trainer t = new Trainer(TrainerTest.MLP, Loss.CE, d, be, DType.F64, theta0, o)) {
                t.train(3, null);
                a = t.parameters();
                pa = t.epoch().penalty();
            }
            try (Trainer t = new Trainer(Network.of(g, "mlp graph"), Loss.CE, d, be, DType.F64, theta0, o)) {
                assertEquals("modules", t.network().groupKind());
                t.train(3, null);
                c = t.parameters();
                pc = t.epoch().penalty();
            }
            assertTrue(Double.isFinite(pa));
            assertEquals(pa, pc, 1e-12 * Math.abs(pa));
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], c[i], 1e-12 * (1 + Math.abs(a[i])), "parameter " + i);
            }
        }
    }

    /** A few generated 28×28 images in 10 classes (Gaussian clusters), f32. */
    private static Dataset images(Arena arena) {
        return Dataset.gaussian(arena, DType.F32, 12, 28 * 28, 10, Loss.CE, 3);
    }

    private static double[] lenet(Trainer.Htr htr, int epochs, int splitAt) {
        Graph g = Models.lenet5(10);
        Trainer.Options o = new Trainer.Options(0.05, 0.9, 4, 5, htr);
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
            Dataset d = images(arena);
            double[] theta0 = g.initialParameters(1);
            Network net = Network.of(g, "lenet5");
            double[] params, momentum;
            try (Trainer t = new Trainer(net, Loss.CE, d, be, DType.F32, theta0, o)) {
                for (Trainer.EpochStats s : t.train(splitAt, null)) {
                    assertTrue(Double.isFinite(s.loss()));
                    assertEquals(htr != null, Double.isFinite(s.penalty()), "penalty on every epoch with HTR");
                }
                if (splitAt == epochs) {
                    return t.parameters();
                }
                params = t.parameters();
                momentum = t.momentumBuffer();
            }
            try (Trainer t = new Trainer(net, Loss.CE, d, be, DType.F32, theta0, o)) {
                t.restore(params, momentum, splitAt);
                t.train(epochs, null);
                return t.parameters();
            }
        }
    }

    @Test
    void lenet5WithHtrOnAMiddleModuleResumesWithTheSameBits() {
        Trainer.Htr htr = new Trainer.Htr(0.05, new int[] {1}, 2, 2, 0); // conv2, probes on every other step
        double[] straight = lenet(htr, 2, 2), resumed = lenet(htr, 2, 1);
        assertArrayEquals(straight, resumed, 0, "a resumed run gives the same bits");
        double[] plain = lenet(null, 2, 2);
        assertFalse(Arrays.equals(straight, plain), "HTR changes the trajectory");
    }

    @Test
    void badModulesAreNamed() {
        Network net = Network.of(Models.lenet5(10), "lenet5");
        var e = assertThrows(InvalidInputException.class, () -> Trainer.probeSupport(net, new int[] {5}));
        assertTrue(e.getMessage().contains("5 modules") && e.getMessage().contains("conv2"), e.getMessage());
        assertEquals(2416, Trainer.probeSupport(net, new int[] {1}).length);
    }
}

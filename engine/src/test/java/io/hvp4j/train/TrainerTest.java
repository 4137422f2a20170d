package io.hvp4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.InvalidInputException;
import io.hvp4j.ProgressRecorder;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.data.GaussianClusters;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class TrainerTest {
    static final Mlp MLP = new Mlp(new int[] {5, 8, 3}, Activation.TANH, true);

    static Dataset data(Arena arena, DType dtype) {
        return GaussianClusters.generate(arena, dtype, new GaussianClusters.Spec(3, 5, 2.0, 7), 4);
    }

    static double[] run(Trainer.Options o, int epochs, DType dtype) {
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
            double[] theta0 = Initializer.GLOROT_NORMAL.initialize(MLP, 9, 0.1);
            try (Trainer t = new Trainer(MLP, Loss.CE, data(arena, dtype), be, dtype, theta0, o)) {
                for (int e = 0; e < epochs; e++) t.epoch();
                return t.parameters();
            }
        }
    }

    @Test
    void sameSeedSameBitsOtherSeedOtherBits() {
        Trainer.Options o = new Trainer.Options(0.1, 0.9, 4, 1, null);
        double[] a = run(o, 3, DType.F64), b = run(o, 3, DType.F64);
        assertArrayEquals(a, b, 0);
        double[] c = run(new Trainer.Options(0.1, 0.9, 4, 2, null), 3, DType.F64);
        assertFalse(Arrays.equals(a, c), "a different seed shuffles differently");
    }

    @Test
    void fullBatchStepIsGradientDescentOnTheMeanLoss() {
        try (Arena arena = Arena.ofConfined(); Backend be = new VectorBackend(1)) {
            Dataset d = data(arena, DType.F64);
            double[] theta0 = Initializer.GLOROT_NORMAL.initialize(MLP, 9, 0.1);
            double lr = 0.3, mu = 0.5;
            double[] expected = theta0.clone(), buf = new double[theta0.length];
            try (MlpObjective f = new MlpObjective(MLP, Loss.CE, Loss.Reduction.MEAN, d, be, DType.F64, 5, 1)) {
                for (int step = 0; step < 2; step++) {
                    f.setParameters(Tensor.of(arena, DType.F64, expected.length, 1, expected));
                    Tensor g = Tensor.allocate(arena, DType.F64, expected.length, 1);
                    f.gradient(g);
                    for (int i = 0; i < expected.length; i++) {
                        buf[i] = mu * buf[i] + g.get(i);
                        expected[i] -= lr * buf[i];
                    }
                }
            }
            try (Trainer t = new Trainer(MLP, Loss.CE, d, be, DType.F64, theta0,
                    new Trainer.Options(lr, mu, 1000, 0, null))) {
                Trainer.EpochStats s = t.epoch();
                assertEquals(1, s.steps());
                t.epoch();
                double[] got = t.parameters();
                for (int i = 0; i < got.length; i++) assertEquals(expected[i], got[i], 1e-13, "parameter " + i);
            }
        }
    }

    @Test
    void resumeFromSavedStateGivesIdenticalBits() {
        Trainer.Htr htr = new Trainer.Htr(1e-2, new int[] {1}, 2, 2, 1);
        Trainer.Options o = new Trainer.Options(0.05, 0.9, 6, 3, htr);
        double[] straight = run(o, 4, DType.F32);
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
            double[] theta0 = Initializer.GLOROT_NORMAL.initialize(MLP, 9, 0.1);
            double[] mid, buf;
            try (Trainer t = new Trainer(MLP, Loss.CE, data(arena, DType.F32), be, DType.F32, theta0, o)) {
                t.epoch();
                t.epoch();
                mid = t.parameters();
                buf = t.momentumBuffer();
            }
            try (Trainer t = new Trainer(MLP, Loss.CE, data(arena, DType.F32), be, DType.F32, theta0, o)) {
                t.restore(mid, buf, 2);
                Trainer.EpochStats s = t.epoch();
                assertTrue(Double.isFinite(s.penalty()), "HTR active from epoch 1");
                t.epoch();
                assertArrayEquals(straight, t.parameters(), 0);
            }
        }
    }

    @Test
    void htrChangesTheTrajectoryAndZeroGammaDoesNot() {
        Trainer.Options plain = new Trainer.Options(0.05, 0, 6, 3, null);
        double[] a = run(plain, 2, DType.F64);
        double[] zero = run(new Trainer.Options(0.05, 0, 6, 3, new Trainer.Htr(0, new int[0], 3, 1, 0)), 2, DType.F64);
        assertArrayEquals(a, zero, 0);
        double[] on = run(new Trainer.Options(0.05, 0, 6, 3, new Trainer.Htr(0.1, new int[0], 3, 1, 0)), 2, DType.F64);
        assertFalse(Arrays.equals(a, on));
    }

    @Test
    void probeSupportAndBadInput() {
        int[] idx = Trainer.probeSupport(Network.of(MLP), new int[] {1});
        assertEquals(MLP.layerParameterCount(1), idx.length);
        assertEquals(MLP.layerOffset(1), idx[0]);
        assertEquals(MLP.parameterCount(), Trainer.probeSupport(Network.of(MLP), new int[0]).length);
        assertThrows(InvalidInputException.class, () -> Trainer.probeSupport(Network.of(MLP), new int[] {2}));
        assertThrows(InvalidInputException.class, () -> Trainer.probeSupport(Network.of(MLP), new int[] {0, 0}));
        assertThrows(InvalidInputException.class, () -> new Trainer.Options(0, 0, 1, 0, null));
        assertThrows(InvalidInputException.class, () -> new Trainer.Options(0.1, 1, 1, 0, null));
        assertThrows(InvalidInputException.class, () -> new Trainer.Options(0.1, 0, 0, 0, null));
    }

    @Test
    void divergenceIsReportedNotReturned() {
        try (Arena arena = Arena.ofConfined(); Backend be = new VectorBackend(1)) {
            Mlp lin = new Mlp(new int[] {5, 3}, Activation.IDENTITY, false);
            Dataset d = data(arena, DType.F64);
            // MSE on a linear model with a huge step diverges geometrically.
            try (Trainer t = new Trainer(lin, Loss.MSE, d, be, DType.F64, Initializer.GLOROT_NORMAL.initialize(lin, 1),
                    new Trainer.Options(1e6, 0, 100, 0, null))) {
                assertThrows(InvalidInputException.class, () -> {
                    for (int e = 0; e < 200; e++) t.epoch();
                });
            }
        }
    }

    @Test
    void trainCallsTheListenerAfterEveryEpoch() {
        Trainer.Options o = new Trainer.Options(0.1, 0.5, 4, 8, null);
        double[] manual = run(o, 3, DType.F64);
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
            double[] theta0 = Initializer.GLOROT_NORMAL.initialize(MLP, 9, 0.1);
            try (Trainer t = new Trainer(MLP, Loss.CE, data(arena, DType.F64), be, DType.F64, theta0, o)) {
                java.util.List<Integer> seen = new java.util.ArrayList<>();
                java.util.List<Trainer.EpochStats> stats = t.train(3, (s, tr) -> {
                    assertEquals(s.epoch() + 1, tr.epochsDone());
                    seen.add(s.epoch());
                });
                assertEquals(java.util.List.of(0, 1, 2), seen);
                assertEquals(3, stats.size());
                assertArrayEquals(manual, t.parameters(), 0);
                assertTrue(t.train(3, null).isEmpty(), "already done");
            }
        }
    }

    @Test
    void progressCountsStepsAcrossEpochsAndDoesNotChangeTheBits() {
        // Batches of 5 with a smaller last one; HTR on every other step of epochs >= 1.
        Trainer.Options o = new Trainer.Options(0.05, 0.9, 5, 3, new Trainer.Htr(1e-2, new int[0], 2, 2, 1));
        double[] plain = run(o, 3, DType.F64);
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
            double[] theta0 = Initializer.GLOROT_NORMAL.initialize(MLP, 9, 0.1);
            Dataset d = data(arena, DType.F64);
            assertTrue(d.size() % 5 != 0 && d.size() > 5, "fixture: " + d.size() + " samples");
            int steps = (d.size() + 4) / 5;
            try (Trainer t = new Trainer(MLP, Loss.CE, d, be, DType.F64, theta0, o)) {
                assertEquals(steps, t.stepsPerEpoch());
                ProgressRecorder epoch = new ProgressRecorder();
                t.epoch(epoch);
                epoch.assertMonotoneToEnd(steps, steps + 1);
                ProgressRecorder rest = new ProgressRecorder();
                t.train(3, null, rest); // the two epochs left
                rest.assertMonotoneToEnd(2L * steps, 2 * steps + 1);
                assertArrayEquals(plain, t.parameters());
                ProgressRecorder none = new ProgressRecorder();
                t.train(3, null, none); // nothing left to run: no steps, nothing reported as partly done
                assertTrue(none.updates().isEmpty());
            }
        }
    }
}

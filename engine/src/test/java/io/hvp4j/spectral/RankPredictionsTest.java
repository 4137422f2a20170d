package io.hvp4j.spectral;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import java.lang.foreign.Arena;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Closed forms of docs/theory.md §A.3/A.5/A.7 against the worked examples of §A.11 and against measured dense ranks. */
class RankPredictionsTest {
    /** One worked example: widths, bias, loss, N, data rank r, expected (H_O, H_F, H). */
    record Example(int id, int[] widths, boolean bias, Loss loss, int n, int r, int[] expected) {
        @Override
        public String toString() {
            return "#" + id;
        }
    }

    static Stream<Example> workedExamples() {
        return Stream.of(
                new Example(1, new int[] {25, 5, 10, 10}, false, Loss.MSE, 50, 25, new int[] {150, 175, 250}),
                new Example(2, new int[] {25, 5, 10, 10}, false, Loss.CE, 50, 25, new int[] {145, 165, 245}),
                new Example(3, new int[] {10, 8, 3}, false, Loss.MSE, 40, 10, new int[] {30, 48, 69}),
                new Example(4, new int[] {10, 8, 3}, false, Loss.CE, 40, 10, new int[] {20, 32, 48}),
                new Example(5, new int[] {12, 6, 6, 6, 4}, false, Loss.MSE, 30, 5, new int[] {20, 112, 116}),
                new Example(6, new int[] {20, 4, 30, 6}, false, Loss.MSE, 15, 15, new int[] {68, 272, 308}),
                new Example(7, new int[] {8, 3, 6}, false, Loss.MSE, 50, 8, new int[] {33, 36, 42}),
                new Example(8, new int[] {10, 6, 5, 1}, false, Loss.MSE, 20, 10, new int[] {10, 21, 30}),
                new Example(9, new int[] {10, 8, 8, 3}, true, Loss.MSE, 40, 10, new int[] {33, 90, 117}));
    }

    static int[] triple(RankPredictions.Prediction p) {
        return new int[] {p.outer(), p.functional(), p.hessian()};
    }

    @ParameterizedTest(name = "worked example {0}: formula")
    @MethodSource("workedExamples")
    void formulasGiveTheWorkedExamples(Example e) {
        Mlp mlp = new Mlp(e.widths(), Activation.IDENTITY, e.bias());
        int rTilde = e.r() + 1; // every biased example has N > d
        RankPredictions.Prediction p = RankPredictions.predict(mlp, e.loss(), e.r(), rTilde).orElseThrow();
        assertArrayEquals(e.expected(), triple(p));
        assertEquals(e.bias() ? "A.7" : "A.3", p.section());
    }

    @ParameterizedTest(name = "worked example {0}: measured")
    @MethodSource("workedExamples")
    void measuredRanksOfTheWorkedExamples(Example e) {
        int[] measured = Nets.measuredRanks(e.widths(), e.bias(), e.loss(), e.n(), e.r(), 100 + e.id());
        assertArrayEquals(e.expected(), measured, "measured (H_O, H_F, H)");
        // And the prediction computed from the data itself.
        try (Arena arena = Arena.ofConfined()) {
            Dataset data = Nets.data(arena, e.n(), e.widths()[0], e.r(), e.widths()[e.widths().length - 1], e.loss(),
                    100 + e.id());
            Mlp mlp = new Mlp(e.widths(), Activation.IDENTITY, e.bias());
            assertEquals(Math.min(e.r(), Math.min(e.n(), e.widths()[0])),
                    RankPredictions.inputRank(data.inputs()).rank());
            assertArrayEquals(e.expected(), triple(RankPredictions.predict(mlp, e.loss(), data.inputs()).orElseThrow()));
        }
    }

    @ParameterizedTest(name = "worked example {0}: randomized")
    @MethodSource("workedExamples")
    void randomizedRanksOfTheWorkedExamples(Example e) {
        Mlp mlp = new Mlp(e.widths(), Activation.IDENTITY, e.bias());
        try (Arena arena = Arena.ofConfined(); io.hvp4j.backend.Backend be = new io.hvp4j.backend.vector.VectorBackend(2)) {
            Dataset data = Nets.data(arena, e.n(), e.widths()[0], e.r(), e.widths()[e.widths().length - 1], e.loss(),
                    100 + e.id());
            try (io.hvp4j.objective.MlpObjective f = Nets.objective(arena, mlp, e.loss(), data, be, 100 + e.id(), 16)) {
                int[] measured = new int[3];
                io.hvp4j.autodiff.Curvature[] order = {io.hvp4j.autodiff.Curvature.GAUSS_NEWTON,
                    io.hvp4j.autodiff.Curvature.FUNCTIONAL, io.hvp4j.autodiff.Curvature.HESSIAN};
                for (int i = 0; i < 3; i++) {
                    measured[i] = RandomizedRank.compute(Operators.curvature(f, order[i], -1), be,
                            new RandomizedRank.Options().block(16).seed(e.id())).report().rank();
                }
                assertArrayEquals(e.expected(), measured, "randomized (H_O, H_F, H)");
            }
        }
    }

    /** Random small deep linear nets without bias, mse and ce: measured rank = formula, exactly. */
    @Test
    void randomDeepLinearNets() {
        SplittableRandom rng = new SplittableRandom(2024);
        for (int t = 0; t < 8; t++) {
            int layers = 2 + rng.nextInt(3);
            int[] w = new int[layers + 1];
            w[0] = 2 + rng.nextInt(7);
            for (int l = 1; l < layers; l++) w[l] = 1 + rng.nextInt(6);
            Loss loss = t % 2 == 0 ? Loss.MSE : Loss.CE;
            w[layers] = (loss == Loss.CE ? 2 : 1) + rng.nextInt(4);
            int n = 2 + rng.nextInt(20);
            int r = t % 3 == 0 ? 1 + rng.nextInt(w[0]) : w[0];
            int[] measured = Nets.measuredRanks(w, false, loss, n, r, 500 + t);
            int rEff = Math.min(r, Math.min(n, w[0]));
            Mlp mlp = new Mlp(w, Activation.IDENTITY, false);
            int[] predicted = triple(RankPredictions.predict(mlp, loss, rEff, -1).orElseThrow());
            assertArrayEquals(predicted, measured, "config " + java.util.Arrays.toString(w) + " " + loss
                    + " N=" + n + " r=" + rEff);
            if (loss == Loss.MSE) {
                // §A.3 rank deficiency: p − rank(H) = Σ (M_{l−1} − q)(M_l − q) + q(d − r).
                int q = RankPredictions.predict(mlp, loss, rEff, -1).orElseThrow().q();
                int deficiency = q * (w[0] - rEff);
                for (int l = 1; l <= layers; l++) deficiency += (w[l - 1] - q) * (w[l] - q);
                assertEquals(mlp.parameterCount() - deficiency, measured[2]);
            }
        }
    }

    /** The deficiency closed form is p minus the rank formula for every loss and shape (pure arithmetic). */
    @Test
    void deficiencyClosedFormAgreesWithTheRankFormula() {
        SplittableRandom rng = new SplittableRandom(7);
        for (int t = 0; t < 2000; t++) {
            int layers = 1 + rng.nextInt(6);
            int[] w = new int[layers + 1];
            for (int l = 0; l < layers; l++) w[l] = 1 + rng.nextInt(40);
            Loss loss = Loss.values()[rng.nextInt(3)];
            w[layers] = (loss == Loss.CE ? 2 : 1) + rng.nextInt(12);
            int r = rng.nextInt(w[0] + 1);
            Mlp mlp = new Mlp(w, Activation.IDENTITY, false);
            int predicted = RankPredictions.predict(mlp, loss, r, -1).orElseThrow().hessian();
            assertEquals(mlp.parameterCount() - predicted, RankPredictions.deficiency(mlp, loss, r).getAsInt(),
                    java.util.Arrays.toString(w) + " " + loss + " r=" + r);
        }
        // By hand in §A.11: #1 (25) and #5 (52); #2 is #1 with ce: 275 − 245 = 30.
        assertEquals(25, RankPredictions.deficiency(new Mlp(new int[] {25, 5, 10, 10}, Activation.IDENTITY, false),
                Loss.MSE, 25).getAsInt());
        assertEquals(30, RankPredictions.deficiency(new Mlp(new int[] {25, 5, 10, 10}, Activation.IDENTITY, false),
                Loss.CE, 25).getAsInt());
        assertEquals(52, RankPredictions.deficiency(new Mlp(new int[] {12, 6, 6, 6, 4}, Activation.IDENTITY, false),
                Loss.MSE, 5).getAsInt());
        assertTrue(RankPredictions.deficiency(new Mlp(new int[] {4, 3, 2}, Activation.RELU, false), Loss.MSE, 4)
                .isEmpty());
        assertTrue(RankPredictions.deficiency(new Mlp(new int[] {4, 3, 2}, Activation.IDENTITY, true), Loss.MSE, 4)
                .isEmpty());
    }

    @Test
    void biasInItsValidRegimeMeasured() {
        // d = 6, widths (5, 5), K = 3, N = 30, ce: r = 6, r̃ = 7, K′ = 2 ≤ every hidden width.
        int[] w = {6, 5, 5, 3};
        Mlp mlp = new Mlp(w, Activation.IDENTITY, true);
        RankPredictions.Prediction p = RankPredictions.predict(mlp, Loss.CE, 6, 7).orElseThrow();
        assertArrayEquals(triple(p), Nets.measuredRanks(w, true, Loss.CE, 30, 6, 77));
        // In the common case r ≥ K′, biases add exactly L·K′ to rank(H).
        int noBias = RankPredictions.predict(new Mlp(w, Activation.IDENTITY, false), Loss.CE, 6, -1).orElseThrow()
                .hessian();
        assertEquals(noBias + 3 * 2, p.hessian());
    }

    @Test
    void noPredictionOutsideTheValidRegime() {
        // Non-linear activation.
        assertEquals(Optional.empty(), RankPredictions.predict(new Mlp(new int[] {4, 3, 2}, Activation.RELU, false),
                Loss.MSE, 4, -1));
        // Bias with a bottleneck below min(r̃, K′) (§A.7: d = 7, width 2, K = 6).
        assertEquals(Optional.empty(), RankPredictions.predict(new Mlp(new int[] {7, 2, 6}, Activation.IDENTITY, true),
                Loss.MSE, 7, 8));
        // Bias with 1 in the row space of X (N ≤ d, so r̃ = r).
        assertEquals(Optional.empty(), RankPredictions.predict(new Mlp(new int[] {10, 3, 4}, Activation.IDENTITY,
                true), Loss.MSE, 5, 5));
        // Bias with the cosh loss or a single layer: not covered by §A.7.
        assertEquals(Optional.empty(), RankPredictions.predict(new Mlp(new int[] {4, 5, 2}, Activation.IDENTITY,
                true), Loss.COSH, 4, 5));
        assertEquals(Optional.empty(), RankPredictions.predict(new Mlp(new int[] {4, 2}, Activation.IDENTITY, true),
                Loss.MSE, 4, 5));
        // Without bias a single layer is fine: H_F = 0, H = H_O = r·K′.
        assertArrayEquals(new int[] {8, 0, 8}, triple(RankPredictions.predict(
                new Mlp(new int[] {4, 3}, Activation.IDENTITY, false), Loss.CE, 4, -1).orElseThrow()));
        assertArrayEquals(new int[] {8, 0, 8}, Nets.measuredRanks(new int[] {4, 3}, false, Loss.CE, 10, 4, 5));
    }

    @Test
    void inputRankBySvdConvention() {
        try (Arena arena = Arena.ofConfined()) {
            // Rank-deficient: 30 × 12 of rank 5. Through XᵀX the zero singular values would come out near
            // √ε·σ_max and be counted; from X itself they are at ε·σ_max.
            Dataset low = Nets.data(arena, 30, 12, 5, 2, Loss.MSE, 1);
            RankReport r = RankPredictions.inputRank(low.inputs());
            assertEquals(5, r.rank());
            assertTrue(r.gap() > 1e8, "gap " + r.gap());
            assertEquals(6, RankPredictions.augmentedInputRank(low.inputs()).rank());
            // N < d: r = N, and 1 is in the row space generically, so r̃ = r.
            Dataset wide = Nets.data(arena, 15, 20, 20, 2, Loss.MSE, 2);
            assertEquals(15, RankPredictions.inputRank(wide.inputs()).rank());
            assertEquals(15, RankPredictions.augmentedInputRank(wide.inputs()).rank());
            // Many rows (several QR blocks): 5000 × 7 of rank 3.
            Dataset tall = Nets.data(arena, 5000, 7, 3, 2, Loss.MSE, 3);
            assertEquals(3, RankPredictions.inputRank(tall.inputs()).rank());
            assertEquals(4, RankPredictions.augmentedInputRank(tall.inputs()).rank());
            // Exactly duplicated columns and a zero matrix.
            Tensor dup = Tensor.allocate(arena, DType.F64, 6, 3);
            for (int i = 0; i < 6; i++) {
                dup.set(i, 0, i + 1);
                dup.set(i, 1, i + 1);
                dup.set(i, 2, (i * 7) % 5);
            }
            assertEquals(2, RankPredictions.inputRank(dup).rank());
            assertEquals(0, RankPredictions.inputRank(Tensor.allocate(arena, DType.F64, 4, 3)).rank());
        }
    }
}

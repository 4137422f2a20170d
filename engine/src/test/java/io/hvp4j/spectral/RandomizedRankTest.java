package io.hvp4j.spectral;

import io.hvp4j.InvalidInputException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The randomized range-finder rank against the dense path and the closed forms. */
class RandomizedRankTest {
    static final Curvature[] CURVATURES = {Curvature.HESSIAN, Curvature.GAUSS_NEWTON, Curvature.FUNCTIONAL};

    static RankReport dense(SymmetricOperator op, NumericalRank.Tolerance tol) {
        try (Arena m = Arena.ofConfined()) {
            DenseAssembly.Result res = DenseAssembly.assemble(op, m);
            double[] eig = SymmetricEigen.select(SymmetricEigen.Kind.AUTO).decomposeInPlace(res.matrix(), false);
            return NumericalRank.ofEigenvalues(eig, op.dtype(), tol);
        }
    }

    static RandomizedRank.Result randomized(SymmetricOperator op, Backend be, NumericalRank.Tolerance tol, int block,
                                            long seed) {
        return RandomizedRank.compute(op, be, new RandomizedRank.Options().tolerance(tol).block(block).seed(seed));
    }

    /** Dense and randomized ranks of H, H_O, H_F of one net agree for the given tolerances; returns (H, H_O, H_F). */
    static int[] compare(int[] widths, Activation act, boolean bias, Loss loss, int n, int r, long seed,
                         List<NumericalRank.Tolerance> tols, int block) {
        Mlp mlp = new Mlp(widths, act, bias);
        int[] ranks = new int[3];
        try (Arena arena = Arena.ofConfined(); Backend be = new VectorBackend(2)) {
            Dataset data = Nets.data(arena, n, widths[0], r, widths[widths.length - 1], loss, seed);
            try (MlpObjective f = Nets.objective(arena, mlp, loss, data, be, seed + 1, 16)) {
                for (int i = 0; i < 3; i++) {
                    SymmetricOperator op = Operators.curvature(f, CURVATURES[i], -1);
                    for (NumericalRank.Tolerance tol : tols) {
                        RankReport d = dense(op, tol);
                        RandomizedRank.Result rr = randomized(op, be, tol, block, seed + 7);
                        String what = mlp.architecture() + " " + act + " bias=" + bias + " " + loss + " N=" + n
                                + " r=" + r + " " + CURVATURES[i] + " tol=" + tol.spec() + " basis=" + rr.basis();
                        assertEquals(d.rank(), rr.report().rank(), what);
                        assertEquals(d.sigmaMax(), rr.report().sigmaMax(), 1e-9 * d.sigmaMax(), what);
                        assertEquals(d.ladder().get("1e-8"), rr.report().ladder().get("1e-8"), what);
                        assertTrue(rr.basis() <= op.dimension(), what);
                        if (tol.kind() == NumericalRank.Tolerance.Kind.DEFAULT) {
                            ranks[i] = d.rank();
                            assertEquals(d.tolerance(), rr.report().tolerance(), 1e-9 * d.tolerance(), what);
                        }
                    }
                }
            }
        }
        return ranks;
    }

    static final List<NumericalRank.Tolerance> DEFAULT_ONLY = List.of(NumericalRank.Tolerance.DEFAULT);

    @Test
    void randomDeepLinearNetsAgreeWithDenseAndTheFormulas() {
        SplittableRandom rng = new SplittableRandom(77);
        for (int t = 0; t < 6; t++) {
            int layers = 2 + rng.nextInt(2);
            int[] w = new int[layers + 1];
            for (int i = 0; i <= layers; i++) {
                w[i] = 2 + rng.nextInt(9);
            }
            Loss loss = t % 2 == 0 ? Loss.MSE : Loss.CE;
            if (loss == Loss.CE) {
                w[layers] = Math.max(w[layers], 2);
            }
            int n = 5 + rng.nextInt(30);
            int r = t < 3 ? w[0] : 1 + rng.nextInt(w[0]); // full-rank, then low-rank inputs
            int[] ranks = compare(w, Activation.IDENTITY, false, loss, n, r, 500 + t, DEFAULT_ONLY, 8);
            Mlp mlp = new Mlp(w, Activation.IDENTITY, false);
            int rr = Math.min(r, Math.min(n, w[0]));
            RankPredictions.Prediction p = RankPredictions.predict(mlp, loss, rr, -1).orElseThrow();
            assertArrayEquals(new int[] {p.hessian(), p.outer(), p.functional()}, ranks,
                    "prediction for " + mlp.architecture() + " " + loss + " N=" + n + " r=" + rr);
        }
    }

    @Test
    void workedExampleOneWithRelativeAndAbsoluteTolerances() {
        List<NumericalRank.Tolerance> tols = new ArrayList<>(List.of(NumericalRank.Tolerance.DEFAULT,
                NumericalRank.Tolerance.relative(1e-8), NumericalRank.Tolerance.relative(1e-3),
                NumericalRank.Tolerance.absolute(1e-6)));
        int[] ranks = compare(new int[] {25, 5, 10, 10}, Activation.IDENTITY, false, Loss.MSE, 50, 25, 101, tols, 32);
        assertArrayEquals(new int[] {250, 150, 175}, ranks);
    }

    @Test
    void lowRankInputsCrossEntropy() {
        int[] ranks = compare(new int[] {12, 6, 6, 6, 4}, Activation.IDENTITY, false, Loss.CE, 30, 5, 105,
                List.of(NumericalRank.Tolerance.DEFAULT, NumericalRank.Tolerance.relative(1e-10)), 16);
        Mlp mlp = new Mlp(new int[] {12, 6, 6, 6, 4}, Activation.IDENTITY, false);
        RankPredictions.Prediction p = RankPredictions.predict(mlp, Loss.CE, 5, -1).orElseThrow();
        assertArrayEquals(new int[] {p.hessian(), p.outer(), p.functional()}, ranks);
    }

    @Test
    void tanhNetWithBiasAgreesWithDense() {
        compare(new int[] {6, 7, 5, 3}, Activation.TANH, true, Loss.MSE, 20, 6, 31,
                List.of(NumericalRank.Tolerance.DEFAULT, NumericalRank.Tolerance.relative(1e-9),
                        NumericalRank.Tolerance.absolute(1e-7)), 8);
        compare(new int[] {5, 8, 4}, Activation.TANH, true, Loss.CE, 15, 5, 32, DEFAULT_ONLY, 16);
    }

    @Test
    void knownSpectraIncludingIndefiniteAndZero() {
        int n = 120;
        SplittableRandom rng = new SplittableRandom(5);
        double[] lambda = new double[n];
        for (int i = 0; i < 37; i++) {
            lambda[i] = (i % 3 == 0 ? -1 : 1) * Math.pow(10, -6 * rng.nextDouble());
        }
        double[][] q = randomOrthogonal(n, rng);
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += q[i][k] * lambda[k] * q[j][k];
                }
                a[i][j] = s;
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                a[i][j] = a[j][i];
            }
        }
        SymmetricOperator op = Operators.dense(a);
        try (Backend be = new VectorBackend(2)) {
            RandomizedRank.Result r = randomized(op, be, NumericalRank.Tolerance.DEFAULT, 10, 3);
            assertEquals(37, r.report().rank());
            assertEquals(dense(op, NumericalRank.Tolerance.DEFAULT).rank(), r.report().rank());
            RandomizedRank.Result rel = randomized(op, be, NumericalRank.Tolerance.relative(1e-10), 10, 3);
            assertEquals(37, rel.report().rank());
            assertTrue(rel.basis() < n, "stopped early: basis " + rel.basis());
            assertEquals(countAbove(lambda, 1e-4), (int) r.report().ladder().get("1e-4"));
            // The zero operator.
            SymmetricOperator zero = Operators.dense(new double[n][n]);
            RandomizedRank.Result z = randomized(zero, be, NumericalRank.Tolerance.DEFAULT, 10, 3);
            assertEquals(0, z.report().rank());
            assertEquals(0, z.basis());
        }
    }

    @Test
    void repeatedEigenvaluesBeyondTheBlockSizeNeedRestarts() {
        // A Krylov space of block size b holds at most b vectors of one eigenspace; the random restarts find the rest.
        int n = 120;
        double[] lambda = new double[n];
        for (int i = 0; i < 45; i++) {
            lambda[i] = 2.0; // multiplicity 45
        }
        for (int i = 45; i < 60; i++) {
            lambda[i] = -0.5 - 0.01 * i;
        }
        double[][] a = SpectralFixtures.withSpectrum(lambda, 5);
        try (Backend be = new VectorBackend(2)) {
            RandomizedRank.Result r = RandomizedRank.compute(Operators.dense(a), be,
                    new RandomizedRank.Options().block(4).seed(3));
            assertEquals(60, r.report().rank());
            assertTrue(r.restarts() >= 1, "restarts " + r.restarts());
            assertTrue(r.basis() < n, "basis " + r.basis());
        }
    }

    @Test
    void systemBlasGivesTheSameRanks() {
        org.junit.jupiter.api.Assumptions.assumeTrue(RandomizedRank.nativeGemm(2).isPresent(),
                "OpenBLAS is not installed: " + io.hvp4j.backend.OpenBlas.unavailableReason());
        Mlp mlp = new Mlp(new int[] {12, 9, 8, 5}, Activation.IDENTITY, false);
        try (Arena arena = Arena.ofConfined(); Backend be = new VectorBackend(2)) {
            Dataset data = Nets.data(arena, 15, 12, 6, 5, Loss.MSE, 4);
            try (MlpObjective f = Nets.objective(arena, mlp, Loss.MSE, data, be, 5, 16)) {
                for (Curvature c : CURVATURES) {
                    SymmetricOperator op = Operators.curvature(f, c, -1);
                    RankReport d = dense(op, NumericalRank.Tolerance.DEFAULT);
                    RandomizedRank.Result r = RandomizedRank.compute(op, be, new RandomizedRank.Options().block(8)
                            .gemm(RandomizedRank.nativeGemm(2).orElseThrow()));
                    assertEquals(d.rank(), r.report().rank(), c.toString());
                    assertEquals(d.sigmaMax(), r.report().sigmaMax(), 1e-9 * d.sigmaMax(), c.toString());
                }
            }
        }
    }

    @Test
    void startingTheFunctionalPartFromTheHessianBasisGivesTheSameRanks() {
        for (Loss loss : new Loss[] {Loss.MSE, Loss.CE}) {
            Mlp mlp = new Mlp(new int[] {10, 7, 6, 4}, Activation.IDENTITY, false);
            try (Arena arena = Arena.ofConfined(); Backend be = new VectorBackend(2)) {
                Dataset data = Nets.data(arena, 12, 10, 5, 4, loss, 3);
                try (MlpObjective f = Nets.objective(arena, mlp, loss, data, be, 4, 16)) {
                    SymmetricOperator h = Operators.curvature(f, Curvature.HESSIAN, -1);
                    RandomizedRank.Result rh = RandomizedRank.compute(h, be, new RandomizedRank.Options().block(8)
                            .keepBasis(true));
                    try (RandomizedRank.Basis basis = rh.kept()) {
                        int before = basis.size();
                        for (Curvature c : new Curvature[] {Curvature.FUNCTIONAL, Curvature.GAUSS_NEWTON}) {
                            SymmetricOperator op = Operators.curvature(f, c, -1);
                            RandomizedRank.Result r = RandomizedRank.compute(op, be, new RandomizedRank.Options()
                                    .block(8).seed(9).start(basis));
                            RankReport d = dense(op, NumericalRank.Tolerance.DEFAULT);
                            assertEquals(d.rank(), r.report().rank(), loss + " " + c);
                            assertEquals(d.sigmaMax(), r.report().sigmaMax(), 1e-9 * d.sigmaMax(), loss + " " + c);
                            assertTrue(basis.size() >= before && r.basis() == basis.size());
                        }
                    }
                }
            }
        }
    }

    @Test
    void anInterruptedRunResumesFromItsCheckpointToTheSameBits(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        Mlp mlp = new Mlp(new int[] {12, 9, 8, 5}, Activation.TANH, true);
        try (Arena arena = Arena.ofConfined(); Backend be = new VectorBackend(2)) {
            Dataset data = Nets.data(arena, 15, 12, 12, 5, Loss.CE, 6);
            try (MlpObjective f = Nets.objective(arena, mlp, Loss.CE, data, be, 7, 8)) {
                SymmetricOperator op = Operators.curvature(f, Curvature.HESSIAN, -1);
                RandomizedRank.Result whole = RandomizedRank.compute(op, be, new RandomizedRank.Options().block(8));
                java.nio.file.Path ck = dir.resolve("rr.ckpt");
                int[] updates = {0};
                RuntimeException stop = new RuntimeException("killed");
                RuntimeException seen = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class, () ->
                        RandomizedRank.compute(op, be, new RandomizedRank.Options().block(8)
                                .checkpoint(ck, 0, "test net").progress(staged((stage, d, t) -> {
                                    if (stage.equals("basis") && ++updates[0] == 5) {
                                        throw stop;
                                    }
                                }))));
                assertTrue(seen == stop && java.nio.file.Files.size(ck) > 0);
                RandomizedRank.Result resumed = RandomizedRank.compute(op, be, new RandomizedRank.Options().block(8)
                        .checkpoint(ck, 0, "test net"));
                assertArrayEquals(whole.eigenvalues(), resumed.eigenvalues(), 0.0);
                assertEquals(whole.report(), resumed.report());
                assertEquals(whole.productColumns(), resumed.productColumns());
                // Other arguments, or a damaged file, are refused with a message.
                InvalidInputException other = org.junit.jupiter.api.Assertions.assertThrows(InvalidInputException.class,
                        () -> RandomizedRank.compute(op, be, new RandomizedRank.Options().block(8).seed(2)
                                .checkpoint(ck, 0, "test net")));
                assertTrue(other.getMessage().contains("other arguments"), other.getMessage());
                byte[] bytes = java.nio.file.Files.readAllBytes(ck);
                bytes[bytes.length / 2] ^= 0x10;
                java.nio.file.Files.write(ck, bytes);
                InvalidInputException bad = org.junit.jupiter.api.Assertions.assertThrows(InvalidInputException.class,
                        () -> RandomizedRank.compute(op, be, new RandomizedRank.Options().block(8)
                                .checkpoint(ck, 0, "test net")));
                assertTrue(bad.getMessage().contains("corrupted"), bad.getMessage());
                java.nio.file.Files.write(ck, java.util.Arrays.copyOf(bytes, bytes.length - 100));
                bad = org.junit.jupiter.api.Assertions.assertThrows(InvalidInputException.class,
                        () -> RandomizedRank.compute(op, be, new RandomizedRank.Options().block(8)
                                .checkpoint(ck, 0, "test net")));
                assertTrue(bad.getMessage().contains("truncated"), bad.getMessage());
            }
        }
    }

    @Test
    void deterministicForAFixedSeed() {
        Mlp mlp = new Mlp(new int[] {8, 6, 4}, Activation.IDENTITY, false);
        try (Arena arena = Arena.ofConfined(); Backend be = new VectorBackend(2)) {
            Dataset data = Nets.data(arena, 20, 8, 8, 4, Loss.MSE, 9);
            try (MlpObjective f = Nets.objective(arena, mlp, Loss.MSE, data, be, 10, 16)) {
                SymmetricOperator op = Operators.curvature(f, Curvature.HESSIAN, -1);
                RandomizedRank.Result a = randomized(op, be, NumericalRank.Tolerance.DEFAULT, 8, 42);
                RandomizedRank.Result b = randomized(op, be, NumericalRank.Tolerance.DEFAULT, 8, 42);
                assertArrayEquals(a.eigenvalues(), b.eigenvalues(), 0.0);
                assertEquals(a.report(), b.report());
                List<String> stages = new ArrayList<>();
                RandomizedRank.compute(op, be, new RandomizedRank.Options().block(8).seed(42)
                        .progress(staged((s, d, t) -> stages.add(s))));
                assertTrue(stages.contains("power") && stages.contains("basis")
                        && stages.contains("eigenvalues"), stages.toString());
            }
        }
    }

    /**
     * The scale target of the spectral issue: 54,800 parameters (a dense f64 Hessian would need 24 GB), ranks
     * 8440 / 640 / 7900 as the closed forms say; H_F starts from H's basis as {@code hvp4j rank} does.
     */
    @Test
    @Tag("slow")
    void scaleTarget() {
        int[] w = {64, 200, 200, 10};
        Mlp mlp = new Mlp(w, Activation.IDENTITY, false);
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(Runtime.getRuntime().availableProcessors())) {
            Dataset data = Nets.data(arena, 100, 64, 64, 10, Loss.MSE, 1);
            try (MlpObjective f = Nets.objective(arena, mlp, Loss.MSE, data, be, 2, RandomizedRank.DEFAULT_BLOCK)) {
                RandomizedRank.Options base = new RandomizedRank.Options();
                RandomizedRank.nativeGemm(Runtime.getRuntime().availableProcessors()).ifPresent(base::gemm);
                RandomizedRank.Result h = RandomizedRank.compute(Operators.curvature(f, Curvature.HESSIAN, -1), be,
                        base.keepBasis(true));
                try (RandomizedRank.Basis basis = h.kept()) {
                    RandomizedRank.Result o = RandomizedRank.compute(Operators.curvature(f, Curvature.GAUSS_NEWTON, -1),
                            be, new RandomizedRank.Options().gemm(base.gemm));
                    RandomizedRank.Result fn = RandomizedRank.compute(Operators.curvature(f, Curvature.FUNCTIONAL, -1),
                            be, new RandomizedRank.Options().gemm(base.gemm).start(basis));
                    for (RandomizedRank.Result r : List.of(h, o, fn)) {
                        System.out.println("scale target: " + RandomizedRank.summary(r));
                    }
                    assertArrayEquals(new int[] {8440, 640, 7900},
                            new int[] {h.report().rank(), o.report().rank(), fn.report().rank()});
                }
            }
        }
    }

    static int countAbove(double[] lambda, double t) {
        int c = 0;
        double mx = 0;
        for (double x : lambda) {
            mx = Math.max(mx, Math.abs(x));
        }
        for (double x : lambda) {
            if (Math.abs(x) > t * mx) {
                c++;
            }
        }
        return c;
    }

    static double[][] randomOrthogonal(int n, SplittableRandom rng) {
        double[][] q = new double[n][n];
        for (int j = 0; j < n; j++) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = Nets.gaussian(rng);
            }
            for (int pass = 0; pass < 2; pass++) {
                for (int l = 0; l < j; l++) {
                    double d = 0;
                    for (int i = 0; i < n; i++) {
                        d += q[i][l] * v[i];
                    }
                    for (int i = 0; i < n; i++) {
                        v[i] -= d * q[i][l];
                    }
                }
            }
            double s = 0;
            for (double x : v) {
                s += x * x;
            }
            s = Math.sqrt(s);
            for (int i = 0; i < n; i++) {
                q[i][j] = v[i] / s;
            }
        }
        return q;
    }

    /** Receives each update with the stage it belongs to. */
    interface StageUpdates {
        void update(String stage, long done, long total);
    }

    /** An {@link io.hvp4j.Progress} that hands each update to {@code f} with the current stage. */
    static io.hvp4j.Progress staged(StageUpdates f) {
        return new io.hvp4j.Progress() {
            private String stage = "";

            @Override
            public void stage(String name) {
                stage = name;
            }

            @Override
            public void update(long done, long total) {
                f.update(stage, done, total);
            }
        };
    }
}

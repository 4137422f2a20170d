package io.hvp4j.spectral;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DenseAssemblyTest {
    @TempDir
    Path dir;

    static double[][] randomSymmetric(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                a[i][j] = Nets.gaussian(rng);
                a[j][i] = a[i][j];
            }
        }
        return a;
    }

    static long[] bits(Tensor t) {
        long[] b = new long[Math.toIntExact(t.size())];
        for (int i = 0; i < b.length; i++) b[i] = Double.doubleToRawLongBits(t.get(i));
        return b;
    }

    /** A dense operator with a small maximum block, to exercise partial blocks. */
    static SymmetricOperator limited(SymmetricOperator a, int maxBlock) {
        return new SymmetricOperator() {
            public int dimension() { return a.dimension(); }
            public DType dtype() { return a.dtype(); }
            public int maxBlock() { return maxBlock; }
            public void apply(Tensor v, Tensor out) {
                assertTrue(v.cols() <= maxBlock);
                a.apply(v, out);
            }
            public String description() { return a.description(); }
        };
    }

    @Test
    void reproducesADenseMatrixForEveryBlockSize() {
        int n = 23;
        double[][] a = randomSymmetric(n, 1);
        for (int block : new int[] {1, 4, 7, 23, 64}) {
            try (Arena arena = Arena.ofConfined()) {
                DenseAssembly.Result r = DenseAssembly.assemble(limited(Operators.dense(a), 100), arena,
                        new DenseAssembly.Options().maxBlock(block));
                assertEquals(Math.min(block, n), r.block());
                assertEquals(0.0, r.asymmetry());
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) assertEquals(a[i][j], r.matrix().get(i, j));
                }
            }
        }
    }

    @Test
    void reportsAsymmetryAndSymmetrizes() {
        double[][] a = {{1, 2, 0}, {0, 3, 1}, {4, 1, 5}};
        SymmetricOperator notSymmetric = Operators.dense(a); // dense() does not check symmetry
        try (Arena arena = Arena.ofConfined()) {
            DenseAssembly.Result r = DenseAssembly.assemble(notSymmetric, arena);
            double diff = 2 * (2 * 2 + 4 * 4 + 0), norm = 1 + 4 + 9 + 1 + 16 + 1 + 25;
            assertEquals(Math.sqrt(diff / norm), r.asymmetry(), 1e-15);
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) assertEquals(0.5 * (a[i][j] + a[j][i]), r.matrix().get(i, j));
            }
        }
    }

    @Test
    void curvatureOfANetworkIsSymmetricToRounding() {
        try (Arena arena = Arena.ofConfined(); Backend be = new VectorBackend(1)) {
            Mlp mlp = new Mlp(new int[] {4, 5, 3}, Activation.TANH, true);
            Dataset data = Nets.data(arena, 9, 4, 4, 3, Loss.CE, 3);
            try (MlpObjective f = Nets.objective(arena, mlp, Loss.CE, data, be, 4, 8)) {
                DenseAssembly.Result r = DenseAssembly.assemble(Operators.curvature(f, Curvature.HESSIAN, -1), arena);
                assertTrue(r.asymmetry() < 1e-13, "asymmetry " + r.asymmetry());
                assertEquals(8, r.block()); // the objective's maxBlock
                for (int i = 0; i < mlp.parameterCount(); i++) {
                    for (int j = 0; j < i; j++) assertEquals(r.matrix().get(i, j), r.matrix().get(j, i));
                }
            }
        }
    }

    /** Runs a Hessian assembly of a small tanh net with checkpoints; {@code stopAt} aborts from the progress. */
    private DenseAssembly.Result hessian(Arena out, Path ckpt, String fingerprint, int block, int stopAt,
                                         List<Integer> seen) {
        try (Arena arena = Arena.ofConfined(); Backend be = new VectorBackend(1)) {
            Mlp mlp = new Mlp(new int[] {5, 6, 4}, Activation.TANH, true); // P = 36 + 28 = 64
            Dataset data = Nets.data(arena, 12, 5, 5, 4, Loss.MSE, 8);
            try (MlpObjective f = Nets.objective(arena, mlp, Loss.MSE, data, be, 9, 16)) {
                DenseAssembly.Options o = new DenseAssembly.Options().maxBlock(block).checkpoint(ckpt)
                        .fingerprint(fingerprint).checkpointEveryColumns(10).checkpointEverySeconds(-1)
                        .progress((done, total) -> {
                            seen.add(Math.toIntExact(done));
                            assertEquals(64L, total);
                            if (done >= stopAt) {
                                throw new IllegalStateException("stop at " + done);
                            }
                        });
                return DenseAssembly.assemble(Operators.curvature(f, Curvature.HESSIAN, -1), out, o);
            }
        }
    }

    @Test
    void resumesBitIdentically() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            List<Integer> seen = new ArrayList<>();
            DenseAssembly.Result full = hessian(arena, null, "", 6, Integer.MAX_VALUE, seen);
            assertEquals(List.of(0, 6, 12, 18, 24, 30, 36, 42, 48, 54, 60, 64), seen);
            long[] reference = bits(full.matrix());

            Path ckpt = dir.resolve("h.ckpt");
            seen.clear();
            IllegalStateException stop = assertThrows(IllegalStateException.class,
                    () -> hessian(arena, ckpt, "net A", 6, 27, seen));
            assertEquals("stop at 30", stop.getMessage());
            assertTrue(Files.exists(ckpt));
            // 30 columns were saved on abort (after periodic saves at 12 and 24).
            assertEquals(DenseAssembly.HEADER_BYTES + 30L * 64 * 8 + DenseAssembly.TRAILER_BYTES, Files.size(ckpt));
            try (var files = Files.list(dir)) {
                assertEquals(1, files.count(), "no temporary files left behind");
            }

            // Resume with another requested block: the stored block size (6) is used, so the bits are the same.
            seen.clear();
            DenseAssembly.Result resumed = hessian(arena, ckpt, "net A", 16, Integer.MAX_VALUE, seen);
            assertEquals(30, resumed.resumedColumns());
            assertEquals(6, resumed.block());
            assertEquals(30, seen.get(0));
            assertArrayEquals(reference, bits(resumed.matrix()));
            assertEquals(full.asymmetry(), resumed.asymmetry());
            // The complete checkpoint is a cache: a third run computes nothing.
            seen.clear();
            DenseAssembly.Result cached = hessian(arena, ckpt, "net A", 6, Integer.MAX_VALUE, seen);
            assertEquals(64, cached.resumedColumns());
            assertEquals(List.of(64), seen);
            assertArrayEquals(reference, bits(cached.matrix()));
        }
    }

    @Test
    void refusesMismatchingAndDamagedCheckpoints() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Path ckpt = dir.resolve("h.ckpt");
            List<Integer> seen = new ArrayList<>();
            assertThrows(IllegalStateException.class, () -> hessian(arena, ckpt, "net A", 6, 20, seen));
            byte[] good = Files.readAllBytes(ckpt);

            InvalidInputException other = assertThrows(InvalidInputException.class,
                    () -> hessian(arena, ckpt, "net B", 6, Integer.MAX_VALUE, seen));
            assertTrue(other.getMessage().contains("fingerprint differs"), other.getMessage());
            assertArrayEquals(good, Files.readAllBytes(ckpt), "a refused checkpoint is left as it was");

            try (Arena a2 = Arena.ofConfined()) {
                InvalidInputException dim = assertThrows(InvalidInputException.class,
                        () -> DenseAssembly.assemble(Operators.dense(randomSymmetric(5, 1)), a2,
                                new DenseAssembly.Options().checkpoint(ckpt).fingerprint("net A")));
                assertTrue(dim.getMessage().contains("n = 64, now 5"), dim.getMessage());
            }

            byte[] flipped = good.clone();
            flipped[DenseAssembly.HEADER_BYTES + 100] ^= 0x10;
            Files.write(ckpt, flipped);
            InvalidInputException crc = assertThrows(InvalidInputException.class,
                    () -> hessian(arena, ckpt, "net A", 6, Integer.MAX_VALUE, seen));
            assertTrue(crc.getMessage().contains("checksum"), crc.getMessage());

            Files.write(ckpt, java.util.Arrays.copyOf(good, good.length - 9));
            InvalidInputException truncated = assertThrows(InvalidInputException.class,
                    () -> hessian(arena, ckpt, "net A", 6, Integer.MAX_VALUE, seen));
            assertTrue(truncated.getMessage().contains("damaged"), truncated.getMessage());

            Files.writeString(ckpt, "this is not a checkpoint file, but it is long enough to have a header".repeat(3));
            InvalidInputException foreign = assertThrows(InvalidInputException.class,
                    () -> hessian(arena, ckpt, "net A", 6, Integer.MAX_VALUE, seen));
            assertTrue(foreign.getMessage().contains("not an hvp4j checkpoint"), foreign.getMessage());
        }
    }

    @Test
    void capsTheDimension() {
        SymmetricOperator huge = new SymmetricOperator() {
            public int dimension() { return DenseAssembly.MAX_DIMENSION + 1; }
            public DType dtype() { return DType.F64; }
            public int maxBlock() { return 1; }
            public void apply(Tensor v, Tensor out) { throw new AssertionError("not reached"); }
            public String description() { return "huge"; }
        };
        try (Arena arena = Arena.ofConfined()) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> DenseAssembly.assemble(huge, arena));
            assertTrue(e.getMessage().contains("46000"), e.getMessage());
        }
    }
}

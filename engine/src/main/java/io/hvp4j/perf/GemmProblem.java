package io.hvp4j.perf;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.OpenBlas;
import io.hvp4j.backend.vector.VectorGemm;
import io.hvp4j.backend.vector.WorkerPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * One GEMM problem for benchmarks: {@code C = op(A)·op(B)} (alpha 1, beta 0), row-major, with C of {@code m × n}
 * and inner dimension {@code k}; operands native, filled with uniform(−1, 1) numbers from a fixed seed.
 *
 * <p>Shape syntax: {@code "N"} for {@code N×N×N}, or {@code "MxNxK"}; transposes {@code "NN"}, {@code "NT"},
 * {@code "TN"} or {@code "TT"} (op(A), op(B)).
 */
public final class GemmProblem {
    /** Rows of C. */
    public final int m;
    /** Columns of C. */
    public final int n;
    /** The inner dimension. */
    public final int k;
    /** Whether {@code op(A) = Aᵀ}. */
    public final boolean transA;
    /** Whether {@code op(B) = Bᵀ}. */
    public final boolean transB;
    /** float64 operands (else float32). */
    public final boolean f64;
    final int lda;
    final int ldb;
    final int ldc;
    final MemorySegment a;
    final MemorySegment b;
    final MemorySegment c;

    /**
     * Allocates and fills the operands.
     *
     * @param shape "N" or "MxNxK"
     * @param trans "NN", "NT", "TN" or "TT" (null: "NN")
     * @param f64   float64 operands (else float32)
     * @param arena owns the operands
     * @throws InvalidInputException for a bad shape or transpose string
     */
    public GemmProblem(String shape, String trans, boolean f64, Arena arena) {
        int[] mnk = parseShape(shape);
        m = mnk[0];
        n = mnk[1];
        k = mnk[2];
        String t = trans == null ? "" : trans.trim().toUpperCase(Locale.ROOT);
        if (!t.matches("[NT][NT]")) {
            throw new InvalidInputException("transposes must be NN, NT, TN or TT, got '" + trans + "'");
        }
        transA = t.charAt(0) == 'T';
        transB = t.charAt(1) == 'T';
        this.f64 = f64;
        lda = transA ? m : k;
        ldb = transB ? k : n;
        ldc = n;
        long es = f64 ? 8 : 4;
        a = arena.allocate((long) m * k * es, 64);
        b = arena.allocate((long) k * n * es, 64);
        c = arena.allocate((long) m * n * es, 64);
        SplittableRandom r = new SplittableRandom(42);
        fill(a, (long) m * k, r);
        fill(b, (long) k * n, r);
        fill(c, (long) m * n, r);
    }

    /**
     * Parses a shape.
     *
     * @param shape "N" or "MxNxK" (each between 1 and 65536)
     * @return {@code {m, n, k}}
     * @throws InvalidInputException for anything else
     */
    public static int[] parseShape(String shape) {
        String[] p = shape == null ? new String[0] : shape.trim().toLowerCase(Locale.ROOT).split("x", -1);
        if (p.length == 1) {
            p = new String[] {p[0], p[0], p[0]};
        }
        if (p.length != 3) {
            throw new InvalidInputException("GEMM shape must be N or MxNxK, got '" + shape + "'");
        }
        int[] r = new int[3];
        for (int i = 0; i < 3; i++) {
            try {
                r[i] = Integer.parseInt(p[i].trim());
            } catch (NumberFormatException e) {
                throw new InvalidInputException("GEMM shape must be N or MxNxK with integers, got '" + shape + "'");
            }
            if (r[i] < 1 || r[i] > 65536) {
                throw new InvalidInputException("GEMM dimensions must be between 1 and 65536, got '" + shape + "'");
            }
        }
        return r;
    }

    private void fill(MemorySegment s, long count, SplittableRandom r) {
        for (long i = 0; i < count; i++) {
            if (f64) {
                s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, r.nextDouble(-1, 1));
            } else {
                s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextDouble(-1, 1));
            }
        }
    }

    /**
     * The work.
     *
     * @return {@code 2mnk} flops
     */
    public double flops() {
        return FlopModel.gemm(m, n, k);
    }

    /**
     * The shape.
     *
     * @return "MxNxK"
     */
    public String shape() {
        return m + "x" + n + "x" + k;
    }

    /**
     * Computes the problem once with hvp4j's kernel ({@link VectorKernel} wraps it with its threads).
     *
     * @param g the kernel
     */
    public void run(VectorGemm g) {
        if (f64) {
            g.dgemm(transA, transB, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
        } else {
            g.sgemm(transA, transB, m, n, k, 1f, a, lda, b, ldb, 0f, c, ldc);
        }
    }

    /**
     * hvp4j's GEMM kernel (the Vector API one every backend product uses) on its own worker threads, so that a
     * caller can time it without reaching into the backend's internals. Not thread-safe; {@link #close} stops the
     * threads.
     */
    public static final class VectorKernel implements AutoCloseable {
        private final WorkerPool pool;
        private final VectorGemm gemm;

        /**
         * Starts the worker threads.
         *
         * @param threads worker threads, at least 1
         */
        public VectorKernel(int threads) {
            pool = new WorkerPool(threads);
            gemm = new VectorGemm(pool);
        }

        /**
         * Computes a problem once.
         *
         * @param p the problem
         */
        public void run(GemmProblem p) {
            p.run(gemm);
        }

        @Override
        public void close() {
            pool.close();
        }
    }

    /**
     * Computes the problem once with OpenBLAS.
     *
     * @param blas the binding
     */
    public void run(OpenBlas blas) {
        if (f64) {
            blas.dgemm(transA, transB, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
        } else {
            blas.sgemm(transA, transB, m, n, k, 1f, a, lda, b, ldb, 0f, c, ldc);
        }
    }
}

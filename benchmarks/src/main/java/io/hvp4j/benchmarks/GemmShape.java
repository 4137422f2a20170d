package io.hvp4j.benchmarks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/** One GEMM problem: shape "MxNxK", transposes "NN"/"NT"/"TN"/"TT", precision, and its operands (native, shared). */
final class GemmShape {
    final int m;
    final int n;
    final int k;
    final boolean transA;
    final boolean transB;
    final boolean f64;
    final int lda;
    final int ldb;
    final int ldc;
    final MemorySegment a;
    final MemorySegment b;
    final MemorySegment c;

    GemmShape(String shape, String trans, boolean f64, Arena arena) {
        String[] p = shape.split("x");
        if (p.length == 1) {
            p = new String[] {p[0], p[0], p[0]};
        }
        m = Integer.parseInt(p[0]);
        n = Integer.parseInt(p[1]);
        k = Integer.parseInt(p[2]);
        transA = trans.charAt(0) == 'T';
        transB = trans.charAt(1) == 'T';
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

    private void fill(MemorySegment s, long count, SplittableRandom r) {
        for (long i = 0; i < count; i++) {
            if (f64) {
                s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, r.nextDouble(-1, 1));
            } else {
                s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextDouble(-1, 1));
            }
        }
    }

    double flops() {
        return 2.0 * m * n * k;
    }

    void run(io.hvp4j.backend.vector.VectorGemm g) {
        if (f64) {
            g.dgemm(transA, transB, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
        } else {
            g.sgemm(transA, transB, m, n, k, 1f, a, lda, b, ldb, 0f, c, ldc);
        }
    }

    void run(OpenBlas blas) {
        if (f64) {
            blas.dgemm(transA, transB, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
        } else {
            blas.sgemm(transA, transB, m, n, k, 1f, a, lda, b, ldb, 0f, c, ldc);
        }
    }
}

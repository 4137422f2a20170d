package io.hvp4j.spectral;

import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;

/**
 * Helpers shared by the iterative methods: block products on {@code double[]} vectors (computed in the operator's
 * dtype, read back as f64), f64 vector arithmetic, and seeded random vectors.
 */
final class Products {
    private Products() {
    }

    /**
     * {@code out[j] = A·v[j]} for every j, in blocks of at most {@code min(maxBlock, block)} columns per
     * {@link SymmetricOperator#apply} call.
     */
    static void apply(SymmetricOperator a, double[][] v, double[][] out, int block) {
        int n = a.dimension(), k = v.length;
        if (k == 0) {
            return;
        }
        int b = Math.max(1, Math.min(Math.min(block, a.maxBlock()), k));
        try (Arena tmp = Arena.ofShared()) { // shared: multi-threaded backends read these tensors
            Tensor in = Tensor.allocate(tmp, a.dtype(), n, b);
            Tensor res = Tensor.allocate(tmp, a.dtype(), n, b);
            for (int j0 = 0; j0 < k; j0 += b) {
                int kc = Math.min(b, k - j0);
                Tensor vi = kc == b ? in : in.view(0, n, kc);
                Tensor vo = kc == b ? res : res.view(0, n, kc);
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < kc; j++) vi.set((long) i * kc + j, v[j0 + j][i]);
                }
                a.apply(vi, vo);
                for (int j = 0; j < kc; j++) {
                    double[] o = out[j0 + j];
                    for (int i = 0; i < n; i++) o[i] = vo.get((long) i * kc + j);
                }
            }
        }
    }

    /** {@code A·v} with one column. */
    static double[] apply(SymmetricOperator a, double[] v) {
        double[][] out = {new double[v.length]};
        apply(a, new double[][] {v}, out, 1);
        return out[0];
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    static double norm(double[] a) {
        double scale = 0, ssq = 1;
        for (double x : a) {
            if (x != 0) {
                double ax = Math.abs(x);
                if (scale < ax) {
                    ssq = 1 + ssq * (scale / ax) * (scale / ax);
                    scale = ax;
                } else {
                    ssq += (ax / scale) * (ax / scale);
                }
            }
        }
        return scale * Math.sqrt(ssq);
    }

    /** {@code y += alpha·x}. */
    static void axpy(double alpha, double[] x, double[] y) {
        for (int i = 0; i < y.length; i++) y[i] += alpha * x[i];
    }

    static void scale(double s, double[] x) {
        for (int i = 0; i < x.length; i++) x[i] *= s;
    }

    /**
     * Classical Gram–Schmidt of {@code w} against the orthonormal vectors {@code q[0..count)}, {@code passes}
     * times; returns the accumulated coefficients {@code qᵢ·w} over all passes.
     */
    static double[] orthogonalize(double[] w, double[][] q, int count, int passes) {
        double[] total = new double[count];
        double[] h = new double[count];
        for (int p = 0; p < passes; p++) {
            for (int i = 0; i < count; i++) h[i] = dot(q[i], w);
            for (int i = 0; i < count; i++) {
                axpy(-h[i], q[i], w);
                total[i] += h[i];
            }
        }
        return total;
    }



    /**
     * Orthonormalises the columns {@code v[0..k)} in place (modified Gram–Schmidt, twice, against {@code basis}
     * first and then each other); returns the number of columns kept (columns whose norm drops below
     * {@code dropTol} times their original norm are removed; the kept ones are moved to the front).
     */
    static int orthonormalize(double[][] v, int k, double[][] basis, int basisCount, double dropTol) {
        int kept = 0;
        for (int j = 0; j < k; j++) {
            double[] w = v[j];
            double before = norm(w);
            if (before == 0) {
                continue;
            }
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < basisCount; i++) axpy(-dot(basis[i], w), basis[i], w);
                for (int i = 0; i < kept; i++) axpy(-dot(v[i], w), v[i], w);
            }
            double after = norm(w);
            if (after <= dropTol * before) {
                continue;
            }
            scale(1 / after, w);
            v[j] = v[kept];
            v[kept++] = w;
        }
        return kept;
    }
}

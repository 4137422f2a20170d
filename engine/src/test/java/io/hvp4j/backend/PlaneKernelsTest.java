package io.hvp4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The Vector API plane kernels against the scalar reference, at every run length up to past two 512-bit vectors. */
class PlaneKernelsTest {
    private static PlaneKernels vector() {
        try (Backend be = new VectorBackend(1)) {
            return be.planes();
        }
    }

    private static double[] gaussian(SplittableRandom r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextGaussian() * 3 + 0.5;
        }
        return v;
    }

    private static MemorySegment seg(Tensor t) {
        return t == null ? null : t.segment();
    }

    @Test
    void affineIsBitIdenticalToTheScalarReference() {
        PlaneKernels v = vector(), s = PlaneKernels.SCALAR;
        assertTrue(v != s, "VectorBackend must bring its own plane kernels");
        SplittableRandom r = new SplittableRandom(11);
        try (Arena arena = Arena.ofConfined()) {
            for (int t = 0; t < 160; t++) {
                int n = 1 + t % 40, xo = r.nextInt(5), ho = r.nextInt(5), yo = r.nextInt(5), len = n + 10;
                boolean hasX = t % 4 != 1, hasH = t % 4 != 2;
                double sh = t % 3 == 0 ? 0 : r.nextGaussian(), a = r.nextGaussian(), c = r.nextGaussian();
                double b = t % 5 == 0 ? 0 : r.nextGaussian();
                double[] xv = gaussian(r, len), hv = gaussian(r, len), yv = gaussian(r, len);
                for (DType dt : DType.values()) {
                    Tensor x = hasX ? Tensor.of(arena, dt, 1, len, xv) : null;
                    Tensor h = hasH ? Tensor.of(arena, dt, 1, len, hv) : null;
                    Tensor y1 = Tensor.of(arena, dt, 1, len, yv), y2 = Tensor.of(arena, dt, 1, len, yv);
                    v.affine(dt, seg(x), xo, sh, a, seg(h), ho, c, b, y1.segment(), yo, n);
                    s.affine(dt, seg(x), xo, sh, a, seg(h), ho, c, b, y2.segment(), yo, n);
                    for (int i = 0; i < len; i++) {
                        assertEquals(0, Double.compare(y1.get(i), y2.get(i)), dt + " case " + t + " element " + i);
                        if (i < yo || i >= yo + n) {
                            assertEquals(dt == DType.F64 ? yv[i] : (float) yv[i], y1.get(i), "outside the run");
                        }
                    }
                    // Against the formula in float64, to the dtype's rounding (a few operations on values ~ 10).
                    double want = b + (hasH ? c * hv[ho] : 0) + (hasX ? a * ((dt == DType.F64 ? xv[xo] : (float) xv[xo]) - sh) : 0);
                    double tol = (dt == DType.F64 ? 1e-13 : 1e-5) * (1 + Math.abs(want) + Math.abs(a * sh) + 10 * (Math.abs(a) + Math.abs(c)));
                    assertEquals(want, y1.get(yo), tol, dt + " case " + t);
                }
            }
        }
    }

    @Test
    void sumsAgreeWithTheScalarReferenceToRounding() {
        PlaneKernels v = vector(), s = PlaneKernels.SCALAR;
        SplittableRandom r = new SplittableRandom(12);
        try (Arena arena = Arena.ofConfined()) {
            for (int t = 0; t < 120; t++) {
                int n = 1 + (t < 80 ? t % 40 : r.nextInt(3000)), xo = r.nextInt(5), ho = r.nextInt(5);
                double[] xv = gaussian(r, n + 5), hv = gaussian(r, n + 5);
                for (DType dt : DType.values()) {
                    Tensor x = Tensor.of(arena, dt, 1, n + 5, xv), h = Tensor.of(arena, dt, 1, n + 5, hv);
                    double abs = 0, absDot = 0;
                    for (int i = 0; i < n; i++) {
                        abs += Math.abs(x.get(xo + i));
                        absDot += Math.abs(x.get(xo + i) * h.get(ho + i));
                    }
                    // Both sum float64 values (exact products of stored elements): they differ only by the order
                    // of n additions, at most n·ε of the sum of magnitudes.
                    double eps = 0x1p-52 * n;
                    assertEquals(s.sum(dt, x.segment(), xo, n), v.sum(dt, x.segment(), xo, n), eps * abs, "sum " + t);
                    assertEquals(s.dot(dt, x.segment(), xo, h.segment(), ho, n),
                            v.dot(dt, x.segment(), xo, h.segment(), ho, n), eps * absDot, "dot " + t);
                    double same = v.dot(dt, x.segment(), xo, h.segment(), ho, n);
                    assertEquals(0, Double.compare(same, v.dot(dt, x.segment(), xo, h.segment(), ho, n)), "repeatable");
                }
            }
        }
    }
}

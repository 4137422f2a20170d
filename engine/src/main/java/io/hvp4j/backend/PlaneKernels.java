package io.hvp4j.backend;

import io.hvp4j.memory.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Maps and sums over one run of {@code n} contiguous elements of host tensors, for per-channel ops such as
 * BatchNorm that treat each channel's plane with its own constants. Segments are a host tensor's
 * {@link io.hvp4j.memory.Tensor#segment()} (native byte order) and offsets count elements of {@code dtype}.
 *
 * <p>Numerics: {@link #affine} computes in the tensors' precision with the same two fused multiply-adds per element
 * in every implementation, so the vector and the scalar results are bit-identical; the constants are rounded to
 * float for f32. The sums read float32 elements as doubles and add in float64 (products of two elements are exact
 * there), in an order that is fixed for a given implementation and vector width: results differ from the scalar
 * reference's left-to-right sum by rounding only, and never between runs. Implementations are stateless and
 * thread-safe.
 */
public interface PlaneKernels {
    /**
     * {@code y[i] = fma(a, x[i] − s, fma(c, h[i], b))} for {@code i < n}; a null {@code x} or {@code h} drops its
     * FMA. {@code y} may be {@code x} or {@code h} at the same offset (in place). With {@code s = 0} the subtraction
     * is exact.
     *
     * @param dtype the dtype of all three runs
     * @param x     input run (or null)
     * @param xo    its first element
     * @param s     shift of {@code x}
     * @param a     factor of {@code x − s}
     * @param h     second input run (or null)
     * @param ho    its first element
     * @param c     factor of {@code h}
     * @param b     constant term
     * @param y     output run
     * @param yo    its first element
     * @param n     elements
     */
    void affine(DType dtype, MemorySegment x, long xo, double s, double a, MemorySegment h, long ho, double c,
                double b, MemorySegment y, long yo, int n);

    /**
     * {@code Σ x[i]} over {@code i < n}, in float64.
     *
     * @param dtype the dtype of the run
     * @param x     the run
     * @param xo    its first element
     * @param n     elements
     * @return the sum
     */
    double sum(DType dtype, MemorySegment x, long xo, int n);

    /**
     * {@code Σ x[i]·h[i]} over {@code i < n}, in float64.
     *
     * @param dtype the dtype of both runs
     * @param x     first run
     * @param xo    its first element
     * @param h     second run
     * @param ho    its first element
     * @param n     elements
     * @return the sum of products
     */
    double dot(DType dtype, MemorySegment x, long xo, MemorySegment h, long ho, int n);

    /** The scalar reference: plain loops in element order. */
    PlaneKernels SCALAR = new PlaneKernels() {
        @Override
        public void affine(DType dtype, MemorySegment x, long xo, double s, double a, MemorySegment h, long ho,
                           double c, double b, MemorySegment y, long yo, int n) {
            if (dtype == DType.F64) {
                for (int i = 0; i < n; i++) {
                    double r = b;
                    if (h != null) {
                        r = Math.fma(c, h.getAtIndex(ValueLayout.JAVA_DOUBLE, ho + i), r);
                    }
                    if (x != null) {
                        r = Math.fma(a, x.getAtIndex(ValueLayout.JAVA_DOUBLE, xo + i) - s, r);
                    }
                    y.setAtIndex(ValueLayout.JAVA_DOUBLE, yo + i, r);
                }
                return;
            }
            float af = (float) a, cf = (float) c, bf = (float) b, sf = (float) s;
            for (int i = 0; i < n; i++) {
                float r = bf;
                if (h != null) {
                    r = Math.fma(cf, h.getAtIndex(ValueLayout.JAVA_FLOAT, ho + i), r);
                }
                if (x != null) {
                    r = Math.fma(af, x.getAtIndex(ValueLayout.JAVA_FLOAT, xo + i) - sf, r);
                }
                y.setAtIndex(ValueLayout.JAVA_FLOAT, yo + i, r);
            }
        }

        @Override
        public double sum(DType dtype, MemorySegment x, long xo, int n) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += dtype == DType.F64 ? x.getAtIndex(ValueLayout.JAVA_DOUBLE, xo + i)
                        : x.getAtIndex(ValueLayout.JAVA_FLOAT, xo + i);
            }
            return s;
        }

        @Override
        public double dot(DType dtype, MemorySegment x, long xo, MemorySegment h, long ho, int n) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                s = dtype == DType.F64
                        ? Math.fma(x.getAtIndex(ValueLayout.JAVA_DOUBLE, xo + i),
                                h.getAtIndex(ValueLayout.JAVA_DOUBLE, ho + i), s)
                        : Math.fma(x.getAtIndex(ValueLayout.JAVA_FLOAT, xo + i),
                                (double) h.getAtIndex(ValueLayout.JAVA_FLOAT, ho + i), s);
            }
            return s;
        }
    };
}

package io.hvp4j.backend.vector;

import io.hvp4j.backend.PlaneKernels;
import io.hvp4j.memory.DType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PlaneKernels} on the Vector API: full vectors and one masked vector for the run's tail. {@code affine} does
 * the reference's two FMAs per element lane-wise (bit-identical to {@link PlaneKernels#SCALAR}). The f32 sums load
 * half-width float vectors and widen them to float64 lanes ({@code vcvtps2pd}); every sum keeps two vector
 * accumulators and adds their lanes in index order at the end, so its order depends only on the vector width.
 * The f64 methods are the f32 ones with {@code DoubleVector}.
 */
final class VectorPlanes implements PlaneKernels {
    static final VectorPlanes INSTANCE = new VectorPlanes();
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    /** Floats that widen to one double vector. */
    private static final VectorSpecies<Float> FH =
            VectorSpecies.of(float.class, VectorShape.forBitSize(DS.vectorBitSize() / 2));
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    private VectorPlanes() {
    }

    @Override
    public void affine(DType dtype, MemorySegment x, long xo, double s, double a, MemorySegment h, long ho,
                       double c, double b, MemorySegment y, long yo, int n) {
        if (dtype == DType.F64) {
            affineF64(x, xo, s, a, h, ho, c, b, y, yo, n);
        } else {
            affineF32(x, xo, (float) s, (float) a, h, ho, (float) c, (float) b, y, yo, n);
        }
    }

    private static void affineF32(MemorySegment x, long xo, float s, float a, MemorySegment h, long ho, float c, float b,
                                  MemorySegment y, long yo, int n) {
        int L = FS.length(), full = n - n % L;
        long xb = xo * Float.BYTES, hb = ho * Float.BYTES, yb = yo * Float.BYTES;
        FloatVector av = FloatVector.broadcast(FS, a), bv = FloatVector.broadcast(FS, b);
        FloatVector cv = FloatVector.broadcast(FS, c), sv = FloatVector.broadcast(FS, s);
        int i = 0;
        for (; i < full; i += L) {
            long o = (long) i * Float.BYTES;
            FloatVector r = bv;
            if (h != null) {
                r = FloatVector.fromMemorySegment(FS, h, hb + o, NATIVE).fma(cv, r);
            }
            if (x != null) {
                r = FloatVector.fromMemorySegment(FS, x, xb + o, NATIVE).sub(sv).fma(av, r);
            }
            r.intoMemorySegment(y, yb + o, NATIVE);
        }
        if (i < n) {
            VectorMask<Float> m = FS.indexInRange(i, n);
            long o = (long) i * Float.BYTES;
            FloatVector r = bv;
            if (h != null) {
                r = FloatVector.fromMemorySegment(FS, h, hb + o, NATIVE, m).fma(cv, r);
            }
            if (x != null) {
                r = FloatVector.fromMemorySegment(FS, x, xb + o, NATIVE, m).sub(sv).fma(av, r);
            }
            r.intoMemorySegment(y, yb + o, NATIVE, m);
        }
    }

    private static void affineF64(MemorySegment x, long xo, double s, double a, MemorySegment h, long ho, double c, double b,
                                  MemorySegment y, long yo, int n) {
        int L = DS.length(), full = n - n % L;
        long xb = xo * Double.BYTES, hb = ho * Double.BYTES, yb = yo * Double.BYTES;
        DoubleVector av = DoubleVector.broadcast(DS, a), bv = DoubleVector.broadcast(DS, b);
        DoubleVector cv = DoubleVector.broadcast(DS, c), sv = DoubleVector.broadcast(DS, s);
        int i = 0;
        for (; i < full; i += L) {
            long o = (long) i * Double.BYTES;
            DoubleVector r = bv;
            if (h != null) {
                r = DoubleVector.fromMemorySegment(DS, h, hb + o, NATIVE).fma(cv, r);
            }
            if (x != null) {
                r = DoubleVector.fromMemorySegment(DS, x, xb + o, NATIVE).sub(sv).fma(av, r);
            }
            r.intoMemorySegment(y, yb + o, NATIVE);
        }
        if (i < n) {
            VectorMask<Double> m = DS.indexInRange(i, n);
            long o = (long) i * Double.BYTES;
            DoubleVector r = bv;
            if (h != null) {
                r = DoubleVector.fromMemorySegment(DS, h, hb + o, NATIVE, m).fma(cv, r);
            }
            if (x != null) {
                r = DoubleVector.fromMemorySegment(DS, x, xb + o, NATIVE, m).sub(sv).fma(av, r);
            }
            r.intoMemorySegment(y, yb + o, NATIVE, m);
        }
    }

    @Override
    public double sum(DType dtype, MemorySegment x, long xo, int n) {
        return dtype == DType.F64 ? dotF64(x, xo, null, 0, n) : dotF32(x, xo, null, 0, n);
    }

    @Override
    public double dot(DType dtype, MemorySegment x, long xo, MemorySegment h, long ho, int n) {
        return dtype == DType.F64 ? dotF64(x, xo, h, ho, n) : dotF32(x, xo, h, ho, n);
    }

    /** Σ x·h (Σ x when h is null), float elements widened to doubles. */
    private static double dotF32(MemorySegment x, long xo, MemorySegment h, long ho, int n) {
        int L = FH.length(), pair = n - n % (2 * L);
        long xb = xo * Float.BYTES, hb = ho * Float.BYTES;
        DoubleVector s0 = DoubleVector.zero(DS), s1 = s0;
        int i = 0;
        for (; i < pair; i += 2 * L) {
            long o = (long) i * Float.BYTES, o1 = o + (long) L * Float.BYTES;
            DoubleVector x0 = widen(FloatVector.fromMemorySegment(FH, x, xb + o, NATIVE));
            DoubleVector x1 = widen(FloatVector.fromMemorySegment(FH, x, xb + o1, NATIVE));
            if (h == null) {
                s0 = s0.add(x0);
                s1 = s1.add(x1);
            } else {
                s0 = x0.fma(widen(FloatVector.fromMemorySegment(FH, h, hb + o, NATIVE)), s0);
                s1 = x1.fma(widen(FloatVector.fromMemorySegment(FH, h, hb + o1, NATIVE)), s1);
            }
        }
        for (; i < n; i += L) {
            VectorMask<Float> m = FH.indexInRange(i, n);
            long o = (long) i * Float.BYTES;
            DoubleVector x0 = widen(FloatVector.fromMemorySegment(FH, x, xb + o, NATIVE, m));
            s0 = h == null ? s0.add(x0) : x0.fma(widen(FloatVector.fromMemorySegment(FH, h, hb + o, NATIVE, m)), s0);
        }
        return VectorMath.sumLanes(s0.add(s1));
    }

    private static DoubleVector widen(FloatVector v) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, DS, 0);
    }

    /** Σ x·h (Σ x when h is null). */
    private static double dotF64(MemorySegment x, long xo, MemorySegment h, long ho, int n) {
        int L = DS.length(), pair = n - n % (2 * L);
        long xb = xo * Double.BYTES, hb = ho * Double.BYTES;
        DoubleVector s0 = DoubleVector.zero(DS), s1 = s0;
        int i = 0;
        for (; i < pair; i += 2 * L) {
            long o = (long) i * Double.BYTES, o1 = o + (long) L * Double.BYTES;
            DoubleVector x0 = DoubleVector.fromMemorySegment(DS, x, xb + o, NATIVE);
            DoubleVector x1 = DoubleVector.fromMemorySegment(DS, x, xb + o1, NATIVE);
            if (h == null) {
                s0 = s0.add(x0);
                s1 = s1.add(x1);
            } else {
                s0 = x0.fma(DoubleVector.fromMemorySegment(DS, h, hb + o, NATIVE), s0);
                s1 = x1.fma(DoubleVector.fromMemorySegment(DS, h, hb + o1, NATIVE), s1);
            }
        }
        for (; i < n; i += L) {
            VectorMask<Double> m = DS.indexInRange(i, n);
            long o = (long) i * Double.BYTES;
            DoubleVector x0 = DoubleVector.fromMemorySegment(DS, x, xb + o, NATIVE, m);
            s0 = h == null ? s0.add(x0) : x0.fma(DoubleVector.fromMemorySegment(DS, h, hb + o, NATIVE, m), s0);
        }
        return VectorMath.sumLanes(s0.add(s1));
    }
}

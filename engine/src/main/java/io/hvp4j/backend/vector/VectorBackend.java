package io.hvp4j.backend.vector;

import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ElementwiseFunction;
import io.hvp4j.backend.ArgumentChecks;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * CPU backend on the JDK Vector API: the preferred species of the machine (256-bit on AVX2), a scalar tail
 * beside every vector loop, and a fixed pool of worker threads. Element-wise work is split at multiples of
 * 64 elements (or by rows), so that no element's result depends on the thread count; reductions are split
 * into {@code threads} fixed ranges whose partial sums are added in order (same bits for the same thread count).
 *
 * <p>Safe for one calling thread at a time. {@link #close} stops the workers.
 */
public final class VectorBackend implements Backend {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    /** Below this many elements a kernel runs on the calling thread: waking a worker costs more. */
    private static final long PARALLEL_GRAIN = 1 << 15;

    private final WorkerPool pool;
    private final VectorGemm gemm;

    /** A backend with {@code threads} worker threads (including the caller). */
    public VectorBackend(int threads) {
        this.pool = new WorkerPool(threads);
        this.gemm = new VectorGemm(pool);
    }

    /** A backend using every available processor. */
    public VectorBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    @Override
    public io.hvp4j.backend.ConvolutionKernels convolution() {
        return VectorConvolution.INSTANCE;
    }

    @Override
    public io.hvp4j.backend.PlaneKernels planes() {
        return VectorPlanes.INSTANCE;
    }

    @Override
    public String name() {
        return "vector";
    }

    @Override
    public int threads() {
        return pool.threads();
    }

    @Override
    public void parallel(int parts, java.util.function.IntConsumer body) {
        pool.run(parts, body);
    }

    /** Vector shape in use, e.g. {@code "f32x8 f64x4"}. */
    public static String vectorShape() {
        return "f32x" + FS.length() + " f64x" + DS.length();
    }

    @Override
    public void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        int[] mnk = ArgumentChecks.checkGemm(transA, transB, a, b, c);
        if (c.dtype() == DType.F32) {
            gemm.sgemm(transA, transB, mnk[0], mnk[1], mnk[2], (float) alpha, a.segment(), a.cols(), b.segment(),
                    b.cols(), (float) beta, c.segment(), c.cols());
        } else {
            gemm.dgemm(transA, transB, mnk[0], mnk[1], mnk[2], alpha, a.segment(), a.cols(), b.segment(), b.cols(),
                    beta, c.segment(), c.cols());
        }
    }

    /** Splits {@code [0, n)} at multiples of 64 into at most {@code threads} ranges and runs them. */
    private void elementRanges(long n, RangeBody body) {
        int parts = n < PARALLEL_GRAIN ? 1 : pool.threads();
        if (parts == 1) {
            body.run(0, n);
            return;
        }
        pool.run(parts, i -> {
            long from = i == 0 ? 0 : (WorkerPool.split(n, parts, i) & ~63L);
            long to = i == parts - 1 ? n : (WorkerPool.split(n, parts, i + 1) & ~63L);
            body.run(from, to);
        });
    }

    /** Splits rows {@code [0, rows)} into ranges when the work ({@code rows·rowWork}) is large enough. */
    private void rowRanges(int rows, long rowWork, RangeBody body) {
        int parts = rows * rowWork < PARALLEL_GRAIN ? 1 : Math.min(rows, pool.threads());
        if (parts == 1) {
            body.run(0, rows);
            return;
        }
        pool.run(parts, i -> body.run(WorkerPool.split(rows, parts, i), WorkerPool.split(rows, parts, i + 1)));
    }

    @FunctionalInterface
    private interface RangeBody {
        void run(long from, long to);
    }

    // ---- element-wise ------------------------------------------------------------------------------------

    @Override
    public void evaluate(ElementwiseFunction f, Tensor z, Tensor value, Tensor d1, Tensor d2) {
        ArgumentChecks.checkDType(z, value, d1, d2);
        ArgumentChecks.checkSameSize(z, value);
        if (d1 != null) ArgumentChecks.checkSameSize(z, d1);
        if (d2 != null) ArgumentChecks.checkSameSize(z, d2);
        MemorySegment zs = z.segment(), vs = value.segment();
        MemorySegment s1 = d1 == null ? null : d1.segment(), s2 = d2 == null ? null : d2.segment();
        if (z.dtype() == DType.F32) {
            elementRanges(z.size(), (from, to) -> evaluateF32(f, zs, vs, s1, s2, from, to));
        } else {
            elementRanges(z.size(), (from, to) -> evaluateF64(f, zs, vs, s1, s2, from, to));
        }
    }

    // One method per derivative: inlining σ, σ' and σ'' of a tanh-based function into one compiled method exceeds
    // C2's node budget, and the vectors of the calls it gives up on are boxed (4-10x slower).
    private static void evaluateF32(ElementwiseFunction f, MemorySegment z, MemorySegment v, MemorySegment d1,
                                    MemorySegment d2, long from, long to) {
        long bound = from + FS.loopBound(to - from);
        valueF32(f, z, v, from, bound);
        MemorySegment g = d1 != null ? d1 : d2;
        if (g != null) {
            d1F32(f, z, v, g, from, bound);
            if (d2 != null) {
                d2F32(f, z, v, g, d2, from, bound);
            }
        }
        for (long i = bound; i < to; i++) {
            double x = z.getAtIndex(F, i);
            v.setAtIndex(F, i, (float) f.value(x));
            if (d1 != null) d1.setAtIndex(F, i, (float) f.d1(x));
            if (d2 != null) d2.setAtIndex(F, i, (float) f.d2(x));
        }
    }

    private static void valueF32(ElementwiseFunction f, MemorySegment z, MemorySegment v, long from, long bound) {
        for (long i = from; i < bound; i += FS.length()) {
            f.value(FloatVector.fromMemorySegment(FS, z, i * 4, LE)).intoMemorySegment(v, i * 4, LE);
        }
    }

    private static void d1F32(ElementwiseFunction f, MemorySegment z, MemorySegment v, MemorySegment g, long from,
                              long bound) {
        for (long i = from; i < bound; i += FS.length()) {
            f.d1(FloatVector.fromMemorySegment(FS, z, i * 4, LE), FloatVector.fromMemorySegment(FS, v, i * 4, LE))
                    .intoMemorySegment(g, i * 4, LE);
        }
    }

    private static void d2F32(ElementwiseFunction f, MemorySegment z, MemorySegment v, MemorySegment g,
                              MemorySegment d2, long from, long bound) {
        for (long i = from; i < bound; i += FS.length()) {
            f.d2(FloatVector.fromMemorySegment(FS, z, i * 4, LE), FloatVector.fromMemorySegment(FS, v, i * 4, LE),
                    FloatVector.fromMemorySegment(FS, g, i * 4, LE)).intoMemorySegment(d2, i * 4, LE);
        }
    }

    private static void evaluateF64(ElementwiseFunction f, MemorySegment z, MemorySegment v, MemorySegment d1,
                                    MemorySegment d2, long from, long to) {
        long bound = from + DS.loopBound(to - from);
        valueF64(f, z, v, from, bound);
        MemorySegment g = d1 != null ? d1 : d2;
        if (g != null) {
            d1F64(f, z, v, g, from, bound);
            if (d2 != null) {
                d2F64(f, z, v, g, d2, from, bound);
            }
        }
        for (long i = bound; i < to; i++) {
            double x = z.getAtIndex(D, i);
            v.setAtIndex(D, i, f.value(x));
            if (d1 != null) d1.setAtIndex(D, i, f.d1(x));
            if (d2 != null) d2.setAtIndex(D, i, f.d2(x));
        }
    }

    private static void valueF64(ElementwiseFunction f, MemorySegment z, MemorySegment v, long from, long bound) {
        for (long i = from; i < bound; i += DS.length()) {
            f.value(DoubleVector.fromMemorySegment(DS, z, i * 8, LE)).intoMemorySegment(v, i * 8, LE);
        }
    }

    private static void d1F64(ElementwiseFunction f, MemorySegment z, MemorySegment v, MemorySegment g, long from,
                              long bound) {
        for (long i = from; i < bound; i += DS.length()) {
            f.d1(DoubleVector.fromMemorySegment(DS, z, i * 8, LE), DoubleVector.fromMemorySegment(DS, v, i * 8, LE))
                    .intoMemorySegment(g, i * 8, LE);
        }
    }

    private static void d2F64(ElementwiseFunction f, MemorySegment z, MemorySegment v, MemorySegment g,
                              MemorySegment d2, long from, long bound) {
        for (long i = from; i < bound; i += DS.length()) {
            f.d2(DoubleVector.fromMemorySegment(DS, z, i * 8, LE), DoubleVector.fromMemorySegment(DS, v, i * 8, LE),
                    DoubleVector.fromMemorySegment(DS, g, i * 8, LE)).intoMemorySegment(d2, i * 8, LE);
        }
    }

    @Override
    public void broadcastMultiply(Tensor d, Tensor t, Tensor out) {
        ArgumentChecks.checkDType(d, t, out);
        ArgumentChecks.checkSameShape(t, out);
        int k = ArgumentChecks.blockFactor(d, t);
        int n = d.cols();
        MemorySegment ds = d.segment(), ts = t.segment(), os = out.segment();
        boolean f32 = d.dtype() == DType.F32;
        rowRanges(d.rows(), (long) k * n, (r0, r1) -> {
            for (long r = r0; r < r1; r++) {
                for (int j = 0; j < k; j++) {
                    long tBase = (r * k + j) * n;
                    if (f32) mulF32(ds, r * n, ts, tBase, os, tBase, n);
                    else mulF64(ds, r * n, ts, tBase, os, tBase, n);
                }
            }
        });
    }

    private static void mulF32(MemorySegment a, long ai, MemorySegment b, long bi, MemorySegment o, long oi, int n) {
        int c = 0;
        for (int bound = FS.loopBound(n); c < bound; c += FS.length()) {
            FloatVector.fromMemorySegment(FS, a, (ai + c) * 4, LE)
                    .mul(FloatVector.fromMemorySegment(FS, b, (bi + c) * 4, LE))
                    .intoMemorySegment(o, (oi + c) * 4, LE);
        }
        for (; c < n; c++) o.setAtIndex(F, oi + c, a.getAtIndex(F, ai + c) * b.getAtIndex(F, bi + c));
    }

    private static void mulF64(MemorySegment a, long ai, MemorySegment b, long bi, MemorySegment o, long oi, int n) {
        int c = 0;
        for (int bound = DS.loopBound(n); c < bound; c += DS.length()) {
            DoubleVector.fromMemorySegment(DS, a, (ai + c) * 8, LE)
                    .mul(DoubleVector.fromMemorySegment(DS, b, (bi + c) * 8, LE))
                    .intoMemorySegment(o, (oi + c) * 8, LE);
        }
        for (; c < n; c++) o.setAtIndex(D, oi + c, a.getAtIndex(D, ai + c) * b.getAtIndex(D, bi + c));
    }

    @Override
    public void elementwiseBackwardTangent(Tensor d1, Tensor d2, Tensor g, Tensor zDot, Tensor gDot, Tensor out) {
        int k = ArgumentChecks.backwardTangentBlock(d1, d2, g, zDot, gDot, out);
        int n = d1.cols();
        MemorySegment s1 = d1.segment(), s2 = d2.segment(), sg = g.segment(), sz = zDot.segment(),
                sgd = gDot.segment(), so = out.segment();
        boolean f32 = d1.dtype() == DType.F32;
        rowRanges(d1.rows(), (long) k * n, (r0, r1) -> {
            for (long r = r0; r < r1; r++) {
                long p = r * n;
                for (int j = 0; j < k; j++) {
                    long t = (r * k + j) * n;
                    int c = 0;
                    if (f32) {
                        for (int bound = FS.loopBound(n); c < bound; c += FS.length()) {
                            long po = (p + c) * 4, to = (t + c) * 4;
                            FloatVector a = FloatVector.fromMemorySegment(FS, s2, po, LE)
                                    .mul(FloatVector.fromMemorySegment(FS, sg, po, LE))
                                    .mul(FloatVector.fromMemorySegment(FS, sz, to, LE));
                            FloatVector.fromMemorySegment(FS, s1, po, LE)
                                    .fma(FloatVector.fromMemorySegment(FS, sgd, to, LE), a)
                                    .intoMemorySegment(so, to, LE);
                        }
                        for (; c < n; c++) {
                            so.setAtIndex(F, t + c, Math.fma(s1.getAtIndex(F, p + c), sgd.getAtIndex(F, t + c),
                                    s2.getAtIndex(F, p + c) * sg.getAtIndex(F, p + c) * sz.getAtIndex(F, t + c)));
                        }
                    } else {
                        for (int bound = DS.loopBound(n); c < bound; c += DS.length()) {
                            long po = (p + c) * 8, to = (t + c) * 8;
                            DoubleVector a = DoubleVector.fromMemorySegment(DS, s2, po, LE)
                                    .mul(DoubleVector.fromMemorySegment(DS, sg, po, LE))
                                    .mul(DoubleVector.fromMemorySegment(DS, sz, to, LE));
                            DoubleVector.fromMemorySegment(DS, s1, po, LE)
                                    .fma(DoubleVector.fromMemorySegment(DS, sgd, to, LE), a)
                                    .intoMemorySegment(so, to, LE);
                        }
                        for (; c < n; c++) {
                            so.setAtIndex(D, t + c, Math.fma(s1.getAtIndex(D, p + c), sgd.getAtIndex(D, t + c),
                                    s2.getAtIndex(D, p + c) * sg.getAtIndex(D, p + c) * sz.getAtIndex(D, t + c)));
                        }
                    }
                }
            }
        });
    }

    @Override
    public void addToRows(Tensor v, Tensor c) {
        ArgumentChecks.checkDType(v, c);
        if (v.size() != c.cols()) {
            throw new IllegalArgumentException("row vector " + v + " does not match " + c);
        }
        int n = c.cols();
        MemorySegment vs = v.segment(), cs = c.segment();
        boolean f32 = c.dtype() == DType.F32;
        rowRanges(c.rows(), n, (r0, r1) -> {
            for (long r = r0; r < r1; r++) {
                if (f32) addF32(vs, 0, cs, r * n, n);
                else addF64(vs, 0, cs, r * n, n);
            }
        });
    }

    /** {@code y[yi..] += x[xi..]} over n elements. */
    private static void addF32(MemorySegment x, long xi, MemorySegment y, long yi, int n) {
        int c = 0;
        for (int bound = FS.loopBound(n); c < bound; c += FS.length()) {
            FloatVector.fromMemorySegment(FS, y, (yi + c) * 4, LE)
                    .add(FloatVector.fromMemorySegment(FS, x, (xi + c) * 4, LE))
                    .intoMemorySegment(y, (yi + c) * 4, LE);
        }
        for (; c < n; c++) y.setAtIndex(F, yi + c, y.getAtIndex(F, yi + c) + x.getAtIndex(F, xi + c));
    }

    private static void addF64(MemorySegment x, long xi, MemorySegment y, long yi, int n) {
        int c = 0;
        for (int bound = DS.loopBound(n); c < bound; c += DS.length()) {
            DoubleVector.fromMemorySegment(DS, y, (yi + c) * 8, LE)
                    .add(DoubleVector.fromMemorySegment(DS, x, (xi + c) * 8, LE))
                    .intoMemorySegment(y, (yi + c) * 8, LE);
        }
        for (; c < n; c++) y.setAtIndex(D, yi + c, y.getAtIndex(D, yi + c) + x.getAtIndex(D, xi + c));
    }

    @Override
    public void columnSums(double alpha, Tensor g, double beta, Tensor out) {
        ArgumentChecks.checkDType(g, out);
        if (out.size() != g.cols()) {
            throw new IllegalArgumentException("column sums of " + g + " into " + out);
        }
        int rows = g.rows(), n = g.cols();
        MemorySegment gs = g.segment();
        // Columns are split between threads at multiples of 64: each column is summed over rows in order.
        int parts = (long) rows * n < PARALLEL_GRAIN || n < 128 ? 1 : pool.threads();
        pool.run(parts, i -> {
            int c0 = i == 0 ? 0 : (int) (WorkerPool.split(n, parts, i) & ~63L);
            int c1 = i == parts - 1 ? n : (int) (WorkerPool.split(n, parts, i + 1) & ~63L);
            double[] acc = new double[c1 - c0];
            if (g.dtype() == DType.F32) {
                float[] s = new float[c1 - c0];
                MemorySegment sacc = MemorySegment.ofArray(s);
                for (long r = 0; r < rows; r++) addF32(gs, r * n + c0, sacc, 0, c1 - c0);
                for (int c = 0; c < s.length; c++) acc[c] = s[c];
            } else {
                MemorySegment sacc = MemorySegment.ofArray(acc);
                for (long r = 0; r < rows; r++) addF64(gs, r * n + c0, sacc, 0, c1 - c0);
            }
            for (int c = 0; c < acc.length; c++) {
                out.set(c0 + c, beta == 0 ? alpha * acc[c] : alpha * acc[c] + beta * out.get(c0 + c));
            }
        });
    }

    // ---- softmax and cross-entropy (K is small: plain loops, double accumulation) -------------------------

    @Override
    public void softmaxRows(Tensor f, Tensor p) {
        ArgumentChecks.checkDType(f, p);
        ArgumentChecks.checkSameShape(f, p);
        int n = f.cols();
        rowRanges(f.rows(), 8L * n, (r0, r1) -> {
            for (int r = (int) r0; r < r1; r++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < n; c++) max = Math.max(max, f.get(r, c));
                double s = 0;
                for (int c = 0; c < n; c++) s += StrictMath.exp(f.get(r, c) - max);
                for (int c = 0; c < n; c++) p.set(r, c, StrictMath.exp(f.get(r, c) - max) / s);
            }
        });
    }

    @Override
    public double crossEntropySum(Tensor f, Tensor y) {
        ArgumentChecks.checkDType(f, y);
        ArgumentChecks.checkSameShape(f, y);
        double total = 0;
        for (int r = 0; r < f.rows(); r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < f.cols(); c++) max = Math.max(max, f.get(r, c));
            double s = 0, yf = 0;
            for (int c = 0; c < f.cols(); c++) {
                s += StrictMath.exp(f.get(r, c) - max);
                yf += y.get(r, c) * f.get(r, c);
            }
            total += max + StrictMath.log(s) - yf;
        }
        return total;
    }

    @Override
    public void softmaxTangent(double alpha, Tensor p, Tensor fDot, Tensor out) {
        ArgumentChecks.checkDType(p, fDot, out);
        ArgumentChecks.checkSameShape(fDot, out);
        int k = ArgumentChecks.blockFactor(p, fDot);
        int n = p.cols();
        rowRanges(p.rows(), 4L * k * n, (r0, r1) -> {
            for (int r = (int) r0; r < r1; r++) {
                for (int j = 0; j < k; j++) {
                    long base = ((long) r * k + j) * n;
                    double dot = 0;
                    for (int c = 0; c < n; c++) dot += p.get(r, c) * fDot.get(base + c);
                    for (int c = 0; c < n; c++) {
                        out.set(base + c, alpha * p.get(r, c) * (fDot.get(base + c) - dot));
                    }
                }
            }
        });
    }

    // ---- layout ------------------------------------------------------------------------------------------

    @Override
    public void swapLeadingAxes(Tensor src, int d0, int d1, int d2, double beta, Tensor dst) {
        ArgumentChecks.checkDType(src, dst);
        if (src.size() != (long) d0 * d1 * d2 || dst.size() != src.size()) {
            throw new IllegalArgumentException("swapLeadingAxes(" + d0 + "," + d1 + "," + d2 + ") of " + src + " into " + dst);
        }
        MemorySegment s = src.segment(), t = dst.segment();
        boolean f32 = src.dtype() == DType.F32;
        int w = f32 ? 4 : 8;
        if (d2 >= 16) {
            rowRanges(d0, (long) d1 * d2, (a0, a1) -> {
                for (long a = a0; a < a1; a++) {
                    for (long b = 0; b < d1; b++) {
                        long si = (a * d1 + b) * d2, di = (b * d0 + a) * d2;
                        if (beta == 0) {
                            MemorySegment.copy(s, si * w, t, di * w, (long) d2 * w);
                        } else if (beta == 1) {
                            if (f32) addF32(s, si, t, di, d2);
                            else addF64(s, si, t, di, d2);
                        } else {
                            for (int c = 0; c < d2; c++) dst.set(di + c, src.get(si + c) + beta * dst.get(di + c));
                        }
                    }
                }
            });
            return;
        }
        if (d2 == 1 && beta == 0) {
            transpose(s, t, d0, d1, f32);
            return;
        }
        // Small inner dimension: a tiled transpose of (d0) × (d1) blocks of d2 elements.
        final int tile = 32;
        rowRanges((d0 + tile - 1) / tile, (long) tile * d1 * d2, (t0, t1) -> {
            for (long a0 = t0 * tile; a0 < Math.min(d0, t1 * tile); a0 += tile) {
                long aEnd = Math.min(d0, a0 + tile);
                for (long b0 = 0; b0 < d1; b0 += tile) {
                    long bEnd = Math.min(d1, b0 + tile);
                    for (long a = a0; a < aEnd; a++) {
                        for (long b = b0; b < bEnd; b++) {
                            long si = (a * d1 + b) * d2, di = (b * d0 + a) * d2;
                            for (int c = 0; c < d2; c++) {
                                if (f32) {
                                    float v = s.getAtIndex(F, si + c);
                                    t.setAtIndex(F, di + c, beta == 0 ? v : (float) (v + beta * t.getAtIndex(F, di + c)));
                                } else {
                                    double v = s.getAtIndex(D, si + c);
                                    t.setAtIndex(D, di + c, beta == 0 ? v : v + beta * t.getAtIndex(D, di + c));
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * {@code dst (d1 × d0) = srcᵀ} for {@code src} of {@code d0 × d1}, by tiles: each tile is transposed from src
     * into a heap buffer ({@link Transposes}: by register blocks with 256- and 512-bit vectors, else element by
     * element) and copied out in bulk. A side of at most
     * 64 is taken whole, so that the tile's rows on that side are one contiguous run (the block-layout conversions
     * have k = 16 on one side and up to millions on the other).
     */
    private void transpose(MemorySegment src, MemorySegment dst, int d0, int d1, boolean f32) {
        final int ta = d0 <= 64 ? d0 : 64;
        final int tb = d1 <= 64 ? d1 : Math.max(64, Math.min(d1, 4096 / ta));
        int na = (d0 + ta - 1) / ta, nb = (d1 + tb - 1) / tb;
        int tiles = na * nb;
        int w = f32 ? 4 : 8;
        ValueLayout layout = f32 ? F : D;
        rowRanges(tiles, (long) ta * tb, (t0, t1) -> {
            Object out = f32 ? new float[ta * tb] : new double[ta * tb];
            for (long t = t0; t < t1; t++) {
                int a0 = (int) (t / nb) * ta, b0 = (int) (t % nb) * tb;
                int ra = Math.min(ta, d0 - a0), rb = Math.min(tb, d1 - b0);
                long at = ((long) a0 * d1 + b0) * w;
                if (f32) {
                    Transposes.f32(src, at, (long) d1 * w, ra, rb, (float[]) out);
                } else {
                    Transposes.f64(src, at, (long) d1 * w, ra, rb, (double[]) out);
                }
                if (ra == d0) {
                    MemorySegment.copy(out, 0, dst, layout, (long) b0 * d0 * w, ra * rb);
                } else {
                    for (int b = 0; b < rb; b++) {
                        MemorySegment.copy(out, b * ra, dst, layout, ((long) (b0 + b) * d0 + a0) * w, ra);
                    }
                }
            }
        });
    }

    // ---- BLAS-1 ------------------------------------------------------------------------------------------

    @Override
    public double dot(Tensor x, Tensor y) {
        ArgumentChecks.checkDType(x, y);
        ArgumentChecks.checkSameSize(x, y);
        MemorySegment xs = x.segment(), ys = y.segment();
        boolean f32 = x.dtype() == DType.F32;
        return reduce(x.size(), (from, to) -> f32 ? dotF32(xs, ys, from, to) : dotF64(xs, ys, from, to));
    }

    @FunctionalInterface
    private interface RangeReduction {
        double apply(long from, long to);
    }

    /** Fixed ranges (one per thread), partial results added in range order. */
    private double reduce(long n, RangeReduction r) {
        int parts = n < PARALLEL_GRAIN ? 1 : pool.threads();
        double[] partial = new double[parts];
        pool.run(parts, i -> partial[i] = r.apply(WorkerPool.split(n, parts, i), WorkerPool.split(n, parts, i + 1)));
        double s = 0;
        for (double p : partial) s += p;
        return s;
    }

    private static double dotF32(MemorySegment x, MemorySegment y, long from, long to) {
        FloatVector acc0 = FloatVector.zero(FS), acc1 = FloatVector.zero(FS);
        long i = from;
        int l = FS.length();
        for (long bound = to - 2L * l; i <= bound; i += 2L * l) {
            acc0 = FloatVector.fromMemorySegment(FS, x, i * 4, LE).fma(FloatVector.fromMemorySegment(FS, y, i * 4, LE), acc0);
            acc1 = FloatVector.fromMemorySegment(FS, x, (i + l) * 4, LE)
                    .fma(FloatVector.fromMemorySegment(FS, y, (i + l) * 4, LE), acc1);
        }
        double s = VectorMath.sumLanes(acc0.add(acc1));
        for (; i < to; i++) s += (double) x.getAtIndex(F, i) * y.getAtIndex(F, i);
        return s;
    }

    private static double dotF64(MemorySegment x, MemorySegment y, long from, long to) {
        DoubleVector acc0 = DoubleVector.zero(DS), acc1 = DoubleVector.zero(DS);
        long i = from;
        int l = DS.length();
        for (long bound = to - 2L * l; i <= bound; i += 2L * l) {
            acc0 = DoubleVector.fromMemorySegment(DS, x, i * 8, LE).fma(DoubleVector.fromMemorySegment(DS, y, i * 8, LE), acc0);
            acc1 = DoubleVector.fromMemorySegment(DS, x, (i + l) * 8, LE)
                    .fma(DoubleVector.fromMemorySegment(DS, y, (i + l) * 8, LE), acc1);
        }
        double s = VectorMath.sumLanes(acc0.add(acc1));
        for (; i < to; i++) s += x.getAtIndex(D, i) * y.getAtIndex(D, i);
        return s;
    }

    @Override
    public double sum(Tensor x) {
        MemorySegment xs = x.segment();
        boolean f32 = x.dtype() == DType.F32;
        return reduce(x.size(), (from, to) -> {
            long i = from;
            double s;
            if (f32) {
                FloatVector acc = FloatVector.zero(FS);
                for (long bound = from + FS.loopBound(to - from); i < bound; i += FS.length()) {
                    acc = acc.add(FloatVector.fromMemorySegment(FS, xs, i * 4, LE));
                }
                s = VectorMath.sumLanes(acc);
                for (; i < to; i++) s += xs.getAtIndex(F, i);
            } else {
                DoubleVector acc = DoubleVector.zero(DS);
                for (long bound = from + DS.loopBound(to - from); i < bound; i += DS.length()) {
                    acc = acc.add(DoubleVector.fromMemorySegment(DS, xs, i * 8, LE));
                }
                s = VectorMath.sumLanes(acc);
                for (; i < to; i++) s += xs.getAtIndex(D, i);
            }
            return s;
        });
    }

    @Override
    public double nrm2(Tensor x) {
        MemorySegment xs = x.segment();
        boolean f32 = x.dtype() == DType.F32;
        double scale = reduceMax(x.size(), (from, to) -> {
            double m = 0;
            long i = from;
            if (f32) {
                FloatVector acc = FloatVector.zero(FS);
                for (long bound = from + FS.loopBound(to - from); i < bound; i += FS.length()) {
                    acc = acc.max(FloatVector.fromMemorySegment(FS, xs, i * 4, LE).abs());
                }
                m = acc.reduceLanes(VectorOperators.MAX);
                for (; i < to; i++) m = Math.max(m, Math.abs(xs.getAtIndex(F, i)));
            } else {
                DoubleVector acc = DoubleVector.zero(DS);
                for (long bound = from + DS.loopBound(to - from); i < bound; i += DS.length()) {
                    acc = acc.max(DoubleVector.fromMemorySegment(DS, xs, i * 8, LE).abs());
                }
                m = acc.reduceLanes(VectorOperators.MAX);
                for (; i < to; i++) m = Math.max(m, Math.abs(xs.getAtIndex(D, i)));
            }
            return m;
        });
        if (scale == 0 || !Double.isFinite(scale)) {
            return scale;
        }
        // Two passes: scale by the largest magnitude so that squares neither overflow nor underflow.
        double inv = 1 / scale;
        double s = reduce(x.size(), (from, to) -> {
            long i = from;
            double acc = 0;
            if (f32) {
                FloatVector v = FloatVector.zero(FS);
                float fi = (float) inv;
                for (long bound = from + FS.loopBound(to - from); i < bound; i += FS.length()) {
                    FloatVector e = FloatVector.fromMemorySegment(FS, xs, i * 4, LE).mul(fi);
                    v = e.fma(e, v);
                }
                acc = VectorMath.sumLanes(v);
                for (; i < to; i++) {
                    double e = xs.getAtIndex(F, i) * inv;
                    acc += e * e;
                }
            } else {
                DoubleVector v = DoubleVector.zero(DS);
                for (long bound = from + DS.loopBound(to - from); i < bound; i += DS.length()) {
                    DoubleVector e = DoubleVector.fromMemorySegment(DS, xs, i * 8, LE).mul(inv);
                    v = e.fma(e, v);
                }
                acc = VectorMath.sumLanes(v);
                for (; i < to; i++) {
                    double e = xs.getAtIndex(D, i) * inv;
                    acc += e * e;
                }
            }
            return acc;
        });
        return scale * Math.sqrt(s);
    }

    private double reduceMax(long n, RangeReduction r) {
        int parts = n < PARALLEL_GRAIN ? 1 : pool.threads();
        double[] partial = new double[parts];
        pool.run(parts, i -> partial[i] = r.apply(WorkerPool.split(n, parts, i), WorkerPool.split(n, parts, i + 1)));
        double m = 0;
        for (double p : partial) m = Math.max(m, p);
        return m;
    }

    @Override
    public void axpy(double alpha, Tensor x, Tensor y) {
        axpby(alpha, x, 1, y);
    }

    @Override
    public void axpby(double alpha, Tensor x, double beta, Tensor y) {
        ArgumentChecks.checkDType(x, y);
        ArgumentChecks.checkSameSize(x, y);
        MemorySegment xs = x.segment(), ys = y.segment();
        if (x.dtype() == DType.F32) {
            float a = (float) alpha, b = (float) beta;
            elementRanges(x.size(), (from, to) -> {
                long i = from;
                for (long bound = from + FS.loopBound(to - from); i < bound; i += FS.length()) {
                    FloatVector xv = FloatVector.fromMemorySegment(FS, xs, i * 4, LE).mul(a);
                    FloatVector r = b == 0 ? xv : FloatVector.fromMemorySegment(FS, ys, i * 4, LE).mul(b).add(xv);
                    r.intoMemorySegment(ys, i * 4, LE);
                }
                for (; i < to; i++) {
                    float xv = a * xs.getAtIndex(F, i);
                    ys.setAtIndex(F, i, b == 0 ? xv : ys.getAtIndex(F, i) * b + xv);
                }
            });
        } else {
            elementRanges(x.size(), (from, to) -> {
                long i = from;
                for (long bound = from + DS.loopBound(to - from); i < bound; i += DS.length()) {
                    DoubleVector xv = DoubleVector.fromMemorySegment(DS, xs, i * 8, LE).mul(alpha);
                    DoubleVector r = beta == 0 ? xv : DoubleVector.fromMemorySegment(DS, ys, i * 8, LE).mul(beta).add(xv);
                    r.intoMemorySegment(ys, i * 8, LE);
                }
                for (; i < to; i++) {
                    double xv = alpha * xs.getAtIndex(D, i);
                    ys.setAtIndex(D, i, beta == 0 ? xv : ys.getAtIndex(D, i) * beta + xv);
                }
            });
        }
    }

    @Override
    public void scal(double alpha, Tensor x) {
        MemorySegment xs = x.segment();
        if (x.dtype() == DType.F32) {
            float a = (float) alpha;
            elementRanges(x.size(), (from, to) -> {
                long i = from;
                for (long bound = from + FS.loopBound(to - from); i < bound; i += FS.length()) {
                    FloatVector.fromMemorySegment(FS, xs, i * 4, LE).mul(a).intoMemorySegment(xs, i * 4, LE);
                }
                for (; i < to; i++) xs.setAtIndex(F, i, a * xs.getAtIndex(F, i));
            });
        } else {
            elementRanges(x.size(), (from, to) -> {
                long i = from;
                for (long bound = from + DS.loopBound(to - from); i < bound; i += DS.length()) {
                    DoubleVector.fromMemorySegment(DS, xs, i * 8, LE).mul(alpha).intoMemorySegment(xs, i * 8, LE);
                }
                for (; i < to; i++) xs.setAtIndex(D, i, alpha * xs.getAtIndex(D, i));
            });
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}

package io.hvp4j.backend.vector;

import io.hvp4j.backend.ConvolutionKernels;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * {@link ConvolutionKernels} on the Vector API, vectorized along the flattened positions of a plane (one long loop
 * per block, no row tails). {@code correlate} computes 4 output planes × 2 vectors in 8 accumulators (11 registers
 * with the two input vectors and a broadcast weight, so it fits AVX2's 16), each input load feeding 4 FMAs; with
 * 512-bit vectors (and so 32 registers) it first takes 4 planes × 4 vectors, 16 accumulators; the
 * weights of the 4 planes are repacked side by side per tap. Every lane sums over the taps in the scalar
 * reference's order with fused multiply-adds, so {@code correlate} gives the reference's bits. {@code
 * correlateWeights} takes 4 planes × 2 taps in 8 accumulators (6 loads per 8 FMAs) and adds each accumulator into
 * its weight's lane partial sums with one vector add (a horizontal sum per weight and call cost about as much as
 * the FMAs on 32 × 32 planes); its sums run in another order than the reference's, the same on every call.
 * {@code storeRows} moves a plane's rows straight into the tensor with a masked last vector per row (it replaced a
 * copy out, a scalar loop and a copy back: ResNet-8 f32 HVP 6-7 % faster at 512 bits). The f64 methods are the f32
 * ones with {@code DoubleVector}.
 */
final class VectorConvolution implements ConvolutionKernels {
    static final VectorConvolution INSTANCE = new VectorConvolution();
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    /**
     * Whether vectors are 512 bits, which on x86 come with 32 vector registers: then {@code correlate} first takes
     * 4 planes × 4 vectors (16 accumulators, 4 input loads and 4 broadcasts per 16 FMAs, 24 registers).
     */
    private static final boolean WIDE_F = FS.vectorBitSize() >= 512, WIDE_D = DS.vectorBitSize() >= 512;
    /** Tensors' segments use the platform's byte order (ValueLayout.JAVA_FLOAT / JAVA_DOUBLE). */
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    /** Per-thread buffers (tap offsets, repacked weights, a spare block), so that calls allocate nothing. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private VectorConvolution() {
    }

    /** Grow-only buffers of one thread; contents are not kept between calls. */
    private static final class Scratch {
        private int[] off = new int[0];
        private final float[][] f = new float[2][0];
        private final double[][] d = new double[2][0];

        int[] offsets(int cin, int xh, int xw, int kh, int kw, int dil) {
            off = ConvolutionKernels.tapOffsets(off, cin, xh, xw, kh, kw, dil);
            return off;
        }

        float[] floats(int slot, int n) {
            if (f[slot].length < n) {
                f[slot] = new float[n];
            }
            return f[slot];
        }

        double[] doubles(int slot, int n) {
            if (d[slot].length < n) {
                d[slot] = new double[n];
            }
            return d[slot];
        }
    }

    @Override
    public int lanes(boolean f64) {
        return f64 ? DS.length() : FS.length();
    }

    @Override
    public void storeRows(float[] out, int from, int stride, int rows, int width, float alpha, boolean accumulate,
                          MemorySegment dst, long at) {
        int L = FS.length(), full = width - width % L;
        VectorMask<Float> tail = FS.indexInRange(full, width);
        for (int i = 0; i < rows; i++) {
            int s = from + i * stride;
            long d = (at + (long) i * width) * Float.BYTES;
            for (int j = 0; j < full; j += L) {
                FloatVector v = FloatVector.fromArray(FS, out, s + j).mul(alpha);
                long o = d + (long) j * Float.BYTES;
                if (accumulate) {
                    v = FloatVector.fromMemorySegment(FS, dst, o, NATIVE).add(v);
                }
                v.intoMemorySegment(dst, o, NATIVE);
            }
            if (full < width) {
                FloatVector v = FloatVector.fromArray(FS, out, s + full, tail).mul(alpha);
                long o = d + (long) full * Float.BYTES;
                if (accumulate) {
                    v = FloatVector.fromMemorySegment(FS, dst, o, NATIVE, tail).add(v);
                }
                v.intoMemorySegment(dst, o, NATIVE, tail);
            }
        }
    }

    @Override
    public void storeRows(double[] out, int from, int stride, int rows, int width, double alpha, boolean accumulate,
                          MemorySegment dst, long at) {
        int L = DS.length(), full = width - width % L;
        VectorMask<Double> tail = DS.indexInRange(full, width);
        for (int i = 0; i < rows; i++) {
            int s = from + i * stride;
            long d = (at + (long) i * width) * Double.BYTES;
            for (int j = 0; j < full; j += L) {
                DoubleVector v = DoubleVector.fromArray(DS, out, s + j).mul(alpha);
                long o = d + (long) j * Double.BYTES;
                if (accumulate) {
                    v = DoubleVector.fromMemorySegment(DS, dst, o, NATIVE).add(v);
                }
                v.intoMemorySegment(dst, o, NATIVE);
            }
            if (full < width) {
                DoubleVector v = DoubleVector.fromArray(DS, out, s + full, tail).mul(alpha);
                long o = d + (long) full * Double.BYTES;
                if (accumulate) {
                    v = DoubleVector.fromMemorySegment(DS, dst, o, NATIVE, tail).add(v);
                }
                v.intoMemorySegment(dst, o, NATIVE, tail);
            }
        }
    }

    @Override
    public void correlate(float[] x, int cin, int xh, int xw, float[] w, int cout, int kh, int kw, int d, float[] out,
                          int n) {
        Scratch z = SCRATCH.get();
        int[] off = z.offsets(cin, xh, xw, kh, kw, d);
        int T = cin * kh * kw;
        float[] wb = z.floats(0, 4 * T), spare = cout % 4 == 0 ? null : z.floats(1, 4 * n);
        for (int o = 0; o < cout; o += 4) {
            int m = Math.min(4, cout - o);
            for (int t = 0; t < T; t++) {
                for (int q = 0; q < 4; q++) {
                    wb[4 * t + q] = q < m ? w[(o + q) * T + t] : 0;
                }
            }
            if (m == 4) {
                block(x, off, T, wb, out, o * n, n);
            } else {
                block(x, off, T, wb, spare, 0, n);
                System.arraycopy(spare, 0, out, o * n, m * n);
            }
        }
    }

    /**
     * Four output planes at {@code out[base + q·n]}: 4 planes × 2 vectors of positions in 8 accumulators; per tap
     * two input loads and four broadcast weights ({@code wb[4t + q]}) feed 8 FMAs.
     */
    private static void block(float[] x, int[] off, int T, float[] wb, float[] out, int base, int n) {
        int L = FS.length(), p = 0;
        for (; WIDE_F && p + 4 * L <= n; p += 4 * L) {
            FloatVector a00 = FloatVector.zero(FS), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00;
            FloatVector a12 = a00, a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00;
            FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            for (int t = 0; t < T; t++) {
                int xo = off[t] + p, wo = 4 * t;
                FloatVector x0 = FloatVector.fromArray(FS, x, xo);
                FloatVector x1 = FloatVector.fromArray(FS, x, xo + L);
                FloatVector x2 = FloatVector.fromArray(FS, x, xo + 2 * L);
                FloatVector x3 = FloatVector.fromArray(FS, x, xo + 3 * L);
                FloatVector v = FloatVector.broadcast(FS, wb[wo]);
                a00 = v.fma(x0, a00);
                a01 = v.fma(x1, a01);
                a02 = v.fma(x2, a02);
                a03 = v.fma(x3, a03);
                v = FloatVector.broadcast(FS, wb[wo + 1]);
                a10 = v.fma(x0, a10);
                a11 = v.fma(x1, a11);
                a12 = v.fma(x2, a12);
                a13 = v.fma(x3, a13);
                v = FloatVector.broadcast(FS, wb[wo + 2]);
                a20 = v.fma(x0, a20);
                a21 = v.fma(x1, a21);
                a22 = v.fma(x2, a22);
                a23 = v.fma(x3, a23);
                v = FloatVector.broadcast(FS, wb[wo + 3]);
                a30 = v.fma(x0, a30);
                a31 = v.fma(x1, a31);
                a32 = v.fma(x2, a32);
                a33 = v.fma(x3, a33);
            }
            int o0 = base + p, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
            a00.intoArray(out, o0);
            a01.intoArray(out, o0 + L);
            a02.intoArray(out, o0 + 2 * L);
            a03.intoArray(out, o0 + 3 * L);
            a10.intoArray(out, o1);
            a11.intoArray(out, o1 + L);
            a12.intoArray(out, o1 + 2 * L);
            a13.intoArray(out, o1 + 3 * L);
            a20.intoArray(out, o2);
            a21.intoArray(out, o2 + L);
            a22.intoArray(out, o2 + 2 * L);
            a23.intoArray(out, o2 + 3 * L);
            a30.intoArray(out, o3);
            a31.intoArray(out, o3 + L);
            a32.intoArray(out, o3 + 2 * L);
            a33.intoArray(out, o3 + 3 * L);
        }
        for (; p + 2 * L <= n; p += 2 * L) {
            FloatVector a00 = FloatVector.zero(FS), a01 = a00, a10 = a00, a11 = a00;
            FloatVector a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (int t = 0; t < T; t++) {
                int xo = off[t] + p, wo = 4 * t;
                FloatVector x0 = FloatVector.fromArray(FS, x, xo);
                FloatVector x1 = FloatVector.fromArray(FS, x, xo + L);
                FloatVector v = FloatVector.broadcast(FS, wb[wo]);
                a00 = v.fma(x0, a00);
                a01 = v.fma(x1, a01);
                v = FloatVector.broadcast(FS, wb[wo + 1]);
                a10 = v.fma(x0, a10);
                a11 = v.fma(x1, a11);
                v = FloatVector.broadcast(FS, wb[wo + 2]);
                a20 = v.fma(x0, a20);
                a21 = v.fma(x1, a21);
                v = FloatVector.broadcast(FS, wb[wo + 3]);
                a30 = v.fma(x0, a30);
                a31 = v.fma(x1, a31);
            }
            a00.intoArray(out, base + p);
            a01.intoArray(out, base + p + L);
            a10.intoArray(out, base + n + p);
            a11.intoArray(out, base + n + p + L);
            a20.intoArray(out, base + 2 * n + p);
            a21.intoArray(out, base + 2 * n + p + L);
            a30.intoArray(out, base + 3 * n + p);
            a31.intoArray(out, base + 3 * n + p + L);
        }
        for (; p + L <= n; p += L) {
            FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
            for (int t = 0; t < T; t++) {
                FloatVector x0 = FloatVector.fromArray(FS, x, off[t] + p);
                a0 = FloatVector.broadcast(FS, wb[4 * t]).fma(x0, a0);
                a1 = FloatVector.broadcast(FS, wb[4 * t + 1]).fma(x0, a1);
                a2 = FloatVector.broadcast(FS, wb[4 * t + 2]).fma(x0, a2);
                a3 = FloatVector.broadcast(FS, wb[4 * t + 3]).fma(x0, a3);
            }
            a0.intoArray(out, base + p);
            a1.intoArray(out, base + n + p);
            a2.intoArray(out, base + 2 * n + p);
            a3.intoArray(out, base + 3 * n + p);
        }
        for (; p < n; p++) {
            for (int q = 0; q < 4; q++) {
                float s = 0;
                for (int t = 0; t < T; t++) {
                    s = Math.fma(wb[4 * t + q], x[off[t] + p], s);
                }
                out[base + q * n + p] = s;
            }
        }
    }

    @Override
    public void correlateWeights(float[] g, int cout, int n, float[] x, int cin, int xh, int xw, int kh, int kw,
                                 int d, float[] dw) {
        Scratch z = SCRATCH.get();
        int[] off = z.offsets(cin, xh, xw, kh, kw, d);
        int L = FS.length(), T = cin * kh * kw, nv = n - n % L;
        int o = 0;
        for (; o + 4 <= cout; o += 4) {
            int g0 = o * n, g1 = g0 + n, g2 = g1 + n, g3 = g2 + n;
            int t = 0;
            for (; t + 2 <= T; t += 2) {
                int u = off[t], v = off[t + 1];
                FloatVector s00 = FloatVector.zero(FS), s01 = s00, s10 = s00, s11 = s00;
                FloatVector s20 = s00, s21 = s00, s30 = s00, s31 = s00;
                for (int p = 0; p < nv; p += L) {
                    FloatVector x0 = FloatVector.fromArray(FS, x, u + p);
                    FloatVector x1 = FloatVector.fromArray(FS, x, v + p);
                    FloatVector gq = FloatVector.fromArray(FS, g, g0 + p);
                    s00 = gq.fma(x0, s00);
                    s01 = gq.fma(x1, s01);
                    gq = FloatVector.fromArray(FS, g, g1 + p);
                    s10 = gq.fma(x0, s10);
                    s11 = gq.fma(x1, s11);
                    gq = FloatVector.fromArray(FS, g, g2 + p);
                    s20 = gq.fma(x0, s20);
                    s21 = gq.fma(x1, s21);
                    gq = FloatVector.fromArray(FS, g, g3 + p);
                    s30 = gq.fma(x0, s30);
                    s31 = gq.fma(x1, s31);
                }
                int at = (o * T + t) * L;
                add(dw, at, s00, tail(g, g0, x, u, nv, n));
                add(dw, at + L, s01, tail(g, g0, x, v, nv, n));
                add(dw, at + T * L, s10, tail(g, g1, x, u, nv, n));
                add(dw, at + (T + 1) * L, s11, tail(g, g1, x, v, nv, n));
                add(dw, at + 2 * T * L, s20, tail(g, g2, x, u, nv, n));
                add(dw, at + (2 * T + 1) * L, s21, tail(g, g2, x, v, nv, n));
                add(dw, at + 3 * T * L, s30, tail(g, g3, x, u, nv, n));
                add(dw, at + (3 * T + 1) * L, s31, tail(g, g3, x, v, nv, n));
            }
            for (; t < T; t++) {
                for (int q = 0; q < 4; q++) {
                    single(g, (o + q) * n, x, off[t], nv, n, dw, ((o + q) * T + t) * L);
                }
            }
        }
        for (; o < cout; o++) {
            for (int t = 0; t < T; t++) {
                single(g, o * n, x, off[t], nv, n, dw, (o * T + t) * L);
            }
        }
    }

    /**
     * {@code Σ_p g[gi + p]·x[xi + p]} over {@code p < n} into the lane partial sums {@code dw[at, at + L)}: vectors to
     * {@code nv}, then the tail into the first lane.
     */
    private static void single(float[] g, int gi, float[] x, int xi, int nv, int n, float[] dw, int at) {
        int L = FS.length();
        FloatVector s = FloatVector.zero(FS);
        for (int p = 0; p < nv; p += L) {
            s = FloatVector.fromArray(FS, g, gi + p).fma(FloatVector.fromArray(FS, x, xi + p), s);
        }
        add(dw, at, s, tail(g, gi, x, xi, nv, n));
    }

    /** {@code dw[at, at + L) += s}, and the scalar tail's sum into the first lane. */
    private static void add(float[] dw, int at, FloatVector s, float tail) {
        FloatVector.fromArray(FS, dw, at).add(s).intoArray(dw, at);
        dw[at] += tail;
    }

    /** {@code Σ_{nv ≤ p < n} g[gi + p]·x[xi + p]}. */
    private static float tail(float[] g, int gi, float[] x, int xi, int nv, int n) {
        float s = 0;
        for (int p = nv; p < n; p++) {
            s = Math.fma(g[gi + p], x[xi + p], s);
        }
        return s;
    }

    @Override
    public void correlate(double[] x, int cin, int xh, int xw, double[] w, int cout, int kh, int kw, int d, double[] out,
                          int n) {
        Scratch z = SCRATCH.get();
        int[] off = z.offsets(cin, xh, xw, kh, kw, d);
        int T = cin * kh * kw;
        double[] wb = z.doubles(0, 4 * T), spare = cout % 4 == 0 ? null : z.doubles(1, 4 * n);
        for (int o = 0; o < cout; o += 4) {
            int m = Math.min(4, cout - o);
            for (int t = 0; t < T; t++) {
                for (int q = 0; q < 4; q++) {
                    wb[4 * t + q] = q < m ? w[(o + q) * T + t] : 0;
                }
            }
            if (m == 4) {
                block(x, off, T, wb, out, o * n, n);
            } else {
                block(x, off, T, wb, spare, 0, n);
                System.arraycopy(spare, 0, out, o * n, m * n);
            }
        }
    }

    private static void block(double[] x, int[] off, int T, double[] wb, double[] out, int base, int n) {
        int L = DS.length(), p = 0;
        for (; WIDE_D && p + 4 * L <= n; p += 4 * L) {
            DoubleVector a00 = DoubleVector.zero(DS), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00;
            DoubleVector a12 = a00, a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00;
            DoubleVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            for (int t = 0; t < T; t++) {
                int xo = off[t] + p, wo = 4 * t;
                DoubleVector x0 = DoubleVector.fromArray(DS, x, xo);
                DoubleVector x1 = DoubleVector.fromArray(DS, x, xo + L);
                DoubleVector x2 = DoubleVector.fromArray(DS, x, xo + 2 * L);
                DoubleVector x3 = DoubleVector.fromArray(DS, x, xo + 3 * L);
                DoubleVector v = DoubleVector.broadcast(DS, wb[wo]);
                a00 = v.fma(x0, a00);
                a01 = v.fma(x1, a01);
                a02 = v.fma(x2, a02);
                a03 = v.fma(x3, a03);
                v = DoubleVector.broadcast(DS, wb[wo + 1]);
                a10 = v.fma(x0, a10);
                a11 = v.fma(x1, a11);
                a12 = v.fma(x2, a12);
                a13 = v.fma(x3, a13);
                v = DoubleVector.broadcast(DS, wb[wo + 2]);
                a20 = v.fma(x0, a20);
                a21 = v.fma(x1, a21);
                a22 = v.fma(x2, a22);
                a23 = v.fma(x3, a23);
                v = DoubleVector.broadcast(DS, wb[wo + 3]);
                a30 = v.fma(x0, a30);
                a31 = v.fma(x1, a31);
                a32 = v.fma(x2, a32);
                a33 = v.fma(x3, a33);
            }
            int o0 = base + p, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
            a00.intoArray(out, o0);
            a01.intoArray(out, o0 + L);
            a02.intoArray(out, o0 + 2 * L);
            a03.intoArray(out, o0 + 3 * L);
            a10.intoArray(out, o1);
            a11.intoArray(out, o1 + L);
            a12.intoArray(out, o1 + 2 * L);
            a13.intoArray(out, o1 + 3 * L);
            a20.intoArray(out, o2);
            a21.intoArray(out, o2 + L);
            a22.intoArray(out, o2 + 2 * L);
            a23.intoArray(out, o2 + 3 * L);
            a30.intoArray(out, o3);
            a31.intoArray(out, o3 + L);
            a32.intoArray(out, o3 + 2 * L);
            a33.intoArray(out, o3 + 3 * L);
        }
        for (; p + 2 * L <= n; p += 2 * L) {
            DoubleVector a00 = DoubleVector.zero(DS), a01 = a00, a10 = a00, a11 = a00;
            DoubleVector a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (int t = 0; t < T; t++) {
                int xo = off[t] + p, wo = 4 * t;
                DoubleVector x0 = DoubleVector.fromArray(DS, x, xo);
                DoubleVector x1 = DoubleVector.fromArray(DS, x, xo + L);
                DoubleVector v = DoubleVector.broadcast(DS, wb[wo]);
                a00 = v.fma(x0, a00);
                a01 = v.fma(x1, a01);
                v = DoubleVector.broadcast(DS, wb[wo + 1]);
                a10 = v.fma(x0, a10);
                a11 = v.fma(x1, a11);
                v = DoubleVector.broadcast(DS, wb[wo + 2]);
                a20 = v.fma(x0, a20);
                a21 = v.fma(x1, a21);
                v = DoubleVector.broadcast(DS, wb[wo + 3]);
                a30 = v.fma(x0, a30);
                a31 = v.fma(x1, a31);
            }
            a00.intoArray(out, base + p);
            a01.intoArray(out, base + p + L);
            a10.intoArray(out, base + n + p);
            a11.intoArray(out, base + n + p + L);
            a20.intoArray(out, base + 2 * n + p);
            a21.intoArray(out, base + 2 * n + p + L);
            a30.intoArray(out, base + 3 * n + p);
            a31.intoArray(out, base + 3 * n + p + L);
        }
        for (; p + L <= n; p += L) {
            DoubleVector a0 = DoubleVector.zero(DS), a1 = a0, a2 = a0, a3 = a0;
            for (int t = 0; t < T; t++) {
                DoubleVector x0 = DoubleVector.fromArray(DS, x, off[t] + p);
                a0 = DoubleVector.broadcast(DS, wb[4 * t]).fma(x0, a0);
                a1 = DoubleVector.broadcast(DS, wb[4 * t + 1]).fma(x0, a1);
                a2 = DoubleVector.broadcast(DS, wb[4 * t + 2]).fma(x0, a2);
                a3 = DoubleVector.broadcast(DS, wb[4 * t + 3]).fma(x0, a3);
            }
            a0.intoArray(out, base + p);
            a1.intoArray(out, base + n + p);
            a2.intoArray(out, base + 2 * n + p);
            a3.intoArray(out, base + 3 * n + p);
        }
        for (; p < n; p++) {
            for (int q = 0; q < 4; q++) {
                double s = 0;
                for (int t = 0; t < T; t++) {
                    s = Math.fma(wb[4 * t + q], x[off[t] + p], s);
                }
                out[base + q * n + p] = s;
            }
        }
    }

    @Override
    public void correlateWeights(double[] g, int cout, int n, double[] x, int cin, int xh, int xw, int kh, int kw,
                                 int d, double[] dw) {
        Scratch z = SCRATCH.get();
        int[] off = z.offsets(cin, xh, xw, kh, kw, d);
        int L = DS.length(), T = cin * kh * kw, nv = n - n % L;
        int o = 0;
        for (; o + 4 <= cout; o += 4) {
            int g0 = o * n, g1 = g0 + n, g2 = g1 + n, g3 = g2 + n;
            int t = 0;
            for (; t + 2 <= T; t += 2) {
                int u = off[t], v = off[t + 1];
                DoubleVector s00 = DoubleVector.zero(DS), s01 = s00, s10 = s00, s11 = s00;
                DoubleVector s20 = s00, s21 = s00, s30 = s00, s31 = s00;
                for (int p = 0; p < nv; p += L) {
                    DoubleVector x0 = DoubleVector.fromArray(DS, x, u + p);
                    DoubleVector x1 = DoubleVector.fromArray(DS, x, v + p);
                    DoubleVector gq = DoubleVector.fromArray(DS, g, g0 + p);
                    s00 = gq.fma(x0, s00);
                    s01 = gq.fma(x1, s01);
                    gq = DoubleVector.fromArray(DS, g, g1 + p);
                    s10 = gq.fma(x0, s10);
                    s11 = gq.fma(x1, s11);
                    gq = DoubleVector.fromArray(DS, g, g2 + p);
                    s20 = gq.fma(x0, s20);
                    s21 = gq.fma(x1, s21);
                    gq = DoubleVector.fromArray(DS, g, g3 + p);
                    s30 = gq.fma(x0, s30);
                    s31 = gq.fma(x1, s31);
                }
                int at = (o * T + t) * L;
                add(dw, at, s00, tail(g, g0, x, u, nv, n));
                add(dw, at + L, s01, tail(g, g0, x, v, nv, n));
                add(dw, at + T * L, s10, tail(g, g1, x, u, nv, n));
                add(dw, at + (T + 1) * L, s11, tail(g, g1, x, v, nv, n));
                add(dw, at + 2 * T * L, s20, tail(g, g2, x, u, nv, n));
                add(dw, at + (2 * T + 1) * L, s21, tail(g, g2, x, v, nv, n));
                add(dw, at + 3 * T * L, s30, tail(g, g3, x, u, nv, n));
                add(dw, at + (3 * T + 1) * L, s31, tail(g, g3, x, v, nv, n));
            }
            for (; t < T; t++) {
                for (int q = 0; q < 4; q++) {
                    single(g, (o + q) * n, x, off[t], nv, n, dw, ((o + q) * T + t) * L);
                }
            }
        }
        for (; o < cout; o++) {
            for (int t = 0; t < T; t++) {
                single(g, o * n, x, off[t], nv, n, dw, (o * T + t) * L);
            }
        }
    }

    private static void single(double[] g, int gi, double[] x, int xi, int nv, int n, double[] dw, int at) {
        int L = DS.length();
        DoubleVector s = DoubleVector.zero(DS);
        for (int p = 0; p < nv; p += L) {
            s = DoubleVector.fromArray(DS, g, gi + p).fma(DoubleVector.fromArray(DS, x, xi + p), s);
        }
        add(dw, at, s, tail(g, gi, x, xi, nv, n));
    }

    private static void add(double[] dw, int at, DoubleVector s, double tail) {
        DoubleVector.fromArray(DS, dw, at).add(s).intoArray(dw, at);
        dw[at] += tail;
    }

    private static double tail(double[] g, int gi, double[] x, int xi, int nv, int n) {
        double s = 0;
        for (int p = nv; p < n; p++) {
            s = Math.fma(g[gi + p], x[xi + p], s);
        }
        return s;
    }

}

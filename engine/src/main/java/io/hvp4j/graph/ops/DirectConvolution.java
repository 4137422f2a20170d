package io.hvp4j.graph.ops;

import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ConvolutionKernels;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The three building blocks of {@link Conv2d} for stride 1 on a backend's direct kernels
 * ({@link Backend#convolution}), image by image: each image's planes are copied once into a padded heap buffer and
 * correlated with the weights, instead of expanding them {@code kh·kw}-fold by im2col and packing them again for a
 * GEMM. With few channels (LeNet-5, ResNet-8) a GEMM over im2col columns does {@code C_out} multiply-adds per byte it
 * packs; the direct kernels keep the input rows in L1 and reuse each load for several output channels.
 *
 * <p>The transposed convolution (input adjoint) is the same correlation of the zero-bordered output adjoint with
 * the weights flipped in both kernel axes and their channel axes swapped. It needs the border
 * {@code (k − 1)·d − padding ≥ 0}; with larger padding, and for any stride above 1, {@link Conv2d} keeps im2col.
 *
 * <p>Per-image results do not depend on how images are split over threads; the weight gradient sums each part's
 * images in order and then the parts in part order, so it has the same bits for the same thread count.
 * The system property {@code hvp4j.conv=im2col} turns the direct path off; it is read at every call, so that one
 * JVM can alternate the two paths (paired measurements, tests).
 */
final class DirectConvolution {

    private DirectConvolution() {
    }

    /**
     * Elements of the largest heap buffer a thread may take (2^22: 16 MiB in f32): a convolution whose padded input
     * or output planes of one image and group exceed it runs as im2col, whose buffers are chunked.
     */
    static final long MAX_BUFFER = 1L << 22;

    /**
     * The kernels for this convolution, or null when it runs as im2col: stride 1 on a backend with direct kernels,
     * for the transpose a padding of at most {@code (k − 1)·d} on both axes, and one image's planes within
     * {@link #MAX_BUFFER} ({@code rowsOut}: output planes per group, {@code J·og}, or {@code og} for the transpose).
     */
    static ConvolutionKernels kernels(Backend be, Images.Geometry g, boolean transpose, int groups, int rowsOut) {
        if (g.stride() != 1 || "im2col".equals(System.getProperty("hvp4j.conv"))) {
            return null;
        }
        int d = g.dilation();
        long cg = g.channels() / groups, xw = g.wo() + (long) (g.kw() - 1) * d, xh = g.ho() + (long) (g.kh() - 1) * d;
        long in = cg * xh * xw, out = rowsOut * (g.ho() * xw + 64);
        if (transpose) {
            if (g.padH() > (g.kh() - 1) * d || g.pad() > (g.kw() - 1) * d) {
                return null;
            }
            long gw = g.w() + (long) (g.kw() - 1) * d, gh = g.h() + (long) (g.kh() - 1) * d;
            in = rowsOut * gh * gw;
            out = cg * (g.h() * gw + 64);
        }
        return in + 64 <= MAX_BUFFER && out <= MAX_BUFFER ? be.convolution() : null;
    }

    /**
     * The sizes of one call: channels per group, the zero-bordered input planes {@code xh × xw}, and {@code n}
     * output positions per plane (rows of {@code xw}, rounded up to two vectors; see {@link ConvolutionKernels}).
     */
    private record Plan(Images.Geometry g, boolean f64, int cout, int og, int cg, int kk, int xh, int xw, int n) {
        static Plan of(ConvolutionKernels k, Images.Geometry g, int groups, int cout, DType dtype) {
            boolean f64 = dtype == DType.F64;
            int d = g.dilation(), xw = g.wo() + (g.kw() - 1) * d;
            return new Plan(g, f64, cout, cout / groups, g.channels() / groups, g.kh() * g.kw(),
                    g.ho() + (g.kh() - 1) * d, xw, roundUp(g.ho() * xw, 2 * k.lanes(f64)));
        }

        /** Elements of the input buffer: the planes and the room the kernels read past them. */
        int inputLength() {
            return cg * xh * xw + (g.kw() - 1) * g.dilation() + n - g.ho() * xw;
        }

        int pixels() {
            return g.ho() * g.wo();
        }

        ValueLayout layout() {
            return f64 ? ValueLayout.JAVA_DOUBLE : ValueLayout.JAVA_FLOAT;
        }

        int bytes() {
            return f64 ? 8 : 4;
        }

        /** This thread's buffer {@code slot} of at least {@code n} elements, zeroed on {@code [0, n)}. */
        Object zeroed(int slot, int n) {
            return WORK.get().get(slot, f64, n, true);
        }

        /** This thread's buffer {@code slot} of at least {@code n} elements, contents undefined. */
        Object buffer(int slot, int n) {
            return WORK.get().get(slot, f64, n, false);
        }
    }

    /**
     * Heap buffers of one thread (the caller's and the backend's workers), grown as needed and reused by every later
     * call, so that the steady state allocates nothing: padded input planes (slot 0), output or gradient planes (1),
     * weight-gradient sums (2). Each thread keeps the largest size it has seen until it ends.
     */
    private static final class Work {
        private final Object[] floats = new Object[3], doubles = new Object[3];

        Object get(int slot, boolean f64, int n, boolean zero) {
            Object[] s = f64 ? doubles : floats;
            Object a = s[slot];
            int len = a == null ? -1 : f64 ? ((double[]) a).length : ((float[]) a).length;
            if (len < n) {
                a = f64 ? new double[n] : new float[n];
                s[slot] = a;
            } else if (zero) {
                if (f64) {
                    java.util.Arrays.fill((double[]) a, 0, n, 0);
                } else {
                    java.util.Arrays.fill((float[]) a, 0, n, 0f);
                }
            }
            return a;
        }
    }

    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);

    private static int roundUp(int n, int m) {
        return (n + m - 1) / m * m;
    }

    /**
     * {@code dst[dBase + n·dStep + jj][g·og + o] (+)= α·Σ W_{jj,g}[o] ⋆ src[sBase + n·sStep]_g} (as
     * {@code Conv2d.convolve}); {@code w} is {@code (J·C_out) × (cg·kh·kw)}, J > 1 only with one group.
     */
    static void convolve(Backend be, ConvolutionKernels k, Images.Geometry g, int groups, int cout, double alpha,
                         Tensor src, long sBase, long sStep, int count, Tensor w, int J, Tensor dst, long dBase,
                         long dStep, boolean accumulate) {
        Plan p = Plan.of(k, g, groups, cout, src.dtype());
        int rowsOut = J * p.og, per = rowsOut * p.cg * p.kk, oh = g.ho();
        Object[] wg = new Object[groups];
        for (int gi = 0; gi < groups; gi++) {
            wg[gi] = p.f64 ? new double[per] : new float[per];
            read(w, (long) gi * per, wg[gi], 0, per, p);
        }
        Parts.run(be, count, (part, from, to) -> {
            Object xp = p.zeroed(0, p.inputLength()), out = p.buffer(1, rowsOut * p.n);
            for (int n = from; n < to; n++) {
                for (int gi = 0; gi < groups; gi++) {
                    fillPadded(src, sBase + n * sStep, p, gi * p.cg, xp);
                    correlate(k, p.f64, xp, p.cg, p.xh, p.xw, wg[gi], rowsOut, g.kh(), g.kw(), g.dilation(), out, p.n);
                    for (int jj = 0; jj < J; jj++) {
                        for (int o = 0; o < p.og; o++) {
                            long at = ((dBase + n * dStep + jj) * cout + gi * p.og + o) * p.pixels();
                            store(k, out, (jj * p.og + o) * p.n, p.xw, oh, g.wo(), dst, at, alpha, accumulate, p);
                        }
                    }
                }
            }
        }, src, w, dst);
    }

    /**
     * {@code dst[dBase + n·dStep] += α·(W ⋆ᵀ grad[gBase + n·gStep])} (as {@code Conv2d.convolveTranspose});
     * {@code w} is {@code C_out × (cg·kh·kw)}.
     */
    static void convolveTranspose(Backend be, ConvolutionKernels k, Images.Geometry g, int groups, int cout,
                                  double alpha, Tensor grad, long gBase, long gStep, int count, Tensor w, Tensor dst,
                                  long dBase, long dStep) {
        Plan p = Plan.of(k, g, groups, cout, grad.dtype());
        int kh = g.kh(), kw = g.kw(), d = g.dilation(), h = g.h(), wd = g.w();
        int top = (kh - 1) * d - g.padH(), left = (kw - 1) * d - g.pad();
        int gh = h + (kh - 1) * d, gw = wd + (kw - 1) * d, nT = roundUp(h * gw, 2 * k.lanes(p.f64));
        // Flipped weights per group: wf[c][o][a][b] = w[g·og + o][c][kh−1−a][kw−1−b].
        int per = p.og * p.cg * p.kk;
        double[] all = new double[groups * per];
        new Planes().read(w, 0, all.length, all);
        Object[] wf = new Object[groups];
        for (int gi = 0; gi < groups; gi++) {
            double[] f = new double[per];
            for (int o = 0; o < p.og; o++) {
                for (int c = 0; c < p.cg; c++) {
                    for (int a = 0; a < kh; a++) {
                        for (int b = 0; b < kw; b++) {
                            f[((c * p.og + o) * kh + a) * kw + b] =
                                    all[gi * per + ((o * p.cg + c) * kh + kh - 1 - a) * kw + kw - 1 - b];
                        }
                    }
                }
            }
            wf[gi] = narrow(f, p.f64);
        }
        int oh = g.ho(), wo = g.wo(), P = p.pixels(), e = p.bytes();
        ValueLayout layout = p.layout();
        Parts.run(be, count, (part, from, to) -> {
            Object gp = p.zeroed(0, p.og * gh * gw + (kw - 1) * d + nT - h * gw), out = p.buffer(1, p.cg * nT);
            MemorySegment gs = grad.segment();
            for (int n = from; n < to; n++) {
                for (int gi = 0; gi < groups; gi++) {
                    for (int o = 0; o < p.og; o++) {
                        long at = ((gBase + n * gStep) * cout + gi * p.og + o) * P;
                        for (int i = 0; i < oh; i++) {
                            MemorySegment.copy(gs, layout, (at + (long) i * wo) * e, gp,
                                    (o * gh + top + i) * gw + left, wo);
                        }
                    }
                    correlate(k, p.f64, gp, p.og, gh, gw, wf[gi], p.cg, kh, kw, d, out, nT);
                    for (int c = 0; c < p.cg; c++) {
                        long at = ((dBase + n * dStep) * g.channels() + gi * p.cg + c) * (long) (h * wd);
                        store(k, out, c * nT, gw, h, wd, dst, at, alpha, true, p);
                    }
                }
            }
        }, grad, w, dst);
    }

    /**
     * {@code dw[jj·C_out + g·og + o] (+)= α·Σ_n grad[gBase + n·gStep + jj]_{g·og+o} ⋆ src[sBase + n·sStep]_g}
     * (as {@code Conv2d.weightGradient}); {@code dw} is {@code (J·C_out) × (cg·kh·kw)}.
     */
    static void weightGradient(Backend be, ConvolutionKernels k, Images.Geometry g, int groups, int cout,
                               double alpha, Tensor grad, long gBase, long gStep, int J, Tensor src, long sBase,
                               long sStep, int count, Tensor dw, boolean accumulate) {
        Plan p = Plan.of(k, g, groups, cout, src.dtype());
        int rowsOut = J * p.og, cgkk = p.cg * p.kk, per = rowsOut * cgkk, oh = g.ho(), wo = g.wo(), P = p.pixels();
        int e = p.bytes();
        ValueLayout layout = p.layout();
        int parts = Parts.count(be, count, grad, src, dw), lanes = k.lanes(p.f64);
        Object[][] sums = new Object[parts][];
        Parts.run(be, parts, count, (part, from, to) -> {
            Object xp = p.zeroed(0, p.inputLength()), gz = p.zeroed(1, rowsOut * p.n);
            Object[] acc = new Object[groups];
            for (int gi = 0; gi < groups; gi++) {
                acc[gi] = groups == 1 ? p.zeroed(2, per * lanes)
                        : p.f64 ? new double[per * lanes] : new float[per * lanes];
            }
            MemorySegment gs = grad.segment();
            for (int n = from; n < to; n++) {
                for (int gi = 0; gi < groups; gi++) {
                    fillPadded(src, sBase + n * sStep, p, gi * p.cg, xp);
                    for (int jj = 0; jj < J; jj++) {
                        for (int o = 0; o < p.og; o++) {
                            long at = ((gBase + n * gStep + jj) * cout + gi * p.og + o) * P;
                            for (int i = 0; i < oh; i++) {
                                MemorySegment.copy(gs, layout, (at + (long) i * wo) * e, gz,
                                        (jj * p.og + o) * p.n + i * p.xw, wo);
                            }
                        }
                    }
                    correlateWeights(k, p.f64, gz, rowsOut, p.n, xp, p.cg, p.xh, p.xw, g.kh(), g.kw(), g.dilation(),
                            acc[gi]);
                }
            }
            sums[part] = acc;
        });
        for (int gi = 0; gi < groups; gi++) {
            double[] total = new double[per];
            for (int q = 0; q < parts; q++) {
                addInto(sums[q][gi], lanes, total, per, p.f64);
            }
            double[] row = new double[cgkk];
            Planes io = new Planes();
            for (int jj = 0; jj < J; jj++) {
                for (int o = 0; o < p.og; o++) {
                    long at = (long) (jj * cout + gi * p.og + o) * cgkk;
                    if (accumulate) {
                        io.read(dw, at, cgkk, row);
                    }
                    int from = (jj * p.og + o) * cgkk;
                    for (int i = 0; i < cgkk; i++) {
                        row[i] = (accumulate ? row[i] : 0) + alpha * total[from + i];
                    }
                    io.write(row, cgkk, dw, at);
                }
            }
        }
    }

    /**
     * {@code total[i] += Σ_l part[i·lanes + l]} for {@code i < n}: a part's lane partial sums (see {@link
     * ConvolutionKernels#correlateWeights}) in lane order, then added, all in the part's precision, so that a float
     * part rounds as a float accumulation would.
     */
    private static void addInto(Object part, int lanes, double[] total, int n, boolean f64) {
        if (f64) {
            double[] a = (double[]) part;
            for (int i = 0; i < n; i++) {
                double s = a[i * lanes];
                for (int l = 1; l < lanes; l++) {
                    s += a[i * lanes + l];
                }
                total[i] += s;
            }
        } else {
            float[] a = (float[]) part;
            for (int i = 0; i < n; i++) {
                float s = a[i * lanes];
                for (int l = 1; l < lanes; l++) {
                    s += a[i * lanes + l];
                }
                total[i] = (float) (total[i] + s);
            }
        }
    }

    /** Copies image {@code image}'s channels {@code c0 .. c0+cg} into the interior of the zero-bordered planes. */
    private static void fillPadded(Tensor src, long image, Plan p, int c0, Object xp) {
        Images.Geometry g = p.g;
        int h = g.h(), w = g.w(), e = p.bytes();
        long at = image * g.imageSize() + (long) c0 * h * w;
        MemorySegment s = src.segment();
        ValueLayout layout = p.layout();
        for (int c = 0; c < p.cg; c++) {
            for (int r = 0; r < h; r++) {
                MemorySegment.copy(s, layout, (at + ((long) c * h + r) * w) * e, xp,
                        (c * p.xh + g.padH() + r) * p.xw + g.pad(), w);
            }
        }
    }

    /**
     * {@code t[at + i·width + j] (+)= α·out[from + i·stride + j]} for {@code i < rows}, {@code j < width}: one output
     * plane into the tensor, overwriting or accumulating (a copy when that is all it is, else the kernels' store).
     */
    private static void store(ConvolutionKernels k, Object out, int from, int stride, int rows, int width, Tensor t,
                              long at, double alpha, boolean accumulate, Plan p) {
        MemorySegment s = t.segment();
        if (alpha == 1 && !accumulate) {
            ValueLayout layout = p.layout();
            int e = p.bytes();
            if (stride == width) {
                MemorySegment.copy(out, from, s, layout, at * e, rows * width);
            } else {
                for (int i = 0; i < rows; i++) {
                    MemorySegment.copy(out, from + i * stride, s, layout, (at + (long) i * width) * e, width);
                }
            }
        } else if (p.f64) {
            k.storeRows((double[]) out, from, stride, rows, width, alpha, accumulate, s, at);
        } else {
            k.storeRows((float[]) out, from, stride, rows, width, (float) alpha, accumulate, s, at);
        }
    }

    private static void read(Tensor t, long at, Object dst, int to, int n, Plan p) {
        MemorySegment.copy(t.segment(), p.layout(), at * p.bytes(), dst, to, n);
    }

    private static Object narrow(double[] a, boolean f64) {
        if (f64) {
            return a;
        }
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    private static void correlate(ConvolutionKernels k, boolean f64, Object x, int cin, int xh, int xw, Object w,
                                  int cout, int kh, int kw, int d, Object out, int n) {
        if (f64) {
            k.correlate((double[]) x, cin, xh, xw, (double[]) w, cout, kh, kw, d, (double[]) out, n);
        } else {
            k.correlate((float[]) x, cin, xh, xw, (float[]) w, cout, kh, kw, d, (float[]) out, n);
        }
    }

    private static void correlateWeights(ConvolutionKernels k, boolean f64, Object g, int cout, int n, Object x,
                                         int cin, int xh, int xw, int kh, int kw, int d, Object dw) {
        if (f64) {
            k.correlateWeights((double[]) g, cout, n, (double[]) x, cin, xh, xw, kh, kw, d, (double[]) dw);
        } else {
            k.correlateWeights((float[]) g, cout, n, (float[]) x, cin, xh, xw, kh, kw, d, (float[]) dw);
        }
    }
}

package io.hvp4j.graph.ops;

import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Layout kernels for batches of images on the host: im2col and its adjoint col2im, and the gather/scatter between
 * {@code (image, channel, pixel)} tensors and {@code (channel, image·pixel)} GEMM operands. Images are stored one
 * after another ({@code C·H·W} elements each), so a batch of {@code rows} samples with a block of {@code k}
 * tangents is {@code rows·k} images, image {@code r·k + j} being tangent {@code j} of sample {@code r}. A set of
 * images is addressed as {@code base + n·step + jj}. Memory-bound; the convolution's flops are in the GEMMs.
 */
final class Images {
    private Images() {
    }

    /** Convolution geometry of one group (input channels {@code c0 .. c0+cg}). */
    record Geometry(int channels, int h, int w, int kh, int kw, int stride, int pad, int dilation, int ho, int wo) {
        int imageSize() {
            return channels * h * w;
        }
    }

    /**
     * {@code cols[(c, a, b), n·P + p] = src[image(n)][c0 + c][oi·s − pad + a·d][oj·s − pad + b·d]} (zero outside),
     * for {@code n < count}, {@code p = oi·wo + oj}; {@code cols} is {@code (cg·kh·kw) × (count·ho·wo)}.
     */
    static void im2col(Tensor src, long base, long step, int count, Geometry g, int c0, int cg, Tensor cols) {
        MemorySegment s = src.segment(), d = cols.segment();
        boolean f32 = src.dtype() == DType.F32;
        int P = g.ho * g.wo;
        long rowLen = (long) count * P;
        long img = g.imageSize(), plane = (long) g.h * g.w;
        for (int c = 0; c < cg; c++) {
            for (int a = 0; a < g.kh; a++) {
                for (int b = 0; b < g.kw; b++) {
                    long row = ((long) (c * g.kh + a) * g.kw + b) * rowLen;
                    int oj0 = firstInside(b * g.dilation - g.pad, g.stride, g.w, g.wo);
                    int oj1 = endInside(b * g.dilation - g.pad, g.stride, g.w, g.wo);
                    for (int n = 0; n < count; n++) {
                        long srcPlane = (base + n * step) * img + (c0 + c) * plane;
                        long dst0 = row + (long) n * P;
                        for (int oi = 0; oi < g.ho; oi++) {
                            int ii = oi * g.stride - g.pad + a * g.dilation;
                            long dRow = dst0 + (long) oi * g.wo;
                            if (ii < 0 || ii >= g.h || oj0 >= oj1) {
                                fill0(d, f32, dRow, g.wo);
                                continue;
                            }
                            fill0(d, f32, dRow, oj0);
                            fill0(d, f32, dRow + oj1, g.wo - oj1);
                            long sRow = srcPlane + (long) ii * g.w + b * g.dilation - g.pad;
                            if (g.stride == 1) {
                                copy(s, sRow + oj0, d, dRow + oj0, oj1 - oj0, f32);
                            } else if (f32) {
                                for (int oj = oj0; oj < oj1; oj++) {
                                    d.setAtIndex(ValueLayout.JAVA_FLOAT, dRow + oj,
                                            s.getAtIndex(ValueLayout.JAVA_FLOAT, sRow + (long) oj * g.stride));
                                }
                            } else {
                                for (int oj = oj0; oj < oj1; oj++) {
                                    d.setAtIndex(ValueLayout.JAVA_DOUBLE, dRow + oj,
                                            s.getAtIndex(ValueLayout.JAVA_DOUBLE, sRow + (long) oj * g.stride));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** The adjoint of {@link #im2col}: {@code dst[image(n)][c0 + c][..] += cols[..]} (dst is not cleared). */
    static void col2im(Tensor cols, long base, long step, int count, Geometry g, int c0, int cg, Tensor dst) {
        MemorySegment s = cols.segment(), d = dst.segment();
        boolean f32 = dst.dtype() == DType.F32;
        int P = g.ho * g.wo;
        long rowLen = (long) count * P;
        long img = g.imageSize(), plane = (long) g.h * g.w;
        for (int c = 0; c < cg; c++) {
            for (int a = 0; a < g.kh; a++) {
                for (int b = 0; b < g.kw; b++) {
                    long row = ((long) (c * g.kh + a) * g.kw + b) * rowLen;
                    int oj0 = firstInside(b * g.dilation - g.pad, g.stride, g.w, g.wo);
                    int oj1 = endInside(b * g.dilation - g.pad, g.stride, g.w, g.wo);
                    if (oj0 >= oj1) {
                        continue;
                    }
                    for (int n = 0; n < count; n++) {
                        long dstPlane = (base + n * step) * img + (c0 + c) * plane;
                        long s0 = row + (long) n * P;
                        for (int oi = 0; oi < g.ho; oi++) {
                            int ii = oi * g.stride - g.pad + a * g.dilation;
                            if (ii < 0 || ii >= g.h) {
                                continue;
                            }
                            long sRow = s0 + (long) oi * g.wo;
                            long dRow = dstPlane + (long) ii * g.w + b * g.dilation - g.pad;
                            if (f32) {
                                for (int oj = oj0; oj < oj1; oj++) {
                                    long di = dRow + (long) oj * g.stride;
                                    d.setAtIndex(ValueLayout.JAVA_FLOAT, di, d.getAtIndex(ValueLayout.JAVA_FLOAT, di)
                                            + s.getAtIndex(ValueLayout.JAVA_FLOAT, sRow + oj));
                                }
                            } else {
                                for (int oj = oj0; oj < oj1; oj++) {
                                    long di = dRow + (long) oj * g.stride;
                                    d.setAtIndex(ValueLayout.JAVA_DOUBLE, di, d.getAtIndex(ValueLayout.JAVA_DOUBLE, di)
                                            + s.getAtIndex(ValueLayout.JAVA_DOUBLE, sRow + oj));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** First output column whose input column {@code oj·s + off} is inside {@code [0, w)}. */
    private static int firstInside(int off, int s, int w, int wo) {
        int oj = off >= 0 ? 0 : (-off + s - 1) / s;
        return Math.min(oj, wo);
    }

    /** One past the last output column whose input column is inside {@code [0, w)}. */
    private static int endInside(int off, int s, int w, int wo) {
        if (off >= w) {
            return 0;
        }
        return Math.min(wo, (w - 1 - off) / s + 1);
    }

    /**
     * Between the image layout {@code t[image(n) + jj][c0 + o][p]} and the GEMM layout
     * {@code m[jj·og + o][n·P + p]} ({@code jj < J}, {@code o < og}, {@code p < P}, channels per image {@code C}).
     * {@code toMatrix} gathers (overwriting m); otherwise scatters ({@code t = m}, or {@code t += m} with
     * {@code accumulate}).
     */
    static void transfer(boolean toMatrix, Tensor t, long base, long step, int count, int J, int C, int c0, int og,
                         int P, Tensor m, boolean accumulate) {
        MemorySegment ts = t.segment(), ms = m.segment();
        boolean f32 = t.dtype() == DType.F32;
        long rowLen = (long) count * P;
        long img = (long) C * P;
        for (int jj = 0; jj < J; jj++) {
            for (int o = 0; o < og; o++) {
                long mRow = (long) (jj * og + o) * rowLen;
                for (int n = 0; n < count; n++) {
                    long ti = (base + n * step + jj) * img + (long) (c0 + o) * P;
                    long mi = mRow + (long) n * P;
                    if (toMatrix) {
                        copy(ts, ti, ms, mi, P, f32);
                    } else if (!accumulate) {
                        copy(ms, mi, ts, ti, P, f32);
                    } else if (f32) {
                        for (int p = 0; p < P; p++) {
                            ts.setAtIndex(ValueLayout.JAVA_FLOAT, ti + p, ts.getAtIndex(ValueLayout.JAVA_FLOAT, ti + p)
                                    + ms.getAtIndex(ValueLayout.JAVA_FLOAT, mi + p));
                        }
                    } else {
                        for (int p = 0; p < P; p++) {
                            ts.setAtIndex(ValueLayout.JAVA_DOUBLE, ti + p, ts.getAtIndex(ValueLayout.JAVA_DOUBLE, ti + p)
                                    + ms.getAtIndex(ValueLayout.JAVA_DOUBLE, mi + p));
                        }
                    }
                }
            }
        }
    }

    private static void copy(MemorySegment s, long si, MemorySegment d, long di, long n, boolean f32) {
        if (n <= 0) {
            return;
        }
        int b = f32 ? 4 : 8;
        MemorySegment.copy(s, si * b, d, di * b, n * b);
    }

    private static void fill0(MemorySegment d, boolean f32, long at, long n) {
        if (n > 0) {
            int b = f32 ? 4 : 8;
            d.asSlice(at * b, n * b).fill((byte) 0);
        }
    }
}

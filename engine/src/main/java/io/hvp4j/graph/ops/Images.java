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

    /**
     * Convolution geometry of one group (input channels {@code c0 .. c0+cg}); {@code padH} pads the rows,
     * {@code pad} the columns (they differ only for a 1-D convolution seen as one row: {@code padH = 0}).
     */
    record Geometry(int channels, int h, int w, int kh, int kw, int stride, int padH, int pad, int dilation, int ho,
                    int wo) {
        int imageSize() {
            return channels * h * w;
        }
    }

    /**
     * {@code cols[(c, a, b), n·P + p] = src[image(n)][c0 + c][oi·s − padH + a·d][oj·s − pad + b·d]} (zero outside),
     * for {@code n < count}, {@code p = oi·wo + oj}; {@code cols} is {@code (cg·kh·kw) × (count·ho·wo)}. Plane by
     * plane through heap buffers: one bulk read of the input plane, one bulk write per kernel offset. A pure copy,
     * so it moves bytes ({@code e} per element) and needs no per-dtype code or conversions. The padding falls on the
     * same places of a kernel offset's run for every plane, so each offset keeps its own run buffer, zeroed once.
     */
    static void im2col(Tensor src, long base, long step, int count, Geometry g, int c0, int cg, Tensor cols) {
        int P = g.ho * g.wo, plane = g.h * g.w, e = (int) src.dtype().bytes();
        long rowLen = (long) count * P;
        long img = g.imageSize();
        MemorySegment in = src.segment(), out = cols.segment();
        byte[] inPlane = new byte[plane * e];
        byte[][] runs = new byte[g.kh * g.kw][P * e];
        for (int n = 0; n < count; n++) {
            for (int c = 0; c < cg; c++) {
                long at = (base + n * step) * img + (long) (c0 + c) * plane;
                MemorySegment.copy(in, ValueLayout.JAVA_BYTE, at * e, inPlane, 0, plane * e);
                for (int a = 0; a < g.kh; a++) {
                    for (int b = 0; b < g.kw; b++) {
                        byte[] run = runs[a * g.kw + b];
                        fillRun(inPlane, e, g, a, b, run);
                        long row = ((long) (c * g.kh + a) * g.kw + b) * rowLen;
                        MemorySegment.copy(run, 0, out, ValueLayout.JAVA_BYTE, (row + (long) n * P) * e, P * e);
                    }
                }
            }
        }
    }

    /**
     * {@code run[oi·wo + oj] = in[oi·s − padH + a·d][oj·s − pad + b·d]} where that is inside the plane ({@code e}
     * bytes each); the places outside are left as they are (zero).
     */
    private static void fillRun(byte[] in, int e, Geometry g, int a, int b, byte[] run) {
        int oj0 = firstInside(b * g.dilation - g.pad, g.stride, g.w, g.wo);
        int oj1 = endInside(b * g.dilation - g.pad, g.stride, g.w, g.wo);
        if (oj0 >= oj1) {
            return;
        }
        for (int oi = 0; oi < g.ho; oi++) {
            int ii = oi * g.stride - g.padH + a * g.dilation;
            if (ii < 0 || ii >= g.h) {
                continue;
            }
            int r0 = oi * g.wo, s0 = ii * g.w + b * g.dilation - g.pad;
            if (g.stride == 1) {
                System.arraycopy(in, (s0 + oj0) * e, run, (r0 + oj0) * e, (oj1 - oj0) * e);
            } else {
                for (int oj = oj0; oj < oj1; oj++) {
                    int from = (s0 + oj * g.stride) * e, to = (r0 + oj) * e;
                    for (int t = 0; t < e; t++) {
                        run[to + t] = in[from + t];
                    }
                }
            }
        }
    }

    /**
     * The adjoint of {@link #im2col}: {@code dst[image(n)][c0 + c][..] += cols[..]} (dst is not cleared). Plane by
     * plane: one bulk read and write of the destination plane, one bulk read per kernel offset.
     */
    static void col2im(Tensor cols, long base, long step, int count, Geometry g, int c0, int cg, Tensor dst) {
        int P = g.ho * g.wo, plane = g.h * g.w;
        long rowLen = (long) count * P;
        long img = g.imageSize();
        Planes io = new Planes();
        double[] out = new double[plane], run = new double[P];
        for (int n = 0; n < count; n++) {
            for (int c = 0; c < cg; c++) {
                long at = (base + n * step) * img + (long) (c0 + c) * plane;
                io.read(dst, at, plane, out);
                for (int a = 0; a < g.kh; a++) {
                    for (int b = 0; b < g.kw; b++) {
                        int oj0 = firstInside(b * g.dilation - g.pad, g.stride, g.w, g.wo);
                        int oj1 = endInside(b * g.dilation - g.pad, g.stride, g.w, g.wo);
                        if (oj0 >= oj1) {
                            continue;
                        }
                        long row = ((long) (c * g.kh + a) * g.kw + b) * rowLen;
                        io.read(cols, row + (long) n * P, P, run);
                        for (int oi = 0; oi < g.ho; oi++) {
                            int ii = oi * g.stride - g.padH + a * g.dilation;
                            if (ii < 0 || ii >= g.h) {
                                continue;
                            }
                            int r0 = oi * g.wo, d0 = ii * g.w + b * g.dilation - g.pad;
                            if (g.stride == 1) {
                                for (int oj = oj0; oj < oj1; oj++) {
                                    out[d0 + oj] += run[r0 + oj];
                                }
                            } else {
                                for (int oj = oj0; oj < oj1; oj++) {
                                    out[d0 + oj * g.stride] += run[r0 + oj];
                                }
                            }
                        }
                    }
                }
                io.write(out, plane, dst, at);
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
        Planes io = accumulate ? new Planes() : null;
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
                    } else {
                        io.add(m, mi, t, ti, P);
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
}

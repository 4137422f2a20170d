package io.hvp4j.backend;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Direct (stride-1) convolution kernels on heap arrays, for convolutions with few channels, where im2col and a GEMM
 * move more bytes than they compute. Both kernels are correlations over flattened planes that the caller has
 * already zero-bordered, so they have no edge cases: output position {@code p} of a plane stands for row
 * {@code p / xw} and column {@code p % xw} of the input plane's grid, and kernel tap {@code (c, a, b)} reads input
 * element {@code c·xh·xw + a·d·xw + b·d + p}. Positions whose column is beyond the real output width are computed
 * (from the border and the next row) and ignored by the caller; in exchange every loop runs over one long range.
 *
 * <p>Layouts, row-major: {@code x} is {@code cin} planes of {@code xh × xw}, followed by at least
 * {@code (kw − 1)·d + n − (xh − (kh − 1)·d)·xw} more elements when {@code n} exceeds the rows that fit; weights
 * {@code w} are {@code cout × cin × kh × kw} (PyTorch's layout); an output or output gradient is {@code cout} runs
 * of {@code n} positions. A caller that wants full vectors rounds {@code n} up to a multiple of {@code 2·}{@link
 * #lanes} and gives {@code x} that much more room.
 *
 * <p>Determinism: every sum runs in one fixed order for a given implementation and vector width (no unordered lane
 * reductions), whatever the calling thread. Implementations are stateless and thread-safe.
 */
public interface ConvolutionKernels {
    /**
     * The multiple a caller should round run lengths up to for full vectors, halved.
     *
     * @param f64 whether the arrays are {@code double[]} (else {@code float[]})
     * @return elements per vector (1 for a scalar implementation)
     */
    int lanes(boolean f64);

    /**
     * {@code out[o·n + p] = Σ_{c, a, b} w[o][c][a][b] · x[c·xh·xw + a·d·xw + b·d + p]} for {@code o < cout},
     * {@code p < n} (out is overwritten), summed in the order of {@code (c, a, b)}.
     *
     * @param x    {@code cin × xh × xw} and the room the class comment gives
     * @param cin  input planes
     * @param xh   rows of an input plane
     * @param xw   columns of an input plane
     * @param w    {@code cout × cin × kh × kw}
     * @param cout output planes
     * @param kh   kernel rows
     * @param kw   kernel columns
     * @param d    dilation
     * @param out  {@code cout × n}
     * @param n    positions per output plane
     */
    void correlate(float[] x, int cin, int xh, int xw, float[] w, int cout, int kh, int kw, int d, float[] out, int n);

    /**
     * {@link #correlate(float[], int, int, int, float[], int, int, int, int, float[], int)} in float64.
     *
     * @param x    input planes
     * @param cin  input planes
     * @param xh   rows of an input plane
     * @param xw   columns of an input plane
     * @param w    weights
     * @param cout output planes
     * @param kh   kernel rows
     * @param kw   kernel columns
     * @param d    dilation
     * @param out  output planes
     * @param n    positions per output plane
     */
    void correlate(double[] x, int cin, int xh, int xw, double[] w, int cout, int kh, int kw, int d, double[] out,
                   int n);

    /**
     * The weight gradient: {@code dw[o][c][a][b] += Σ_{p < n} g[o·n + p] · x[c·xh·xw + a·d·xw + b·d + p]}; the
     * caller zeroes {@code g} at the positions that are not outputs. Each weight keeps {@link #lanes} partial sums:
     * weight {@code w = ((o·cin + c)·kh + a)·kw + b} owns {@code dw[w·lanes, (w + 1)·lanes)}, and its gradient is
     * the sum of those (the caller adds them once, after the last call, instead of a horizontal sum per weight and
     * call). How the positions split over the lanes is the implementation's own, fixed order; with one lane (the
     * scalar reference) {@code dw} is the gradient itself.
     *
     * @param g    {@code cout × n}
     * @param cout gradient planes
     * @param n    positions per gradient plane
     * @param x    {@code cin × xh × xw}, as for {@code correlate}
     * @param cin  input planes
     * @param xh   rows of an input plane
     * @param xw   columns of an input plane
     * @param kh   kernel rows
     * @param kw   kernel columns
     * @param d    dilation
     * @param dw   {@code cout × cin × kh × kw × lanes(false)} lane partial sums, added to
     */
    void correlateWeights(float[] g, int cout, int n, float[] x, int cin, int xh, int xw, int kh, int kw, int d,
                          float[] dw);

    /**
     * {@link #correlateWeights(float[], int, int, float[], int, int, int, int, int, int, float[])} in float64.
     *
     * @param g    gradient planes
     * @param cout gradient planes
     * @param n    positions per gradient plane
     * @param x    input planes
     * @param cin  input planes
     * @param xh   rows of an input plane
     * @param xw   columns of an input plane
     * @param kh   kernel rows
     * @param kw   kernel columns
     * @param d    dilation
     * @param dw   {@code cout × cin × kh × kw × lanes(true)} lane partial sums, added to
     */
    void correlateWeights(double[] g, int cout, int n, double[] x, int cin, int xh, int xw, int kh, int kw, int d,
                          double[] dw);

    /**
     * One output plane into a host tensor: {@code dst[at + i·width + j] = α·out[from + i·stride + j]} for
     * {@code i < rows}, {@code j < width}, or {@code dst[...] + α·out[...]} when {@code accumulate}. The product is
     * rounded before the sum (no fused multiply-add), so every implementation gives the same bits.
     *
     * @param out        planes from {@link #correlate(float[], int, int, int, float[], int, int, int, int, float[], int)}
     * @param from       index of the plane's first position in {@code out}
     * @param stride     positions per row in {@code out} (at least {@code width})
     * @param rows       rows to store
     * @param width      columns to store per row
     * @param alpha      scale
     * @param accumulate whether to add to {@code dst} rather than overwrite it
     * @param dst        native-order float32 memory (a host tensor's segment)
     * @param at         element index of the first destination element in {@code dst}
     */
    void storeRows(float[] out, int from, int stride, int rows, int width, float alpha, boolean accumulate,
                   MemorySegment dst, long at);

    /**
     * {@link #storeRows(float[], int, int, int, int, float, boolean, MemorySegment, long)} in float64.
     *
     * @param out        planes
     * @param from       index of the plane's first position in {@code out}
     * @param stride     positions per row in {@code out}
     * @param rows       rows to store
     * @param width      columns to store per row
     * @param alpha      scale
     * @param accumulate whether to add to {@code dst}
     * @param dst        native-order float64 memory
     * @param at         element index of the first destination element in {@code dst}
     */
    void storeRows(double[] out, int from, int stride, int rows, int width, double alpha, boolean accumulate,
                   MemorySegment dst, long at);

    /**
     * The offset of every kernel tap {@code t = (c·kh + a)·kw + b} in the flattened input:
     * {@code c·xh·xw + a·d·xw + b·d}, written into {@code into} when it has room (a caller's reused buffer), else into
     * a new array.
     *
     * @param into a buffer to fill, or null
     * @param cin  input planes
     * @param xh   rows of an input plane
     * @param xw   columns of an input plane
     * @param kh   kernel rows
     * @param kw   kernel columns
     * @param d    dilation
     * @return the array holding the {@code cin·kh·kw} offsets first
     */
    static int[] tapOffsets(int[] into, int cin, int xh, int xw, int kh, int kw, int d) {
        int[] off = into != null && into.length >= cin * kh * kw ? into : new int[cin * kh * kw];
        for (int c = 0; c < cin; c++) {
            for (int a = 0; a < kh; a++) {
                for (int b = 0; b < kw; b++) {
                    off[(c * kh + a) * kw + b] = (c * xh + a * d) * xw + b * d;
                }
            }
        }
        return off;
    }

    /** The scalar reference: plain loops in the order of the formulas. */
    ConvolutionKernels SCALAR = new ConvolutionKernels() {
        @Override
        public int lanes(boolean f64) {
            return 1;
        }

        @Override
        public void correlate(float[] x, int cin, int xh, int xw, float[] w, int cout, int kh, int kw, int d,
                              float[] out, int n) {
            int[] off = tapOffsets(null, cin, xh, xw, kh, kw, d);
            for (int o = 0; o < cout; o++) {
                for (int p = 0; p < n; p++) {
                    float s = 0;
                    for (int t = 0; t < off.length; t++) {
                        s = Math.fma(w[o * off.length + t], x[off[t] + p], s);
                    }
                    out[o * n + p] = s;
                }
            }
        }

        @Override
        public void correlate(double[] x, int cin, int xh, int xw, double[] w, int cout, int kh, int kw, int d,
                              double[] out, int n) {
            int[] off = tapOffsets(null, cin, xh, xw, kh, kw, d);
            for (int o = 0; o < cout; o++) {
                for (int p = 0; p < n; p++) {
                    double s = 0;
                    for (int t = 0; t < off.length; t++) {
                        s = Math.fma(w[o * off.length + t], x[off[t] + p], s);
                    }
                    out[o * n + p] = s;
                }
            }
        }

        @Override
        public void correlateWeights(float[] g, int cout, int n, float[] x, int cin, int xh, int xw, int kh, int kw,
                                     int d, float[] dw) {
            int[] off = tapOffsets(null, cin, xh, xw, kh, kw, d);
            for (int o = 0; o < cout; o++) {
                for (int t = 0; t < off.length; t++) {
                    float s = 0;
                    for (int p = 0; p < n; p++) {
                        s = Math.fma(g[o * n + p], x[off[t] + p], s);
                    }
                    dw[o * off.length + t] += s;
                }
            }
        }

        @Override
        public void correlateWeights(double[] g, int cout, int n, double[] x, int cin, int xh, int xw, int kh,
                                     int kw, int d, double[] dw) {
            int[] off = tapOffsets(null, cin, xh, xw, kh, kw, d);
            for (int o = 0; o < cout; o++) {
                for (int t = 0; t < off.length; t++) {
                    double s = 0;
                    for (int p = 0; p < n; p++) {
                        s = Math.fma(g[o * n + p], x[off[t] + p], s);
                    }
                    dw[o * off.length + t] += s;
                }
            }
        }

        @Override
        public void storeRows(float[] out, int from, int stride, int rows, int width, float alpha,
                              boolean accumulate, MemorySegment dst, long at) {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < width; j++) {
                    long e = (at + (long) i * width + j) * Float.BYTES;
                    float v = alpha * out[from + i * stride + j];
                    dst.set(ValueLayout.JAVA_FLOAT, e, accumulate ? dst.get(ValueLayout.JAVA_FLOAT, e) + v : v);
                }
            }
        }

        @Override
        public void storeRows(double[] out, int from, int stride, int rows, int width, double alpha,
                              boolean accumulate, MemorySegment dst, long at) {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < width; j++) {
                    long e = (at + (long) i * width + j) * Double.BYTES;
                    double v = alpha * out[from + i * stride + j];
                    dst.set(ValueLayout.JAVA_DOUBLE, e, accumulate ? dst.get(ValueLayout.JAVA_DOUBLE, e) + v : v);
                }
            }
        }
    };
}

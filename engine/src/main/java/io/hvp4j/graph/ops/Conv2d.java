package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ConvolutionKernels;
import io.hvp4j.graph.Op;
import io.hvp4j.graph.OpContext;
import io.hvp4j.graph.Shape;
import io.hvp4j.memory.Tensor;

/**
 * {@code torch.nn.Conv2d}: inputs {@code x} {@code (C, H, W)} (batched), weight {@code (C_out, C/groups, kh, kw)} and
 * an optional bias {@code (C_out,)}; square stride, zero padding and dilation, any number of groups (depthwise
 * included). Stride 1 runs on the backend's direct kernels where it has them ({@link DirectConvolution}); otherwise
 * computed as im2col and GEMM ({@link Images}), in chunks of images so that the column buffer stays bounded. A block of {@code k} tangents is {@code rows·k} images for the input tangent ({@code Ẋ * W}) and, with
 * one group, a stack of {@code k·C_out} output channels for the weight tangent ({@code X * Ẇ_j} for all j is one
 * GEMM), as for the dense layer. Bilinear in {@code (x, W)}: the third-order rules have only the cross terms
 * ({@code Ẅ = 0}), {@code ÿ = ẍ∗W + 2ẋ∗Ẇ}, {@code g̈x = ∗ᵀ(g̈, W) + 2∗ᵀ(ġ, Ẇ)},
 * {@code g̈W = ∂W(g̈, x) + 2∂W(ġ, ẋ) + ∂W(g, ẍ)}, {@code g̈b = Σ g̈}, with the same three building blocks.
 *
 * <p>{@link #conv1d} makes {@code torch.nn.Conv1d} from the same rules: input {@code (C, L)}, weight
 * {@code (C_out, C/groups, k)}, output {@code (C_out, L_out)}, laid out in memory exactly as the 2-D case with one row
 * ({@code H = kh = 1}, no padding of that row).
 */
public final class Conv2d implements Op {
    /**
     * Elements of the column buffer per chunk of one part (plus as much for the GEMM result): 2^18, 1 MiB in f32,
     * so that a chunk's columns are still in the core's L2 cache when its GEMM reads them.
     */
    static final long CHUNK_ELEMENTS = 1L << 18;

    private final int stride, padding, dilation, groups;
    /** 1 for {@code Conv1d}, 2 for {@code Conv2d}: spatial axes of the input. */
    private final int spatial;

    public Conv2d(int stride, int padding, int dilation, int groups) {
        this(stride, padding, dilation, groups, 2);
    }

    private Conv2d(int stride, int padding, int dilation, int groups, int spatial) {
        if (stride < 1 || padding < 0 || dilation < 1 || groups < 1) {
            throw new InvalidInputException(type(spatial) + ": stride " + stride + ", padding " + padding
                    + ", dilation " + dilation + ", groups " + groups + " out of range");
        }
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.groups = groups;
        this.spatial = spatial;
    }

    /** {@code torch.nn.Conv1d(C, C_out, k, stride, padding, dilation, groups)}: see the class comment. */
    public static Conv2d conv1d(int stride, int padding, int dilation, int groups) {
        return new Conv2d(stride, padding, dilation, groups, 1);
    }

    private static String type(int spatial) {
        return spatial == 1 ? "Conv1d" : "Conv2d";
    }

    @Override
    public String type() {
        return type(spatial);
    }

    @Override
    public Shape outputShape(Shape[] in, boolean[] batched) {
        String t = type();
        if (in.length < 2 || in.length > 3 || !batched[0] || batched[1] || (in.length == 3 && batched[2])) {
            throw new InvalidInputException(t + " takes a batched input, a weight and an optional bias");
        }
        Shape x = in[0], w = in[1];
        if (x.rank() != spatial + 1 || w.rank() != spatial + 2) {
            throw new InvalidInputException(t + ": input " + x + " must be " + (spatial == 1 ? "(C, L)" : "(C, H, W)")
                    + " and weight " + w + (spatial == 1 ? " (C_out, C/groups, k)" : " (C_out, C/groups, kh, kw)"));
        }
        if (x.dim(0) % groups != 0 || w.dim(0) % groups != 0 || w.dim(1) * groups != x.dim(0)) {
            throw new InvalidInputException(t + ": " + x.dim(0) + " input channels, weight " + w + " and groups "
                    + groups + " do not match");
        }
        if (in.length == 3 && (in[2].rank() != 1 || in[2].dim(0) != w.dim(0))) {
            throw new InvalidInputException(t + ": bias " + in[2] + " does not match weight " + w);
        }
        int wo = outSize(x.dim(spatial), w.dim(spatial + 1));
        int ho = spatial == 1 ? 1 : outSize(x.dim(1), w.dim(2));
        if (ho < 1 || wo < 1) {
            throw new InvalidInputException(t + ": input " + x + " is smaller than the kernel "
                    + (spatial == 1 ? "" : w.dim(2) + "x") + w.dim(spatial + 1) + " (dilation " + dilation
                    + ", padding " + padding + ")");
        }
        return spatial == 1 ? Shape.of(w.dim(0), wo) : Shape.of(w.dim(0), ho, wo);
    }

    private int outSize(int n, int kn) {
        return (n + 2 * padding - dilation * (kn - 1) - 1) / stride + 1;
    }

    private Images.Geometry geometry(OpContext c) {
        return geometry(c.inShape(0), c.inShape(1), c.outShape());
    }

    private Images.Geometry geometry(Shape x, Shape w, Shape out) {
        if (spatial == 1) {
            return new Images.Geometry(x.dim(0), 1, x.dim(1), 1, w.dim(2), stride, 0, padding, dilation, 1,
                    out.dim(1));
        }
        return new Images.Geometry(x.dim(0), x.dim(1), x.dim(2), w.dim(2), w.dim(3), stride, padding, padding,
                dilation, out.dim(1), out.dim(2));
    }

    /** Kernel elements per output channel ({@code C/groups·kh·kw}). */
    private static int kernelSize(Shape w) {
        return w.intSize() / w.dim(0);
    }

    /** Output positions per channel. */
    private static int pixels(Shape out) {
        return out.intSize() / out.dim(0);
    }

    /** Images per chunk, so that the columns and the GEMM result each stay within {@link #CHUNK_ELEMENTS}. */
    private static int chunk(int count, long colRows, long outRows, long pixels) {
        long per = Math.max(colRows, outRows) * pixels;
        return (int) Math.max(1, Math.min(count, CHUNK_ELEMENTS / per));
    }

    /**
     * Per part: the columns and the GEMM result of one chunk; then, for the weight gradients, one partial sum per
     * part but the first.
     */
    @Override
    public long scratchSize(Shape[] in, Shape out, int rows, int k, int threads) {
        long cgkk = kernelSize(in[1]);
        long per = Math.max(cgkk, (long) k * in[1].dim(0)) * pixels(out);
        long images = ((long) rows * k + threads - 1) / threads;
        return threads * partScratch(images, per) + (threads - 1L) * k * in[1].size();
    }

    /** Scratch of one part over at most {@code images} images, {@code per} elements each: two chunk buffers. */
    private static long partScratch(long images, long per) {
        return 2 * Math.min(images * per, Math.max(CHUNK_ELEMENTS, per));
    }

    /** The sizes the three building blocks share: channels per group in and out, columns per group, pixels. */
    private record Dims(Images.Geometry g, int cout, int og, int cg, int cgkk, int P) {
    }

    private Dims dims(OpContext c) {
        Images.Geometry g = geometry(c);
        int cout = c.inShape(1).dim(0), cg = g.channels() / groups;
        return new Dims(g, cout, cout / groups, cg, cg * g.kh() * g.kw(), g.ho() * g.wo());
    }

    /**
     * Runs a building block over {@code count} images split into contiguous ranges, one per backend thread
     * ({@link Parts}), each with scratch of its own ({@code perImage}: chunk-buffer elements per image; part i's
     * scratch starts at {@code offset(i)}); returns the number of parts. Every image's result is computed by the same
     * single-threaded GEMMs whatever the split (the GEMM's sums do not depend on its column range), so per-image
     * outputs have the same bits for any thread count; sums over images (weight gradients) follow the split.
     */
    private static int inParts(OpContext c, int count, long perImage, PartBody body, Tensor... touched) {
        int parts = Parts.count(c.backend(), count, touched);
        long scratch = partScratch((count + parts - 1) / parts, perImage);
        Parts.run(c.backend(), parts, count, (i, from, to) -> body.run(i, from, to, i * scratch));
        return parts;
    }

    /** A building block's work on images {@code [from, to)} with scratch from {@code offset} on. */
    @FunctionalInterface
    private interface PartBody {
        void run(int part, int from, int to, long offset);
    }

    // ---- the three building blocks, over sets of images addressed as base + n·step (+ jj for stacked tangents)

    /**
     * {@code dst[dBase + n·dStep + jj][g·og + o] (+)= α·Σ W_{jj,g}[o] · cols_g(src[sBase + n·sStep])} for n < count;
     * {@code w} is {@code (J·C_out) × cgkk} (J stacked weights; J > 1 needs one group).
     */
    private void convolve(OpContext c, double alpha, Tensor src, long sBase, long sStep, int count, Tensor w, int J,
                          Tensor dst, long dBase, long dStep, boolean accumulate) {
        Dims d = dims(c);
        Images.Geometry g = d.g();
        int cout = d.cout(), og = d.og(), cg = d.cg(), cgkk = d.cgkk(), P = d.P();
        ConvolutionKernels direct = DirectConvolution.kernels(c.backend(), g, false, groups, J * og);
        if (direct != null) {
            DirectConvolution.convolve(c.backend(), direct, g, groups, cout, alpha, src, sBase, sStep, count, w, J, dst,
                    dBase, dStep, accumulate);
            return;
        }
        inParts(c, count, (long) Math.max(cgkk, J * og) * P, (part, from, to, off) -> {
            int nc = chunk(to - from, cgkk, (long) J * og, P);
            for (int n0 = from; n0 < to; n0 += nc) {
                int m = Math.min(nc, to - n0);
                Tensor cols = c.scratch(off, cgkk, m * P);
                Tensor res = c.scratch(off + (long) nc * Math.max(cgkk, J * og) * P, J * og, m * P);
                for (int gi = 0; gi < groups; gi++) {
                    Images.im2col(src, sBase + n0 * sStep, sStep, m, g, gi * cg, cg, cols);
                    Tensor wg = w.view((long) gi * og * cgkk, J * og, cgkk);
                    c.backend().gemm(false, false, alpha, wg, cols, 0, res);
                    Images.transfer(false, dst, dBase + n0 * dStep, dStep, m, J, cout, gi * og, og, P, res,
                            accumulate);
                }
            }
        }, src, w, dst, c.scratch(0, 1, 1));
    }

    /**
     * {@code dst[dBase + n·dStep] += α·col2im_g(W_gᵀ · G_g)} with {@code G = grad[gBase + n·gStep]} ({@code w} is
     * {@code C_out × cgkk}); dst is not cleared.
     */
    private void convolveTranspose(OpContext c, double alpha, Tensor grad, long gBase, long gStep, int count, Tensor w,
                                   Tensor dst, long dBase, long dStep) {
        Dims d = dims(c);
        Images.Geometry g = d.g();
        int cout = d.cout(), og = d.og(), cg = d.cg(), cgkk = d.cgkk(), P = d.P();
        ConvolutionKernels direct = DirectConvolution.kernels(c.backend(), g, true, groups, og);
        if (direct != null) {
            DirectConvolution.convolveTranspose(c.backend(), direct, g, groups, cout, alpha, grad, gBase, gStep, count,
                    w, dst, dBase, dStep);
            return;
        }
        inParts(c, count, (long) Math.max(cgkk, og) * P, (part, from, to, off) -> {
            int nc = chunk(to - from, cgkk, og, P);
            for (int n0 = from; n0 < to; n0 += nc) {
                int m = Math.min(nc, to - n0);
                Tensor cols = c.scratch(off, cgkk, m * P);
                Tensor gm = c.scratch(off + (long) nc * Math.max(cgkk, og) * P, og, m * P);
                for (int gi = 0; gi < groups; gi++) {
                    Images.transfer(true, grad, gBase + n0 * gStep, gStep, m, 1, cout, gi * og, og, P, gm, false);
                    c.backend().gemm(true, false, alpha, w.view((long) gi * og * cgkk, og, cgkk), gm, 0, cols);
                    Images.col2im(cols, dBase + n0 * dStep, dStep, m, g, gi * cg, cg, dst);
                }
            }
        }, grad, w, dst, c.scratch(0, 1, 1));
    }

    /**
     * {@code dw[jj·C_out + g·og + o] (+)= α·G_{jj,g} · cols_g(src)ᵀ} summed over the images, with
     * {@code G = grad[gBase + n·gStep + jj]} and {@code src[sBase + n·sStep]}; {@code dw} is {@code (J·C_out) × cgkk}.
     * Each part sums its images (the first into dw, the others into partial sums placed after all parts' chunk
     * buffers), then the partial sums are added in part order.
     */
    private void weightGradient(OpContext c, double alpha, Tensor grad, long gBase, long gStep, int J, Tensor src,
                                long sBase, long sStep, int count, Tensor dw, boolean accumulate) {
        Dims d = dims(c);
        Images.Geometry g = d.g();
        int cout = d.cout(), og = d.og(), cg = d.cg(), cgkk = d.cgkk(), P = d.P();
        ConvolutionKernels direct = DirectConvolution.kernels(c.backend(), g, false, groups, J * og);
        if (direct != null) {
            DirectConvolution.weightGradient(c.backend(), direct, g, groups, cout, alpha, grad, gBase, gStep, J, src,
                    sBase, sStep, count, dw, accumulate);
            return;
        }
        long perImage = (long) Math.max(cgkk, J * og) * P;
        int threads = Parts.count(c.backend(), count);
        long partials = threads * partScratch((count + threads - 1) / threads, perImage);
        int parts = inParts(c, count, perImage, (part, from, to, off) -> {
            Tensor target = part == 0 ? dw : c.scratch(partials + (part - 1L) * dw.size(), dw.rows(), dw.cols());
            int nc = chunk(to - from, cgkk, (long) J * og, P);
            for (int n0 = from; n0 < to; n0 += nc) {
                int m = Math.min(nc, to - n0);
                Tensor cols = c.scratch(off, cgkk, m * P);
                Tensor gm = c.scratch(off + (long) nc * Math.max(cgkk, J * og) * P, J * og, m * P);
                double beta = (part == 0 && accumulate) || n0 > from ? 1 : 0;
                for (int gi = 0; gi < groups; gi++) {
                    Images.im2col(src, sBase + n0 * sStep, sStep, m, g, gi * cg, cg, cols);
                    Images.transfer(true, grad, gBase + n0 * gStep, gStep, m, J, cout, gi * og, og, P, gm, false);
                    c.backend().gemm(false, true, alpha, gm, cols, beta,
                            target.view((long) gi * og * cgkk, J * og, cgkk));
                }
            }
        }, grad, src, dw, c.scratch(0, 1, 1));
        for (int p = 1; p < parts; p++) {
            c.backend().axpy(1, c.scratch(partials + (p - 1L) * dw.size(), dw.rows(), dw.cols()), dw);
        }
    }

    /** {@code db[j·C_out + o] = Σ_n Σ_p grad[n·k + j][o][p]} for the k tangents (k = 1: the plain bias gradient). */
    private static void biasGradient(Tensor grad, int images, int k, int cout, int P, Tensor db) {
        Planes io = new Planes();
        double[] plane = new double[P], sums = new double[k * cout];
        for (int n = 0; n < images; n++) {
            for (int j = 0; j < k; j++) {
                for (int o = 0; o < cout; o++) {
                    io.read(grad, (((long) n * k + j) * cout + o) * P, P, plane);
                    double s = 0;
                    for (int q = 0; q < P; q++) {
                        s += plane[q];
                    }
                    sums[j * cout + o] += s;
                }
            }
        }
        io.write(sums, k * cout, db, 0);
    }

    /** {@code out[n][o][:] += bias[(n mod stride)·C_out + o]} for {@code images} images. */
    private static void addBias(Tensor bias, Tensor out, int images, int stride, int cout, int P) {
        Planes io = new Planes();
        double[] b = new double[stride * cout], plane = new double[P];
        io.read(bias, 0, stride * cout, b);
        for (int n = 0; n < images; n++) {
            for (int o = 0; o < cout; o++) {
                long at = ((long) n * cout + o) * P;
                double v = b[(n % stride) * cout + o];
                io.read(out, at, P, plane);
                for (int q = 0; q < P; q++) {
                    plane[q] += v;
                }
                io.write(plane, P, out, at);
            }
        }
    }

    private Tensor weightMatrix(OpContext c, Tensor flat, int J) {
        Shape w = c.inShape(1);
        return flat.reshape(J * w.dim(0), kernelSize(w));
    }

    // ---- the rules

    @Override
    public void forward(OpContext c) {
        int rows = c.rows();
        convolve(c, 1, c.in(0), 0, 1, rows, weightMatrix(c, c.in(1), 1), 1, c.out(), 0, 1, false);
        if (c.inputs() == 3) {
            addBias(c.in(2), c.out(), rows, 1, c.outShape().dim(0), pixels(c.outShape()));
        }
    }

    @Override
    public void tangent(OpContext c) {
        int rows = c.rows(), k = c.k(), cout = c.outShape().dim(0);
        int P = pixels(c.outShape());
        Tensor out = c.outDot();
        boolean written = false;
        if (c.inDot(0) != null) {
            convolve(c, 1, c.inDot(0), 0, 1, rows * k, weightMatrix(c, c.in(1), 1), 1, out, 0, 1, false);
            written = true;
        }
        if (c.inDot(1) != null) {
            if (groups == 1) {
                convolve(c, 1, c.in(0), 0, 1, rows, weightMatrix(c, c.inDot(1), k), k, out, 0, k, written);
            } else {
                Tensor wk = weightMatrix(c, c.inDot(1), k);
                long per = wk.size() / k;
                for (int j = 0; j < k; j++) {
                    convolve(c, 1, c.in(0), 0, 1, rows, wk.view(j * per, cout, (int) (per / cout)), 1, out, j, k, written);
                }
            }
            written = true;
        }
        if (c.inputs() == 3 && c.inDot(2) != null) {
            if (!written) {
                c.backend().zero(out);
            }
            addBias(c.inDot(2), out, rows * k, k, cout, P);
        } else if (!written) {
            c.backend().zero(out);
        }
    }

    @Override
    public void backward(OpContext c) {
        int rows = c.rows(), cout = c.outShape().dim(0), P = pixels(c.outShape());
        if (c.inGrad(1) != null) {
            weightGradient(c, 1, c.outGrad(), 0, 1, 1, c.in(0), 0, 1, rows, weightMatrix(c, c.inGrad(1), 1), false);
        }
        if (c.inputs() == 3 && c.inGrad(2) != null) {
            biasGradient(c.outGrad(), rows, 1, cout, P, c.inGrad(2));
        }
        if (c.inGrad(0) != null) {
            c.backend().zero(c.inGrad(0));
            convolveTranspose(c, 1, c.outGrad(), 0, 1, rows, weightMatrix(c, c.in(1), 1), c.inGrad(0), 0, 1);
        }
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        int rows = c.rows(), k = c.k(), cout = c.outShape().dim(0), P = pixels(c.outShape());
        Tensor gDot = c.outGradDot(), g = c.outGrad();
        Tensor xDot = secondOrder ? c.inDot(0) : null, wDot = secondOrder ? c.inDot(1) : null;
        Tensor dWDot = c.inGradDot(1);
        if (dWDot != null) {
            Tensor dw = weightMatrix(c, dWDot, k);
            long per = dw.size() / k;
            int cgkk = (int) (per / cout);
            if (groups == 1) {
                weightGradient(c, 1, gDot, 0, k, k, c.in(0), 0, 1, rows, dw, false);
            } else {
                for (int j = 0; j < k; j++) {
                    weightGradient(c, 1, gDot, j, k, 1, c.in(0), 0, 1, rows, dw.view(j * per, cout, cgkk), false);
                }
            }
            if (xDot != null) {
                for (int j = 0; j < k; j++) {
                    weightGradient(c, 1, g, 0, 1, 1, xDot, j, k, rows, dw.view(j * per, cout, cgkk), true);
                }
            }
        }
        if (c.inputs() == 3 && c.inGradDot(2) != null) {
            biasGradient(gDot, rows, k, cout, P, c.inGradDot(2));
        }
        Tensor gXDot = c.inGradDot(0);
        if (gXDot != null) {
            c.backend().zero(gXDot);
            convolveTranspose(c, 1, gDot, 0, 1, rows * k, weightMatrix(c, c.in(1), 1), gXDot, 0, 1);
            if (wDot != null) {
                Tensor wk = weightMatrix(c, wDot, k);
                long per = wk.size() / k;
                for (int j = 0; j < k; j++) {
                    convolveTranspose(c, 1, g, 0, 1, rows, wk.view(j * per, cout, (int) (per / cout)), gXDot, j, k);
                }
            }
        }
    }

    @Override
    public void secondTangent(OpContext c) {
        int rows = c.rows();
        Tensor out = c.outDDot(), xd = c.inDot(0), xdd = c.inDDot(0), wd = c.inDot(1);
        boolean written = false;
        if (xdd != null) {
            convolve(c, 1, xdd, 0, 1, rows, weightMatrix(c, c.in(1), 1), 1, out, 0, 1, false);
            written = true;
        }
        if (xd != null && wd != null) {
            convolve(c, 2, xd, 0, 1, rows, weightMatrix(c, wd, 1), 1, out, 0, 1, written);
            written = true;
        }
        if (!written) {
            c.backend().zero(out);
        }
    }

    @Override
    public void secondTangentOfBackward(OpContext c) {
        int rows = c.rows(), cout = c.outShape().dim(0), P = pixels(c.outShape());
        Tensor g = c.outGrad(), gd = c.outGradDot(), gdd = c.outGradDDot();
        Tensor xd = c.inDot(0), xdd = c.inDDot(0), wd = c.inDot(1);
        if (c.inGradDDot(1) != null) {
            Tensor dw = weightMatrix(c, c.inGradDDot(1), 1);
            weightGradient(c, 1, gdd, 0, 1, 1, c.in(0), 0, 1, rows, dw, false);
            if (xd != null) {
                weightGradient(c, 2, gd, 0, 1, 1, xd, 0, 1, rows, dw, true);
            }
            if (xdd != null) {
                weightGradient(c, 1, g, 0, 1, 1, xdd, 0, 1, rows, dw, true);
            }
        }
        if (c.inputs() == 3 && c.inGradDDot(2) != null) {
            biasGradient(gdd, rows, 1, cout, P, c.inGradDDot(2));
        }
        if (c.inGradDDot(0) != null) {
            Tensor gx = c.inGradDDot(0);
            c.backend().zero(gx);
            convolveTranspose(c, 1, gdd, 0, 1, rows, weightMatrix(c, c.in(1), 1), gx, 0, 1);
            if (wd != null) {
                convolveTranspose(c, 2, gd, 0, 1, rows, weightMatrix(c, wd, 1), gx, 0, 1);
            }
        }
    }
}

package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.Backend;
import io.hvp4j.graph.Op;
import io.hvp4j.graph.OpContext;
import io.hvp4j.graph.Shape;
import io.hvp4j.memory.Tensor;

/**
 * {@code torch.nn.AvgPool2d} (zero padding counted, {@code count_include_pad=True}), {@code torch.nn.MaxPool2d}
 * and global average pooling ({@code AdaptiveAvgPool2d(1)}, ONNX {@code GlobalAveragePool}) over {@code (C, H, W)},
 * output {@code (C, Ho, Wo)} (floor mode). Average pooling is linear; max pooling is linear given the arg-max
 * that the forward rule keeps (ties: the first element in row-major order, as PyTorch), so neither has
 * second-order terms. Tangents and adjoints are the same maps applied to {@code rows·k} images; the third-order
 * rules are these maps applied to the second tangents.
 */
public final class Pool2d implements Op {
    /** The pooling kind. */
    public enum Mode { AVG, MAX, GLOBAL_AVG }

    private final Mode mode;
    private final int kernel, stride, padding;

    public Pool2d(Mode mode, int kernel, int stride, int padding) {
        if (mode != Mode.GLOBAL_AVG && (kernel < 1 || stride < 1 || padding < 0 || 2 * padding > kernel)) {
            throw new InvalidInputException(mode + " pool: kernel " + kernel + ", stride " + stride + ", padding "
                    + padding + " out of range (padding at most half the kernel)");
        }
        this.mode = mode;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    public static Pool2d globalAverage() {
        return new Pool2d(Mode.GLOBAL_AVG, 0, 1, 0);
    }

    @Override
    public String type() {
        return switch (mode) {
            case AVG -> "AvgPool2d";
            case MAX -> "MaxPool2d";
            case GLOBAL_AVG -> "GlobalAveragePool";
        };
    }

    @Override
    public boolean linear() {
        return mode != Mode.MAX;
    }

    @Override
    public Shape outputShape(Shape[] in, boolean[] batched) {
        if (in.length != 1 || !batched[0] || in[0].rank() != 3) {
            throw new InvalidInputException(type() + " takes one batched (C, H, W) input, got " + in[0]);
        }
        if (mode == Mode.GLOBAL_AVG) {
            return Shape.of(in[0].dim(0), 1, 1);
        }
        int ho = (in[0].dim(1) + 2 * padding - kernel) / stride + 1;
        int wo = (in[0].dim(2) + 2 * padding - kernel) / stride + 1;
        if (ho < 1 || wo < 1) {
            throw new InvalidInputException(type() + ": input " + in[0] + " is smaller than the kernel " + kernel);
        }
        if ((long) in[0].dim(1) * in[0].dim(2) > (1 << 24)) {
            throw new InvalidInputException(type() + ": planes larger than 2^24 pixels are not supported");
        }
        return Shape.of(in[0].dim(0), ho, wo);
    }

    @Override
    public long[] stateSizes(Shape[] in, Shape out) {
        return mode == Mode.MAX ? new long[] {out.size()} : new long[0];
    }

    private int kh(Shape x) {
        return mode == Mode.GLOBAL_AVG ? x.dim(1) : kernel;
    }

    private int kw(Shape x) {
        return mode == Mode.GLOBAL_AVG ? x.dim(2) : kernel;
    }

    /**
     * Average pooling of {@code images} images, or its adjoint ({@code adjoint}: {@code src} is the output-shaped
     * adjoint, {@code dst} the input-shaped one, overwritten). Plane by plane through heap buffers.
     */
    private void average(Backend be, Shape x, Shape y, Tensor src, Tensor dst, int images, boolean adjoint) {
        int H = x.dim(1), W = x.dim(2), ho = y.dim(1), wo = y.dim(2), kh = kh(x), kw = kw(x);
        int s = mode == Mode.GLOBAL_AVG ? 1 : stride, p = mode == Mode.GLOBAL_AVG ? 0 : padding;
        double scale = 1.0 / ((double) kh * kw);
        int planes = Math.multiplyExact(images, x.dim(0));
        Parts.run(be, planes, (part, from, to) -> {
            Planes io = new Planes();
            double[] in = new double[H * W], out = new double[ho * wo];
            for (long c = from; c < to; c++) {
                long in0 = c * H * W, out0 = c * ho * wo;
                if (adjoint) {
                    io.read(src, out0, ho * wo, out);
                    java.util.Arrays.fill(in, 0);
                } else {
                    io.read(src, in0, H * W, in);
                }
                for (int oi = 0; oi < ho; oi++) {
                    int a0 = Math.max(0, p - oi * s), a1 = Math.min(kh, H + p - oi * s);
                    for (int oj = 0; oj < wo; oj++) {
                        int b0 = Math.max(0, p - oj * s), b1 = Math.min(kw, W + p - oj * s);
                        int base = (oi * s - p) * W + oj * s - p;
                        if (adjoint) {
                            double g = out[oi * wo + oj] * scale;
                            for (int a = a0; a < a1; a++) {
                                for (int b = b0; b < b1; b++) {
                                    in[base + a * W + b] += g;
                                }
                            }
                        } else {
                            double acc = 0;
                            for (int a = a0; a < a1; a++) {
                                for (int b = b0; b < b1; b++) {
                                    acc += in[base + a * W + b];
                                }
                            }
                            out[oi * wo + oj] = acc * scale;
                        }
                    }
                }
                if (adjoint) {
                    io.write(in, H * W, dst, in0);
                } else {
                    io.write(out, ho * wo, dst, out0);
                }
            }
        }, src, dst);
    }

    /** Max pooling forward: output and the arg-max (index in the plane) of every output element. */
    private void maxForward(Backend be, Shape x, Shape y, Tensor src, Tensor dst, Tensor arg, int images) {
        int H = x.dim(1), W = x.dim(2), ho = y.dim(1), wo = y.dim(2);
        int planes = Math.multiplyExact(images, x.dim(0));
        Parts.run(be, planes, (part, from, to) -> {
            Planes io = new Planes();
            double[] in = new double[H * W], out = new double[ho * wo], at = new double[ho * wo];
            for (long c = from; c < to; c++) {
                long in0 = c * H * W, out0 = c * ho * wo;
                io.read(src, in0, H * W, in);
                for (int oi = 0; oi < ho; oi++) {
                    int a0 = Math.max(0, padding - oi * stride), a1 = Math.min(kernel, H + padding - oi * stride);
                    for (int oj = 0; oj < wo; oj++) {
                        int b0 = Math.max(0, padding - oj * stride), b1 = Math.min(kernel, W + padding - oj * stride);
                        int base = (oi * stride - padding) * W + oj * stride - padding;
                        double best = Double.NEGATIVE_INFINITY;
                        int bestAt = -1;
                        for (int a = a0; a < a1; a++) {
                            for (int b = b0; b < b1; b++) {
                                int q = base + a * W + b;
                                double v = in[q];
                                if (v > best || bestAt < 0 || Double.isNaN(v)) {
                                    best = v;
                                    bestAt = q;
                                }
                            }
                        }
                        out[oi * wo + oj] = best;
                        at[oi * wo + oj] = bestAt;
                    }
                }
                io.write(out, ho * wo, dst, out0);
                io.write(at, ho * wo, arg, out0);
            }
        }, src, dst, arg);
    }

    /**
     * Max pooling's linear map given the kept arg-max, or its adjoint, over {@code rows·k} images whose arg-max is that
     * of sample {@code image / k}.
     */
    private static void maxLinear(Backend be, Shape x, Shape y, Tensor arg, Tensor src, Tensor dst, int rows, int k,
                                  boolean adjoint) {
        int C = x.dim(0), plane = x.dim(1) * x.dim(2), outPlane = y.dim(1) * y.dim(2);
        Parts.run(be, rows, (part, from, to) -> {
            Planes io = new Planes();
            double[] at = new double[outPlane], in = new double[plane], out = new double[outPlane];
            for (int r = from; r < to; r++) {
                for (int c = 0; c < C; c++) {
                    io.read(arg, ((long) r * C + c) * outPlane, outPlane, at);
                    for (int j = 0; j < k; j++) {
                        long img = (long) r * k + j;
                        long in0 = (img * C + c) * plane, out0 = (img * C + c) * outPlane;
                        if (adjoint) {
                            io.read(src, out0, outPlane, out);
                            java.util.Arrays.fill(in, 0);
                            for (int q = 0; q < outPlane; q++) {
                                in[(int) at[q]] += out[q];
                            }
                            io.write(in, plane, dst, in0);
                        } else {
                            io.read(src, in0, plane, in);
                            for (int q = 0; q < outPlane; q++) {
                                out[q] = in[(int) at[q]];
                            }
                            io.write(out, outPlane, dst, out0);
                        }
                    }
                }
            }
        }, arg, src, dst);
    }

    @Override
    public void forward(OpContext c) {
        if (mode == Mode.MAX) {
            maxForward(c.backend(), c.inShape(0), c.outShape(), c.in(0), c.out(), c.state(0), c.rows());
        } else {
            average(c.backend(), c.inShape(0), c.outShape(), c.in(0), c.out(), c.rows(), false);
        }
    }

    @Override
    public void tangent(OpContext c) {
        apply(c, c.inDot(0), c.outDot(), c.k(), false);
    }

    @Override
    public void backward(OpContext c) {
        apply(c, c.outGrad(), c.inGrad(0), 1, true);
    }

    @Override
    public void tangentOfBackward(OpContext c, boolean secondOrder) {
        apply(c, c.outGradDot(), c.inGradDot(0), c.k(), true);
    }

    private void apply(OpContext c, Tensor src, Tensor dst, int k, boolean adjoint) {
        if (mode == Mode.MAX) {
            maxLinear(c.backend(), c.inShape(0), c.outShape(), c.state(0), src, dst, c.rows(), k, adjoint);
        } else {
            average(c.backend(), c.inShape(0), c.outShape(), src, dst, c.rows() * k, adjoint);
        }
    }

    @Override
    public void secondTangent(OpContext c) {
        if (c.inDDot(0) == null) {
            c.backend().zero(c.outDDot());
        } else {
            apply(c, c.inDDot(0), c.outDDot(), 1, false);
        }
    }

    @Override
    public void secondTangentOfBackward(OpContext c) {
        if (c.inGradDDot(0) != null) {
            apply(c, c.outGradDDot(), c.inGradDDot(0), 1, true);
        }
    }
}

package io.hvp4j.graph.ops;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ConvolutionKernels;
import io.hvp4j.backend.ScalarBackend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.graph.GraphBuilder;
import io.hvp4j.graph.GraphEngine;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The direct stride-1 convolution path against im2col and GEMM: the vector kernels against the scalar reference
 * (correlation bit for bit, since each lane sums in the reference's order; the weight gradient, summed in another
 * order, to a rounding tolerance), and whole graphs (padding, dilation, groups, even kernels, padding wider than
 * the kernel, a 1-D convolution, output channels and row lengths that leave vector tails) giving the same loss,
 * gradient, Hessian, Gauss–Newton and third-order products on both paths. The rules themselves are checked against
 * finite differences in {@code OpRulesTest}, on whichever path a case takes.
 */
class DirectConvolutionTest {
    @Test
    void vectorKernelsMatchTheScalarReference() {
        ConvolutionKernels v, s = ConvolutionKernels.SCALAR;
        try (Backend be = new VectorBackend(1)) {
            v = be.convolution();
        }
        SplittableRandom r = new SplittableRandom(3);
        for (int t = 0; t < 60; t++) {
            int cin = 1 + r.nextInt(3), cout = 1 + r.nextInt(9), kh = 1 + r.nextInt(3), kw = 1 + r.nextInt(4);
            int d = 1 + r.nextInt(2), xh = (kh - 1) * d + 1 + r.nextInt(5), xw = (kw - 1) * d + 1 + r.nextInt(20);
            int n = 1 + r.nextInt(150); // past 4 vectors of 16 floats: every step width of the kernels
            int room = Math.max(0, (kw - 1) * d + n - (xh - (kh - 1) * d) * xw);
            double[] x = gaussian(r, cin * xh * xw + room), w = gaussian(r, cout * cin * kh * kw);
            double[] g = gaussian(r, cout * n);
            double[] o64 = new double[cout * n], e64 = new double[o64.length];
            v.correlate(x, cin, xh, xw, w, cout, kh, kw, d, o64, n);
            s.correlate(x, cin, xh, xw, w, cout, kh, kw, d, e64, n);
            assertArrayEquals(e64, o64, 0, "f64 correlate, case " + t);
            float[] o32 = new float[o64.length], e32 = new float[o64.length];
            v.correlate(f32(x), cin, xh, xw, f32(w), cout, kh, kw, d, o32, n);
            s.correlate(f32(x), cin, xh, xw, f32(w), cout, kh, kw, d, e32, n);
            assertArrayEquals(e32, o32, 0, "f32 correlate, case " + t);

            // The vector kernel keeps lanes(f64) partial sums per weight (the scalar one: one); added here.
            double[] dvl = new double[w.length * v.lanes(true)], ds = new double[w.length];
            float[] fvl = new float[w.length * v.lanes(false)], fs = new float[w.length];
            v.correlateWeights(g, cout, n, x, cin, xh, xw, kh, kw, d, dvl);
            s.correlateWeights(g, cout, n, x, cin, xh, xw, kh, kw, d, ds);
            v.correlateWeights(f32(g), cout, n, f32(x), cin, xh, xw, kh, kw, d, fvl);
            s.correlateWeights(f32(g), cout, n, f32(x), cin, xh, xw, kh, kw, d, fs);
            double[] dv = new double[w.length];
            float[] fv = new float[w.length];
            for (int i = 0; i < w.length; i++) {
                for (int l = 0; l < v.lanes(true); l++) {
                    dv[i] += dvl[i * v.lanes(true) + l];
                }
                for (int l = 0; l < v.lanes(false); l++) {
                    fv[i] += fvl[i * v.lanes(false) + l];
                }
            }
            // Each entry sums n products of values in [-6, 6]; reordering changes it by at most n·eps·Σ|products|
            // ≤ n·eps·36n.
            double bound = n * 36.0 * n;
            for (int i = 0; i < w.length; i++) {
                assertTrue(Math.abs(dv[i] - ds[i]) <= 2.3e-16 * bound, "f64 weights, case " + t);
                assertTrue(Math.abs(fv[i] - fs[i]) <= 1.2e-7 * bound, "f32 weights, case " + t);
                assertTrue(Math.abs(dv[i] - fs[i]) <= 1e-4 * n, "weights near the f64 values, case " + t);
            }
        }
    }

    @Test
    void vectorStoreRowsMatchesTheScalarReferenceBitForBit() {
        ConvolutionKernels v, s = ConvolutionKernels.SCALAR;
        try (Backend be = new VectorBackend(1)) {
            v = be.convolution();
        }
        SplittableRandom r = new SplittableRandom(5);
        try (Arena arena = Arena.ofConfined()) {
            for (int t = 0; t < 80; t++) {
                // Widths past 2 vectors of 16 floats, so that full vectors and every masked tail run.
                int rows = 1 + r.nextInt(5), width = 1 + r.nextInt(40), stride = width + r.nextInt(4);
                int from = r.nextInt(7), at = r.nextInt(5);
                boolean accumulate = r.nextBoolean();
                double alpha = t % 3 == 0 ? 1 : r.nextDouble(-2, 2);
                double[] out = gaussian(r, from + rows * stride);
                double[] before = gaussian(r, at + rows * width + 3);
                for (DType dt : DType.values()) {
                    Tensor a = Tensor.of(arena, dt, 1, before.length, before);
                    Tensor b = Tensor.of(arena, dt, 1, before.length, before);
                    if (dt == DType.F64) {
                        v.storeRows(out, from, stride, rows, width, alpha, accumulate, a.segment(), at);
                        s.storeRows(out, from, stride, rows, width, alpha, accumulate, b.segment(), at);
                    } else {
                        v.storeRows(f32(out), from, stride, rows, width, (float) alpha, accumulate, a.segment(), at);
                        s.storeRows(f32(out), from, stride, rows, width, (float) alpha, accumulate, b.segment(), at);
                    }
                    for (long i = 0; i < before.length; i++) {
                        boolean inside = i >= at && i < at + (long) rows * width;
                        assertTrue(Double.compare(a.get(i), b.get(i)) == 0, dt + " case " + t + " element " + i);
                        double orig = dt == DType.F64 ? before[(int) i] : (float) before[(int) i];
                        assertTrue(inside || a.get(i) == orig, "outside the rows, case " + t + " element " + i);
                    }
                    double want = (accumulate ? before[at] : 0) + alpha * out[from];
                    assertTrue(Math.abs(a.get(at) - want) <= 1e-5 * (1 + Math.abs(want)), "first element, case " + t);
                }
            }
        }
    }

    @Test
    void theDirectPathTakesStrideOneWithinItsBufferBound() {
        try (Backend be = new VectorBackend(1)) {
            // Geometry(channels, h, w, kh, kw, stride, padH, pad, dilation, ho, wo)
            Images.Geometry small = new Images.Geometry(16, 32, 32, 3, 3, 1, 1, 1, 1, 32, 32);
            assertTrue(DirectConvolution.kernels(be, small, false, 1, 16) != null);
            assertTrue(DirectConvolution.kernels(be, small, true, 1, 16) != null);
            Images.Geometry strided = new Images.Geometry(16, 32, 32, 3, 3, 2, 1, 1, 1, 16, 16);
            assertTrue(DirectConvolution.kernels(be, strided, false, 1, 16) == null);
            Images.Geometry wide = new Images.Geometry(4, 8, 8, 3, 3, 1, 3, 3, 1, 12, 12);
            assertTrue(DirectConvolution.kernels(be, wide, false, 1, 4) != null, "forward takes any padding");
            assertTrue(DirectConvolution.kernels(be, wide, true, 1, 4) == null, "the adjoint needs padding ≤ (k−1)·d");
            // 64 output planes of 256×256 (4.2 million elements) exceed the buffer bound: im2col, which chunks.
            Images.Geometry big = new Images.Geometry(8, 256, 256, 3, 3, 1, 1, 1, 1, 256, 256);
            assertTrue(DirectConvolution.kernels(be, big, false, 1, 16) != null);
            assertTrue(DirectConvolution.kernels(be, big, false, 1, 64) == null);
            assertTrue(DirectConvolution.kernels(new io.hvp4j.perf.CountingBackend(be), small, false, 1, 16) == null,
                    "a backend without direct kernels");
            System.setProperty("hvp4j.conv", "im2col");
            try {
                assertTrue(DirectConvolution.kernels(be, small, false, 1, 16) == null);
            } finally {
                System.clearProperty("hvp4j.conv");
            }
        }
    }

    /** Convolutions of every kind the direct path takes, and one it hands to im2col for the transpose. */
    private static Graph cnn() {
        GraphBuilder b = new GraphBuilder();
        Value x = b.input("x", 3, 6, 19);
        Value h = b.activation(b.conv2d("a", x, 5, 3, 1, 1, 1, 1, true), Activation.TANH);
        h = b.activation(b.conv2d("b", h, 6, 3, 1, 2, 2, 1, false), Activation.SOFTPLUS);
        h = b.activation(b.conv2d("c", h, 6, 3, 1, 1, 1, 3, true), Activation.TANH);
        h = b.conv2d("d", h, 4, 2, 1, 0, 1, 1, true);
        h = b.activation(b.conv2d("e", h, 4, 3, 1, 3, 1, 1, false), Activation.SIGMOID);
        h = b.conv2d("f", h, 3, 3, 2, 1, 1, 1, true);
        return b.build(b.linear("fc", b.flatten(b.globalAvgPool(h)), 3, true));
    }

    private static Graph cnn1d() {
        GraphBuilder b = new GraphBuilder();
        Value x = b.input("x", 2, 23);
        Value h = b.activation(b.conv1d("a", x, 5, 3, 1, 1, 1, 1, true), Activation.TANH);
        h = b.activation(b.conv1d("b", h, 3, 5, 1, 2, 1, 1, true), Activation.TANH);
        return b.build(b.linear("fc", b.flatten(h), 3, true));
    }

    @ParameterizedTest
    @CsvSource({"scalar,F64,2d", "vector,F64,2d", "vector,F32,2d", "scalar,F64,1d", "vector,F64,1d", "vector,F32,1d"})
    void directAndIm2colGiveTheSameProducts(String backend, DType dtype, String kind) {
        Graph g = kind.equals("2d") ? cnn() : cnn1d();
        List<double[]> direct = products(g, backend, dtype, true), im2col = products(g, backend, dtype, false);
        // f64: the two paths sum the same terms in different orders (1e-12 of the vector's norm). f32: rounding of
        // sums of up to a few thousand terms in float, through tanh and softplus layers (1e-4).
        double tol = dtype == DType.F64 ? 1e-12 : 1e-4;
        String[] names = {"loss", "gradient", "H·V", "G·V", "F·V", "vᵀHv", "H·v (3rd)", "∇vᵀHv"};
        for (int i = 0; i < direct.size(); i++) {
            double err = relErr(direct.get(i), im2col.get(i));
            assertTrue(err <= tol, names[i] + ": relative difference " + err + " > " + tol);
        }
    }

    private static List<double[]> products(Graph g, String backend, DType dtype, boolean directPath) {
        String before = System.getProperty("hvp4j.conv");
        if (directPath) {
            System.clearProperty("hvp4j.conv");
        } else {
            System.setProperty("hvp4j.conv", "im2col");
        }
        int rows = 5, k = 3, P = g.parameterCount();
        try (Arena arena = Arena.ofShared();
             Backend be = backend.equals("scalar") ? new ScalarBackend() : new VectorBackend(2);
             GraphEngine e = new GraphEngine(g, Loss.CE, be, dtype, rows, k)) {
            SplittableRandom r = new SplittableRandom(11);
            Tensor x = Tensor.allocate(arena, dtype, rows, g.inputSize());
            Tensor y = Tensor.allocate(arena, dtype, rows, g.outputSize());
            for (long i = 0; i < x.size(); i++) {
                x.set(i, r.nextGaussian());
            }
            for (int i = 0; i < rows; i++) {
                y.set(i, r.nextInt(g.outputSize()), 1);
            }
            double[] th = g.initialParameters(5);
            for (int i = 0; i < th.length; i++) {
                th[i] += 0.2 * r.nextGaussian();
            }
            e.setParameters(Tensor.of(arena, dtype, 1, P, th));
            Tensor grad = Tensor.allocate(arena, dtype, P, 1);
            List<double[]> out = new ArrayList<>();
            out.add(new double[] {e.forwardBackward(x, y, 1.0 / rows, grad)});
            out.add(grad.toDoubleArray());
            Tensor v = Tensor.allocate(arena, dtype, P, k), hv = Tensor.allocate(arena, dtype, P, k);
            for (long i = 0; i < v.size(); i++) {
                v.set(i, r.nextGaussian());
            }
            for (Curvature c : Curvature.values()) {
                e.product(c, null, v, hv);
                out.add(hv.toDoubleArray());
            }
            Tensor v1 = Tensor.allocate(arena, dtype, P, 1), h1 = Tensor.allocate(arena, dtype, P, 1);
            Tensor d3 = Tensor.allocate(arena, dtype, P, 1);
            for (int i = 0; i < P; i++) {
                v1.set(i, r.nextGaussian());
            }
            out.add(new double[] {e.thirdOrder(v1, h1, d3)});
            out.add(h1.toDoubleArray());
            out.add(d3.toDoubleArray());
            return out;
        } finally {
            if (before == null) {
                System.clearProperty("hvp4j.conv");
            } else {
                System.setProperty("hvp4j.conv", before);
            }
        }
    }

    private static double relErr(double[] a, double[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
    }

    private static double[] gaussian(SplittableRandom r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = Math.max(-6, Math.min(6, r.nextGaussian()));
        }
        return a;
    }

    private static float[] f32(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }
}

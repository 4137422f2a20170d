package io.hvp4j.backend;

import io.hvp4j.memory.Tensor;

/**
 * The reference backend: plain loops, one thread, every intermediate in double precision and rounded once
 * to the tensor's dtype on store. Slow by design; tests compare the fast backends against it.
 */
public final class ScalarBackend implements Backend {
    /** The reference backend (it holds no resources). */
    public ScalarBackend() {
    }

    @Override
    public ConvolutionKernels convolution() {
        return ConvolutionKernels.SCALAR;
    }

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public int threads() {
        return 1;
    }

    @Override
    public void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        int[] mnk = ArgumentChecks.checkGemm(transA, transB, a, b, c);
        int m = mnk[0], n = mnk[1], k = mnk[2];
        int lda = a.cols(), ldb = b.cols();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double av = transA ? a.get((long) p * lda + i) : a.get((long) i * lda + p);
                    double bv = transB ? b.get((long) j * ldb + p) : b.get((long) p * ldb + j);
                    s += av * bv;
                }
                long ci = (long) i * n + j;
                c.set(ci, beta == 0 ? alpha * s : alpha * s + beta * c.get(ci));
            }
        }
    }

    @Override
    public void evaluate(ElementwiseFunction f, Tensor z, Tensor value, Tensor d1, Tensor d2) {
        ArgumentChecks.checkDType(z, value, d1, d2);
        ArgumentChecks.checkSameSize(z, value);
        if (d1 != null) ArgumentChecks.checkSameSize(z, d1);
        if (d2 != null) ArgumentChecks.checkSameSize(z, d2);
        for (long i = 0, n = z.size(); i < n; i++) {
            double x = z.get(i);
            value.set(i, f.value(x));
            if (d1 != null) d1.set(i, f.d1(x));
            if (d2 != null) d2.set(i, f.d2(x));
        }
    }

    @Override
    public void broadcastMultiply(Tensor d, Tensor t, Tensor out) {
        ArgumentChecks.checkDType(d, t, out);
        ArgumentChecks.checkSameShape(t, out);
        int k = ArgumentChecks.blockFactor(d, t);
        int n = d.cols();
        for (int r = 0; r < d.rows(); r++) {
            for (int j = 0; j < k; j++) {
                for (int c = 0; c < n; c++) {
                    long ti = (long) r * k * n + (long) j * n + c;
                    out.set(ti, d.get(r, c) * t.get(ti));
                }
            }
        }
    }

    @Override
    public void elementwiseBackwardTangent(Tensor d1, Tensor d2, Tensor g, Tensor zDot, Tensor gDot, Tensor out) {
        int k = ArgumentChecks.backwardTangentBlock(d1, d2, g, zDot, gDot, out);
        int n = d1.cols();
        for (int r = 0; r < d1.rows(); r++) {
            for (int j = 0; j < k; j++) {
                for (int c = 0; c < n; c++) {
                    long ti = (long) r * k * n + (long) j * n + c;
                    out.set(ti, d2.get(r, c) * zDot.get(ti) * g.get(r, c) + d1.get(r, c) * gDot.get(ti));
                }
            }
        }
    }

    @Override
    public void addToRows(Tensor v, Tensor c) {
        ArgumentChecks.checkDType(v, c);
        if (v.size() != c.cols()) {
            throw new IllegalArgumentException("row vector " + v + " does not match " + c);
        }
        for (int r = 0; r < c.rows(); r++) {
            for (int j = 0; j < c.cols(); j++) {
                c.set(r, j, c.get(r, j) + v.get(j));
            }
        }
    }

    @Override
    public void columnSums(double alpha, Tensor g, double beta, Tensor out) {
        ArgumentChecks.checkDType(g, out);
        if (out.size() != g.cols()) {
            throw new IllegalArgumentException("column sums of " + g + " into " + out);
        }
        for (int j = 0; j < g.cols(); j++) {
            double s = 0;
            for (int r = 0; r < g.rows(); r++) {
                s += g.get(r, j);
            }
            out.set(j, beta == 0 ? alpha * s : alpha * s + beta * out.get(j));
        }
    }

    @Override
    public void softmaxRows(Tensor f, Tensor p) {
        ArgumentChecks.checkDType(f, p);
        ArgumentChecks.checkSameShape(f, p);
        for (int r = 0; r < f.rows(); r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < f.cols(); c++) max = Math.max(max, f.get(r, c));
            double s = 0;
            for (int c = 0; c < f.cols(); c++) s += StrictMath.exp(f.get(r, c) - max);
            for (int c = 0; c < f.cols(); c++) p.set(r, c, StrictMath.exp(f.get(r, c) - max) / s);
        }
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
        for (int r = 0; r < p.rows(); r++) {
            for (int j = 0; j < k; j++) {
                long base = (long) r * k * n + (long) j * n;
                double dot = 0;
                for (int c = 0; c < n; c++) dot += p.get(r, c) * fDot.get(base + c);
                for (int c = 0; c < n; c++) {
                    out.set(base + c, alpha * p.get(r, c) * (fDot.get(base + c) - dot));
                }
            }
        }
    }

    @Override
    public void swapLeadingAxes(Tensor src, int d0, int d1, int d2, double beta, Tensor dst) {
        ArgumentChecks.checkDType(src, dst);
        if (src.size() != (long) d0 * d1 * d2 || dst.size() != src.size()) {
            throw new IllegalArgumentException("swapLeadingAxes(" + d0 + "," + d1 + "," + d2 + ") of " + src + " into " + dst);
        }
        for (int a = 0; a < d0; a++) {
            for (int b = 0; b < d1; b++) {
                for (int c = 0; c < d2; c++) {
                    long si = ((long) a * d1 + b) * d2 + c;
                    long di = ((long) b * d0 + a) * d2 + c;
                    dst.set(di, beta == 0 ? src.get(si) : src.get(si) + beta * dst.get(di));
                }
            }
        }
    }

    @Override
    public double dot(Tensor x, Tensor y) {
        ArgumentChecks.checkDType(x, y);
        ArgumentChecks.checkSameSize(x, y);
        double s = 0;
        for (long i = 0, n = x.size(); i < n; i++) s += x.get(i) * y.get(i);
        return s;
    }

    @Override
    public void axpy(double alpha, Tensor x, Tensor y) {
        axpby(alpha, x, 1, y);
    }

    @Override
    public void axpby(double alpha, Tensor x, double beta, Tensor y) {
        ArgumentChecks.checkDType(x, y);
        ArgumentChecks.checkSameSize(x, y);
        for (long i = 0, n = x.size(); i < n; i++) y.set(i, alpha * x.get(i) + beta * y.get(i));
    }

    @Override
    public void scal(double alpha, Tensor x) {
        for (long i = 0, n = x.size(); i < n; i++) x.set(i, alpha * x.get(i));
    }

    @Override
    public double nrm2(Tensor x) {
        double scale = 0;
        for (long i = 0, n = x.size(); i < n; i++) scale = Math.max(scale, Math.abs(x.get(i)));
        if (scale == 0 || !Double.isFinite(scale)) return scale;
        double s = 0;
        for (long i = 0, n = x.size(); i < n; i++) {
            double v = x.get(i) / scale;
            s += v * v;
        }
        return scale * Math.sqrt(s);
    }

    @Override
    public double sum(Tensor x) {
        double s = 0;
        for (long i = 0, n = x.size(); i < n; i++) s += x.get(i);
        return s;
    }
}

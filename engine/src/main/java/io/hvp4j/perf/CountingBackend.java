package io.hvp4j.perf;

import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ElementwiseFunction;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

import java.lang.foreign.Arena;

/**
 * A backend that counts the GEMM flops ({@code 2·m·n·k} per call) of the work it delegates: the flop count of any
 * network's operations, measured by running them once, where no closed-form model (as {@link FlopModel} for the
 * MLP) exists. Only GEMM flops count, as in {@link FlopModel}. Used by one calling thread at a time, as backends
 * are; the count itself is safe for the concurrent parts of {@link #parallel} (whole-number flops add exactly).
 */
public final class CountingBackend implements Backend {
    private final Backend inner;
    private final java.util.concurrent.atomic.DoubleAdder flops = new java.util.concurrent.atomic.DoubleAdder();

    /**
     * Counts the GEMMs of another backend.
     *
     * @param inner the backend that computes (the caller's)
     */
    public CountingBackend(Backend inner) {
        this.inner = inner;
    }

    /**
     * The count.
     *
     * @return GEMM flops since the last {@link #reset}
     */
    public double flops() {
        return flops.sum();
    }

    /** Sets the count to zero. */
    public void reset() {
        flops.reset();
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public int threads() {
        return inner.threads();
    }

    @Override
    public void parallel(int parts, java.util.function.IntConsumer body) {
        inner.parallel(parts, body);
    }

    @Override
    public Tensor allocate(Arena arena, DType dtype, int rows, int cols) {
        return inner.allocate(arena, dtype, rows, cols);
    }

    @Override
    public void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        flops.add(2.0 * c.rows() * c.cols() * (transA ? a.rows() : a.cols()));
        inner.gemm(transA, transB, alpha, a, b, beta, c);
    }

    @Override
    public void evaluate(ElementwiseFunction f, Tensor z, Tensor value, Tensor d1, Tensor d2) {
        inner.evaluate(f, z, value, d1, d2);
    }

    @Override
    public void broadcastMultiply(Tensor d, Tensor t, Tensor out) {
        inner.broadcastMultiply(d, t, out);
    }

    @Override
    public void elementwiseBackwardTangent(Tensor d1, Tensor d2, Tensor g, Tensor zDot, Tensor gDot, Tensor out) {
        inner.elementwiseBackwardTangent(d1, d2, g, zDot, gDot, out);
    }

    @Override
    public void addToRows(Tensor v, Tensor c) {
        inner.addToRows(v, c);
    }

    @Override
    public void columnSums(double alpha, Tensor g, double beta, Tensor out) {
        inner.columnSums(alpha, g, beta, out);
    }

    @Override
    public void softmaxRows(Tensor f, Tensor p) {
        inner.softmaxRows(f, p);
    }

    @Override
    public double crossEntropySum(Tensor f, Tensor y) {
        return inner.crossEntropySum(f, y);
    }

    @Override
    public void softmaxTangent(double alpha, Tensor p, Tensor fDot, Tensor out) {
        inner.softmaxTangent(alpha, p, fDot, out);
    }

    @Override
    public void swapLeadingAxes(Tensor src, int d0, int d1, int d2, double beta, Tensor dst) {
        inner.swapLeadingAxes(src, d0, d1, d2, beta, dst);
    }

    @Override
    public double dot(Tensor x, Tensor y) {
        return inner.dot(x, y);
    }

    @Override
    public void axpy(double alpha, Tensor x, Tensor y) {
        inner.axpy(alpha, x, y);
    }

    @Override
    public void axpby(double alpha, Tensor x, double beta, Tensor y) {
        inner.axpby(alpha, x, beta, y);
    }

    @Override
    public void scal(double alpha, Tensor x) {
        inner.scal(alpha, x);
    }

    @Override
    public double nrm2(Tensor x) {
        return inner.nrm2(x);
    }

    @Override
    public double sum(Tensor x) {
        return inner.sum(x);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        inner.copy(src, dst);
    }

    @Override
    public void zero(Tensor t) {
        inner.zero(t);
    }
}

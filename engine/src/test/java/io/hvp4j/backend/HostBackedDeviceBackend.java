package io.hvp4j.backend;

import io.hvp4j.memory.DType;
import io.hvp4j.memory.DeviceMemory;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A stand-in for a GPU backend, for tests on machines without one: its tensors are device tensors
 * ({@link Tensor#isHost()} false, so every host access to them throws) whose memory is in fact host memory that
 * only this backend can see; each kernel unwraps them and calls {@code delegate}. Like the CUDA backend it
 * rejects host tensors in kernels. Running the autodiff code on it shows that the code touches device tensors
 * only through the backend and that staging in and out is complete; results equal the delegate's bit for bit.
 */
public final class HostBackedDeviceBackend implements Backend {
    private final Backend delegate;

    public HostBackedDeviceBackend(Backend delegate) {
        this.delegate = delegate;
    }

    private static final class Memory implements DeviceMemory {
        final MemorySegment segment;

        Memory(MemorySegment segment) {
            this.segment = segment;
        }

        @Override
        public long byteSize() {
            return segment.byteSize();
        }

        @Override
        public void checkAlive() {
            if (!segment.scope().isAlive()) {
                throw new IllegalStateException("freed");
            }
        }

        @Override
        public String location() {
            return "fake-device";
        }
    }

    /** The host view of a device tensor of this backend; host tensors are refused, as by a real device. */
    private static Tensor h(Tensor t) {
        if (t == null) {
            return null;
        }
        if (t.isHost()) {
            throw new IllegalArgumentException("host tensor " + t + " passed to a device backend kernel");
        }
        Memory m = (Memory) t.device();
        m.checkAlive();
        long bytes = t.size() * t.dtype().bytes();
        return Tensor.wrap(m.segment.asSlice(t.deviceOffset(), bytes), t.dtype(), t.rows(), t.cols());
    }

    @Override
    public String name() {
        return "device(" + delegate.name() + ")";
    }

    @Override
    public int threads() {
        return delegate.threads();
    }

    @Override
    public boolean deviceMemory() {
        return true;
    }

    @Override
    public Tensor allocate(Arena arena, DType dtype, int rows, int cols) {
        long bytes = (long) rows * cols * dtype.bytes();
        MemorySegment s = arena.allocate(Math.max(bytes, 1), 64).asSlice(0, bytes);
        return Tensor.onDevice(new Memory(s), 0, dtype, rows, cols);
    }

    @Override
    public void upload(Tensor src, Tensor dst) {
        if (!src.isHost()) {
            throw new IllegalArgumentException("upload from a device tensor");
        }
        h(dst).copyFrom(src);
    }

    @Override
    public void download(Tensor src, Tensor dst) {
        if (!dst.isHost()) {
            throw new IllegalArgumentException("download into a device tensor");
        }
        dst.copyFrom(h(src));
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        delegate.copy(h(src), h(dst));
    }

    @Override
    public void zero(Tensor t) {
        delegate.zero(h(t));
    }

    @Override
    public void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        delegate.gemm(transA, transB, alpha, h(a), h(b), beta, h(c));
    }

    @Override
    public void evaluate(ElementwiseFunction f, Tensor z, Tensor value, Tensor d1, Tensor d2) {
        delegate.evaluate(f, h(z), h(value), h(d1), h(d2));
    }

    @Override
    public void broadcastMultiply(Tensor d, Tensor t, Tensor out) {
        delegate.broadcastMultiply(h(d), h(t), h(out));
    }

    @Override
    public void elementwiseBackwardTangent(Tensor d1, Tensor d2, Tensor g, Tensor zDot, Tensor gDot, Tensor out) {
        delegate.elementwiseBackwardTangent(h(d1), h(d2), h(g), h(zDot), h(gDot), h(out));
    }

    @Override
    public void addToRows(Tensor v, Tensor c) {
        delegate.addToRows(h(v), h(c));
    }

    @Override
    public void columnSums(double alpha, Tensor g, double beta, Tensor out) {
        delegate.columnSums(alpha, h(g), beta, h(out));
    }

    @Override
    public void softmaxRows(Tensor f, Tensor p) {
        delegate.softmaxRows(h(f), h(p));
    }

    @Override
    public double crossEntropySum(Tensor f, Tensor y) {
        return delegate.crossEntropySum(h(f), h(y));
    }

    @Override
    public void softmaxTangent(double alpha, Tensor p, Tensor fDot, Tensor out) {
        delegate.softmaxTangent(alpha, h(p), h(fDot), h(out));
    }

    @Override
    public void swapLeadingAxes(Tensor src, int d0, int d1, int d2, double beta, Tensor dst) {
        delegate.swapLeadingAxes(h(src), d0, d1, d2, beta, h(dst));
    }

    @Override
    public double dot(Tensor x, Tensor y) {
        return delegate.dot(h(x), h(y));
    }

    @Override
    public void axpy(double alpha, Tensor x, Tensor y) {
        delegate.axpy(alpha, h(x), h(y));
    }

    @Override
    public void axpby(double alpha, Tensor x, double beta, Tensor y) {
        delegate.axpby(alpha, h(x), beta, h(y));
    }

    @Override
    public void scal(double alpha, Tensor x) {
        delegate.scal(alpha, h(x));
    }

    @Override
    public double nrm2(Tensor x) {
        return delegate.nrm2(h(x));
    }

    @Override
    public double sum(Tensor x) {
        return delegate.sum(h(x));
    }

    @Override
    public void close() {
        delegate.close();
    }
}

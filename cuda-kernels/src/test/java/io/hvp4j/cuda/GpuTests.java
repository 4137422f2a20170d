package io.hvp4j.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/** Shared helpers of the {@code gpu}-tagged tests: the device (or a skip with the probe's reason) and transfers. */
final class GpuTests {
    private GpuTests() {
    }

    /** Device 0, or null where no device is usable (the tests then skip through {@link #requireDevice}). */
    static CudaBackend openIfUsable() {
        return CudaProbe.probe().usable() ? CudaBackend.create(0) : null;
    }

    /**
     * Skips the calling test, with the probe's reason, when {@code cuda} is null. Called per test (not in
     * {@code @BeforeAll}) so that every skipped test is counted and reported with the reason.
     */
    static void requireDevice(CudaBackend cuda) {
        assumeTrue(cuda != null, () -> "no usable CUDA device (" + CudaProbe.probe().reason() + ")");
    }

    static Tensor random(Arena arena, DType dt, int r, int c, long seed, double scale) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(arena, dt, r, c);
        for (long i = 0; i < t.size(); i++) t.set(i, scale * (2 * rng.nextDouble() - 1));
        return t;
    }

    static Tensor toDevice(CudaBackend be, Arena arena, Tensor host) {
        Tensor d = be.allocate(arena, host.dtype(), host.rows(), host.cols());
        be.upload(host, d);
        return d;
    }

    static Tensor toHost(CudaBackend be, Arena arena, Tensor dev) {
        Tensor h = Tensor.allocate(arena, dev.dtype(), dev.rows(), dev.cols());
        be.download(dev, h);
        return h;
    }

    /** max |a − b| / max |b| over the elements. */
    static double relMaxError(Tensor actual, Tensor expected) {
        double err = 0, ref = 0;
        for (long i = 0; i < expected.size(); i++) {
            err = Math.max(err, Math.abs(actual.get(i) - expected.get(i)));
            ref = Math.max(ref, Math.abs(expected.get(i)));
        }
        return err / Math.max(ref, 1e-300);
    }
}

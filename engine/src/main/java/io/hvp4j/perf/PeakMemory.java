package io.hvp4j.perf;

import io.hvp4j.objective.Objective;
import java.lang.management.ManagementFactory;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Peak memory of one operation on an {@link Objective}, measured from a fresh objective (and, by the caller,
 * a fresh backend, so that GEMM packing buffers are allocated by this call as in a fresh process):
 * <ul>
 *   <li>off-heap: the objective's working memory after the operation ({@link Objective#workingBytes()}: the
 *       engine's own accounting of the buffers it allocated; the tangent buffers count only once a product has
 *       run) plus {@code callerBytes} (data set, vectors);</li>
 *   <li>heap: bytes allocated on the Java heap by all threads while the objective is built and the operation runs
 *       ({@code com.sun.management.ThreadMXBean#getTotalThreadAllocatedBytes}); an upper bound of the heap growth,
 *       since garbage counts too.</li>
 * </ul>
 * Not thread-safe with respect to other allocating threads of the same JVM (their allocations count too).
 */
public final class PeakMemory {
    /**
     * Bytes: off-heap, heap, and their sum.
     *
     * @param offHeap the objective's working bytes plus the caller's
     * @param heap    bytes allocated on the heap meanwhile
     */
    public record Bytes(long offHeap, long heap) {
        /**
         * Both together.
         *
         * @return {@code offHeap + heap}
         */
        public long total() {
            return offHeap + heap;
        }
    }

    private PeakMemory() {
    }

    /**
     * Builds an objective, runs an operation on it once and closes it; see the class comment.
     *
     * @param <T>         the objective's type
     * @param fresh       builds the objective
     * @param op          the operation
     * @param callerBytes off-heap bytes the caller holds for the operation (its vectors)
     * @return the bytes
     */
    public static <T extends Objective> Bytes measure(Supplier<T> fresh, Consumer<T> op, long callerBytes) {
        com.sun.management.ThreadMXBean tm = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = tm.getTotalThreadAllocatedBytes();
        long engine;
        try (T o = fresh.get()) {
            op.accept(o);
            engine = o.workingBytes();
        }
        long heap = tm.getTotalThreadAllocatedBytes() - before;
        return new Bytes(engine + callerBytes, Math.max(0, heap));
    }
}

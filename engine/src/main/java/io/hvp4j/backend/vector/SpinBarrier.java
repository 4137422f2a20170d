package io.hvp4j.backend.vector;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A reusable barrier for the few threads of one {@link WorkerPool#runTogether} call. Waits are short (the gap
 * between two threads' shares of a GEMM block), so it spins before it parks; a park of 20 µs bounds the cost of a
 * long wait on a loaded machine. {@link #breakBarrier} releases every waiter with an exception, so that one failed
 * piece does not leave the others waiting forever.
 */
public final class SpinBarrier {
    private static final int SPINS = 1 << 14;
    private final int parties;
    private final AtomicInteger arrived = new AtomicInteger();
    private final AtomicInteger generation = new AtomicInteger();
    private volatile boolean broken;

    public SpinBarrier(int parties) {
        if (parties < 1) {
            throw new IllegalArgumentException("parties must be >= 1, got " + parties);
        }
        this.parties = parties;
    }

    public int parties() {
        return parties;
    }

    /** Waits until all parties have arrived; the last to arrive releases the others. */
    public void await() {
        int gen = generation.get();
        if (arrived.incrementAndGet() == parties) {
            arrived.set(0);
            generation.incrementAndGet();
            return;
        }
        int spins = 0;
        while (generation.get() == gen) {
            if (broken) {
                throw new IllegalStateException("another thread of this kernel failed");
            }
            if (++spins < SPINS) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(20_000);
            }
        }
    }

    /** Releases the waiters with an exception (called when a party fails). */
    public void breakBarrier() {
        broken = true;
    }
}

package io.hvp4j.backend.vector;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A fixed set of worker threads that runs {@code parts} pieces of one kernel and waits for all of them.
 * Piece {@code i} always does the same work for the same arguments, so results do not depend on scheduling.
 * The calling thread runs piece 0 itself. A piece that calls {@link #run} again runs the inner pieces on its own
 * thread, one after another (same results, no parallelism), rather than waiting for the busy pool.
 *
 * <p>{@link #runTogether} runs pieces that wait for one another at a {@link SpinBarrier} (a GEMM whose threads
 * pack a shared operand). Such pieces must all be running at once, so those calls take turns (a lock) and are
 * refused on the pool's own workers, where they could wait for themselves.
 */
public final class WorkerPool implements AutoCloseable {
    private final int threads;
    private final ExecutorService executor;
    private final ReentrantLock together = new ReentrantLock();
    private static final ThreadLocal<WorkerPool> OWNER = new ThreadLocal<>();

    public WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.executor = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(() -> {
                OWNER.set(this);
                r.run();
            }, "hvp4j-worker");
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code body.accept(i)} for {@code i in [0, parts)}, pieces 1.. on workers, piece 0 here. */
    public void run(int parts, IntConsumer body) {
        if (parts <= 1 || executor == null || OWNER.get() == this) {
            // On one of our workers (a nested call) the pieces run here: waiting for the pool could wait for itself.
            for (int i = 0; i < parts; i++) {
                body.accept(i);
            }
            return;
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(parts - 1);
        Future<?>[] futures = new Future<?>[parts - 1];
        for (int i = 1; i < parts; i++) {
            final int part = i;
            futures[i - 1] = executor.submit(() -> {
                try {
                    body.accept(part);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            });
        }
        try {
            body.accept(0);
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
        try {
            done.await();
        } catch (InterruptedException e) {
            for (Future<?> f : futures) {
                f.cancel(true);
            }
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for kernel workers", e);
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Whether {@link #runTogether} can run {@code threads()} pieces at once from this thread: false on one of the
     * pool's workers (inside a piece), where the other pieces could never start.
     */
    public boolean canRunTogether() {
        return executor != null && OWNER.get() != this;
    }

    /**
     * Runs {@code body.accept(i)} for {@code i in [0, parts)} with every piece running at the same time, so that the
     * pieces may wait for one another at {@code barrier} (made for {@code parts} parties). A failing piece breaks
     * the barrier, so the others stop waiting; the first failure is rethrown here.
     *
     * @throws IllegalStateException when {@code parts > threads()} or {@link #canRunTogether()} is false
     */
    public void runTogether(int parts, SpinBarrier barrier, IntConsumer body) {
        if (parts > threads || (parts > 1 && !canRunTogether())) {
            throw new IllegalStateException("cannot run " + parts + " pieces together on " + threads
                    + " threads from this thread");
        }
        if (barrier.parties() != parts) {
            throw new IllegalArgumentException("barrier for " + barrier.parties() + " parties, " + parts + " pieces");
        }
        together.lock();
        try {
            run(parts, i -> {
                try {
                    body.accept(i);
                } catch (Throwable t) {
                    barrier.breakBarrier();
                    throw t;
                }
            });
        } finally {
            together.unlock();
        }
    }

    /** Splits {@code [0, n)} into {@code parts} contiguous ranges; returns the start of range {@code i}. */
    public static long split(long n, int parts, int i) {
        return n * i / parts;
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}

package io.hvp4j.backend.vector;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * A fixed set of worker threads that runs {@code parts} pieces of one kernel and waits for all of them.
 * Piece {@code i} always does the same work for the same arguments, so results do not depend on scheduling.
 * The calling thread runs piece 0 itself. Not reentrant: a piece must not call {@link #run} again.
 */
public final class WorkerPool implements AutoCloseable {
    private final int threads;
    private final ExecutorService executor;

    public WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.executor = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "hvp4j-worker");
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code body.accept(i)} for {@code i in [0, parts)}, pieces 1.. on workers, piece 0 here. */
    public void run(int parts, IntConsumer body) {
        if (parts <= 1 || executor == null) {
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

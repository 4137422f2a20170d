package io.hvp4j.backend.vector;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A fixed set of worker threads that runs {@code parts} pieces of one kernel and waits for all of them.
 * Piece {@code i} always does the same work for the same arguments, so results do not depend on scheduling.
 * The calling thread runs piece 0 itself. A piece that calls {@link #run} again runs the inner pieces on its own
 * thread, one after another (same results, no parallelism), rather than waiting for the busy pool. Calls from
 * different threads take turns.
 *
 * <p>Hand-off: each worker has a one-slot mailbox. After a piece a worker spins for {@link #SPIN_NANOS} before it
 * parks, because kernels come in quick succession (the GEMMs and element-wise kernels of one pass) and waking a
 * parked thread costs tens of microseconds, a large share of a 256^3 GEMM. The spin is bounded, so an idle pool
 * uses no CPU.
 *
 * <p>{@link #runTogether} runs pieces that wait for one another at a {@link SpinBarrier} (a GEMM whose threads
 * pack a shared operand). Such pieces must all be running at once, so they are refused on the pool's own workers
 * and inside a piece, where they could wait for themselves.
 */
public final class WorkerPool implements AutoCloseable {
    /** How long an idle worker keeps polling its mailbox before it parks. */
    static final long SPIN_NANOS = 100_000;
    private static final int CALLER_SPINS = 1 << 12;
    private static final ThreadLocal<WorkerPool> OWNER = new ThreadLocal<>();

    private final int threads;
    private final long spinNanos;
    private final Worker[] workers;
    /** Held by the thread whose pieces occupy the workers. */
    private final ReentrantLock dispatch = new ReentrantLock();
    private volatile boolean closed;

    public WorkerPool(int threads) {
        this(threads, SPIN_NANOS);
    }

    /** As {@link #WorkerPool(int)} with idle workers spinning {@code spinNanos} (0: park at once) before parking. */
    WorkerPool(int threads, long spinNanos) {
        this.spinNanos = Math.max(0, spinNanos);
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int w = 0; w < workers.length; w++) {
            workers[w] = new Worker(w + 1);
            workers[w].start();
        }
    }

    public int threads() {
        return threads;
    }

    /** One call's pieces; worker w runs pieces w, w + threads, ...; the caller 0, threads, .... */
    private final class Job {
        final int parts;
        final IntConsumer body;
        final Thread caller = Thread.currentThread();
        final AtomicInteger pending;
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(int parts, IntConsumer body, int busyWorkers) {
            this.parts = parts;
            this.body = body;
            this.pending = new AtomicInteger(busyWorkers);
        }

        void runFrom(int first) {
            try {
                for (int i = first; i < parts; i += threads) {
                    body.accept(i);
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        }
    }

    private final class Worker extends Thread {
        final int first;
        volatile Job job;
        volatile boolean parked;

        Worker(int first) {
            super("hvp4j-worker-" + first);
            this.first = first;
            setDaemon(true);
        }

        @Override
        public void run() {
            OWNER.set(WorkerPool.this);
            long idleSince = System.nanoTime();
            while (true) {
                Job j = job;
                if (j == null && closed) {
                    return;
                }
                if (j != null) {
                    job = null;
                    j.runFrom(first);
                    if (j.pending.decrementAndGet() == 0) {
                        LockSupport.unpark(j.caller);
                    }
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < spinNanos) {
                    Thread.onSpinWait();
                } else {
                    // Dekker-style with the submitter: it writes job then reads parked; we write parked then read
                    // job, so one of us sees the other (both volatile) and no wake-up is lost.
                    parked = true;
                    if (job == null && !closed) {
                        LockSupport.park(this);
                    }
                    parked = false;
                    idleSince = System.nanoTime();
                }
            }
        }

        void submit(Job j) {
            job = j;
            if (parked) {
                LockSupport.unpark(this);
            }
        }
    }

    /** Runs {@code body.accept(i)} for {@code i in [0, parts)}, pieces 1.. on workers, piece 0 here. */
    public void run(int parts, IntConsumer body) {
        if (closed) {
            throw new IllegalStateException("worker pool is closed");
        }
        if (parts <= 1 || workers.length == 0 || OWNER.get() == this || dispatch.isHeldByCurrentThread()) {
            // Nested (on a worker, or inside piece 0): waiting for the busy workers could wait for itself.
            for (int i = 0; i < parts; i++) {
                body.accept(i);
            }
            return;
        }
        dispatch.lock();
        try {
            int busy = Math.min(parts - 1, workers.length);
            Job job = new Job(parts, body, busy);
            for (int w = 0; w < busy; w++) {
                workers[w].submit(job);
            }
            job.runFrom(0);
            boolean interrupted = false;
            for (int spins = 0; job.pending.get() > 0; spins++) {
                if (spins < CALLER_SPINS) {
                    Thread.onSpinWait();
                } else {
                    // The workers' pieces use the caller's memory: wait for them even when interrupted.
                    LockSupport.park(this);
                    interrupted |= Thread.interrupted();
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            Throwable t = job.failure.get();
            if (t instanceof RuntimeException re) {
                throw re;
            }
            if (t instanceof Error err) {
                throw err;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        } finally {
            dispatch.unlock();
        }
    }

    /**
     * Whether {@link #runTogether} can run {@code threads()} pieces at once from this thread: false on one of the
     * pool's workers or inside a piece, where the other pieces could never start.
     */
    public boolean canRunTogether() {
        return workers.length > 0 && OWNER.get() != this && !dispatch.isHeldByCurrentThread() && !closed;
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
        run(parts, i -> {
            try {
                body.accept(i);
            } catch (Throwable t) {
                barrier.breakBarrier();
                throw t;
            }
        });
    }

    /** Splits {@code [0, n)} into {@code parts} contiguous ranges; returns the start of range {@code i}. */
    public static long split(long n, int parts, int i) {
        return n * i / parts;
    }

    /** Stops the workers once they are idle; later calls to {@link #run} throw. Not to be called during a run. */
    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
    }
}

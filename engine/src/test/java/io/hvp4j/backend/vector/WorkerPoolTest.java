package io.hvp4j.backend.vector;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class WorkerPoolTest {
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void barrierOrdersPhasesOfEveryPiece() {
        try (WorkerPool pool = new WorkerPool(2)) {
            int rounds = 2000;
            int[] seen = new int[2];
            SpinBarrier barrier = new SpinBarrier(2);
            AtomicInteger errors = new AtomicInteger();
            pool.runTogether(2, barrier, part -> {
                for (int r = 0; r < rounds; r++) {
                    seen[part] = r;
                    barrier.await();
                    if (seen[1 - part] != r) {
                        errors.incrementAndGet();
                    }
                    barrier.await();
                }
            });
            assertEquals(0, errors.get());
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void failingPieceReleasesTheOthers() {
        try (WorkerPool pool = new WorkerPool(2)) {
            SpinBarrier barrier = new SpinBarrier(2);
            RuntimeException e = assertThrows(RuntimeException.class, () -> pool.runTogether(2, barrier, part -> {
                if (part == 1) {
                    throw new ArithmeticException("piece 1 failed");
                }
                barrier.await();
            }));
            assertTrue(e instanceof ArithmeticException || e.getMessage().contains("failed"), e.toString());
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void refusedInsideAPieceAndGemmThereFallsBack() {
        try (WorkerPool pool = new WorkerPool(2); Arena arena = Arena.ofShared()) {
            assertTrue(pool.canRunTogether());
            assertThrows(IllegalStateException.class, () -> pool.runTogether(3, new SpinBarrier(3), p -> { }));
            VectorGemm gemm = new VectorGemm(pool);
            int n = 200;
            MemorySegment a = arena.allocate((long) n * n * 8), b = arena.allocate((long) n * n * 8);
            for (int i = 0; i < n * n; i++) {
                a.setAtIndex(ValueLayout.JAVA_DOUBLE, i, Math.sin(i));
                b.setAtIndex(ValueLayout.JAVA_DOUBLE, i, Math.cos(0.5 * i));
            }
            MemorySegment outside = arena.allocate((long) n * n * 8);
            MemorySegment[] inside = {arena.allocate((long) n * n * 8), arena.allocate((long) n * n * 8)};
            gemm.dgemm(false, false, n, n, n, 1, a, n, b, n, 0, outside, n);
            boolean[] could = new boolean[2];
            pool.run(2, part -> {
                could[part] = pool.canRunTogether();
                // Inside a piece (on the caller or on a worker) the shared-panel path would wait for itself; the
                // call must still finish, with the same bits.
                gemm.dgemm(false, false, n, n, n, 1, a, n, b, n, 0, inside[part], n);
            });
            assertFalse(could[0]);
            assertFalse(could[1]);
            assertTrue(pool.canRunTogether());
            for (MemorySegment in : inside) {
                assertArrayEquals(outside.toArray(ValueLayout.JAVA_DOUBLE), in.toArray(ValueLayout.JAVA_DOUBLE));
            }
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void everyPieceRunsOnceOverManyQuickCallsFromTwoThreads() throws Exception {
        // Quick successive calls exercise the spinning hand-off; a second calling thread the turn-taking; 5 pieces
        // on 3 threads the round-robin of pieces over threads; spin 0 makes every hand-off go through park/unpark.
        for (long spin : new long[] {WorkerPool.SPIN_NANOS, 0}) {
            handOffs(new WorkerPool(3, spin));
        }
    }

    private static void handOffs(WorkerPool pool) throws InterruptedException {
        try (pool) {
            int calls = 10_000, parts = 5;
            long[][] counts = new long[2][parts];
            Thread[] callers = new Thread[2];
            AtomicInteger errors = new AtomicInteger();
            for (int c = 0; c < 2; c++) {
                long[] mine = counts[c];
                callers[c] = new Thread(() -> {
                    try {
                        for (int r = 0; r < calls; r++) {
                            pool.run(parts, i -> mine[i]++);
                        }
                    } catch (Throwable t) {
                        errors.incrementAndGet();
                    }
                });
                callers[c].start();
            }
            for (Thread t : callers) {
                t.join();
            }
            assertEquals(0, errors.get());
            for (long[] c : counts) {
                for (long x : c) {
                    assertEquals(calls, x);
                }
            }
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void parkedWorkersWakeUpAndClosedPoolRefuses() throws Exception {
        WorkerPool pool = new WorkerPool(2);
        int[] hits = new int[2];
        pool.run(2, i -> hits[i]++);
        Thread.sleep(5 * WorkerPool.SPIN_NANOS / 1_000_000 + 20); // the worker has parked by now
        pool.run(2, i -> hits[i]++);
        assertArrayEquals(new int[] {2, 2}, hits);
        RuntimeException e = assertThrows(ArithmeticException.class,
                () -> pool.run(2, i -> { if (i == 1) { throw new ArithmeticException("piece 1"); } }));
        assertEquals("piece 1", e.getMessage());
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.run(2, i -> { }));
        assertFalse(pool.canRunTogether());
    }
}
